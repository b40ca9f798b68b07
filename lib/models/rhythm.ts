/**
 * The learned rhythm tracker: BeatNet's CRNN (ONNX, models/beatnet/) on madmom's LOG_SPECT
 * features, decoded by madmom's bar-pointer DBN with meter detection, beat times refined below the
 * 20 ms frame grid. Features, network, decoding and refinement run in one native worker
 * (native/src/beat/rhythm_binding.cc); defaults are madmom's DBNDownBeatTrackingProcessor values
 * as BeatNet uses them.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

import { z } from 'zod';

import type { NativeRhythmHandle, NativeRhythmOptions, NativeRhythmResult } from '../../binding.js';
import { InvalidArgumentError, ModelError } from '../errors.js';
import { callNative } from '../native/call.js';
import { packageRoot } from '../native/load.js';
import { OpenedModel } from './handle.js';
import { atRate, requireMono } from './input.js';
import { MAX_BEATS_PER_BAR, MAX_INTRA_OP_THREADS } from './limits.js';
import { ensureOrtRuntime } from './runtime.js';
import { parseOptions } from '../util/validate.js';

/** BeatNet's feature rate: the network was trained on 22,050 Hz audio at 50 frames/s. */
export const RHYTHM_SAMPLE_RATE = 22050;
export const RHYTHM_FPS = 50;
/** Which of BeatNet's three weight sets is the default (beatnet_<N>.onnx). */
export const DEFAULT_BEATNET_VARIANT = 1;

/** models/beatnet/beatnet_<variant>.onnx inside the package root. */
export function beatnetModelPath(variant: 1 | 2 | 3 = DEFAULT_BEATNET_VARIANT as 1 | 2 | 3): string {
  return join(packageRoot, 'models', 'beatnet', `beatnet_${variant}.onnx`);
}

const Meter = z.number().int().min(1).max(MAX_BEATS_PER_BAR);

/** Zod schema of the bar-pointer DBN decoding options: meters, tempo range in BPM, thresholds, refinement, bar cues. */
export const RhythmDecodeOptionsSchema = z
  .strictObject({
    /** Candidate beats per bar when detectMeter is on (madmom/BeatNet: [2, 3, 4]). */
    meters: z.array(Meter).min(1).max(12).default([2, 3, 4]),
    /** Off: decode with the single meter `beatsPerBar` (4 unless given). */
    detectMeter: z.boolean().default(true),
    beatsPerBar: Meter.optional(),
    /** Tempo range of the state space (its size grows with 1 / minBpm). */
    minBpm: z.number().min(10).max(1000).default(55),
    maxBpm: z.number().min(10).max(1000).default(215),
    numTempi: z.number().int().min(1).max(1000).default(60),
    transitionLambda: z.number().positive().finite().default(100),
    observationLambda: z.number().gt(1).finite().default(16),
    /** Leading / trailing frames whose activations are all below this are not decoded. */
    threshold: z.number().min(0).max(1).default(0.05),
    /** madmom's `correct`: each beat at the activation peak of its beat region. */
    correct: z.boolean().default(true),
    /** Sub-frame refinement (parabolic peak, then the attack within +-1 frame). */
    refine: z.boolean().default(true),
    /**
     * Re-select the meter (among the candidates) and the downbeat phase by how much the beats'
     * CRNN downbeat activation and bass energy stand out at the downbeats (default on). Off: madmom's
     * DBN choice, unchanged.
     */
    barCues: z.boolean().default(true),
    /**
     * Scale the audio to a -0.1 dBFS peak (the preprocessing's level) before the features, so the
     * beats do not depend on the input's gain (default on). Off: the features of the audio as
     * given, as BeatNet computes them.
     */
    normalizeLevel: z.boolean().default(true),
    /**
     * Fuse percussive onset envelopes (kick band under 150 Hz, snare band 150 Hz-5 kHz) into the
     * DBN's beat observation (default on). Off: the network's activations alone.
     */
    percussiveObservation: z.boolean().default(true),
    /**
     * Move a beat grid whose kicks and snares fall between the beats by half a beat, and double one
     * that reads a backbeat at half tempo (default on). Off: the DBN's grid as decoded.
     */
    percussiveGrid: z.boolean().default(true),
    /**
     * With meter detection: decide whether the beat divides in two or three from the onsets at 1/2
     * and at 1/3 and 2/3 of each beat, report a compound meter (6/8, 9/8, 12/8) over dotted-quarter
     * beats, and move a 6/8 tracked at the eighth or quarter level to dotted quarters when the
     * accents group in threes (default on). Off: the meter is beats per bar over 4.
     */
    compoundMeters: z.boolean().default(true),
    /**
     * With meter detection: bars of 5 and 7 beats where their downbeats stand out far more (2×)
     * than the best of the candidates `meters` (default on). Off: the candidates only.
     */
    oddMeters: z.boolean().default(true),
    /**
     * The rock backbeat template (default on): among the decoded grid, the grid half a beat later,
     * the doubled and the halved grid, take the one whose beats alternate kick and snare (kick on 1
     * and 3, snare on 2 and 4), and when it moves the grid put the downbeats on its kick beats. Off: the decoded grid goes
     * to `percussiveGrid` alone.
     */
    percussiveBackbeat: z.boolean().default(true),
    /**
     * One phase and one tempo level for the whole song (default on): a section the DBN tracked half
     * a beat off the rest, or at half or twice the song's tempo, is brought back, unless its own
     * beats carry twice the activation of the points half a beat away. Off: the DBN's sections as
     * decoded.
     */
    sectionRepair: z.boolean().default(true),
    /** Return the CRNN's [frames x 3] softmax (beat, downbeat, no beat). */
    returnActivations: z.boolean().default(false),
    signal: z.instanceof(AbortSignal).optional(),
  })
  .refine((o) => o.maxBpm > o.minBpm, { message: 'maxBpm must be greater than minBpm', path: ['maxBpm'] });
/** Options of trackRhythm / RhythmTracker.track (see RhythmDecodeOptionsSchema). */
export type RhythmDecodeOptions = z.input<typeof RhythmDecodeOptionsSchema>;

/** How a rhythm network's ONNX Runtime session runs (BeatNet and Beat This! alike). */
export const TRACKER_SESSION_OPTIONS = {
  /** 1: the whole call stays on one core (the pipeline parallelises across songs). */
  intraOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  interOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  providers: z
    .array(z.enum(['cpu', 'cuda']))
    .min(1)
    .default(['cpu']),
};

/** Zod schema of how a BeatNet tracker is opened: model path or bytes, variant (1..3), ONNX Runtime threads, providers. */
export const RhythmTrackerOptionsSchema = z.strictObject({
  /** A path or ONNX bytes; default models/beatnet/beatnet_<variant>.onnx in the package. */
  model: z.union([z.string().min(1), z.instanceof(Uint8Array)]).optional(),
  variant: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(DEFAULT_BEATNET_VARIANT as 1 | 2 | 3),
  /**
   * What runs the CRNN. 'auto' (default): the addon's own kernels when the model is a BeatNet
   * export (BDA's exact structure), the providers are ['cpu'] and the CPU has AVX2, FMA and F16C, else
   * ONNX Runtime; 'builtin': those kernels or an error (DE_MODEL_INVALID); 'onnxruntime': always a
   * session. With float32 recurrent weights the two agree to ~1e-6 in the activations
   * (docs/compatibility.md).
   */
  runtime: z.enum(['auto', 'builtin', 'onnxruntime']).default('auto'),
  /**
   * The built-in kernels' LSTM recurrent weights. 'float16' (default): half the bytes the
   * recurrence reads each frame, which bounds its speed (about a fifth off the network's CPU time);
   * the activations move by up to ~2e-3 and the beat and downbeat F-measures of the accuracy corpus
   * do not change (bench/README.md). 'float32': PyTorch's activations within ~1e-6. ONNX Runtime
   * always computes in float32.
   */
  recurrentPrecision: z.enum(['float16', 'float32']).default('float16'),
  ...TRACKER_SESSION_OPTIONS,
});
/** Options of RhythmTracker.open (see RhythmTrackerOptionsSchema). */
export type RhythmTrackerOptions = z.input<typeof RhythmTrackerOptionsSchema>;

/** What every rhythm tracker returns: beat and downbeat times in seconds, meter and tempo. */
export interface TrackedBeats {
  /** Beat times in seconds. */
  beats: Float64Array;
  /** Downbeat times, each one of the beats. */
  downbeats: Float64Array;
  /** Each beat's position in its bar, 1 = downbeat. */
  beatPositions: Int32Array;
  /** Beats per bar (0 when none was found). */
  beatsPerBar: number;
  /** In [0, 1]: how sure the tracker is (see each tracker's result). */
  confidence: number;
  /** From the beat times; 0 with fewer than two beats. */
  tempoBpm: number;
  /** Per beat: 60 / the centred inter-beat interval. */
  tempoCurve: Float64Array;
}

/** Tracked rhythm: beat and downbeat times in seconds, meter (beats per bar) and tempo in BPM. */
export interface RhythmResult extends TrackedBeats {
  /**
   * In [0, 1], calibrated on the accuracy corpus to read as the expected beat F: the mean beat
   * activation at the beats times the meter margin, through the corpus's isotonic fit (docs in
   * native/src/beat/rhythm.h). Below 0.7 the pipeline flags the song (`rhythm.low_confidence`).
   */
  confidence: number;
  /**
   * The meter as written: beats per bar over 4, compound meters as 3 × beats over 8 (6/8 has two
   * dotted-quarter beats), 5 or 7 beats at 150 BPM or faster over 8 (7/8 counts eighths).
   */
  meter: { numerator: number; denominator: number };
  /** 3 when the beat divides in three (a compound meter), 2 otherwise (or without evidence). */
  subdivision: 2 | 3;
  /** The Viterbi log-probability of each candidate meter (null: no decodable path). */
  meterScores: { beatsPerBar: number; logProbability: number | null }[];
  /** [frames x 3] softmax (beat, downbeat, no beat) when returnActivations is on. */
  activations?: Float32Array;
  /** The DBN's frame (50 fps) of each beat, before refinement. */
  beatFrames: Int32Array;
  frames: number;
  /** Seconds spent in each stage of the native call (wall clock; `cpu`: the worker thread's CPU time). */
  timings: { features: number; model: number; decode: number; cpu: { features: number; model: number; decode: number } };
}

function nativeOptions(o: z.output<typeof RhythmDecodeOptionsSchema>): NativeRhythmOptions {
  const meters = o.detectMeter ? [...new Set(o.meters)] : [o.beatsPerBar ?? 4];
  return {
    meters,
    minBpm: o.minBpm,
    maxBpm: o.maxBpm,
    numTempi: o.numTempi,
    transitionLambda: o.transitionLambda,
    observationLambda: o.observationLambda,
    threshold: o.threshold,
    correct: o.correct,
    fps: RHYTHM_FPS,
    refine: o.refine,
    keepActivations: o.returnActivations,
    barCues: o.barCues,
    normalizeLevel: o.normalizeLevel,
    percussiveObservation: o.percussiveObservation,
    percussiveGrid: o.percussiveGrid,
    compoundMeters: o.compoundMeters,
    oddMeters: o.oddMeters,
    percussiveBackbeat: o.percussiveBackbeat,
    sectionRepair: o.sectionRepair,
  };
}

function toResult(r: NativeRhythmResult): RhythmResult {
  return {
    beats: r.beats,
    downbeats: r.downbeats,
    beatPositions: r.beatPositions,
    beatsPerBar: r.beatsPerBar,
    meter: r.meter,
    subdivision: r.subdivision,
    confidence: r.confidence,
    tempoBpm: r.tempoBpm,
    tempoCurve: r.tempoCurve,
    meterScores: r.meterScores,
    ...(r.activations ? { activations: r.activations } : {}),
    beatFrames: r.beatFrames,
    frames: r.frames,
    timings: r.timings,
  };
}

/** An opened BeatNet model, reusable across songs (calls may run concurrently). */
export class RhythmTracker extends OpenedModel<NativeRhythmHandle> {
  /**
   * Opens a BeatNet tracker (default: the packaged model of the chosen variant).
   * @throws ModelError DE_MODEL_NOT_FOUND when the model file is missing; NativeError DE_NATIVE_RUNTIME_MISSING without ONNX Runtime.
   */
  static async open(options?: RhythmTrackerOptions): Promise<RhythmTracker> {
    const context = new Error();
    const op = 'RhythmTracker.open';
    const o = parseOptions(op, RhythmTrackerOptionsSchema, options);
    const model = o.model ?? beatnetModelPath(o.variant);
    if (typeof model === 'string' && !existsSync(model)) {
      throw new ModelError('DE_MODEL_NOT_FOUND', `${op}: BeatNet model file not found (${model})`, { op });
    }
    const session = { intraOpThreads: o.intraOpThreads, interOpThreads: o.interOpThreads, providers: [...o.providers] };
    const modelPath = typeof model === 'string' ? model : undefined;
    const cpuOnly = o.providers.every((p) => p === 'cpu');
    if (o.runtime === 'builtin' || (o.runtime === 'auto' && cpuOnly)) {
      try {
        return await callNative(op, context, undefined, async (binding) => {
          const opened = await binding.rhythmOpen(model, { ...session, runtime: 'builtin', recurrentPrecision: o.recurrentPrecision });
          return new RhythmTracker(opened.handle, opened.providers, modelPath, opened.runtime, o.recurrentPrecision);
        });
      } catch (err) {
        // 'auto' hands any other network (or a CPU without the kernels) to ONNX Runtime, which
        // reports a truly broken file itself.
        if (o.runtime === 'builtin' || (err as { code?: string }).code !== 'DE_MODEL_INVALID') throw err;
      }
    }
    await ensureOrtRuntime();
    return callNative(op, context, undefined, async (binding) => {
      const opened = await binding.rhythmOpen(model, { ...session, runtime: 'onnxruntime' });
      return new RhythmTracker(opened.handle, opened.providers, modelPath, opened.runtime, 'float32');
    });
  }

  /** What runs the CRNN: the addon's own kernels ('builtin') or an ONNX Runtime session. */
  readonly runtime: 'builtin' | 'onnxruntime';
  /** The LSTMs' recurrent weights as the network runs them ('float32' on ONNX Runtime). */
  readonly recurrentPrecision: 'float16' | 'float32';

  private constructor(
    handle: NativeRhythmHandle,
    providers: string[],
    modelPath: string | undefined,
    runtime: 'builtin' | 'onnxruntime',
    recurrentPrecision: 'float16' | 'float32',
  ) {
    super(handle, providers, modelPath);
    this.runtime = runtime;
    this.recurrentPrecision = recurrentPrecision;
  }

  /**
   * Beats, downbeats, meter and tempo of mono audio at any sample rate (resampled to 22,050 Hz).
   * @throws ModelError DE_CLOSED after close(); AbortError DE_ABORTED; DecodeError DE_NON_FINITE_SAMPLES.
   */
  async track(samples: Float32Array, sampleRate: number, options?: RhythmDecodeOptions): Promise<RhythmResult> {
    const context = new Error();
    const op = 'trackRhythm';
    requireMono(op, samples, sampleRate);
    const o = parseOptions(op, RhythmDecodeOptionsSchema, options);
    return this.lifecycle.hold(op, async () => {
      const audio = await atRate(samples, sampleRate, RHYTHM_SAMPLE_RATE, o.signal);
      return callNative(op, context, o.signal, async (binding, token) => toResult(await binding.trackRhythm(this.handle, audio, nativeOptions(o), token)));
    });
  }
}

/**
 * One-shot: opens the default (or given) model and tracks one song. Reuse RhythmTracker for many.
 * @throws ModelError DE_MODEL_NOT_FOUND, DE_INFERENCE_FAILED; DecodeError DE_NON_FINITE_SAMPLES; AbortError DE_ABORTED.
 */
export async function trackRhythm(samples: Float32Array, sampleRate: number, options?: RhythmDecodeOptions & RhythmTrackerOptions): Promise<RhythmResult> {
  const { model, variant, runtime, recurrentPrecision, intraOpThreads, interOpThreads, providers, ...rest } = options ?? {};
  const tracker = await RhythmTracker.open({
    ...(model !== undefined ? { model } : {}),
    ...(variant !== undefined ? { variant } : {}),
    ...(runtime !== undefined ? { runtime } : {}),
    ...(recurrentPrecision !== undefined ? { recurrentPrecision } : {}),
    ...(intraOpThreads !== undefined ? { intraOpThreads } : {}),
    ...(interOpThreads !== undefined ? { interOpThreads } : {}),
    ...(providers !== undefined ? { providers } : {}),
  });
  try {
    return await tracker.track(samples, sampleRate, rest);
  } finally {
    await tracker.close();
  }
}

/** BeatNet's LOG_SPECT features of mono audio (resampled to 22,050 Hz): [frames x 272], frame-major. */
export async function logSpectFeatures(
  samples: Float32Array,
  sampleRate: number = RHYTHM_SAMPLE_RATE,
  options?: { signal?: AbortSignal },
): Promise<{ frames: number; dims: number; data: Float32Array }> {
  const context = new Error();
  const op = 'logSpectFeatures';
  requireMono(op, samples, sampleRate);
  const audio = await atRate(samples, sampleRate, RHYTHM_SAMPLE_RATE, options?.signal);
  return callNative(op, context, options?.signal, (binding, token) => binding.logSpectFeatures(audio, token));
}

/**
 * The DBN alone on activations at 50 fps: frame-major [frames x columns], columns 3 (beat,
 * downbeat, no beat: the CRNN's output) or 2 (beat, downbeat: madmom's input). Beat times are the
 * frames' times, parabolically refined when `refine` is on (no audio, so no onset snapping).
 */
export async function decodeDownbeats(
  activations: Float32Array,
  options?: RhythmDecodeOptions & { columns?: 2 | 3 },
): Promise<RhythmResult & { cropFrames: [number, number]; backpointerBytes: number }> {
  const context = new Error();
  const op = 'decodeDownbeats';
  if (!(activations instanceof Float32Array)) throw new InvalidArgumentError(`${op}: activations must be a Float32Array`, { op });
  const { columns = 3, ...rest } = options ?? {};
  if (columns !== 2 && columns !== 3) throw new InvalidArgumentError(`${op}: columns must be 2 or 3`, { op });
  if (activations.length % columns !== 0) {
    throw new InvalidArgumentError(`${op}: activations length (${activations.length}) is not a multiple of ${columns}`, { op });
  }
  const o = parseOptions(op, RhythmDecodeOptionsSchema, rest);
  return callNative(op, context, o.signal, async (binding, token) => {
    const r = await binding.decodeDownbeats(activations, { ...nativeOptions(o), columns }, token);
    return { ...toResult(r), cropFrames: r.cropFrames, backpointerBytes: r.backpointerBytes };
  });
}
