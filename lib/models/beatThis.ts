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
import { ModelError } from '../errors.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { OpenedModel } from './handle.js';
import { atRate, requireMono } from './input.js';
import { modelsDir } from './paths.js';
import { TRACKER_SESSION_OPTIONS, type TrackedBeats } from './rhythm.js';
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
  ...TRACKER_SESSION_OPTIONS,
});
/** Options of BeatThisTracker.open (see BeatThisTrackerOptionsSchema). */
export type BeatThisTrackerOptions = z.input<typeof BeatThisTrackerOptionsSchema>;

/** Beats, downbeats and meter from Beat This!, with timings and optionally the per-frame logits. */
export interface BeatThisResult extends TrackedBeats {
  /** Mean beat probability at the beats, in [0, 1] (not calibrated like BeatNet's confidence). */
  confidence: number;
  frames: number;
  /** Network runs (chunks of up to 1500 frames). */
  chunks: number;
  timings: { features: number; model: number; decode: number };
  /** Per-frame beat and downbeat logits when `returnLogits` is on. */
  beatLogits?: Float32Array;
  downbeatLogits?: Float32Array;
}

/** An opened Beat This! network, reusable across songs (calls may run concurrently). */
export class BeatThisTracker extends OpenedModel<NativeBeatThisHandle> {
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
    return this.lifecycle.hold(op, async () => {
      const audio = await atRate(samples, sampleRate, BEAT_THIS_SAMPLE_RATE, options.signal);
      return callNative(op, context, options.signal, (binding, token) =>
        binding.trackBeatThis(this.handle, audio, { keepLogits: options.returnLogits === true }, token),
      );
    });
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
  const audio = await atRate(samples, sampleRate, BEAT_THIS_SAMPLE_RATE, options?.signal);
  return callNative(op, context, options?.signal, (binding, token) => binding.beatThisSpectrogram(audio, token));
}
