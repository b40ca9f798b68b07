import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';
import type { Logger } from '../util/logger.js';
import { parseOptions } from '../util/validate.js';

/** Zod schema of decodeAudio's options (mono, planar, strict, logger, signal); unknown keys are rejected. */
export const DecodeOptionsSchema = z.strictObject({
  /** Average all channels into one (in double precision per frame). */
  mono: z.boolean().default(false),
  /** Channel-major output (`[c0 f0..fn, c1 f0..fn]`) instead of interleaved frames. */
  planar: z.boolean().default(false),
  /**
   * A WAV/AIFF cut short (its data chunk claims more than the file holds) fails with
   * DE_CORRUPT_AUDIO instead of decoding the frames present. Compressed formats (MP3, FLAC, Ogg)
   * are never "truncated": their header length is an estimate and they decode to their real end.
   */
  strict: z.boolean().default(false),
  /** Receives the warning about a truncated input (the result's `truncated` says it too). */
  logger: z.custom<Logger>((v) => typeof v === 'object' && v !== null && typeof (v as Logger).warn === 'function').optional(),
  signal: z.instanceof(AbortSignal).optional(),
});
/** Options of decodeAudio (see DecodeOptionsSchema for each field and its default). */
export type DecodeOptions = z.input<typeof DecodeOptionsSchema>;

/**
 * A decoded file: float samples at the file's own sample rate (Hz), its shape (channels, frames),
 * duration in seconds, container and sample format, and whether the input was truncated.
 */
export interface DecodedAudio {
  /** Float32 samples at the native rate, interleaved unless `planar` was asked for. */
  samples: Float32Array;
  sampleRate: number;
  /** Channels in `samples` (1 after a mono down-mix). */
  channels: number;
  /** Channels in the source file. */
  sourceChannels: number;
  frames: number;
  /** Seconds: frames / sampleRate. */
  duration: number;
  /** Container in python-soundfile's naming: WAV, WAVEX, RF64, W64, AIFF, FLAC, OGG, ... */
  container: string;
  /** Sample format in python-soundfile's naming: PCM_16, PCM_24, FLOAT, VORBIS, OPUS, ... */
  sampleFormat: string;
  layout: 'interleaved' | 'planar';
  /**
   * Set when an uncompressed file (WAV, AIFF, ...) ends before its header says: `actualFrames`
   * (= `frames`) were decoded of the `expectedFrames` declared (null when the header's figure
   * cannot be told). null for complete files and for every compressed format.
   */
  truncated: Truncation | null;
}

/** How far a truncated WAV/AIFF got: frames decoded (`actualFrames`) of those its header declared (`expectedFrames`, null when unknown). */
export interface Truncation {
  expectedFrames: number | null;
  actualFrames: number;
}

/**
 * Decodes an audio file (path) or an in-memory file (Buffer/Uint8Array) with libsndfile, off the
 * event loop. Integer PCM is scaled by 2^(bits-1) as python-soundfile does.
 * @throws DecodeError DE_FILE_NOT_FOUND, DE_PERMISSION_DENIED, DE_IS_DIRECTORY, DE_EMPTY_FILE, DE_UNSUPPORTED_FORMAT, DE_CORRUPT_AUDIO;
 * NativeError DE_RESOURCE_LIMIT; InvalidArgumentError DE_INVALID_ARGUMENT; AbortError DE_ABORTED.
 */
export async function decodeAudio(input: string | Uint8Array, options?: DecodeOptions): Promise<DecodedAudio> {
  const context = new Error();
  const opts = parseOptions('decode', DecodeOptionsSchema, options);
  if (typeof input !== 'string' && !(input instanceof Uint8Array)) {
    throw new InvalidArgumentError('decode: input must be a file path or a Buffer/Uint8Array', { op: 'decode' });
  }
  const nativeOptions = { mono: opts.mono, planar: opts.planar, strict: opts.strict };
  return callNative('decode', context, opts.signal, async (binding, token) => {
    const decoded = await (typeof input === 'string' ? binding.decodeFile(input, nativeOptions, token) : binding.decodeBuffer(input, nativeOptions, token));
    const truncated = decoded.truncated ?? null;
    if (truncated) {
      const what = typeof input === 'string' ? input : 'the buffer';
      const of = truncated.expectedFrames === null ? '' : ` of ${truncated.expectedFrames}`;
      opts.logger?.warn(`${what} is truncated: decoded the ${truncated.actualFrames}${of} frames present`, {
        op: 'decode',
        expectedFrames: truncated.expectedFrames,
        actualFrames: truncated.actualFrames,
      });
    }
    return {
      ...decoded,
      truncated,
      duration: decoded.sampleRate > 0 ? decoded.frames / decoded.sampleRate : 0,
      layout: opts.planar && decoded.channels > 1 ? 'planar' : 'interleaved',
    };
  });
}
