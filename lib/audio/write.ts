import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { SampleRateSchema } from './limits.js';
import { WAV_SUBTYPES } from './wavSubtypes.js';

/** Zod schema of the WAV sample formats writeWav can write: 16-bit PCM, 24-bit PCM or 32-bit float. */
export const WavSubtypeSchema = z.enum(WAV_SUBTYPES);
/** A WAV sample format: `PCM_16`, `PCM_24` or `FLOAT` (python-soundfile's names). */
export type WavSubtype = z.infer<typeof WavSubtypeSchema>;

/** Zod schema of writeWav's options: sample rate in Hz, channels (1..64), sample format (default PCM_16). */
export const WriteWavOptionsSchema = z.strictObject({
  sampleRate: SampleRateSchema.int(),
  channels: z.number().int().min(1).max(64).default(1),
  /** PCM_16 is what the Python original (soundfile's default) writes. */
  subtype: WavSubtypeSchema.default('PCM_16'),
});
/** Options of writeWav (see WriteWavOptionsSchema). */
export type WriteWavOptions = z.input<typeof WriteWavOptionsSchema>;

/** What writeWav wrote: frames, samples clipped to [-1, 1] (PCM only) and the file's size in bytes. */
export interface WriteWavResult {
  frames: number;
  /** Samples outside [-1, 1] that were clipped (always 0 for FLOAT). */
  clippedSamples: number;
  bytes: number;
}

/**
 * Writes interleaved float samples as a WAV file, atomically (a temp file in the same folder is
 * renamed into place, so a failure never leaves a partial file). PCM output clips to [-1, 1].
 * @throws WriteError DE_WRITE_FAILED, DE_PERMISSION_DENIED, DE_FILE_NOT_FOUND (missing folder); InvalidArgumentError DE_INVALID_ARGUMENT.
 */
export async function writeWav(path: string, samples: Float32Array, options: WriteWavOptions): Promise<WriteWavResult> {
  const context = new Error();
  const opts = parseOptions('writeWav', WriteWavOptionsSchema, options);
  if (!(samples instanceof Float32Array)) {
    throw new InvalidArgumentError('writeWav: samples must be a Float32Array', { op: 'writeWav' });
  }
  if (samples.length % opts.channels !== 0) {
    throw new InvalidArgumentError(`writeWav: samples length (${samples.length}) must be a multiple of channels (${opts.channels})`, { op: 'writeWav' });
  }
  return callNative('writeWav', context, undefined, (binding) => binding.writeWav(path, samples, opts));
}
