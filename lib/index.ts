export * from './errors.js';
export { decodeAudio, DecodeOptionsSchema } from './audio/decode.js';
export type { DecodedAudio, DecodeOptions, Truncation } from './audio/decode.js';
export { writeWav, WriteWavOptionsSchema, WavSubtypeSchema } from './audio/write.js';
export type { WavSubtype, WriteWavOptions, WriteWavResult } from './audio/write.js';
export { resample, resampledLength, ResampleOptionsSchema, ResampleEngineSchema } from './audio/resample.js';
export type { ResampleEngine, ResampleOptions } from './audio/resample.js';
export { audioInfo } from './audio/info.js';
export { MAX_CHANNELS, MAX_FFT_SIZE, MAX_HOP, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SampleRateSchema } from './audio/limits.js';
export type { AudioInfo } from './audio/info.js';
export { createSession, OrtSession, SessionOptionsSchema, ExecutionProviderSchema } from './models/session.js';
export type { ExecutionProvider, SessionOptions, Tensor } from './models/session.js';
export { ensureOrtRuntime, ortLibraryPath, ortRuntimeInfo } from './models/runtime.js';
export type { RuntimeInfo } from './models/runtime.js';
export { addonOrigin } from './native/load.js';
export * from './analysis/index.js';
export { AudioPipeline, runAll, createPipelineBreakers, timingKey, STEP_NAMES, FULL_MIX } from './pipeline/pipeline.js';
export type { PipelineOptions, PipelineResult, ProgressEvent, PipelineBreakers } from './pipeline/pipeline.js';
export { processBatch, isSongComplete } from './pipeline/batch.js';
export type { BatchOptions, BatchResult } from './pipeline/batch.js';
export { PipelineConfig, loadPipelineConfigFile, pipelineConfigJsonSchema } from './pipeline/config.js';
export type { PipelineConfigInput, PipelineConfigFields } from './pipeline/config.js';
export type { PipelineServices, StemSeparator, Transcriber, TranscribedNote, SeparatedStem } from './pipeline/services.js';
export { segmentBeatsIntoBars } from './pipeline/segmentation.js';
export type { BarBoundary } from './pipeline/segmentation.js';
export { alignNotesToBeats } from './pipeline/align.js';
export { retryWithBackoff, computeDelay, ServiceBreaker, withTimeout } from './pipeline/resilience.js';
export { runDoctor } from './doctor.js';
export type { DoctorReport } from './doctor.js';
export { textLogger, jsonLogger, silentLogger } from './util/logger.js';
export type { Logger } from './util/logger.js';
export {
  createTranscriber,
  transcribe,
  transcribeToMidi,
  notesFromPosteriors,
  notesToMidi,
  notesToMidiNotes,
  writePosteriorsNpy,
  ensureDefaultModel as ensureBasicPitchModel,
  convertTfjsGraph,
  resolveBasicPitchBackend,
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
  buildDemucsStandIn,
  Separator,
  SeparatorOptionsSchema,
  SeparateOptionsSchema,
  DEFAULT_SOURCES as DEMUCS_DEFAULT_SOURCES,
} from './models/demucs/index.js';
export type { SeparateOptions, SeparationResult, SeparatorInfo, SeparatorOptions, Stem } from './models/demucs/index.js';
export { modelsDir } from './models/paths.js';
export { resolveDefaultSeparator, resolveDefaultTranscriber } from './pipeline/modelServices.js';
