/**
 * The pipeline's use of the native analysis core: tempo and beats of the (preprocessed) mix
 * (librosa beat_track defaults at the analysis rate), and the whole-stem frame features that the
 * bar aggregation reads (the original's precompute path: n_fft 2048, hop = hop_length).
 */
import { beatTrack } from '../analysis/beat.js';
import { features } from '../analysis/spectral.js';
import type { BarFeatureColumns } from '../datasets/tables.js';
import { aggregateBarFeatures, centredFrameTimes } from './barFeatures.js';
import type { BarBoundary } from './segmentation.js';

export interface MixAnalysis {
  tempoBpm: number;
  /** Seconds on the analysed signal's own timeline. */
  beatTimes: Float64Array;
}

/** librosa.beat.beat_track with its defaults (hop 512, start_bpm 120, tightness 100, trim). */
export async function analyzeMix(samples: Float32Array, sampleRate: number, signal?: AbortSignal): Promise<MixAnalysis> {
  const result = await beatTrack(samples, sampleRate, signal ? { signal } : undefined);
  return { tempoBpm: result.tempo, beatTimes: Float64Array.from(result.beatTimes) };
}

export type StemBarFeatureResult = BarFeatureColumns;

const N_FFT = 2048;

/** Frame features over the whole stem (one STFT), aggregated per bar. */
export async function computeStemBarFeatures(
  samples: Float32Array,
  sampleRate: number,
  bars: readonly BarBoundary[],
  hopLength: number,
  signal?: AbortSignal,
): Promise<StemBarFeatureResult> {
  // The original shrinks n_fft to the audio length for very short stems.
  const nFft = Math.max(2, Math.min(N_FFT, samples.length));
  const set = await features(samples, sampleRate, ['zcr', 'spectralCentroid', 'spectralRolloff', 'spectralBandwidth', 'mfcc', 'chroma'], {
    nFft,
    hopLength,
    nMfcc: 13,
    ...(signal ? { signal } : {}),
  });
  return aggregateBarFeatures({
    samples,
    sampleRate,
    bars,
    frames: {
      frameTimes: centredFrameTimes(set.frames, hopLength, sampleRate),
      zcr: set.zcr!,
      spectralCentroid: set.spectralCentroid!,
      spectralRolloff: set.spectralRolloff!,
      spectralBandwidth: set.spectralBandwidth!,
      mfcc: { data: set.mfcc!.data, rows: set.mfcc!.rows, layout: 'coefficient-major' },
      chroma: { data: set.chroma!.data, rows: set.chroma!.rows, layout: 'coefficient-major' },
    },
  });
}
