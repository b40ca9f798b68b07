/**
 * Types of the raw native addon (native/src). One entry per export; every option is required
 * because defaults are resolved in TypeScript before the call. Not part of the public API.
 */

export declare class NativeCancelToken {
  abort(): void;
}

export interface NativeDecodeOptions {
  mono: boolean;
  planar: boolean;
  /** Truncated WAV/AIFF data fails with DE_CORRUPT_AUDIO instead of decoding what is present (default false). */
  strict?: boolean;
}

/** A WAV/AIFF whose data ends before its header says; `expectedFrames` null when it cannot be told. */
export interface NativeTruncation {
  expectedFrames: number | null;
  actualFrames: number;
}

export interface NativeDecoded {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  sourceChannels: number;
  frames: number;
  container: string;
  sampleFormat: string;
  /** null unless an uncompressed file's data was cut short (compressed formats: always null). */
  truncated: NativeTruncation | null;
}

/** A file's header as probeFile reads it (no decoding). */
export interface NativeProbe {
  sampleRate: number;
  channels: number;
  /** Frames a decode yields (an estimate for compressed formats); null when the header does not say. */
  frames: number | null;
  /** True for uncompressed containers, whose frame count is exact. */
  exact: boolean;
  container: string;
  sampleFormat: string;
}

export type NativeWavSubtype = 'PCM_16' | 'PCM_24' | 'FLOAT';

export interface NativeWriteWavOptions {
  channels: number;
  sampleRate: number;
  subtype: NativeWavSubtype;
}

export interface NativeWriteWavResult {
  frames: number;
  clippedSamples: number;
  bytes: number;
}

export type NativeResampleEngine = 'soxr_hq' | 'soxr_vhq' | 'soxr_mq' | 'soxr_lq' | 'sinc_best' | 'sinc_medium' | 'sinc_fastest';

export interface NativeResampleOptions {
  channels: number;
  inRate: number;
  outRate: number;
  engine: NativeResampleEngine;
}

export interface NativeRuntimeInfo {
  libraryPath: string;
  version: string;
  apiVersion: number;
  availableProviders: string[];
}

export interface NativeTensorSpec {
  name: string;
  shape: number[];
  type: string;
}

export interface NativeTensor {
  data: Float32Array;
  dims: number[];
}

export interface NativeSessionOptions {
  intraOpThreads: number;
  interOpThreads: number;
  providers: string[];
}

/**
 * Opaque handle of an opened model (native/src/napi/handle.h): one type for generic sessions, Basic
 * Pitch, Demucs and the rhythm tracker; `K` says whose calls accept it. modelClose() closes any of them.
 */
export interface NativeModelHandle<K extends string = string> {
  readonly __modelHandle: K;
}
export type NativeSessionHandle = NativeModelHandle<'session'>;

export interface NativeSessionInfo {
  inputs: NativeTensorSpec[];
  outputs: NativeTensorSpec[];
  providers: string[];
  warnings: string[];
}

export interface NativeLibraryVersions {
  sndfile: string;
  soxr: string;
  samplerate: string;
}

// ---- analysis (native/src/dsp, native/src/beat) ----

export type NativeWindow = 'hann' | 'hamming' | 'blackman' | 'rectangular' | 'bartlett';
export type NativePadMode = 'constant' | 'reflect' | 'edge';

export interface NativeStftParams {
  nFft: number;
  hopLength: number;
  winLength: number;
  window: NativeWindow;
  center: boolean;
  padMode: NativePadMode;
}

export interface NativeStftOptions extends NativeStftParams {
  output: 'complex' | 'magnitude' | 'power';
}

/** Row-major [bins][frames] (complex: [bins][frames][re, im]). */
export interface NativeStftResult {
  data: Float32Array;
  bins: number;
  frames: number;
}

export interface NativeIstftOptions extends NativeStftParams {
  bins: number;
  frames: number;
  /** Output length in samples; -1: librosa's default length. */
  length: number;
}

export interface NativeBeatOptions {
  startBpm: number;
  stdBpm: number;
  acSize: number;
  /** <= 0: no limit. */
  maxTempo: number;
  tightness: number;
  trim: boolean;
  /** 0: estimate the tempo. */
  bpm: number;
}

export interface NativeBeatEnvelopeOptions extends NativeBeatOptions {
  sampleRate: number;
  hopLength: number;
}

export interface NativeBeatResult {
  tempo: number;
  beats: Int32Array;
  localTempo: Float64Array;
}

/** Every field required; numbers encode the optional settings (see lib/analysis/options.ts). */
export interface NativeAnalyzeOptions extends NativeStftParams, NativeBeatOptions {
  sampleRate: number;
  melPower: boolean;
  melDb: boolean;
  mfcc: boolean;
  chroma: boolean;
  centroid: boolean;
  bandwidth: boolean;
  rolloff: boolean;
  zcr: boolean;
  rms: boolean;
  onset: boolean;
  beats: boolean;
  nMels: number;
  fmin: number;
  /** < 0: sampleRate / 2. */
  fmax: number;
  htk: boolean;
  /** -1: slaney, 0: none, p > 0: p-norm (Infinity allowed). */
  melNorm: number;
  power: number;
  ref: number;
  amin: number;
  /** < 0: no floor. */
  topDb: number;
  nMfcc: number;
  lifter: number;
  nChroma: number;
  /** NaN: estimate (librosa.estimate_tuning). */
  tuning: number;
  ctroct: number;
  /** <= 0: no octave weighting. */
  octwidth: number;
  /** 0: none; Infinity: max. */
  chromaNorm: number;
  bandwidthP: number;
  rollPercent: number;
  frameLength: number;
  frameHop: number;
  onsetAggregate: 'mean' | 'median' | 'max' | 'min';
  lag: number;
  maxSize: number;
  detrend: boolean;
  /** Threads for the per-frame work (1: the worker thread only). */
  threads: number;
}

/** Matrices are row-major [rows][frames]; only the requested keys are present. */
export interface NativeAnalyzeResult {
  frames: number;
  frameFrames: number;
  melPower?: Float32Array;
  melDb?: Float32Array;
  mfcc?: Float32Array;
  chroma?: Float32Array;
  tuning?: number;
  centroid?: Float32Array;
  bandwidth?: Float32Array;
  rolloff?: Float32Array;
  zcr?: Float32Array;
  rms?: Float32Array;
  onset?: Float32Array;
  beat?: NativeBeatResult;
}

/** One pass over samples: count at or beyond full scale, largest |x|, float64 sum of x² in order. */
export interface NativeSampleLevels {
  clipped: number;
  peak: number;
  sumSquares: number;
}

/** pydub's silence windows: each start (ms, ascending) opens a window of minSilenceMs. */
export interface NativeSilenceWindows {
  sampleRate: number;
  minSilenceMs: number;
  seekStepMs: number;
  starts: Float64Array;
}

export interface NativeSignalOverviewOptions {
  /** Waveform points (0: none). */
  points: number;
  windows: NativeSilenceWindows | null;
}

export interface NativeSignalOverview {
  min: Float32Array;
  max: Float32Array;
  /** Per window start: floor(RMS) on the int16 scale (audioop.rms); null without windows. */
  windowRms: Float64Array | null;
}

export interface NativeNormalized {
  peak: number;
  gain: number;
  /** Null when the peak is 0 (nothing scaled). */
  audio: Float32Array | null;
}

export interface NativeBinding {
  readonly napiVersion: number;
  readonly CancelToken: new () => NativeCancelToken;
  decodeFile(path: string, options: NativeDecodeOptions, cancel?: NativeCancelToken): Promise<NativeDecoded>;
  decodeBuffer(bytes: Uint8Array, options: NativeDecodeOptions, cancel?: NativeCancelToken): Promise<NativeDecoded>;
  probeFile(path: string): Promise<NativeProbe>;
  writeWav(path: string, samples: Float32Array, options: NativeWriteWavOptions): Promise<NativeWriteWavResult>;
  resample(samples: Float32Array, options: NativeResampleOptions, cancel?: NativeCancelToken): Promise<Float32Array>;
  libraryVersions(): NativeLibraryVersions;
  sampleLevels(samples: Float32Array): Promise<NativeSampleLevels>;
  signalOverview(samples: Float32Array, options: NativeSignalOverviewOptions): Promise<NativeSignalOverview>;
  normalizePeak(samples: Float32Array, options: { targetPeak: number }): Promise<NativeNormalized>;
  /** Float64 sums of x² over [ranges[2i], ranges[2i+1]). */
  rangeEnergies(samples: Float32Array | Float64Array, ranges: Float64Array): Promise<Float64Array>;
  ortLoad(libraryPath: string): Promise<NativeRuntimeInfo>;
  ortInfo(): NativeRuntimeInfo | null;
  createSession(model: string | Uint8Array, options: NativeSessionOptions): Promise<{ handle: NativeSessionHandle; info: NativeSessionInfo }>;
  /** Throws DE_CLOSED once the handle is closed. */
  sessionRun(
    handle: NativeSessionHandle,
    feeds: Record<string, NativeTensor>,
    outputNames?: string[],
    cancel?: NativeCancelToken,
  ): Promise<Record<string, NativeTensor>>;
  /** Waits for the handle's calls in flight, then frees the model; later calls throw DE_CLOSED. */
  modelClose(handle: NativeModelHandle): Promise<void>;
  stft(samples: Float32Array, options: NativeStftOptions, cancel?: NativeCancelToken): Promise<NativeStftResult>;
  istft(spectrogram: Float32Array, options: NativeIstftOptions, cancel?: NativeCancelToken): Promise<Float32Array>;
  analyze(samples: Float32Array, options: NativeAnalyzeOptions, cancel?: NativeCancelToken): Promise<NativeAnalyzeResult>;
  beatTrackEnvelope(onsetEnvelope: Float32Array, options: NativeBeatEnvelopeOptions, cancel?: NativeCancelToken): Promise<NativeBeatResult>;
  /** librosa.feature.tempo on an envelope (tightness, trim and bpm are ignored). */
  tempoEnvelope(onsetEnvelope: Float32Array, options: NativeBeatEnvelopeOptions, cancel?: NativeCancelToken): Promise<{ bpm: number; lag: number }>;
}

// ---- Demucs (native/src/ml/demucs_binding.cc) ----

/** Handle of an opened Demucs model (a session plus its checked contract). */
export type NativeDemucsHandle = NativeModelHandle<'demucs'>;

export interface NativeDemucsInfo {
  /** Source names in output order (metadata "sources", else htdemucs' order). */
  sources: string[];
  sampleRate: number;
  /** Samples per model segment (input 0's last dim). */
  segment: number;
  /** STFT frames per segment (input 1's last dim). */
  frames: number;
  /** Fixed batch dim of the graph (1), or -1 when dynamic. */
  batch: number;
  providers: string[];
  warnings: string[];
}

export interface NativeDemucsSeparateOptions {
  overlap: number;
  transitionPower: number;
  shifts: number;
  seed: number;
  batch: number;
  /** 0: the model's segment. */
  segmentSeconds: number;
}

export type NativeDemucsInput = { path: string } | { samples: Float32Array; sampleRate: number; channels: number };

export interface NativeDemucsResult {
  /** One interleaved stereo Float32Array per source at 44.1 kHz, in `info.sources` order. */
  stems: Float32Array[];
  frames: number;
  sourceSampleRate: number;
  sourceChannels: number;
}

export interface NativeBinding {
  demucsOpen(
    model: string | Uint8Array,
    /** memoryPattern: keep ONNX Runtime's memory-pattern planner (default off for Demucs). */
    options: NativeSessionOptions & { memoryPattern?: boolean },
  ): Promise<{ handle: NativeDemucsHandle; info: NativeDemucsInfo }>;
  demucsSeparate(
    handle: NativeDemucsHandle,
    input: NativeDemucsInput,
    options: NativeDemucsSeparateOptions,
    cancel?: NativeCancelToken,
    onProgress?: (done: number, total: number) => void,
  ): Promise<NativeDemucsResult>;
}

// ---- Basic Pitch (native/src/ml/basic_pitch_binding.cc) ----

/** Handle of an opened Basic Pitch model (a session whose signature was checked). */
export type NativeBasicPitchHandle = NativeModelHandle<'basicPitch'>;

export interface NativeBasicPitchNoteOptions {
  onsetThreshold: number;
  frameThreshold: number;
  minNoteLengthFrames: number;
  inferOnsets: boolean;
  melodiaTrick: boolean;
  energyTolerance: number;
  includePitchBends: boolean;
  minFrequency?: number;
  maxFrequency?: number;
}

export interface NativeBasicPitchTranscribeOptions extends NativeBasicPitchNoteOptions {
  batch: number;
  legacyTrim: boolean;
  posteriors: boolean;
}

/** Notes as columns; note i's bends are bends[bendOffsets[i] .. bendOffsets[i+1]). */
export interface NativeBasicPitchNotes {
  startFrame: Int32Array;
  endFrame: Int32Array;
  startTime: Float64Array;
  endTime: Float64Array;
  pitch: Int32Array;
  amplitude: Float64Array;
  hasBends: boolean;
  bendOffsets: Int32Array;
  bends: Int32Array;
}

export interface NativeBasicPitchResult {
  notes: NativeBasicPitchNotes;
  frames: number;
  samples: number;
  sourceSampleRate: number;
  sourceChannels: number;
  timing: { prepareMs: number; inferenceMs: number; notesMs: number };
  note?: Float32Array;
  onset?: Float32Array;
  contour?: Float32Array;
}

export interface NativeBinding {
  basicPitchOpen(
    model: string | Uint8Array,
    options: NativeSessionOptions & { label: string },
  ): Promise<{ handle: NativeBasicPitchHandle; info: { providers: string[]; warnings: string[] } }>;
  basicPitchTranscribe(
    handle: NativeBasicPitchHandle,
    input: { path: string } | { samples: Float32Array; sampleRate: number; channels: number },
    options: NativeBasicPitchTranscribeOptions,
    cancel?: NativeCancelToken,
  ): Promise<NativeBasicPitchResult>;
  basicPitchNotes(
    input: { note: Float32Array; onset: Float32Array; contour: Float32Array; frames: number },
    options: NativeBasicPitchNoteOptions,
  ): Promise<NativeBasicPitchNotes>;
}

// ---- Learned rhythm tracker (native/src/beat/rhythm_binding.cc) ----

/** Handle of an opened BeatNet CRNN session: a model handle (modelClose() closes it). */
export type NativeRhythmHandle = NativeModelHandle<'rhythm'>;

/** Every field filled by lib/analysis/rhythm.ts (madmom's DBNDownBeatTrackingProcessor defaults). */
export interface NativeRhythmOptions {
  meters: number[];
  minBpm: number;
  maxBpm: number;
  numTempi: number;
  transitionLambda: number;
  observationLambda: number;
  threshold: number;
  correct: boolean;
  fps: number;
  refine: boolean;
  keepActivations: boolean;
  /** Re-select meter and downbeat phase from bar-level cues (see native/src/beat/rhythm.h). */
  barCues: boolean;
  /** Scale the audio to a -0.1 dBFS peak before the features (level-independent beats). */
  normalizeLevel: boolean;
  /** Fuse percussive onset envelopes into the DBN's beat observation. */
  percussiveObservation: boolean;
  /** Off-beat / half-tempo correction of the decoded grid from the percussive envelopes. */
  percussiveGrid: boolean;
  /** Compound beats (6/8, 9/8, 12/8) from the subdivision; a 6/8 at the eighth or quarter level moved to dotted quarters. */
  compoundMeters: boolean;
  /** Bars of 5 and 7 beats where their downbeats stand out far more than 2, 3 or 4 (see native/src/beat/meter.h). */
  oddMeters: boolean;
  /** Backbeat template: beat phase, level and downbeat parity from the kick / snare alternation. */
  percussiveBackbeat: boolean;
  /** Sections tracked half a beat off or at half / twice the song's tempo brought back to the song's phase and level. */
  sectionRepair: boolean;
}

export interface NativeRhythmResult {
  beats: Float64Array;
  downbeats: Float64Array;
  beatPositions: Int32Array;
  beatsPerBar: number;
  /** The detected meter (compound: 3 × beats per bar over 8); beats per bar over 4 when the meter is fixed. */
  meter: { numerator: number; denominator: number };
  /** 3 when the beat divides in three (compound), else 2. */
  subdivision: 2 | 3;
  confidence: number;
  tempoBpm: number;
  tempoCurve: Float64Array;
  /** logProbability is null where no path was decodable (-inf). */
  meterScores: { beatsPerBar: number; logProbability: number | null }[];
  frames: number;
  beatFrames: Int32Array;
  cropFrames: [number, number];
  backpointerBytes: number;
  timings: { features: number; model: number; decode: number; cpu: { features: number; model: number; decode: number } };
  activations?: Float32Array;
}

export interface NativeBinding {
  /** runtime 'builtin': the addon's own BeatNet kernels (rejects DE_MODEL_INVALID for another network or a CPU without AVX2/FMA); else ONNX Runtime. */
  rhythmOpen(
    model: string | Uint8Array,
    options: NativeSessionOptions & { runtime?: 'builtin' | 'onnxruntime'; recurrentPrecision?: 'float16' | 'float32' },
  ): Promise<{ handle: NativeRhythmHandle; providers: string[]; runtime: 'builtin' | 'onnxruntime' }>;
  trackRhythm(handle: NativeRhythmHandle, audio22k: Float32Array, options: NativeRhythmOptions, cancel?: NativeCancelToken): Promise<NativeRhythmResult>;
  logSpectFeatures(audio22k: Float32Array, cancel?: NativeCancelToken): Promise<{ frames: number; dims: number; data: Float32Array }>;
  decodeDownbeats(activations: Float32Array, options: NativeRhythmOptions & { columns: 2 | 3 }, cancel?: NativeCancelToken): Promise<NativeRhythmResult>;
}

export type NativeBeatThisHandle = NativeModelHandle<'beat-this'>;

/** Beat This!'s postprocessors: peak picking ('minimal') or the bar-pointer DBN ('dbn'), with the DBN's candidate meters. */
export interface NativeBeatThisDecodeOptions {
  postprocess: 'minimal' | 'dbn';
  meters: number[];
}

/** beatThisPostprocess: beats and downbeats (seconds), positions, meter and confidence from given logits. */
export interface NativeBeatThisDecoded {
  beats: Float64Array;
  downbeats: Float64Array;
  beatPositions: Int32Array;
  beatsPerBar: number;
  /** Mean beat probability at the beats (uncalibrated). */
  confidence: number;
  /** The DBN's score per candidate meter (empty for 'minimal'); null where no path was decodable. */
  meters: { beatsPerBar: number; logProbability: number | null }[];
}

/** trackBeatThis: beats and downbeats (seconds) from the chosen postprocessor, the meter from them. */
export interface NativeBeatThisResult extends NativeBeatThisDecoded {
  tempoBpm: number;
  tempoCurve: Float64Array;
  frames: number;
  chunks: number;
  timings: { features: number; model: number; decode: number };
  beatLogits?: Float32Array;
  downbeatLogits?: Float32Array;
}

export interface NativeBinding {
  beatThisOpen(model: string | Uint8Array, options: NativeSessionOptions): Promise<{ handle: NativeBeatThisHandle; providers: string[] }>;
  trackBeatThis(
    handle: NativeBeatThisHandle,
    audio22k: Float32Array,
    options: NativeBeatThisDecodeOptions & { keepLogits: boolean },
    cancel?: NativeCancelToken,
  ): Promise<NativeBeatThisResult>;
  /** Beat This!'s postprocessor alone, on per-frame beat and downbeat logits (50 frames/s). */
  beatThisPostprocess(
    beatLogits: Float32Array,
    downbeatLogits: Float32Array,
    options: NativeBeatThisDecodeOptions & { keepActivations: boolean },
    cancel?: NativeCancelToken,
  ): Promise<NativeBeatThisDecoded & { seconds: number; activations?: Float32Array }>;
  /** Beat This!'s log-mel front end: [frames x 128], frame-major. */
  beatThisSpectrogram(audio22k: Float32Array, cancel?: NativeCancelToken): Promise<{ frames: number; mels: number; data: Float32Array }>;
}
