// The public API: what users of the package need, nothing internal. Test-only helpers (stand-in
// model builders, ONNX graph construction) are exported from `didactic-engine/testing`.

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
export { MAX_CHANNELS, MAX_FFT_SIZE, MAX_HOP, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SampleRateSchema } from './audio/limits.js';
export type { AudioInfo } from './audio/info.js';
export { probeAudio } from './audio/probe.js';
export type { AudioProbe } from './audio/probe.js';

// Analysis (librosa-compatible features, onset, tempo, beats).
export * from './analysis/index.js';

// The learned rhythm tracker: BeatNet's CRNN (ONNX) and the bar-pointer DBN.
export {
  trackRhythm,
  RhythmTracker,
  logSpectFeatures,
  decodeDownbeats,
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
  beatThisSpectrogram,
  installedBeatThisModel,
  BEAT_THIS_FPS,
  BEAT_THIS_MODELS,
  BEAT_THIS_SAMPLE_RATE,
} from './models/beatThis.js';
export type { BeatThisResult, BeatThisTrackerOptions } from './models/beatThis.js';

// Music domain: bar grid, note alignment, per-bar features.
export { segmentBeatsIntoBars } from './music/segmentation.js';
export type { BarBoundary } from './music/segmentation.js';
export { alignNotesToBeats } from './music/align.js';
export type { NoteAlignment } from './music/align.js';
export { aggregateBarFeatures, computeStemBarFeatures } from './music/barFeatures.js';
export type { BarFeatureColumns } from './music/barFeatures.js';

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
  notesFromPosteriors,
  notesToMidi,
  writePosteriorsNpy,
  ensureDefaultModel as ensureBasicPitchModel,
  Transcriber as BasicPitchTranscriber,
  NoteOptionsSchema,
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
  DEFAULT_SOURCES as DEMUCS_DEFAULT_SOURCES,
} from './models/demucs/index.js';
export type { SeparateOptions, SeparationResult, SeparatorInfo, SeparatorOptions, Stem } from './models/demucs/index.js';
// The pretrained models: fetched, verified, converted in Node and installed (`didactic-engine models`).
export { fetchModel, listModels, removeModel, KNOWN_MODELS } from './models/fetch.js';
export type { FetchModelOptions, FetchModelResult, FetchProgress, FetchedFile, KnownModel, ModelFile, ModelListing } from './models/fetch.js';
export { readTorchCheckpoint, readDemucsPackage } from './models/convert/checkpoint.js';
export type { DemucsPackage, PyValue } from './models/convert/checkpoint.js';
export { convertDemucs } from './models/convert/demucs.js';

// The pipeline: config, one song, batches, models owned by the caller, concurrency plan.
export { AudioPipeline, runAll, createPipelineBreakers } from './pipeline/pipeline.js';
export type { PipelineOptions, PipelineResult } from './pipeline/pipeline.js';
export { FULL_MIX } from './pipeline/context.js';
export type { PipelineBreakers, ProgressEvent } from './pipeline/context.js';
export { processBatch, isSongComplete } from './pipeline/batch.js';
export type { BatchOptions, BatchResult } from './pipeline/batch.js';
export {
  PipelineConfig,
  loadPipelineConfigFile,
  pipelineConfigJsonSchema,
  checkConfigFields,
  isConfigBoundError,
  CONFIG_BOUNDS,
  CONFIG_PATH_FIELDS,
  MAX_TIMEOUT_S,
} from './pipeline/config.js';
export { MAX_BEATS_PER_BAR, MAX_INTRA_OP_THREADS } from './models/limits.js';
export type { PipelineConfigInput, PipelineConfigFields } from './pipeline/config.js';
export { planConcurrency } from './pipeline/concurrency.js';
export { planSongMemory, songMemoryBudgetBytes, MEMORY_MODEL } from './pipeline/memory.js';
export type { SongMemoryPlan, SongShape, StepMemory, MemoryPlanConfig } from './pipeline/memory.js';
export type { RunPlan } from './pipeline/concurrency.js';
export { ModelCache } from './pipeline/models.js';
export type { PipelineServices, StemSeparator, Transcriber, TranscribedNote, SeparatedStem } from './pipeline/services.js';
export { retryWithBackoff, computeDelay, ServiceBreaker, withTimeout } from './pipeline/resilience.js';

// Datasets: schemas, readers and writers of the Parquet files the pipeline writes.
export { DATASET_SCHEMAS, EVENTS_SCHEMA, BEATS_SCHEMA, BARS_SCHEMA, BAR_FEATURES_SCHEMA, BAR_GRID_SCHEMA } from './datasets/schema.js';
export type { ColumnKind, ColumnSpec, DatasetName, DatasetSchema } from './datasets/schema.js';
export { readParquetTable, readParquetInfo, checkParquetDataset, writeParquetDataset } from './datasets/parquet.js';
export type { DatasetCheck, ParquetFileInfo, ParquetWriteResult } from './datasets/parquet.js';
export { StreamingParquetWriter } from './datasets/streaming.js';
export { writeSongDatasets } from './datasets/songSink.js';

// The per-song HTML report (reports/<song_id>/report.html) and its PNG rendering.
export {
  buildSongReport,
  buildReportData,
  parseReportHtml,
  readReportDatasets,
  renderReportHtml,
  writeReportHtml,
  waveformPeaks,
} from './reports/html/index.js';
export { findChromium, renderReportPng } from './reports/html/index.js';
export type { ReportData, ReportDataInput, ReportSummaryInput, RenderPngOptions, SongReportResult, WaveformPeaks } from './reports/html/index.js';

// Operations.
export { runDoctor } from './doctor.js';
export type { DoctorReport } from './doctor.js';
export { textLogger, jsonLogger, silentLogger } from './util/logger.js';
export type { Logger } from './util/logger.js';
export { addonOrigin } from './native/load.js';
