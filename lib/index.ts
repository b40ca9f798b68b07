/**
 * The public API of `didactic-engine`: the pipeline, decoding, the analysis entry points, the
 * models and the errors. Building blocks have their own entry points: `didactic-engine/analysis`
 * (the librosa calls one by one, bar grid, per-bar features, the rhythm tracker's and Basic Pitch's
 * stages), `didactic-engine/datasets` (Parquet schemas, readers, writers), `didactic-engine/reports`
 * (the HTML report); `didactic-engine/service` is the HTTP service and `didactic-engine/testing` the
 * test-only helpers. Internals are exported from none of them. test/e2e/package-exports.test.ts pins
 * the names of each entry point: a new export there is a decision, not a side effect.
 * @module didactic-engine
 */

// Errors: one hierarchy with stable codes.
export {
  AbortError,
  CircuitOpenError,
  ConfigError,
  DatasetWriteError,
  DecodeError,
  DidacticError,
  InvalidArgumentError,
  ModelError,
  NativeError,
  RetryExhaustedError,
  TimeoutError,
  WriteError,
} from './errors.js';
export type { DidacticErrorOptions, ErrorCode } from './errors.js';

// Audio I/O.
export { decodeAudio, DecodeOptionsSchema } from './audio/decode.js';
export type { DecodedAudio, DecodeOptions, Truncation } from './audio/decode.js';
export { writeWav, WriteWavOptionsSchema, WavSubtypeSchema } from './audio/write.js';
export type { WavSubtype, WriteWavOptions, WriteWavResult } from './audio/write.js';
export { resample, resampledLength, ResampleOptionsSchema, ResampleEngineSchema } from './audio/resample.js';
export type { ResampleEngine, ResampleOptions } from './audio/resample.js';
export { mixToMono } from './audio/mix.js';
export { audioInfo } from './audio/info.js';
export type { AudioInfo } from './audio/info.js';
export { probeAudio } from './audio/probe.js';
export type { AudioProbe } from './audio/probe.js';

// Analysis entry points (librosa-compatible; the single calls are in `didactic-engine/analysis`).
export { analyze } from './analysis/analyze.js';
export type { AnalysisResult, OriginalAnalysisDict, Stats } from './analysis/analyze.js';
export { beatTrack, tempo } from './analysis/beat.js';
export type { BeatTrack, TempoEstimate } from './analysis/beat.js';
export { features } from './analysis/spectral.js';
export type { FeatureSet, Matrix, SpectralFeature } from './analysis/spectral.js';
export { FeatureOptionsSchema } from './analysis/options.js';
export type { FeatureOptions } from './analysis/options.js';

// The learned rhythm tracker: BeatNet's CRNN (ONNX) and the bar-pointer DBN.
export {
  trackRhythm,
  RhythmTracker,
  beatnetModelPath,
  DEFAULT_BEATNET_VARIANT,
  RhythmDecodeOptionsSchema,
  RhythmTrackerOptionsSchema,
} from './models/rhythm.js';
export type { RhythmDecodeOptions, RhythmResult, RhythmTrackerOptions } from './models/rhythm.js';
// Beat This! (installed with `didactic-engine models fetch beat-this`): log-mel front end, transformer, peak picking.
export {
  BeatThisTracker,
  BeatThisTrackerOptionsSchema,
  installedBeatThisModel,
  BEAT_THIS_MODELS,
} from './models/beatThis.js';
export type { BeatThisResult, BeatThisTrackerOptions, BeatThisTrackOptions } from './models/beatThis.js';

// Models: ONNX Runtime sessions, Basic Pitch transcription, Demucs separation.
export { createSession, OrtSession, SessionOptionsSchema, ExecutionProviderSchema } from './models/session.js';
export type { ExecutionProvider, SessionOptions, Tensor } from './models/session.js';
export { ensureOrtRuntime, ortLibraryPath, ortRuntimeInfo } from './models/runtime.js';
export type { RuntimeInfo } from './models/runtime.js';
export { modelsDir } from './models/paths.js';
export {
  createTranscriber,
  transcribe,
  transcribeToMidi,
  ensureBasicPitchModel,
  Transcriber,
  TranscribeOptionsSchema,
  TranscriberOptionsSchema,
} from './models/basicPitch/index.js';
export type { NoteEvent, NoteOptions, Posteriors, TranscribeOptions, TranscriberOptions, TranscriptionResult } from './models/basicPitch/index.js';
export {
  createSeparator,
  separate,
  resolveDemucsModel,
  Separator,
  SeparatorOptionsSchema,
  SeparateOptionsSchema,
  DEMUCS_DEFAULT_SOURCES,
} from './models/demucs/index.js';
export type { SeparateOptions, SeparationResult, SeparatorInfo, SeparatorOptions, Stem } from './models/demucs/index.js';
// The pretrained models: fetched, verified, converted in Node and installed (`didactic-engine models`).
export { fetchModel, listModels, removeModel, KNOWN_MODELS } from './models/fetch.js';
export type { FetchModelOptions, FetchModelResult, FetchProgress, FetchedFile, KnownModel, ModelFile, ModelListing } from './models/fetch.js';
export { ensureModels, type EnsuredModel } from './models/ensure.js';
export { readTorchCheckpoint, readDemucsPackage } from './models/convert/checkpoint.js';
export type { DemucsPackage, PyValue } from './models/convert/checkpoint.js';
export { convertDemucs } from './models/convert/demucs.js';

// The pipeline: config, one song, batches, models owned by the caller, concurrency and memory plans.
export { AudioPipeline, runAll } from './pipeline/pipeline.js';
export { createPipelineBreakers } from './pipeline/resilience.js';
export type { PipelineOptions, PipelineResult } from './pipeline/pipeline.js';
export { FULL_MIX } from './pipeline/context.js';
export type { ProgressEvent } from './pipeline/context.js';
export type { PipelineBreakers } from './pipeline/resilience.js';
export { processBatch, isSongComplete } from './pipeline/batch.js';
export type { BatchOptions, BatchResult } from './pipeline/batch.js';
export { PipelineConfig, loadPipelineConfigFile, pipelineConfigJsonSchema, CONFIG_BOUNDS } from './pipeline/config.js';
export type { PipelineConfigInput, PipelineConfigFields } from './pipeline/config.js';
export { planConcurrency } from './pipeline/concurrency.js';
export type { RunPlan } from './pipeline/concurrency.js';
export { planSongMemory, songMemoryBudgetBytes } from './pipeline/memory.js';
export type { SongMemoryPlan, SongShape, StepMemory, MemoryPlanConfig } from './pipeline/memory.js';
export { ModelCache } from './pipeline/models.js';
export type { PipelineServices, StemSeparator, NoteTranscriber, TranscribedNote, SeparatedStem } from './pipeline/services.js';

// Operations.
export { runDoctor } from './doctor.js';
export type { DoctorReport } from './doctor.js';
export { textLogger, jsonLogger, silentLogger } from './util/logger.js';
export type { Logger } from './util/logger.js';
