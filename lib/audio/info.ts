import { decodeAudio, type Truncation } from './decode.js';
import { sampleLevels } from './levels.js';

/**
 * audioInfo's summary of a file: container and sample format, sample rate (Hz), channels, frames,
 * duration (seconds), peak and RMS level (linear, full scale = 1) and truncation.
 */
export interface AudioInfo {
  path: string;
  container: string;
  sampleFormat: string;
  sampleRate: number;
  channels: number;
  frames: number;
  duration: number;
  peak: number;
  rms: number;
  /** Set when a WAV/AIFF file ends before its header says (see DecodedAudio.truncated). */
  truncated: Truncation | null;
}

/**
 * Decodes a file and summarises it (format, shape, peak and RMS level).
 * @throws the errors of decodeAudio (DecodeError DE_FILE_NOT_FOUND, DE_CORRUPT_AUDIO, ...).
 */
export async function audioInfo(path: string, options: { signal?: AbortSignal } = {}): Promise<AudioInfo> {
  const audio = await decodeAudio(path, { signal: options.signal });
  const { peak, sumSquares } = await sampleLevels(audio.samples);
  return {
    path,
    container: audio.container,
    sampleFormat: audio.sampleFormat,
    sampleRate: audio.sampleRate,
    channels: audio.channels,
    frames: audio.frames,
    duration: audio.duration,
    peak,
    rms: audio.samples.length > 0 ? Math.sqrt(sumSquares / audio.samples.length) : 0,
    truncated: audio.truncated,
  };
}
