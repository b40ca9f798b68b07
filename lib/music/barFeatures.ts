/**
 * Per-bar aggregation of whole-signal frame features (the original's "precompute" path, spec
 * ), with its bugs fixed:
 *
 * - one implementation: the per-frame features come from one whole-stem analysis (native), and
 *   every bar is aggregated from them — no per-chunk path with different numbers;
 * - a bar's frames are those whose **centre** time lies in [start, end) (the original subtracted
 *   n_fft/2 from centred frames and so read 2–3 frames early);
 * - energy and RMS are float64 sums over the bar's samples (the original's float32 running sum
 *   lost quiet bars late in long stems);
 * - samples of a bar are [floor(start·sr + 0.5), floor(end·sr + 0.5)), the rule shared with chunk
 *   slicing (segmentation.ts);
 * - all means and population standard deviations accumulate in float64.
 *
 * Edge handling: a bar with no samples gets no row (as in the original); a bar shorter than one hop
 * (no frame centre inside it, e.g. a tiny clamped last bar) uses the single frame nearest its
 * midpoint, instead of falling back to a different extractor.
 */
import { rangeEnergies } from '../audio/levels.js';
import { InvalidArgumentError } from '../errors.js';
import { features } from '../analysis/spectral.js';
import { type BarBoundary, barSampleRange } from './segmentation.js';

/** Per-bar features of one stem, one entry per processed bar . */
export interface BarFeatureColumns {
  barIndex: ArrayLike<number>;
  startS: ArrayLike<number>;
  endS: ArrayLike<number>;
  rms: ArrayLike<number>;
  zcr: ArrayLike<number>;
  energy: ArrayLike<number>;
  spectralCentroidMean: ArrayLike<number>;
  spectralCentroidStd: ArrayLike<number>;
  spectralRolloffMean: ArrayLike<number>;
  spectralRolloffStd: ArrayLike<number>;
  spectralBandwidthMean: ArrayLike<number>;
  /** Row-major, 13 per bar. */
  mfccMean: ArrayLike<number>;
  /** Row-major, 13 per bar. */
  mfccStd: ArrayLike<number>;
  /** Row-major, 12 per bar (C … B). */
  chromaMean: ArrayLike<number>;
}

/** A per-frame feature with several coefficients per frame (13 MFCCs, 12 chroma bins). */
export interface FeatureMatrix {
  data: Float32Array | Float64Array;
  /** Coefficients per frame. */
  rows: number;
  /**
   * 'coefficient-major': `data[r·numFrames + f]` (librosa's (n, frames) layout);
   * 'frame-major': `data[f·rows + r]`.
   */
  layout: 'coefficient-major' | 'frame-major';
}

/** Whole-stem frame features, one value (or column) per frame. */
export interface FrameFeatures {
  /** Centre time of each frame in seconds, ascending, on the same timeline as the bars. */
  frameTimes: ArrayLike<number>;
  zcr: ArrayLike<number>;
  spectralCentroid: ArrayLike<number>;
  spectralRolloff: ArrayLike<number>;
  spectralBandwidth: ArrayLike<number>;
  mfcc: FeatureMatrix;
  chroma: FeatureMatrix;
}

export interface AggregateBarFeaturesInput {
  /** Mono samples of the stem at `sampleRate` (for energy and RMS). */
  samples: Float32Array | Float64Array;
  sampleRate: number;
  frames: FrameFeatures;
  bars: readonly BarBoundary[];
}

/** Centre times of centred frames (librosa `center=True`): frame f is centred on f·hop samples. */
export function centredFrameTimes(numFrames: number, hopLength: number, sampleRate: number): Float64Array {
  const out = new Float64Array(numFrames);
  for (let f = 0; f < numFrames; f++) out[f] = (f * hopLength) / sampleRate;
  return out;
}

function lowerBound(values: ArrayLike<number>, target: number): number {
  let lo = 0;
  let hi = values.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (values[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Frames `[first, end)` whose centres lie in `[startS, endS)`; when none do, the one frame nearest
 * the bar's midpoint. Returns null only when there are no frames at all.
 */
export function barFrameRange(frameTimes: ArrayLike<number>, startS: number, endS: number): [number, number] | null {
  const n = frameTimes.length;
  if (n === 0) return null;
  const first = lowerBound(frameTimes, startS);
  const end = lowerBound(frameTimes, endS);
  if (end > first) return [first, end];
  const middle = (startS + endS) / 2;
  let nearest = Math.min(lowerBound(frameTimes, middle), n - 1);
  if (nearest > 0 && Math.abs(frameTimes[nearest - 1]! - middle) <= Math.abs(frameTimes[nearest]! - middle)) nearest--;
  return [nearest, nearest + 1];
}

/** Mean and population standard deviation (two-pass, float64) of v[from..to). */
function meanStd(get: (i: number) => number, from: number, to: number): [number, number] {
  const n = to - from;
  let sum = 0;
  for (let i = from; i < to; i++) sum += get(i);
  const mean = sum / n;
  let squares = 0;
  for (let i = from; i < to; i++) {
    const d = get(i) - mean;
    squares += d * d;
  }
  return [mean, Math.sqrt(squares / n)];
}

function matrixAccessor(m: FeatureMatrix, numFrames: number, name: string): (row: number, frame: number) => number {
  if (!Number.isInteger(m.rows) || m.rows <= 0) throw new InvalidArgumentError(`${name}: rows must be a positive integer`, { op: 'aggregateBarFeatures' });
  if (m.data.length !== m.rows * numFrames) {
    throw new InvalidArgumentError(`${name}: expected ${m.rows} × ${numFrames} values, got ${m.data.length}`, { op: 'aggregateBarFeatures' });
  }
  const d = m.data;
  return m.layout === 'coefficient-major' ? (r, f) => d[r * numFrames + f]! : (r, f) => d[f * m.rows + r]!;
}

/**
 * Aggregates frame features and sample energy per bar. Bars without samples are left out. The
 * energies (float64 sums of x² over each bar's samples, in order) are summed in the addon, on a
 * worker thread.
 */
export async function aggregateBarFeatures(input: AggregateBarFeaturesInput): Promise<BarFeatureColumns> {
  const op = 'aggregateBarFeatures';
  const { samples, sampleRate, frames, bars } = input;
  if (!(sampleRate > 0)) throw new InvalidArgumentError(`${op}: sampleRate must be positive, got ${sampleRate}`, { op });
  const numFrames = frames.frameTimes.length;
  for (const [name, values] of [
    ['zcr', frames.zcr],
    ['spectralCentroid', frames.spectralCentroid],
    ['spectralRolloff', frames.spectralRolloff],
    ['spectralBandwidth', frames.spectralBandwidth],
  ] as const) {
    if (values.length !== numFrames) throw new InvalidArgumentError(`${op}: ${name} has ${values.length} frames, frameTimes has ${numFrames}`, { op });
  }
  const mfccAt = matrixAccessor(frames.mfcc, numFrames, 'mfcc');
  const chromaAt = matrixAccessor(frames.chroma, numFrames, 'chroma');
  const nMfcc = frames.mfcc.rows;
  const nChroma = frames.chroma.rows;

  // Bars that get a row: at least one sample and (if any frames exist) one frame.
  const kept: { bar: BarBoundary; samples: [number, number]; frames: [number, number] }[] = [];
  for (const bar of bars) {
    const range = barSampleRange(bar, sampleRate, samples.length);
    if (range[1] <= range[0]) continue;
    const frameRange = barFrameRange(frames.frameTimes, bar.startS, bar.endS);
    if (!frameRange) continue;
    kept.push({ bar, samples: range, frames: frameRange });
  }

  const n = kept.length;
  const out: BarFeatureColumns = {
    barIndex: new Int32Array(n),
    startS: new Float64Array(n),
    endS: new Float64Array(n),
    rms: new Float64Array(n),
    zcr: new Float64Array(n),
    energy: new Float64Array(n),
    spectralCentroidMean: new Float64Array(n),
    spectralCentroidStd: new Float64Array(n),
    spectralRolloffMean: new Float64Array(n),
    spectralRolloffStd: new Float64Array(n),
    spectralBandwidthMean: new Float64Array(n),
    mfccMean: new Float64Array(n * nMfcc),
    mfccStd: new Float64Array(n * nMfcc),
    chromaMean: new Float64Array(n * nChroma),
  };
  const set = (column: ArrayLike<number>, i: number, v: number) => ((column as Float64Array)[i] = v);
  const ranges = new Float64Array(2 * n);
  kept.forEach(({ samples: [s, e] }, i) => {
    ranges[2 * i] = s;
    ranges[2 * i + 1] = e;
  });
  const energies = await rangeEnergies(samples, ranges);

  kept.forEach(({ bar, samples: [s, e], frames: [f0, f1] }, i) => {
    const energy = energies[i]!;
    set(out.barIndex, i, bar.barIndex);
    set(out.startS, i, bar.startS);
    set(out.endS, i, bar.endS);
    set(out.energy, i, energy);
    set(out.rms, i, Math.sqrt(energy / (e - s)));
    set(out.zcr, i, meanStd((f) => frames.zcr[f]!, f0, f1)[0]);
    const [cm, cs] = meanStd((f) => frames.spectralCentroid[f]!, f0, f1);
    set(out.spectralCentroidMean, i, cm);
    set(out.spectralCentroidStd, i, cs);
    const [rm, rs] = meanStd((f) => frames.spectralRolloff[f]!, f0, f1);
    set(out.spectralRolloffMean, i, rm);
    set(out.spectralRolloffStd, i, rs);
    set(out.spectralBandwidthMean, i, meanStd((f) => frames.spectralBandwidth[f]!, f0, f1)[0]);
    for (let r = 0; r < nMfcc; r++) {
      const [m, sd] = meanStd((f) => mfccAt(r, f), f0, f1);
      set(out.mfccMean, i * nMfcc + r, m);
      set(out.mfccStd, i * nMfcc + r, sd);
    }
    for (let r = 0; r < nChroma; r++) set(out.chromaMean, i * nChroma + r, meanStd((f) => chromaAt(r, f), f0, f1)[0]);
  });
  return out;
}

const N_FFT = 2048;

/**
 * The whole-stem frame features bar features are aggregated from (one STFT). They need no bar grid,
 * so a run with cores to spare computes the full mix's while the rhythm is still being analysed.
 */
export async function stemFrameFeatures(samples: Float32Array, sampleRate: number, hopLength: number, signal?: AbortSignal): Promise<FrameFeatures> {
  // The original shrinks n_fft to the audio length for very short stems.
  const nFft = fftSizeAtMost(Math.max(2, Math.min(N_FFT, samples.length)));
  const set = await features(samples, sampleRate, ['zcr', 'spectralCentroid', 'spectralRolloff', 'spectralBandwidth', 'mfcc', 'chroma'], {
    nFft,
    hopLength,
    nMfcc: 13,
    ...(signal ? { signal } : {}),
  });
  return {
    frameTimes: centredFrameTimes(set.frames, hopLength, sampleRate),
    zcr: set.zcr!,
    spectralCentroid: set.spectralCentroid!,
    spectralRolloff: set.spectralRolloff!,
    spectralBandwidth: set.spectralBandwidth!,
    mfcc: { data: set.mfcc!.data, rows: set.mfcc!.rows, layout: 'coefficient-major' },
    chroma: { data: set.chroma!.data, rows: set.chroma!.rows, layout: 'coefficient-major' },
  };
}

/**
 * Frame features over the whole stem (one STFT), aggregated per bar. `frames`: the stem's
 * stemFrameFeatures when they were computed ahead (same samples, rate and hop).
 */
export async function computeStemBarFeatures(
  samples: Float32Array,
  sampleRate: number,
  bars: readonly BarBoundary[],
  hopLength: number,
  signal?: AbortSignal,
  frames?: FrameFeatures,
): Promise<BarFeatureColumns> {
  return aggregateBarFeatures({ samples, sampleRate, bars, frames: frames ?? (await stemFrameFeatures(samples, sampleRate, hopLength, signal)) });
}

/**
 * The largest FFT size ≤ n whose prime factors are all ≤ 127 (the analysis core's bound: a larger
 * prime factor makes the FFT O(n·q)). The original shrinks n_fft to a very short stem's length;
 * for a length such as 1103 (prime) this gives 1102 instead, a difference of a few samples.
 */
export function fftSizeAtMost(n: number): number {
  for (let size = Math.floor(n); size > 2; size--) {
    let rest = size;
    for (let q = 2; q <= 127 && rest > 1; q++) while (rest % q === 0) rest /= q;
    if (rest === 1) return size;
  }
  return 2;
}
