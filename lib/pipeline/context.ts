/**
 * One song's run state: what every step reads and writes. The context owns the song's buffers
 * (decoded input, analysis audio, stems) and each step releases a buffer as soon as no later step
 * needs it; reading a released buffer is a bug and throws, instead of silently using an empty one.
 */
import type { DecodedAudio } from '../audio/decode.js';
import type { SongDatasetSink } from '../datasets/songSink.js';
import type { ReportDatasetsBuilder } from '../reports/html/data.js';
import type { WaveformPeaks } from '../reports/html/peaks.js';
import type { StemEvents } from '../datasets/tables.js';
import { DidacticError } from '../errors.js';
import type { FrameFeatures } from '../music/barFeatures.js';
import type { BarBoundary } from '../music/segmentation.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { RunPlan } from './concurrency.js';
import type { PipelineConfig } from './config.js';
import type { ModelCache } from './models.js';
import { createPipelineBreakers, type PipelineBreakers } from './resilience.js';
import type { PipelineServices, SeparatedStem, NoteTranscriber, TranscribedNote } from './services.js';
import { SongStaging } from './staging.js';

/** The stem name used when the mix is analysed unseparated (separation off or unavailable). */
export const FULL_MIX = 'full_mix';

/** Basic Pitch's model rate (lib/models/basicPitch). */
export const BASIC_PITCH_RATE = 22050;

/** Progress of a song: a step started (index of total), or bars of a stem done. */
export type ProgressEvent =
  | { kind: 'step'; songId: string; step: string; index: number; total: number }
  | { kind: 'bars'; songId: string; stem: string; done: number; total: number };

/** What a song's run is given by its owner (AudioPipeline, a batch, a server). */
export interface SongRunEnvironment {
  config: PipelineConfig;
  plan: RunPlan;
  models: ModelCache;
  services: PipelineServices;
  breakers: PipelineBreakers;
  log: Logger;
  staging: SongStaging;
  signal: AbortSignal | undefined;
  onProgress: ((event: ProgressEvent) => void) | undefined;
  /** Chunk WAV writes in flight at once per stem. */
  chunkWriteConcurrency: number;
  /** Write each stem's raw Basic Pitch posteriors beside its MIDI. */
  savePosteriors: boolean;
  /** Fail the song (DE_DEGRADED, nothing committed) instead of completing it degraded. */
  strict: boolean;
}

/** Chunk WAV writes in flight at once per stem, unless the owner of the run says otherwise. */
export const CHUNK_WRITE_CONCURRENCY = 4;

/**
 * What the owner of a run (AudioPipeline, a batch) fixes for its songs. The plan and the models are
 * required: their defaults and ownership differ between owners.
 */
export interface SongEnvironmentOptions {
  plan: RunPlan;
  models: ModelCache;
  /** Default: resolved from the config. */
  services?: PipelineServices;
  /** Default: new breakers for this song alone. */
  breakers?: PipelineBreakers;
  /** Default: silent. */
  logger?: Logger;
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
  /** Default CHUNK_WRITE_CONCURRENCY. */
  chunkWriteConcurrency?: number;
  /** Default false. */
  savePosteriors?: boolean;
  /** Default false. */
  strict?: boolean;
}

/** The one place a song's environment is assembled, with the defaults every owner shares; staging goes into `config.outDir`. */
export function songEnvironment(config: PipelineConfig, o: SongEnvironmentOptions): SongRunEnvironment {
  return {
    config,
    plan: o.plan,
    models: o.models,
    services: o.services ?? {},
    breakers: o.breakers ?? createPipelineBreakers(),
    log: o.logger ?? silentLogger,
    staging: new SongStaging(config.outDir, config.songId),
    signal: o.signal,
    onProgress: o.onProgress,
    chunkWriteConcurrency: o.chunkWriteConcurrency ?? CHUNK_WRITE_CONCURRENCY,
    savePosteriors: o.savePosteriors ?? false,
    strict: o.strict ?? false,
  };
}

/** The rhythm of the mix on the input's timeline. */
export interface SongRhythm {
  /** The tracker that ran ('auto' resolved). */
  tracker: 'beatnet' | 'beat-this' | 'librosa';
  tempoBpm: number;
  /** Seconds on the input's timeline. */
  beatTimes: Float64Array;
  /**
   * Each beat's position in its bar (1 = downbeat) when the tracker finds downbeats; bars then
   * start on downbeats. Null for the librosa tracker (bars counted from the first beat).
   */
  beatPositions: Int32Array | null;
  /** Downbeat times (seconds on the input's timeline); empty without downbeats. */
  downbeatTimes: Float64Array;
  /** The meter bars, MIDI and ABC use: detected (beats per bar over 4) or configured. */
  meter: { numerator: number; denominator: number };
  /** True when the meter was detected rather than configured. */
  meterDetected: boolean;
  /** The tracker's confidence in [0, 1]; null for librosa. */
  confidence: number | null;
  /**
   * True when `confidence` is calibrated to read as the expected beat F (BeatNet's); false for Beat
   * This!'s mean beat probability at the beats, which no threshold has been fitted to.
   */
  confidenceCalibrated: boolean;
  /** Beat This!'s postprocessor ('minimal' or 'dbn'); null for the other trackers. */
  postprocess: 'minimal' | 'dbn' | null;
  /** Per-beat tempo (60 / inter-beat interval), BPM. */
  tempoCurve: Float64Array;
}

/** What step 5 decided about stems. */
export interface StemPlan {
  /** Stem names in processing order (sorted), or [full_mix]. */
  names: string[];
  /** The separated stems (null: the full mix is the only stem). */
  separated: SeparatedStem[] | null;
  /** Demucs' model name (the stems sub-folder). */
  separatorModel: string;
  /** For combined.json; null when separation did not run. */
  separatorDescription: string | null;
}

/** Step 7's per-song outcome that later steps read. */
export interface StemResults {
  events: StemEvents[];
  notes: Map<string, TranscribedNote[]>;
  featureRows: number;
  transcriber: NoteTranscriber | null;
}

export class SongContext implements SongRunEnvironment {
  readonly config: PipelineConfig;
  readonly plan: RunPlan;
  readonly models: ModelCache;
  readonly services: PipelineServices;
  readonly breakers: PipelineBreakers;
  readonly log: Logger;
  readonly staging: SongStaging;
  readonly signal: AbortSignal | undefined;
  readonly onProgress: ((event: ProgressEvent) => void) | undefined;
  readonly chunkWriteConcurrency: number;
  readonly savePosteriors: boolean;
  readonly strict: boolean;
  /** What produced the outputs (input identity and config); set by step 11. */
  fingerprint = '';

  /** The returned result: the original's keys in its insertion order, plus additive keys. */
  readonly results: Record<string, unknown>;
  /** combined.json's data_quality (additive). */
  readonly quality: Record<string, unknown> = {};

  /** Seconds of the input (set by step 2). */
  durationS = 0;
  /** Seconds trimmed from the start by preprocessing; every written time adds it back. */
  trimOffsetS = 0;
  #decoded: DecodedAudio | undefined;
  #analysisInput: Float32Array | undefined;
  #analysisAudio: Float32Array | undefined;
  #rhythm: SongRhythm | undefined;
  #stems: StemPlan | undefined;
  #bars: BarBoundary[] | undefined;
  #stemResults: StemResults | undefined;
  /**
   * The waveform overview of the HTML report (a few thousand min/max pairs of the mono input on
   * its own timeline), taken in step 2 while the audio is held; null when not wanted or not made.
   */
  waveform: WaveformPeaks | null = null;
  /**
   * The silence trim's window RMS over the analysis input (silenceWindows), measured in step 2 in
   * the same pass as the waveform; step 3 takes it. Undefined when the trim is off.
   */
  silenceWindowRms: Float64Array | undefined;
  /**
   * The full mix's whole-signal frame features (step 7's spectral analysis), when they were computed
   * ahead, beside step 4 (run.ts, plans with songConcurrency ≥ 2 and separation off); step 7 takes them.
   */
  fullMixFrames: FrameFeatures | undefined;
  /** Streaming dataset writers, open from step 7 until step 9 (or an abort). */
  sink: SongDatasetSink | undefined;
  /** The HTML report's rows, collected as the sink writes them (step 10 builds the page from them). */
  reportRows: ReportDatasetsBuilder | undefined;

  constructor(env: SongRunEnvironment) {
    this.config = env.config;
    this.plan = env.plan;
    this.models = env.models;
    this.services = env.services;
    this.breakers = env.breakers;
    this.log = env.log;
    this.staging = env.staging;
    this.signal = env.signal;
    this.onProgress = env.onProgress;
    this.chunkWriteConcurrency = env.chunkWriteConcurrency;
    this.savePosteriors = env.savePosteriors;
    this.strict = env.strict;
    this.results = { song_id: env.config.songId, input_path: env.config.inputWav, output_dir: env.config.outDir };
  }

  /** The input as decoded: native rate, all channels when a later step needs them (step 2 → 5/7). */
  get decoded(): DecodedAudio {
    return this.#need(this.#decoded, 'decoded input');
  }
  set decoded(value: DecodedAudio) {
    this.#decoded = value;
  }

  /** The input as mono at analysis_sr, before preprocessing (step 2 → 3, and 7 for the full mix). */
  get analysisInput(): Float32Array {
    return this.#need(this.#analysisInput, 'analysis input');
  }
  set analysisInput(value: Float32Array) {
    this.#analysisInput = value;
  }

  /** The preprocessed (trimmed, normalised) analysis audio (step 3 → 4). */
  get analysisAudio(): Float32Array {
    return this.#need(this.#analysisAudio, 'preprocessed analysis audio');
  }
  set analysisAudio(value: Float32Array) {
    this.#analysisAudio = value;
  }

  get rhythm(): SongRhythm {
    return this.#need(this.#rhythm, 'rhythm');
  }
  set rhythm(value: SongRhythm) {
    this.#rhythm = value;
  }

  get stems(): StemPlan {
    return this.#need(this.#stems, 'stem plan');
  }
  set stems(value: StemPlan) {
    this.#stems = value;
  }

  get bars(): BarBoundary[] {
    return this.#need(this.#bars, 'bar grid');
  }
  set bars(value: BarBoundary[]) {
    this.#bars = value;
  }

  get stemResults(): StemResults {
    return this.#need(this.#stemResults, 'stem results');
  }
  set stemResults(value: StemResults) {
    this.#stemResults = value;
  }

  /** Drops the decoded input and the unprocessed analysis input (nothing after separation reads them). */
  releaseInputAudio(): void {
    this.#decoded = undefined;
    this.#analysisInput = undefined;
  }

  /** Drops the preprocessed analysis audio (only the rhythm analysis reads it). */
  releaseAnalysisAudio(): void {
    this.#analysisAudio = undefined;
  }

  /** Drops every audio buffer (after the stems are processed). */
  releaseAllAudio(): void {
    this.releaseInputAudio();
    this.releaseAnalysisAudio();
    this.fullMixFrames = undefined;
    for (const stem of this.#stems?.separated ?? []) stem.samples = new Float32Array(0);
  }

  #need<T>(value: T | undefined, what: string): T {
    if (value === undefined) {
      throw new DidacticError('DE_INTERNAL', `${this.config.songId}: the ${what} was read before it was made or after it was released`);
    }
    return value;
  }
}
