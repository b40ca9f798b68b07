import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { SampleRateSchema } from './limits.js';

/** Zod schema of the resampling engines: libsoxr (`soxr_*`, HQ by default) and libsamplerate (`sinc_*`). */
export const ResampleEngineSchema = z.enum(['soxr_hq', 'soxr_vhq', 'soxr_mq', 'soxr_lq', 'sinc_best', 'sinc_medium', 'sinc_fastest']);
/** A resampling engine name (see ResampleEngineSchema). */
export type ResampleEngine = z.infer<typeof ResampleEngineSchema>;

/** Zod schema of resample's options: input and output rates in Hz, channels, engine, abort signal. */
export const ResampleOptionsSchema = z.strictObject({
  /** Hz, 1000 .. 768000 (which also bounds the ratio, and so the output size). */
  inRate: SampleRateSchema,
  outRate: SampleRateSchema,
  channels: z.number().int().min(1).max(64).default(1),
  /** libsoxr HQ: the resampler librosa and basic-pitch use, so numbers match theirs. */
  engine: ResampleEngineSchema.default('soxr_hq'),
  signal: z.instanceof(AbortSignal).optional(),
});
/** Options of resample (see ResampleOptionsSchema). */
export type ResampleOptions = z.input<typeof ResampleOptionsSchema>;

/** Output frames for `frames` input frames: ceil(frames * outRate / inRate), as python-soxr. */
export function resampledLength(frames: number, inRate: number, outRate: number): number {
  return Math.ceil((frames * outRate) / inRate);
}

/**
 * Resamples interleaved float samples off the event loop. Output length is exactly resampledLength().
 * @throws NativeError DE_RESAMPLE_FAILED; DecodeError DE_NON_FINITE_SAMPLES; InvalidArgumentError DE_INVALID_ARGUMENT; AbortError DE_ABORTED.
 */
export async function resample(samples: Float32Array, options: ResampleOptions): Promise<Float32Array> {
  const context = new Error();
  const opts = parseOptions('resample', ResampleOptionsSchema, options);
  if (!(samples instanceof Float32Array)) {
    throw new InvalidArgumentError('resample: samples must be a Float32Array', { op: 'resample' });
  }
  if (samples.length % opts.channels !== 0) {
    throw new InvalidArgumentError(`resample: samples length (${samples.length}) must be a multiple of channels (${opts.channels})`, { op: 'resample' });
  }
  return callNative('resample', context, opts.signal, (binding, token) =>
    binding.resample(samples, { channels: opts.channels, inRate: opts.inRate, outRate: opts.outRate, engine: opts.engine }, token),
  );
}
