import { fromNative, InvalidArgumentError } from '../errors.js';
import { loadBinding } from '../native/load.js';

/**
 * What an audio file's header says, read without decoding: sample rate (Hz), channels, frames
 * and duration (seconds). For uncompressed containers (WAV, AIFF, ...) the frame count is exact
 * (libsndfile limits a declared length to the bytes present); for MP3, FLAC and Ogg it is the
 * stream's own figure or an estimate; null when the header does not give one.
 */
export interface AudioProbe {
  sampleRate: number;
  channels: number;
  frames: number | null;
  /** frames / sampleRate, or null when the frame count is unknown. */
  duration: number | null;
  /** True when `frames` is exact (an uncompressed container). */
  exact: boolean;
  /** Container in python-soundfile's naming (WAV, RF64, AIFF, FLAC, OGG, MP3, ...). */
  container: string;
  sampleFormat: string;
}

/**
 * Reads an audio file's header (libsndfile, off the event loop) without decoding its samples.
 * @throws DecodeError DE_FILE_NOT_FOUND, DE_PERMISSION_DENIED, DE_IS_DIRECTORY, DE_EMPTY_FILE, DE_UNSUPPORTED_FORMAT, DE_CORRUPT_AUDIO; InvalidArgumentError DE_INVALID_ARGUMENT.
 */
export async function probeAudio(path: string): Promise<AudioProbe> {
  const context = new Error();
  if (typeof path !== 'string' || path.length === 0) {
    throw new InvalidArgumentError('probe: path must be a non-empty string', { op: 'probe' });
  }
  try {
    const p = await loadBinding().probeFile(path);
    return { ...p, duration: p.frames === null ? null : p.frames / p.sampleRate };
  } catch (err) {
    throw fromNative(err, context, 'probe');
  }
}
