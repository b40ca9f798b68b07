/**
 * Option schemas of the analysis API. Every default is librosa 0.11.0's; this file is the only
 * place they live. Units follow librosa: sizes in samples, frequencies in Hz, tempi in BPM.
 */
import { z } from 'zod';

import type { NativeAnalyzeOptions, NativeBeatOptions, NativeStftParams } from '../../binding.js';
import { MAX_FFT_SIZE, MAX_HOP, MAX_SAMPLE_RATE } from '../audio/limits.js';

const posInt = z.number().int().min(1);
const finite = z.number().finite();

/** Zod schema of the analysis window shapes (librosa/scipy names). */
export const WindowSchema = z.enum(['hann', 'hamming', 'blackman', 'rectangular', 'bartlett']);
/** Zod schema of how a centred STFT pads the signal's ends (numpy.pad modes). */
export const PadModeSchema = z.enum(['constant', 'reflect', 'edge']);

/** STFT framing (librosa.stft): hopLength defaults to winLength / 4, winLength to nFft. */
export const stftShape = {
  /** FFT size in samples. */
  nFft: posInt.max(MAX_FFT_SIZE).default(2048),
  /** Samples between frames (default: floor(winLength / 4) for stft/istft, 512 for features, as librosa). */
  hopLength: posInt.max(MAX_HOP).optional(),
  /** Window length in samples, zero-padded to nFft (default: nFft). */
  winLength: posInt.max(MAX_FFT_SIZE).optional(),
  window: WindowSchema.default('hann'),
  /** Centre frames on t * hop by padding nFft / 2 samples on both sides. */
  center: z.boolean().default(true),
  /** librosa 0.11's default is zero ("constant") padding. */
  padMode: PadModeSchema.default('constant'),
};

type StftShapeIn = { nFft: number; hopLength?: number | undefined; winLength?: number | undefined };

function resolveStft<T extends StftShapeIn>(o: T): T & { hopLength: number; winLength: number } {
  const winLength = o.winLength ?? o.nFft;
  return { ...o, winLength, hopLength: o.hopLength ?? Math.max(1, Math.floor(winLength / 4)) };
}

/** Largest prime factor of n (n >= 1). */
function largestPrimeFactor(n: number): number {
  let rest = n;
  let largest = 1;
  for (let q = 2; q * q <= rest; q++) {
    while (rest % q === 0) {
      largest = q;
      rest /= q;
    }
  }
  return rest > 1 ? Math.max(largest, rest) : largest;
}

function checkWin(o: StftShapeIn, ctx: z.RefinementCtx): void {
  // kissfft transforms a prime factor q in O(n * q): a prime nFft near 65536 took seconds per frame
  const q = largestPrimeFactor(o.nFft);
  if (q > 127) {
    ctx.addIssue({ code: 'custom', path: ['nFft'], message: `nFft (${o.nFft}) has the prime factor ${q}; factors above 127 are not supported` });
  }
  if (o.winLength !== undefined && o.winLength > o.nFft) {
    ctx.addIssue({ code: 'custom', path: ['winLength'], message: `winLength (${o.winLength}) must be <= nFft (${o.nFft})` });
  }
}

const signal = { signal: z.instanceof(AbortSignal).optional() };

/** Zod schema of stft's options: FFT size, hop and window length in samples, window, centring, output kind. */
export const StftOptionsSchema = z
  .strictObject({ ...stftShape, output: z.enum(['complex', 'magnitude', 'power']).default('complex'), ...signal })
  .superRefine(checkWin)
  .transform(resolveStft);
/** Options of stft (see StftOptionsSchema; librosa.stft's defaults). */
export type StftOptions = z.input<typeof StftOptionsSchema>;

/** Zod schema of istft's options: the STFT framing (samples) and the output length in samples. */
export const IstftOptionsSchema = z
  .strictObject({
    ...stftShape,
    /** Output length in samples (default: librosa's, i.e. hop * (frames - 1) when centred). */
    length: z
      .number()
      .int()
      .min(0)
      .max(2 ** 40)
      .optional(),
    ...signal,
  })
  .superRefine(checkWin)
  .transform(resolveStft);
/** Options of istft (see IstftOptionsSchema). */
export type IstftOptions = z.input<typeof IstftOptionsSchema>;

/** Mel filterbank (librosa.filters.mel) and the spectrogram power it is applied to. */
export const melShape = {
  nMels: posInt.max(4096).default(128),
  fmin: finite.min(0).max(MAX_SAMPLE_RATE).default(0),
  /** Upper edge in Hz (default: sampleRate / 2). */
  fmax: finite.positive().max(1e7).optional(),
  /** HTK mel scale instead of Slaney's. */
  htk: z.boolean().default(false),
  /** 'slaney' area normalisation, null for none, or a p-norm per filter. */
  melNorm: z.union([z.literal('slaney'), z.null(), z.number().positive()]).default('slaney'),
  /** Exponent of the magnitude spectrogram: 2 power, 1 magnitude. */
  power: finite.positive().max(1e6).default(2),
};

/** librosa.power_to_db. */
export const dbShape = {
  ref: finite.positive().default(1),
  amin: finite.positive().default(1e-10),
  /** Floor at max - topDb; null disables it. */
  topDb: z.union([finite.min(0), z.null()]).default(80),
};

export const mfccShape = {
  /** Number of coefficients (librosa's default is 20; the original's analysis uses 13). */
  nMfcc: posInt.max(4096).default(20),
  /** Cepstral liftering (0: none). */
  lifter: finite.min(0).max(1e9).default(0),
};

export const chromaShape = {
  nChroma: posInt.max(120).default(12),
  /** Deviation from A440 in fractions of a chroma bin; null estimates it (librosa.estimate_tuning). */
  tuning: z.union([finite.min(-0.5).max(0.5), z.null()]).default(null),
  ctroct: finite.min(-1000).max(1000).default(5),
  /** Octave weighting width; null disables it. */
  octwidth: z.union([finite.positive().max(1000), z.null()]).default(2),
  /** Per-frame normalisation: Infinity (max = 1), a p-norm, or null for none. */
  chromaNorm: z.union([z.number().positive(), z.null()]).default(Infinity),
};

export const spectralShape = {
  /** Exponent of spectral_bandwidth. */
  bandwidthP: finite.positive().max(1e6).default(2),
  /** Roll-off fraction of spectral_rolloff. */
  rollPercent: finite.gt(0).lt(1).default(0.85),
  /** ZCR / RMS frame length (default: nFft). */
  frameLength: posInt.max(MAX_FFT_SIZE).optional(),
  /** ZCR / RMS hop (default: hopLength). */
  frameHop: posInt.max(MAX_HOP).optional(),
};

export const onsetShape = {
  lag: posInt.max(MAX_HOP).default(1),
  /** Local maximum filter across frequency (1: none). */
  maxSize: posInt.max(4096).default(1),
  detrend: z.boolean().default(false),
};

export const beatShape = {
  startBpm: finite.positive().max(10_000).default(120),
  stdBpm: finite.positive().max(100).default(1),
  /** Autocorrelation window of the tempo estimate, in seconds. */
  acSize: finite.positive().max(3600).default(8),
  /** Upper tempo limit; null disables it. */
  maxTempo: z.union([finite.positive(), z.null()]).default(320),
  tightness: finite.positive().max(1e9).default(100),
  /** Drop weak leading/trailing beats. */
  trim: z.boolean().default(true),
  /** Use this tempo instead of estimating one. */
  bpm: finite.positive().max(10_000).optional(),
};

export const AggregateSchema = z.enum(['mean', 'median', 'max', 'min']);

/** Everything one native analysis pass can compute, with librosa's defaults. */
export const FeatureOptionsSchema = z
  .strictObject({
    ...stftShape,
    ...melShape,
    ...dbShape,
    ...mfccShape,
    ...chromaShape,
    ...spectralShape,
    ...onsetShape,
    ...beatShape,
    /** Aggregation of onset strength across mel bands (librosa.onset.onset_strength: mean). */
    aggregate: AggregateSchema.default('mean'),
    /**
     * Threads for the per-frame work inside the one native job (default 1: only the libuv worker).
     * Results are identical for any value; raise it only when nothing else is running in parallel.
     */
    threads: z.number().int().min(1).max(64).default(1),
    ...signal,
  })
  .superRefine((o, ctx) => {
    checkWin(o, ctx);
    if (o.nMfcc > o.nMels) ctx.addIssue({ code: 'custom', path: ['nMfcc'], message: `nMfcc (${o.nMfcc}) must be <= nMels (${o.nMels})` });
    if (o.fmax !== undefined && o.fmax <= o.fmin) ctx.addIssue({ code: 'custom', path: ['fmax'], message: 'fmax must exceed fmin' });
  })
  // librosa's feature functions default hop_length to 512 whatever n_fft/win_length are (only
  // librosa.stft itself uses win_length // 4)
  .transform((o) => ({ ...o, winLength: o.winLength ?? o.nFft, hopLength: o.hopLength ?? 512 }));
/** Options of the feature functions and `analyze` (see FeatureOptionsSchema; librosa's defaults, hop 512 samples). */
export type FeatureOptions = z.input<typeof FeatureOptionsSchema>;
export type ResolvedFeatureOptions = z.output<typeof FeatureOptionsSchema>;

export type FeatureName = 'melPower' | 'melDb' | 'mfcc' | 'chroma' | 'centroid' | 'bandwidth' | 'rolloff' | 'zcr' | 'rms' | 'onset' | 'beats';

export function stftParams(o: { nFft: number; hopLength: number; winLength: number; window: string; center: boolean; padMode: string }): NativeStftParams {
  return {
    nFft: o.nFft,
    hopLength: o.hopLength,
    winLength: o.winLength,
    window: o.window as NativeStftParams['window'],
    center: o.center,
    padMode: o.padMode as NativeStftParams['padMode'],
  };
}

export function beatParams(o: ResolvedFeatureOptions | z.output<z.ZodObject<typeof beatShape>>): NativeBeatOptions {
  return {
    startBpm: o.startBpm,
    stdBpm: o.stdBpm,
    acSize: o.acSize,
    maxTempo: o.maxTempo ?? -1,
    tightness: o.tightness,
    trim: o.trim,
    bpm: o.bpm ?? 0,
  };
}

/** The native option record for one analysis pass computing `want`. */
export function nativeAnalyzeOptions(
  sampleRate: number,
  o: ResolvedFeatureOptions,
  want: ReadonlySet<FeatureName>,
  onsetAggregate: 'mean' | 'median' | 'max' | 'min',
): NativeAnalyzeOptions {
  return {
    sampleRate,
    ...stftParams(o),
    melPower: want.has('melPower'),
    melDb: want.has('melDb'),
    mfcc: want.has('mfcc'),
    chroma: want.has('chroma'),
    centroid: want.has('centroid'),
    bandwidth: want.has('bandwidth'),
    rolloff: want.has('rolloff'),
    zcr: want.has('zcr'),
    rms: want.has('rms'),
    onset: want.has('onset'),
    beats: want.has('beats'),
    nMels: o.nMels,
    fmin: o.fmin,
    fmax: o.fmax ?? -1,
    htk: o.htk,
    melNorm: o.melNorm === 'slaney' ? -1 : o.melNorm === null ? 0 : o.melNorm,
    power: o.power,
    ref: o.ref,
    amin: o.amin,
    topDb: o.topDb ?? -1,
    nMfcc: o.nMfcc,
    lifter: o.lifter,
    nChroma: o.nChroma,
    tuning: o.tuning ?? Number.NaN,
    ctroct: o.ctroct,
    octwidth: o.octwidth ?? 0,
    chromaNorm: o.chromaNorm ?? 0,
    bandwidthP: o.bandwidthP,
    rollPercent: o.rollPercent,
    frameLength: o.frameLength ?? o.nFft,
    frameHop: o.frameHop ?? o.hopLength,
    onsetAggregate,
    lag: o.lag,
    maxSize: o.maxSize,
    detrend: o.detrend,
    threads: o.threads,
    ...beatParams(o),
  };
}
