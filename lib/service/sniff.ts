/**
 * Content sniffing of uploads before they are queued: the first bytes must look like an audio
 * container the decoder reads (libsndfile's formats and MP3). A file that passes and is still
 * broken fails in its job with the decoder's code.
 */

/** The container the first bytes announce, or null when they are not audio we decode. */
export function sniffAudioContainer(head: Uint8Array): string | null {
  const b = Buffer.from(head.buffer, head.byteOffset, head.byteLength);
  const ascii = (start: number, text: string) => b.length >= start + text.length && b.toString('latin1', start, start + text.length) === text;
  if ((ascii(0, 'RIFF') || ascii(0, 'RIFX') || ascii(0, 'RF64') || ascii(0, 'BW64')) && ascii(8, 'WAVE')) return 'wav';
  if (ascii(0, 'FORM') && (ascii(8, 'AIFF') || ascii(8, 'AIFC'))) return 'aiff';
  if (ascii(0, 'fLaC')) return 'flac';
  if (ascii(0, 'OggS')) return 'ogg';
  if (ascii(0, 'caff')) return 'caf';
  if (ascii(0, '.snd')) return 'au';
  if (ascii(0, 'riff') && b.length >= 16 && b[4] === 0x2e && b[5] === 0x91) return 'w64';
  if (ascii(0, 'ID3')) return 'mp3';
  // An MPEG audio frame header: 11 sync bits, a valid version/layer, a bitrate index that is not 15.
  if (b.length >= 4 && b[0] === 0xff && (b[1]! & 0xe0) === 0xe0 && (b[1]! & 0x06) !== 0 && (b[2]! & 0xf0) !== 0xf0 && (b[1]! & 0x18) !== 0x08) {
    return 'mp3';
  }
  return null;
}
