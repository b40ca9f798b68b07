/**
 * Spectral analysis with librosa 0.11.0's numbers: STFT/iSTFT and the frame-wise features. Every
 * call runs in a native worker; one native pass shares a single STFT between all the features it
 * is asked for (see `features`).
 */
import type { NativeAnalyzeResult } from '../../binding.js';
import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';
import { isPlausibleSampleRate } from '../audio/limits.js';
import { parseOptions } from '../util/validate.js';
import {
  FeatureOptionsSchema,
  IstftOptionsSchema,
  nativeAnalyzeOptions,
  StftOptionsSchema,
  stftParams,
  type FeatureName,
  type FeatureOptions,
  type IstftOptions,
  type ResolvedFeatureOptions,
  type StftOptions,
} from './options.js';

/** A row-major matrix shaped like librosa's (rows, frames) arrays. */
export interface Matrix {
  data: Float32Array;
  rows: number;
  frames: number;
}

/** Value of `m` at (row, frame). */
export function at(m: Matrix, row: number, frame: number): number {
  return m.data[row * m.frames + frame] as number;
}

/** One row of `m` as a view (no copy). */
export function row(m: Matrix, r: number): Float32Array {
  return m.data.subarray(r * m.frames, (r + 1) * m.frames);
}

export interface Spectrogram extends Matrix {
  /** 'complex' data holds [re, im] pairs: data[(bin * frames + frame) * 2 + {0, 1}]. */
  kind: 'complex' | 'magnitude' | 'power';
  bins: number;
  nFft: number;
  hopLength: number;
}

export function requireSamples(op: string, samples: unknown, sampleRate?: unknown): asserts samples is Float32Array {
  if (!(samples instanceof Float32Array)) {
    throw new InvalidArgumentError(`${op}: samples must be a Float32Array (mono)`, { op });
  }
  if (samples.length === 0) throw new InvalidArgumentError(`${op}: samples must not be empty`, { op });
  if (sampleRate !== undefined && !isPlausibleSampleRate(sampleRate)) {
    throw new InvalidArgumentError(`${op}: sampleRate (${String(sampleRate)}) must be within 1000..768000 Hz`, { op });
  }
}

/**
 * librosa.stft. Output 'complex' (default), 'magnitude' (|X|) or 'power' (|X|^2).
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT; DecodeError DE_NON_FINITE_SAMPLES; NativeError DE_RESOURCE_LIMIT; AbortError DE_ABORTED.
 */
export async function stft(samples: Float32Array, options?: StftOptions): Promise<Spectrogram> {
  const context = new Error();
  const op = 'stft';
  requireSamples(op, samples);
  const o = parseOptions(op, StftOptionsSchema, options);
  return callNative(op, context, o.signal, async (binding, token) => {
    const r = await binding.stft(samples, { ...stftParams(o), output: o.output }, token);
    return { data: r.data, rows: r.bins, bins: r.bins, frames: r.frames, kind: o.output, nFft: o.nFft, hopLength: o.hopLength };
  });
}

/** librosa.istft of a complex spectrogram from `stft` (window-sum normalised overlap-add). */
export async function istft(spec: Spectrogram, options?: IstftOptions): Promise<Float32Array> {
  const context = new Error();
  const op = 'istft';
  if (spec?.kind !== 'complex' || !(spec.data instanceof Float32Array)) {
    throw new InvalidArgumentError(`${op}: a complex spectrogram from stft() is required`, { op });
  }
  const o = parseOptions(op, IstftOptionsSchema, { nFft: spec.nFft, hopLength: spec.hopLength, ...options });
  if (spec.bins !== Math.floor(o.nFft / 2) + 1) {
    throw new InvalidArgumentError(`${op}: spectrogram bins (${spec.bins}) must be nFft/2 + 1 (nFft ${o.nFft})`, { op });
  }
  return callNative(op, context, o.signal, (binding, token) =>
    binding.istft(spec.data, { ...stftParams(o), bins: spec.bins, frames: spec.frames, length: o.length ?? -1 }, token),
  );
}

/** Runs one native pass computing `want` and returns the raw result. */
export async function runNative(
  op: string,
  samples: Float32Array,
  sampleRate: number,
  o: ResolvedFeatureOptions,
  want: ReadonlySet<FeatureName>,
  onsetAggregate: 'mean' | 'median' | 'max' | 'min',
  context: Error,
): Promise<NativeAnalyzeResult> {
  return callNative(op, context, o.signal, (binding, token) => binding.analyze(samples, nativeAnalyzeOptions(sampleRate, o, want, onsetAggregate), token));
}

/** Spectral features of one signal, each per STFT frame (hop `hopLength` samples at `sampleRate` Hz); only those asked for are set. */
export interface FeatureSet {
  sampleRate: number;
  hopLength: number;
  /** STFT frames (1 + floor(n / hop) when centred). */
  frames: number;
  melPower?: Matrix;
  melDb?: Matrix;
  mfcc?: Matrix;
  chroma?: Matrix;
  /** The tuning chroma used (estimated unless given), in fractions of a chroma bin. */
  tuning?: number;
  spectralCentroid?: Float32Array;
  spectralBandwidth?: Float32Array;
  spectralRolloff?: Float32Array;
  zcr?: Float32Array;
  rms?: Float32Array;
}

/** The name of a spectral feature `features()` can compute (librosa.feature equivalents). */
export type SpectralFeature = 'melPower' | 'melDb' | 'mfcc' | 'chroma' | 'spectralCentroid' | 'spectralBandwidth' | 'spectralRolloff' | 'zcr' | 'rms';

const NATIVE_NAME: Record<SpectralFeature, FeatureName> = {
  melPower: 'melPower',
  melDb: 'melDb',
  mfcc: 'mfcc',
  chroma: 'chroma',
  spectralCentroid: 'centroid',
  spectralBandwidth: 'bandwidth',
  spectralRolloff: 'rolloff',
  zcr: 'zcr',
  rms: 'rms',
};

export function toFeatureSet(r: NativeAnalyzeResult, sampleRate: number, o: ResolvedFeatureOptions): FeatureSet {
  const T = r.frames;
  const m = (data: Float32Array | undefined, rows: number): Matrix | undefined =>
    data ? { data, rows, frames: rows > 0 ? data.length / rows : T } : undefined;
  const out: FeatureSet = { sampleRate, hopLength: o.hopLength, frames: T };
  if (r.melPower) out.melPower = m(r.melPower, o.nMels);
  if (r.melDb) out.melDb = m(r.melDb, o.nMels);
  if (r.mfcc) out.mfcc = m(r.mfcc, o.nMfcc);
  if (r.chroma) out.chroma = m(r.chroma, o.nChroma);
  if (r.tuning !== undefined) out.tuning = r.tuning;
  if (r.centroid) out.spectralCentroid = r.centroid;
  if (r.bandwidth) out.spectralBandwidth = r.bandwidth;
  if (r.rolloff) out.spectralRolloff = r.rolloff;
  if (r.zcr) out.zcr = r.zcr;
  if (r.rms) out.rms = r.rms;
  return out;
}

/**
 * Computes the requested features from one STFT in one native pass (librosa.feature.* with the
 * shared options). Example: `features(y, sr, ['mfcc', 'chroma'], { nMfcc: 13 })`.
 */
export async function features(samples: Float32Array, sampleRate: number, which: readonly SpectralFeature[], options?: FeatureOptions): Promise<FeatureSet> {
  const context = new Error();
  const op = 'features';
  requireSamples(op, samples, sampleRate);
  const o = parseOptions(op, FeatureOptionsSchema, options);
  if (!Array.isArray(which as unknown) || which.length === 0) {
    throw new InvalidArgumentError(`${op}: name at least one feature (e.g. ['mfcc', 'chroma'])`, { op });
  }
  const want = new Set<FeatureName>();
  for (const w of which) {
    const n = NATIVE_NAME[w];
    if (!n) throw new InvalidArgumentError(`${op}: unknown feature '${String(w)}'`, { op });
    want.add(n);
  }
  const r = await runNative(op, samples, sampleRate, o, want, o.aggregate, context);
  return toFeatureSet(r, sampleRate, o);
}

async function one<K extends keyof FeatureSet>(
  op: string,
  key: K,
  name: SpectralFeature,
  samples: Float32Array,
  sampleRate: number,
  options: FeatureOptions | undefined,
): Promise<NonNullable<FeatureSet[K]>> {
  const context = new Error();
  requireSamples(op, samples, sampleRate);
  const o = parseOptions(op, FeatureOptionsSchema, options);
  const r = await runNative(op, samples, sampleRate, o, new Set([NATIVE_NAME[name]]), o.aggregate, context);
  return toFeatureSet(r, sampleRate, o)[key] as NonNullable<FeatureSet[K]>;
}

/** librosa.feature.melspectrogram (power mel spectrogram, nMels x frames). */
export const melSpectrogram = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Matrix> =>
  one('melSpectrogram', 'melPower', 'melPower', y, sr, options);

/** librosa.power_to_db(librosa.feature.melspectrogram(...)). */
export const melSpectrogramDb = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Matrix> =>
  one('melSpectrogramDb', 'melDb', 'melDb', y, sr, options);

/** librosa.feature.mfcc (DCT-II orthonormal of the dB mel spectrogram; nMfcc defaults to 20). */
export const mfcc = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Matrix> => one('mfcc', 'mfcc', 'mfcc', y, sr, options);

/** librosa.feature.chroma_stft (tuning estimated unless `tuning` is given). */
export const chroma = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Matrix> => one('chroma', 'chroma', 'chroma', y, sr, options);

/** librosa.feature.spectral_centroid, Hz per frame. */
export const spectralCentroid = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Float32Array> =>
  one('spectralCentroid', 'spectralCentroid', 'spectralCentroid', y, sr, options);

/** librosa.feature.spectral_bandwidth (p = bandwidthP, normalised), Hz per frame. */
export const spectralBandwidth = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Float32Array> =>
  one('spectralBandwidth', 'spectralBandwidth', 'spectralBandwidth', y, sr, options);

/** librosa.feature.spectral_rolloff (rollPercent 0.85), Hz per frame. */
export const spectralRolloff = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Float32Array> =>
  one('spectralRolloff', 'spectralRolloff', 'spectralRolloff', y, sr, options);

/** librosa.feature.zero_crossing_rate (edge padding, threshold 1e-10, zero counts as positive). */
export const zeroCrossingRate = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Float32Array> =>
  one('zeroCrossingRate', 'zcr', 'zcr', y, sr, options);

/** librosa.feature.rms (zero padding). */
export const rms = (y: Float32Array, sr: number, options?: FeatureOptions): Promise<Float32Array> => one('rms', 'rms', 'rms', y, sr, options);

/** librosa.power_to_db on any array (pure TypeScript; the floor is relative to the array's max). */
export function powerToDb(s: Float32Array, options: { ref?: number; amin?: number; topDb?: number | null } = {}): Float32Array {
  const ref = options.ref ?? 1;
  const amin = options.amin ?? 1e-10;
  const topDb = options.topDb === undefined ? 80 : options.topDb;
  if (!(amin > 0)) throw new InvalidArgumentError('powerToDb: amin must be > 0', { op: 'powerToDb' });
  const out = new Float32Array(s.length);
  const refDb = 10 * Math.log10(Math.max(amin, Math.abs(ref)));
  let max = -Infinity;
  for (let i = 0; i < s.length; i++) {
    const v = Math.fround(10 * Math.log10(Math.max(Math.fround(amin), s[i] as number)) - refDb);
    out[i] = v;
    if (v > max) max = v;
  }
  if (topDb !== null) {
    const floor = Math.fround(max - topDb);
    for (let i = 0; i < out.length; i++) if ((out[i] as number) < floor) out[i] = floor;
  }
  return out;
}
