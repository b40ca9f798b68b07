/**
 * AudioPipeline: the original's eleven steps on one song, with one time base. The input is decoded
 * once and resampled once to `analysis_sr`; preprocessing (trim, normalise) happens in float and
 * its trim offset is added back, so every time written anywhere is on the input's timeline.
 * Outputs are staged and committed together (see staging.ts). The steps live in steps/ and run
 * over one SongContext (context.ts); run.ts sequences them.
 */
import type { Logger } from '../util/logger.js';
import type { StepMetrics } from '../util/metrics.js';
import { anySignal } from '../util/signals.js';
import { processBatch, type BatchOptions, type BatchResult } from './batch.js';
import { planConcurrency, type RunPlan } from './concurrency.js';
import { PipelineConfig, type PipelineConfigInput } from './config.js';
import { songEnvironment, type ProgressEvent } from './context.js';
import { ModelCache } from './models.js';
import type { PipelineBreakers } from './resilience.js';
import { runSong } from './run.js';
import type { PipelineServices } from './services.js';

// Re-exported where the public API has always found it (lib/index.ts); it lives in resilience.ts.

/** Options of an AudioPipeline: logger, cancellation, services, breakers, concurrency plan, shared models, strictness. */
export interface PipelineOptions {
  logger?: Logger;
  signal?: AbortSignal;
  services?: PipelineServices;
  breakers?: PipelineBreakers;
  /** Called for each step and bar-progress event of the song. */
  onProgress?: (event: ProgressEvent) => void;
  /** The run's concurrency (default: planConcurrency() for one song on this machine). */
  plan?: RunPlan;
  /**
   * Opened models, owned by the caller and shared between runs. Without one the pipeline opens
   * the models it needs for this run and closes them when the run ends.
   */
  models?: ModelCache;
  /** Chunk WAV writes in flight at once per stem (default 4). */
  chunkWriteConcurrency?: number;
  /**
   * Also write each stem's raw Basic Pitch posteriors as `midi/<song_id>/<stem>.{note,onset,contour}.npy`
   * (float32, frames × 88/88/264; result key `posteriors_<stem>`). Default off.
   */
  savePosteriors?: boolean;
  /**
   * Degradation (a model missing or failing, a truncated input) fails the song with DE_DEGRADED and
   * commits nothing, instead of completing it with `degraded: true`. Default false (the original's
   * graceful fallback).
   */
  strict?: boolean;
}

/** The returned result: the original's keys in its insertion order, plus additive keys. */
export type PipelineResult = Record<string, unknown> & {
  song_id: string;
  input_path: string;
  output_dir: string;
  summary_json: string;
};

/**
 * One song through the eleven steps (the original's AudioPipeline): construct with a config, then `run()`.
 * @throws ConfigError DE_INVALID_CONFIG from the constructor for an invalid config.
 */
export class AudioPipeline {
  readonly config: PipelineConfig;
  /** Seconds per step (3 decimals), all eleven keys after a run, also for a failed step. */
  stepTimings: Record<string, number> = {};
  /** Wall/CPU time, peak RSS and bytes read/written per step (additive to the original). */
  stepMetrics: Record<string, StepMetrics> = {};
  readonly #options: PipelineOptions;

  constructor(config: PipelineConfig | PipelineConfigInput, options: PipelineOptions = {}) {
    this.config = config instanceof PipelineConfig ? config : new PipelineConfig(config);
    this.#options = options;
  }

  /** The original's static process_batch; see batch.ts for the options (jobs, resume, ...). */
  static processBatch(inputFiles: readonly string[], outDir: string, options: BatchOptions = {}): Promise<BatchResult> {
    return processBatch(inputFiles, outDir, options);
  }

  /**
   * Runs the song and returns its result; on failure nothing of the song is committed.
   * @throws DidacticError DE_FILE_NOT_FOUND (input), DE_ABORTED, DE_DEGRADED (strict mode), DE_LOCKED, DE_DISK_FULL and the steps' codes.
   */
  async run(runOptions: { signal?: AbortSignal } = {}): Promise<PipelineResult> {
    const o = this.#options;
    const records = { stepTimings: {}, stepMetrics: {} };
    this.stepTimings = records.stepTimings;
    this.stepMetrics = records.stepMetrics;
    const ownModels = o.models === undefined;
    const models = o.models ?? new ModelCache();
    try {
      const env = songEnvironment(this.config, { ...o, plan: o.plan ?? planConcurrency(), models, signal: anySignal(runOptions.signal, o.signal) });
      const run = await runSong(env, records);
      return run.results as PipelineResult;
    } finally {
      if (ownModels) await models.close();
    }
  }
}

/** Constructs and runs a pipeline (the original's run_all). */
export async function runAll(config: PipelineConfig | PipelineConfigInput, options: PipelineOptions = {}): Promise<PipelineResult> {
  return new AudioPipeline(config, options).run();
}
