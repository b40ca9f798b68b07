export { analyze, stats } from './analyze.js';
export type { AnalysisResult, OriginalAnalysisDict, Stats } from './analyze.js';
export {
  beatTrack,
  beatTrackFromEnvelope,
  onsetStrength,
  tempo,
  tempoFromEnvelope,
  BeatEnvelopeOptionsSchema,
} from './beat.js';
export type { BeatEnvelopeOptions, BeatTrack, TempoEstimate } from './beat.js';
export {
  at,
  chroma,
  features,
  istft,
  melSpectrogram,
  melSpectrogramDb,
  mfcc,
  powerToDb,
  rms,
  row,
  spectralBandwidth,
  spectralCentroid,
  spectralRolloff,
  stft,
  zeroCrossingRate,
} from './spectral.js';
export type { FeatureSet, Matrix, SpectralFeature, Spectrogram } from './spectral.js';
export { FeatureOptionsSchema, IstftOptionsSchema, StftOptionsSchema, WindowSchema, PadModeSchema } from './options.js';
export type { FeatureOptions, IstftOptions, StftOptions } from './options.js';
