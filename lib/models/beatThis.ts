/**
 * The Beat This! tracker (Foscarin, Schlüter, Widmer 2024; beat-this 1.1.0, MIT): its log-mel front
 * end, the transformer on ONNX Runtime in 30-second chunks as the reference splits long songs, and
 * its minimal postprocessor (peak picking, downbeats snapped to beats), all in one native worker
 * (native/src/beat/beat_this.h). The network is installed by `didactic-engine models fetch
 * beat-this` (or beat-this-small) as `<models>/<name>.onnx`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import type { NativeBeatThisHandle } from '../../binding.js';
import { resample } from '../audio/resample.js';
import { InvalidArgumentError, ModelError } from '../errors.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { ModelLifecycle } from './handle.js';
import { MAX_INTRA_OP_THREADS } from './limits.js';
import { modelsDir } from './paths.js';
import { ensureOrtRuntime } from './runtime.js';

/** Beat This!'s input rate (22,050 Hz). */
export const BEAT_THIS_SAMPLE_RATE = 22050;
/** Beat This!'s frame rate (hop 441 at 22,050 Hz: 50 frames/s). */
export const BEAT_THIS_FPS = 50;
/** The installable Beat This! models, preferred first (final0, then small0). */
export const BEAT_THIS_MODELS = ['beat-this', 'beat-this-small'] as const;

/** The installed Beat This! network to use: `<models>/beat-this.onnx`, else `beat-this-small.onnx`; null when neither is installed. */
export function installedBeatThisModel(dir: string = modelsDir()): string | null {
  for (const name of BEAT_THIS_MODELS) {
    const path = join(dir, `${name}.onnx`);
    if (existsSync(path)) return path;
  }
  return null;
}

/** Zod schema of how a Beat This! tracker is opened: model path or bytes, ONNX Runtime threads, providers. */
export const BeatThisTrackerOptionsSchema = z.strictObject({
  /** A path or ONNX bytes; default the installed model (installedBeatThisModel). */
  model: z.union([z.string().min(1), z.instanceof(Uint8Array)]).optional(),
  intraOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  interOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  providers: z
    .array(z.enum(['cpu', 'cuda']))
    .min(1)
    .default(['cpu']),
});
/** Options of BeatThisTracker.open (see BeatThisTrackerOptionsSchema). */
export type BeatThisTrackerOptions = z.input<typeof BeatThisTrackerOptionsSchema>;

/** Beats, downbeats and meter from Beat This!, with timings and optionally the per-frame logits. */
export interface BeatThisResult {
  /** Beat times in seconds (frame times, or the mean of two adjacent peak frames). */
  beats: Float64Array;
  /** Downbeat times, each one of the beats. */
  downbeats: Float64Array;
  /** Each beat's position in its bar, 1 = downbeat (0 when the song has no downbeat). */
  beatPositions: Int32Array;
  /** The most common number of beats from one downbeat to the next (0 without two downbeats). */
  beatsPerBar: number;
  /** Mean beat probability at the beats, in [0, 1] (not calibrated like BeatNet's confidence). */
  confidence: number;
  tempoBpm: number;
  tempoCurve: Float64Array;
  frames: number;
  /** Network runs (chunks of up to 1500 frames). */
  chunks: number;
  timings: { features: number; model: number; decode: number };
  /** Per-frame beat and downbeat logits when `returnLogits` is on. */
  beatLogits?: Float32Array;
  downbeatLogits?: Float32Array;
}

function requireMono(op: string, samples: unknown, sampleRate: number): asserts samples is Float32Array {
  if (!(samples instanceof Float32Array)) throw new InvalidArgumentError(`${op}: samples must be a Float32Array`, { op });
  if (!(sampleRate > 0) || !Number.isFinite(sampleRate)) {
    throw new InvalidArgumentError(`${op}: sampleRate (${sampleRate}) must be a positive number`, { op });
  }
}

async function to22k(samples: Float32Array, sampleRate: number, signal?: AbortSignal): Promise<Float32Array> {
  if (sampleRate === BEAT_THIS_SAMPLE_RATE || samples.length === 0) return samples;
  return resample(samples, { inRate: sampleRate, outRate: BEAT_THIS_SAMPLE_RATE, ...(signal ? { signal } : {}) });
}

/** An opened Beat This! network, reusable across songs (calls may run concurrently). */
export class BeatThisTracker {
  readonly #handle: NativeBeatThisHandle;
  readonly #lifecycle: ModelLifecycle;
  readonly modelPath: string | undefined;
  readonly providers: string[];

  private constructor(handle: NativeBeatThisHandle, providers: string[], modelPath?: string) {
    this.#handle = handle;
    this.#lifecycle = new ModelLifecycle(handle);
    this.providers = providers;
    this.modelPath = modelPath;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /**
   * Opens a Beat This! network (default: the installed one).
   * @throws ModelError DE_MODEL_NOT_FOUND when none is installed (naming the fetch command), DE_MODEL_INVALID for another model.
   */
  static async open(options?: BeatThisTrackerOptions): Promise<BeatThisTracker> {
    const context = new Error();
    const op = 'BeatThisTracker.open';
    const o = parseOptions(op, BeatThisTrackerOptionsSchema, options);
    const model = o.model ?? installedBeatThisModel();
    if (model === null || (typeof model === 'string' && !existsSync(model))) {
      throw new ModelError(
        'DE_MODEL_NOT_FOUND',
        `${op}: no Beat This! model ${model ? `at ${model}` : `in ${modelsDir()}`}; install it with \`npx didactic-engine models fetch beat-this\``,
        { op },
      );
    }
    await ensureOrtRuntime();
    return callNative(op, context, undefined, async (binding) => {
      const opened = await binding.beatThisOpen(model, { intraOpThreads: o.intraOpThreads, interOpThreads: o.interOpThreads, providers: [...o.providers] });
      return new BeatThisTracker(opened.handle, opened.providers, typeof model === 'string' ? model : undefined);
    });
  }

  /**
   * Beats, downbeats and meter of mono audio at any sample rate (resampled to 22,050 Hz).
   * @throws ModelError DE_CLOSED after close(); AbortError DE_ABORTED; DecodeError DE_NON_FINITE_SAMPLES.
   */
  async track(samples: Float32Array, sampleRate: number, options: { signal?: AbortSignal; returnLogits?: boolean } = {}): Promise<BeatThisResult> {
    const context = new Error();
    const op = 'trackBeatThis';
    requireMono(op, samples, sampleRate);
    return this.#lifecycle.hold(op, async () => {
      const audio = await to22k(samples, sampleRate, options.signal);
      return callNative(op, context, options.signal, (binding, token) =>
        binding.trackBeatThis(this.#handle, audio, { keepLogits: options.returnLogits === true }, token),
      );
    });
  }

  /** Waits for the calls in flight, then frees the native session; later calls reject with DE_CLOSED. */
  close(): Promise<void> {
    return this.#lifecycle.close('close');
  }

  /** close() for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Beat This!'s log-mel spectrogram of mono audio (resampled to 22,050 Hz): [frames x 128],
 * frame-major, log1p(1000 · mel magnitude) as beat_this.preprocessing.LogMelSpect computes it.
 */
export async function beatThisSpectrogram(
  samples: Float32Array,
  sampleRate: number = BEAT_THIS_SAMPLE_RATE,
  options?: { signal?: AbortSignal },
): Promise<{ frames: number; mels: number; data: Float32Array }> {
  const context = new Error();
  const op = 'beatThisSpectrogram';
  requireMono(op, samples, sampleRate);
  const audio = await to22k(samples, sampleRate, options?.signal);
  return callNative(op, context, options?.signal, (binding, token) => binding.beatThisSpectrogram(audio, token));
}
