import { resample } from '../audio/resample.js';
import { InvalidArgumentError } from '../errors.js';

/** In-memory audio for a model: interleaved frames of `channels` at `sampleRate` Hz. */
export interface ModelAudioInput {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/**
 * The audio argument of Transcriber.transcribe and Separator.separate, checked once: a non-empty
 * path (decoded natively) or in-memory interleaved frames at a positive rate.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT naming `op`.
 */
export function audioInputArg(op: string, input: string | ModelAudioInput): { path: string } | ModelAudioInput {
  if (typeof input === 'string') {
    if (input.length === 0) throw new InvalidArgumentError(`${op}: path is empty`, { op });
    return { path: input };
  }
  const { samples, sampleRate, channels } = input ?? ({} as ModelAudioInput);
  if (!(samples instanceof Float32Array)) throw new InvalidArgumentError(`${op}: samples must be a Float32Array`, { op });
  if (!Number.isInteger(channels) || channels < 1 || samples.length % channels !== 0) {
    throw new InvalidArgumentError(`${op}: samples (${samples.length}) must hold whole frames of ${channels} channels`, { op });
  }
  if (!(sampleRate > 0)) throw new InvalidArgumentError(`${op}: sampleRate (${sampleRate}) must be > 0`, { op });
  return { samples, sampleRate, channels };
}

/**
 * Checks the mono audio argument of the rhythm trackers' `track` and `*Spectrogram` calls.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT naming `op`.
 */
export function requireMono(op: string, samples: unknown, sampleRate: number): asserts samples is Float32Array {
  if (!(samples instanceof Float32Array)) throw new InvalidArgumentError(`${op}: samples must be a Float32Array`, { op });
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new InvalidArgumentError(`${op}: sampleRate (${sampleRate}) must be a positive number`, { op });
  }
}

/** The samples at `rate` (the rhythm networks' 22,050 Hz): resampled unless already there or empty. */
export async function atRate(samples: Float32Array, sampleRate: number, rate: number, signal?: AbortSignal): Promise<Float32Array> {
  if (sampleRate === rate || samples.length === 0) return samples;
  return resample(samples, { inRate: sampleRate, outRate: rate, ...(signal ? { signal } : {}) });
}
