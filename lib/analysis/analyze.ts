/**
 * `analyze`: the original's AudioAnalyzer.analyze in one native pass —
 * one STFT shared by chroma, MFCC, centroid, bandwidth and roll-off, plus ZCR, RMS, the onset
 * envelope, tempo and beats — with the per-frame matrices kept and song-level statistics added.
 */
import { parseOptions } from '../util/validate.js';
import { FeatureOptionsSchema, type FeatureName, type FeatureOptions } from './options.js';
import { requireSamples, runNative, toFeatureSet, type Matrix } from './spectral.js';

/** Summary statistics of a feature over frames: mean, population standard deviation, minimum and maximum. */
export interface Stats {
  mean: number;
  /** Population standard deviation (ddof = 0), as numpy.std. */
  std: number;
  min: number;
  max: number;
}

/** Mean, population std, min and max of `x` (all 0 for an empty array). */
export function stats(x: ArrayLike<number>): Stats {
  const n = x.length;
  if (n === 0) return { mean: 0, std: 0, min: 0, max: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += ((x[i] as number) - mean) ** 2;
  return { mean, std: Math.sqrt(ss / n), min, max };
}

function rowStats(m: Matrix): Stats[] {
  const out: Stats[] = [];
  for (let r = 0; r < m.rows; r++) out.push(stats(m.data.subarray(r * m.frames, (r + 1) * m.frames)));
  return out;
}

/** The original's `analysis` dict, key for key (snake_case, as written to combined.json). */
export interface OriginalAnalysisDict {
  librosa: {
    duration_s: number;
    tempo_bpm: number;
    beat_frames: number[];
    beat_times: number[];
    chroma_mean: number[];
    mfcc_stats: Stats[];
    spectral_centroid: Stats;
    spectral_bandwidth: Stats;
    spectral_rolloff: Stats;
    zcr: Stats;
    rms: Stats;
  };
  tempo: number;
  beat_frames: number[];
  beat_times: number[];
}

/**
 * Everything `analyze` computes for one signal: tempo (BPM), beats (frames and seconds), onset envelope,
 * spectral features per frame (hop `hopLength` samples at `sampleRate` Hz) and their statistics.
 */
export interface AnalysisResult {
  sampleRate: number;
  hopLength: number;
  durationS: number;
  /** Global tempo in BPM, on the lag grid 60 * sr / (hop * k); 0 for an all-zero onset envelope. */
  tempoBpm: number;
  beatFrames: Int32Array;
  beatTimes: Float64Array;
  /** Per-beat tempo from the neighbouring inter-beat intervals (BPM). */
  localTempo: Float64Array;
  /** Onset strength as beat_track computes it (median over mel bands). */
  onsetEnvelope: Float32Array;
  /** Tuning chroma used, in fractions of a chroma bin. */
  tuning: number;
  /** STFT frames. */
  frames: number;
  features: {
    chroma: Matrix;
    mfcc: Matrix;
    spectralCentroid: Float32Array;
    spectralBandwidth: Float32Array;
    spectralRolloff: Float32Array;
    zcr: Float32Array;
    rms: Float32Array;
  };
  stats: {
    chromaMean: number[];
    mfcc: Stats[];
    spectralCentroid: Stats;
    spectralBandwidth: Stats;
    spectralRolloff: Stats;
    zcr: Stats;
    rms: Stats;
  };
  /** The same numbers in the original's dict layout. */
  analysis: OriginalAnalysisDict;
}

const ALL: ReadonlySet<FeatureName> = new Set<FeatureName>(['mfcc', 'chroma', 'centroid', 'bandwidth', 'rolloff', 'zcr', 'rms', 'onset', 'beats']);

/**
 * Full song-level analysis of mono float samples at `sampleRate`, as the original's
 * `AudioAnalyzer.analyze` (librosa defaults; nMfcc defaults to 13 here). Heavy work runs in one
 * native worker; pass `signal` to cancel. Non-finite samples reject with DE_NON_FINITE_SAMPLES.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT; DecodeError DE_NON_FINITE_SAMPLES; NativeError DE_RESOURCE_LIMIT; AbortError DE_ABORTED.
 */
export async function analyze(samples: Float32Array, sampleRate: number, options?: FeatureOptions): Promise<AnalysisResult> {
  const context = new Error();
  const op = 'analyze';
  requireSamples(op, samples, sampleRate);
  const o = parseOptions(op, FeatureOptionsSchema, { nMfcc: 13, ...options });
  const r = await runNative(op, samples, sampleRate, o, ALL, 'median', context);
  const f = toFeatureSet(r, sampleRate, o);
  const beat = r.beat!;
  const beatTimes = new Float64Array(beat.beats.length);
  for (let i = 0; i < beat.beats.length; i++) beatTimes[i] = ((beat.beats[i] as number) * o.hopLength) / sampleRate;
  const chromaM = f.chroma!;
  const mfccM = f.mfcc!;
  const st = {
    chromaMean: rowStats(chromaM).map((s) => s.mean),
    mfcc: rowStats(mfccM),
    spectralCentroid: stats(f.spectralCentroid!),
    spectralBandwidth: stats(f.spectralBandwidth!),
    spectralRolloff: stats(f.spectralRolloff!),
    zcr: stats(f.zcr!),
    rms: stats(f.rms!),
  };
  const durationS = samples.length / sampleRate;
  const beatFrames = Array.from(beat.beats);
  const beatTimesArr = Array.from(beatTimes);
  return {
    sampleRate,
    hopLength: o.hopLength,
    durationS,
    tempoBpm: beat.tempo,
    beatFrames: beat.beats,
    beatTimes,
    localTempo: beat.localTempo,
    onsetEnvelope: r.onset!,
    tuning: f.tuning ?? 0,
    frames: f.frames,
    features: {
      chroma: chromaM,
      mfcc: mfccM,
      spectralCentroid: f.spectralCentroid!,
      spectralBandwidth: f.spectralBandwidth!,
      spectralRolloff: f.spectralRolloff!,
      zcr: f.zcr!,
      rms: f.rms!,
    },
    stats: st,
    analysis: {
      librosa: {
        duration_s: durationS,
        tempo_bpm: beat.tempo,
        beat_frames: beatFrames,
        beat_times: beatTimesArr,
        chroma_mean: st.chromaMean,
        mfcc_stats: st.mfcc,
        spectral_centroid: st.spectralCentroid,
        spectral_bandwidth: st.spectralBandwidth,
        spectral_rolloff: st.spectralRolloff,
        zcr: st.zcr,
        rms: st.rms,
      },
      tempo: beat.tempo,
      beat_frames: beatFrames,
      beat_times: beatTimesArr,
    },
  };
}
