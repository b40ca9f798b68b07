/**
 * `didactic-engine/analysis`: the building blocks under the pipeline's analysis — every librosa
 * 0.11.0 call on its own (STFT, mel, MFCC, chroma, spectral features, onset, tempo and beats from
 * an envelope), the bar grid and per-bar features, and the stages of the learned rhythm tracker and
 * of Basic Pitch's note decoding. The entry points (`analyze`, `features`, `beatTrack`, `tempo`)
 * are here too and in `didactic-engine`.
 * @module didactic-engine/analysis
 */

// librosa-compatible analysis (lib/analysis/README.md).
export { analyze, stats } from '../analysis/analyze.js';
export type { AnalysisResult, OriginalAnalysisDict, Stats } from '../analysis/analyze.js';
export { beatTrack, beatTrackFromEnvelope, onsetStrength, tempo, tempoFromEnvelope, BeatEnvelopeOptionsSchema } from '../analysis/beat.js';
export type { BeatEnvelopeOptions, BeatTrack, TempoEstimate } from '../analysis/beat.js';
export {
  chroma,
  features,
  istft,
  melSpectrogram,
  melSpectrogramDb,
  mfcc,
  powerToDb,
  rms,
  spectralBandwidth,
  spectralCentroid,
  spectralRolloff,
  stft,
  zeroCrossingRate,
} from '../analysis/spectral.js';
export type { FeatureSet, Matrix, SpectralFeature, Spectrogram } from '../analysis/spectral.js';
export { FeatureOptionsSchema, IstftOptionsSchema, StftOptionsSchema, WindowSchema, PadModeSchema } from '../analysis/options.js';
export type { FeatureOptions, IstftOptions, StftOptions } from '../analysis/options.js';

// Music: bar grid, note alignment, per-bar features.
export { segmentBeatsIntoBars } from '../music/segmentation.js';
export type { BarBoundary } from '../music/segmentation.js';
export { alignNotesToBeats } from '../music/align.js';
export type { NoteAlignment } from '../music/align.js';
export { aggregateBarFeatures, computeStemBarFeatures } from '../music/barFeatures.js';
export type { BarFeatureColumns } from '../music/barFeatures.js';

// The learned rhythm tracker's stages: BeatNet's features, the bar-pointer DBN on given activations.
export { logSpectFeatures, decodeDownbeats } from '../models/rhythm.js';
export { beatThisSpectrogram, beatThisPostprocess, BeatThisDecodeOptionsSchema, BEAT_THIS_FPS, BEAT_THIS_SAMPLE_RATE } from '../models/beatThis.js';
export type { BeatThisDecodeOptions, BeatThisPostprocess } from '../models/beatThis.js';

// Basic Pitch's note decoding from posteriors, MIDI encoding, the posteriors as .npy files.
export { notesFromPosteriors, notesToMidi, writePosteriorsNpy, NoteOptionsSchema } from '../models/basicPitch/index.js';
export type { NoteOptions, Posteriors } from '../models/basicPitch/index.js';
