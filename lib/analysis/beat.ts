/**
 * Onset strength, tempo and beats with librosa 0.11.0's semantics (librosa.onset.onset_strength,
 * librosa.feature.tempo, librosa.beat.beat_track), computed natively.
 */
import { z } from 'zod';

import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';
import { isPlausibleSampleRate, MAX_HOP } from '../audio/limits.js';
import { parseOptions } from '../util/validate.js';
import { beatParams, beatShape, FeatureOptionsSchema, type FeatureOptions } from './options.js';
import { requireSamples, runNative } from './spectral.js';

/** librosa.onset.onset_strength(y, sr, ...) (aggregate 'mean' unless given). */
export async function onsetStrength(samples: Float32Array, sampleRate: number, options?: FeatureOptions): Promise<Float32Array> {
  const context = new Error();
  const op = 'onsetStrength';
  requireSamples(op, samples, sampleRate);
  const o = parseOptions(op, FeatureOptionsSchema, options);
  const r = await runNative(op, samples, sampleRate, o, new Set(['onset']), o.aggregate, context);
  return r.onset as Float32Array;
}

/** The result of beatTrack: global tempo (BPM), beats as frame indices and seconds, per-beat tempo and the onset envelope. */
export interface BeatTrack {
  /** Global tempo in BPM (0 when the onset envelope is all zero). */
  tempo: number;
  /** Beat positions as frame indices (hop `hopLength`). */
  beatFrames: Int32Array;
  /** Beat positions in seconds: frame * hop / sr. */
  beatTimes: Float64Array;
  /** Per-beat tempo from the neighbouring inter-beat intervals (BPM). */
  localTempo: Float64Array;
  /** The onset envelope the tracker used (median over mel bands, as beat_track computes it). */
  onsetEnvelope: Float32Array;
  hopLength: number;
  sampleRate: number;
}

function framesToTimes(frames: Int32Array, hop: number, sr: number): Float64Array {
  const t = new Float64Array(frames.length);
  for (let i = 0; i < frames.length; i++) t[i] = ((frames[i] as number) * hop) / sr;
  return t;
}

/**
 * librosa.beat.beat_track(y=y, sr=sr): onset strength (median aggregate), tempo estimate with a
 * log-normal prior, dynamic-programming tracker. `onsetEnvelope` is returned too.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT; DecodeError DE_NON_FINITE_SAMPLES; AbortError DE_ABORTED.
 */
export async function beatTrack(samples: Float32Array, sampleRate: number, options?: FeatureOptions): Promise<BeatTrack> {
  const context = new Error();
  const op = 'beatTrack';
  requireSamples(op, samples, sampleRate);
  const o = parseOptions(op, FeatureOptionsSchema, options);
  const r = await runNative(op, samples, sampleRate, o, new Set(['onset', 'beats']), 'median', context);
  const beat = r.beat!;
  return {
    tempo: beat.tempo,
    beatFrames: beat.beats,
    beatTimes: framesToTimes(beat.beats, o.hopLength, sampleRate),
    localTempo: beat.localTempo,
    onsetEnvelope: r.onset as Float32Array,
    hopLength: o.hopLength,
    sampleRate,
  };
}

/** Zod schema of beatTrackFromEnvelope's options: hop length in samples (default 512) and librosa's beat_track parameters. */
export const BeatEnvelopeOptionsSchema = z.strictObject({
  hopLength: z.number().int().min(1).max(MAX_HOP).default(512),
  ...beatShape,
  signal: z.instanceof(AbortSignal).optional(),
});
/** Options of beat tracking on a precomputed onset envelope (see BeatEnvelopeOptionsSchema). */
export type BeatEnvelopeOptions = z.input<typeof BeatEnvelopeOptionsSchema>;

/** librosa.beat.beat_track(onset_envelope=env, sr=sr, ...) on a precomputed envelope. */
export async function beatTrackFromEnvelope(
  onsetEnvelope: Float32Array,
  sampleRate: number,
  options?: BeatEnvelopeOptions,
): Promise<Omit<BeatTrack, 'onsetEnvelope'>> {
  const context = new Error();
  const op = 'beatTrack';
  if (!(onsetEnvelope instanceof Float32Array)) {
    throw new InvalidArgumentError(`${op}: the onset envelope must be a Float32Array`, { op });
  }
  if (!isPlausibleSampleRate(sampleRate)) {
    throw new InvalidArgumentError(`${op}: sampleRate (${String(sampleRate)}) must be within 1000..768000 Hz`, { op });
  }
  const o = parseOptions(op, BeatEnvelopeOptionsSchema, options);
  return callNative(op, context, o.signal, async (binding, token) => {
    const beat = await binding.beatTrackEnvelope(onsetEnvelope, { sampleRate, hopLength: o.hopLength, ...beatParams(o) }, token);
    return {
      tempo: beat.tempo,
      beatFrames: beat.beats,
      beatTimes: framesToTimes(beat.beats, o.hopLength, sampleRate),
      localTempo: beat.localTempo,
      hopLength: o.hopLength,
      sampleRate,
    };
  });
}

/** A tempo estimate: beats per minute and the autocorrelation lag (frames per beat) it came from. */
export interface TempoEstimate {
  /** BPM of the winning lag: 60 * sampleRate / (hopLength * lag). */
  bpm: number;
  /** Frames per beat period on the autocorrelation lag grid. */
  lag: number;
}

/**
 * librosa.feature.tempo(onset_envelope=env, sr=sr): autocorrelation tempogram averaged over
 * frames, log-normal prior around startBpm, maxTempo cut-off. Unlike beatTrack there is no
 * all-zero shortcut: silence yields the prior's favourite lag.
 */
export async function tempoFromEnvelope(onsetEnvelope: Float32Array, sampleRate: number, options?: BeatEnvelopeOptions): Promise<TempoEstimate> {
  const context = new Error();
  const op = 'tempo';
  if (!(onsetEnvelope instanceof Float32Array) || onsetEnvelope.length === 0) {
    throw new InvalidArgumentError(`${op}: the onset envelope must be a non-empty Float32Array`, { op });
  }
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) {
    throw new InvalidArgumentError(`${op}: sampleRate must be a positive number`, { op });
  }
  const o = parseOptions(op, BeatEnvelopeOptionsSchema, options);
  return callNative(op, context, o.signal, (binding, token) =>
    binding.tempoEnvelope(onsetEnvelope, { sampleRate, hopLength: o.hopLength, ...beatParams(o) }, token),
  );
}

/** librosa.feature.tempo(y=y, sr=sr): onset strength (mean aggregate, as librosa) then tempo. */
export async function tempo(samples: Float32Array, sampleRate: number, options?: FeatureOptions): Promise<TempoEstimate> {
  const { signal, ...rest } = options ?? {};
  const env = await onsetStrength(samples, sampleRate, { ...rest, signal });
  const o = parseOptions('tempo', FeatureOptionsSchema, options);
  return tempoFromEnvelope(env, sampleRate, {
    hopLength: o.hopLength,
    startBpm: o.startBpm,
    stdBpm: o.stdBpm,
    acSize: o.acSize,
    maxTempo: o.maxTempo,
    signal,
  });
}
