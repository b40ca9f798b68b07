/**
 * The Beat This! tracker (Foscarin, Schlüter, Widmer 2024; beat-this 1.1.0, MIT): its log-mel front
 * end, the transformer on ONNX Runtime in 30-second chunks as the reference splits long songs, and
 * either of its postprocessors — 'minimal' (peak picking, downbeats snapped to beats) or 'dbn' (the
 * bar-pointer DBN BeatNet decodes with, on the beat and downbeat probabilities, as the reference's
 * `dbn=True` runs madmom's) — all in one native worker (native/src/beat/beat_this.h). The network is installed by `didactic-engine models fetch
 * beat-this` (or beat-this-small) as `<models>/<name>.onnx`.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import type { NativeBeatThisDecoded, NativeBeatThisHandle } from '../../binding.js';
import { ModelError } from '../errors.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { OpenedModel } from './handle.js';
import { atRate, requireMono } from './input.js';
import { MAX_BEATS_PER_BAR } from './limits.js';
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

/** Beat This!'s postprocessors: 'minimal' (its peak picking, the reference's default) and 'dbn' (the bar-pointer DBN). */
export const BEAT_THIS_POSTPROCESSORS = ['minimal', 'dbn'] as const;
/** One of BEAT_THIS_POSTPROCESSORS. */
export type BeatThisPostprocess = (typeof BEAT_THIS_POSTPROCESSORS)[number];
/** The DBN's candidate beats per bar by default: [3, 4], as beat_this's Postprocessor(type="dbn") configures madmom's. */
export const BEAT_THIS_DBN_METERS: readonly number[] = [3, 4];

/**
 * Zod schema of how Beat This!'s activations are decoded: `postprocess` ('minimal' default: peaks of
 * the logits, meter = the most common count of beats between downbeats; 'dbn': madmom's
 * DBNDownBeatTrackingProcessor as beat-this runs it, 55–215 BPM, transition_lambda 100, one joint
 * decode over `meters`) and the DBN's candidate `meters` (one value: a fixed meter; ignored by 'minimal').
 */
const DecodeShape = {
  postprocess: z.enum(BEAT_THIS_POSTPROCESSORS).default('minimal'),
  meters: z
    .array(z.number().int().min(1).max(MAX_BEATS_PER_BAR))
    .min(1)
    .max(MAX_BEATS_PER_BAR)
    .default([...BEAT_THIS_DBN_METERS]),
  signal: z.instanceof(AbortSignal).optional(),
};
/**
 * Zod schema of beatThisPostprocess's options: `postprocess`, `meters` (as above) and
 * `returnActivations` (the DBN's [frames x 2] input (beat-not-downbeat, downbeat) in the result).
 */
export const BeatThisDecodeOptionsSchema = z.strictObject({ ...DecodeShape, returnActivations: z.boolean().default(false) });
/** Options of beatThisPostprocess (see BeatThisDecodeOptionsSchema). */
export type BeatThisDecodeOptions = z.input<typeof BeatThisDecodeOptionsSchema>;

/** Zod schema of BeatThisTracker.track's options: the decoding options plus `returnLogits` (the per-frame logits in the result). */
export const BeatThisTrackOptionsSchema = z.strictObject({ ...DecodeShape, returnLogits: z.boolean().default(false) });
/** Options of BeatThisTracker.track (see BeatThisTrackOptionsSchema). */
export type BeatThisTrackOptions = z.input<typeof BeatThisTrackOptionsSchema>;

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
  /**
   * Mean beat probability (sigmoid of the beat logit) at the beats, in [0, 1]: how sure the network
   * is of the beats kept. Not calibrated (unlike BeatNet's, it does not read as an expected beat F).
   */
  confidence: number;
  /** The postprocessor that decoded the logits. */
  postprocess: BeatThisPostprocess;
  /** With 'dbn': the log-probability of each candidate meter's best path (null: none decodable); empty with 'minimal'. */
  meters: { beatsPerBar: number; logProbability: number | null }[];
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
   * Beats, downbeats and meter of mono audio at any sample rate (resampled to 22,050 Hz), decoded by
   * `postprocess` ('minimal' unless given; see BeatThisDecodeOptionsSchema).
   * @throws InvalidArgumentError DE_INVALID_ARGUMENT for bad options; ModelError DE_CLOSED after close(); AbortError DE_ABORTED; DecodeError DE_NON_FINITE_SAMPLES.
   */
  async track(samples: Float32Array, sampleRate: number, options: BeatThisTrackOptions = {}): Promise<BeatThisResult> {
    const context = new Error();
    const op = 'trackBeatThis';
    const o = parseOptions(op, BeatThisTrackOptionsSchema, options);
    requireMono(op, samples, sampleRate);
    return this.lifecycle.hold(op, async () => {
      const audio = await atRate(samples, sampleRate, BEAT_THIS_SAMPLE_RATE, o.signal);
      const r = await callNative(op, context, o.signal, (binding, token) =>
        binding.trackBeatThis(this.handle, audio, { keepLogits: o.returnLogits, postprocess: o.postprocess, meters: [...o.meters] }, token),
      );
      return { ...r, postprocess: o.postprocess };
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

/**
 * Beat This!'s postprocessor alone on per-frame beat and downbeat logits (50 frames/s, e.g. a
 * track's `returnLogits`): beats, downbeats, positions, meter and confidence as track() decodes them,
 * and the decoding time in seconds. With 'dbn' the DBN sees (max(p_beat − p_downbeat, 5e-6),
 * p_downbeat), p = sigmoid(logit) squeezed into [5e-6, 1 − 5e-6]: Beat This!'s beat class includes
 * the downbeats, the DBN's beat class (BeatNet's, madmom's) does not.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT for bad options, logits of different lengths or non-finite logits; AbortError DE_ABORTED.
 */
export async function beatThisPostprocess(
  beatLogits: Float32Array,
  downbeatLogits: Float32Array,
  options: BeatThisDecodeOptions = {},
): Promise<NativeBeatThisDecoded & { postprocess: BeatThisPostprocess; seconds: number; activations?: Float32Array }> {
  const context = new Error();
  const op = 'beatThisPostprocess';
  const o = parseOptions(op, BeatThisDecodeOptionsSchema, options);
  const r = await callNative(op, context, o.signal, (binding, token) =>
    binding.beatThisPostprocess(beatLogits, downbeatLogits, { postprocess: o.postprocess, meters: [...o.meters], keepActivations: o.returnActivations }, token),
  );
  return { ...r, postprocess: o.postprocess };
}
