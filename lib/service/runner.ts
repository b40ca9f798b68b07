/**
 * Runs one job's song: the same pipeline as the CLI (`AudioPipeline` over a shared ModelCache and
 * run plan), writing into the job's output folder. Used by the embedded queue's worker processes and
 * by `didactic-engine worker` on Redis alike.
 */
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { isSongComplete } from '../pipeline/batch.js';
import type { RunPlan } from '../pipeline/concurrency.js';
import { PipelineConfig } from '../pipeline/config.js';
import { songMemoryBudgetBytes } from '../pipeline/memory.js';
import type { ModelCache } from '../pipeline/models.js';
import { AudioPipeline } from '../pipeline/pipeline.js';
import type { Logger } from '../util/logger.js';
import { ProgressTracker, type JobOutcome, type JobProgress, type JobSpec } from './jobs.js';
import type { JobStorage } from './storage.js';

/** What runJob runs with: storage, the open models, the run plan and a logger. */
export interface JobRunDeps {
  storage: JobStorage;
  models: ModelCache;
  plan: RunPlan;
  logger: Logger;
}

/** The pipeline config of a job: the client's overrides plus the service's own paths. */
export function jobConfig(spec: JobSpec, outDir: string): PipelineConfig {
  return new PipelineConfig({ ...spec.config, songId: spec.songId, inputWav: spec.inputPath, outDir }, { warn: null });
}

/** The headline figures a status document carries (the full result is combined.json). */
export function summaryOf(combined: Record<string, unknown>): Record<string, unknown> {
  const keys = ['song_id', 'duration_s', 'tempo_bpm', 'num_beats', 'num_bars', 'stems', 'num_notes_per_stem', 'step_timings'];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in combined) out[k] = combined[k];
  const rhythm = combined.rhythm as Record<string, unknown> | undefined;
  if (rhythm && 'meter' in rhythm) out.meter = rhythm.meter;
  return out;
}

/**
 * A client may lower the song's memory budget, never raise it past what this worker would allow
 * itself (its share of the machine: `songMemoryBudgetBytes(null, plan.jobs)`).
 */
export function withServerMemoryCap(config: PipelineConfig, plan: RunPlan): PipelineConfig {
  const capMb = Math.floor(songMemoryBudgetBytes(null, plan.jobs) / 2 ** 20);
  return config.memoryBudgetMb !== null && config.memoryBudgetMb > capMb ? config.with({ memoryBudgetMb: capMb }) : config;
}

/**
 * Runs one job's song into its output folder (or reuses complete, verified outputs of an earlier
 * attempt) and returns its outcome. With `attempt`, the song runs into that attempt's private
 * folder (`storage.attemptOutputDir`) and the caller commits it (Redis mode's fenced commit).
 * @throws DidacticError the pipeline's codes (DE_CORRUPT_AUDIO, DE_INVALID_CONFIG, DE_ABORTED, …)
 */
export async function runJob(
  spec: JobSpec,
  deps: JobRunDeps,
  options: { signal?: AbortSignal; onProgress?: (progress: JobProgress) => void; attempt?: string } = {},
): Promise<JobOutcome> {
  const { storage } = deps;
  const outDir = options.attempt === undefined ? storage.outputDir(spec.id) : storage.attemptOutputDir(spec.id, options.attempt);
  const config = withServerMemoryCap(jobConfig(spec, outDir), deps.plan);
  // The queue gives this attempt sole ownership of the job: anything staged in its folder is what a
  // killed attempt left (possibly on another machine), so it goes before the run. (An attempt's
  // private folder is new.)
  if (options.attempt === undefined) await storage.clearLeftovers(spec.id);
  const reused = await isSongComplete(config);
  if (reused === null) {
    const tracker = new ProgressTracker();
    const worker = `${hostname()}:${process.pid}`;
    const pipeline = new AudioPipeline(config, {
      models: deps.models,
      plan: deps.plan,
      logger: deps.logger,
      onProgress: (event) => options.onProgress?.({ ...tracker.update(event), worker }),
    });
    await pipeline.run({ signal: options.signal });
  } else {
    deps.logger.info(`Job ${spec.id}: outputs of an earlier attempt are complete and verified; reusing them`);
  }
  return outcomeOf(config, await storage.listFiles(spec.id, options.attempt));
}

/** The outcome of the job's committed outputs (`storage.outputDir`), read back from its files. */
export async function committedOutcome(spec: JobSpec, storage: JobStorage): Promise<JobOutcome> {
  return outcomeOf(jobConfig(spec, storage.outputDir(spec.id)), await storage.listFiles(spec.id));
}

async function outcomeOf(config: PipelineConfig, files: string[]): Promise<JobOutcome> {
  const combined = JSON.parse(await readFile(join(config.analysisDir, 'combined.json'), 'utf8')) as Record<string, unknown>;
  const quality = (combined.data_quality ?? {}) as { degraded?: boolean; degraded_reasons?: string[] };
  return {
    summary: summaryOf(combined),
    degraded: quality.degraded === true,
    degradedReasons: quality.degraded_reasons ?? [],
    files,
  };
}
