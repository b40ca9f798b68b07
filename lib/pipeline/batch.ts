/**
 * Batch processing (the original's AudioPipeline.process_batch), with bounded parallelism
 * (`jobs`), resume of songs whose outputs are complete, and cancellation. Per-file failures never
 * throw: they are collected, as in the original.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';

import pLimit from 'p-limit';

import { DidacticError } from '../errors.js';
import { prefixedLogger, silentLogger, type Logger } from '../util/logger.js';
import type { BatchMetrics, StepMetrics } from '../util/metrics.js';
import { batchSongIds } from './batchInputs.js';
import { planConcurrency, type RunPlan } from './concurrency.js';
import { PipelineConfig, type PipelineConfigFields } from './config.js';
import { songEnvironment, type ProgressEvent } from './context.js';
import { runFingerprint } from './fingerprint.js';
import { manifestProblem } from './manifest.js';
import { ModelCache } from './models.js';
import { createPipelineBreakers, type PipelineBreakers } from './resilience.js';
import { runSong } from './run.js';
import { removeStaleStaging } from './songLock.js';
import type { PipelineServices } from './services.js';

/** The result object of one song (the original's keys in its order, plus additive keys). */
export type SongResult = Record<string, unknown> & { song_id: string; input_path: string; output_dir: string; summary_json: string };

export type BatchSuccess = [songId: string, inputPath: string, results: SongResult];
export type BatchFailure = [songId: string, inputPath: string, error: string];
export type BatchSkip = [songId: string, inputPath: string, summaryJson: string];

/** processBatch's result: the original's keys (successful, failed, counts) plus skipped, degraded, coded failures and metrics. */
export interface BatchResult {
  successful: BatchSuccess[];
  failed: BatchFailure[];
  total: number;
  success_count: number;
  failure_count: number;
  /** Additive: songs skipped by `resume` because their outputs were complete. */
  skipped: BatchSkip[];
  /** Additive: completed songs that had to fall back somewhere, with the reasons (also in `successful`). */
  degraded: Array<[songId: string, inputPath: string, reasons: string[]]>;
  /** Additive: each failure with its stable error code. */
  failures: Array<{ song_id: string; input_path: string; error: string; code: string }>;
  /** Additive: resource figures summed over the songs processed in this batch. */
  metrics: BatchMetrics;
}

/** Options of processBatch: song ids, the base config, jobs, resume, cancellation, services, models, callbacks. */
export interface BatchOptions {
  songIds?: readonly string[];
  /**
   * The config every song starts from: a PipelineConfig (each song gets `config.with({songId,
   * inputWav, outDir})`) or config fields (camelCase or snake_case).
   */
  config?: PipelineConfig | Partial<PipelineConfigFields> | Record<string, unknown>;
  logger?: Logger;
  /** Songs processed at once (default 1, like the original). */
  jobs?: number;
  /** Skip songs whose previous outputs are complete and were made from the same input and config. */
  resume?: boolean;
  signal?: AbortSignal;
  services?: PipelineServices;
  /** Called for each step and bar-progress event of every song. */
  onProgress?: (event: ProgressEvent) => void;
  /** The run's concurrency; default planConcurrency({ jobs }) (see concurrency.ts). */
  plan?: RunPlan;
  /** Opened models shared by the songs; default: a cache the batch opens and closes itself. */
  models?: ModelCache;
  /** See PipelineOptions.savePosteriors. */
  savePosteriors?: boolean;
  /** See PipelineOptions.strict: a degraded song counts as failed. */
  strict?: boolean;
  /** Called once per song when it completes, fails or is skipped. */
  onSongDone?: (outcome: { songId: string; inputPath: string; ok: boolean; skipped: boolean; error?: string; degraded?: string[] }) => void;
}

/**
 * The summary path when the song's previous outputs can be reused (`--resume`): its manifest
 * verifies (every file present with its size and SHA-256), it was made from the same input and
 * config, and it was not degraded. Otherwise null.
 */
export async function isSongComplete(config: PipelineConfig): Promise<string | null> {
  return (await resumeProblem(config)) === null ? join(config.analysisDir, 'combined.json') : null;
}

/** Why a song must be (re)done under `--resume`, or null when its outputs verify. */
export async function resumeProblem(config: PipelineConfig): Promise<string | null> {
  if (!existsSync(config.inputWav)) return 'input missing';
  return manifestProblem(config, await runFingerprint(config));
}

/** One song's outcome in a batch, with the step metrics it ran up (also when it failed; none when skipped). */
type SongOutcome =
  | { kind: 'ok'; v: BatchSuccess; stepMetrics: Record<string, StepMetrics> }
  | { kind: 'fail'; v: BatchFailure; code: string; stepMetrics: Record<string, StepMetrics> }
  | { kind: 'skip'; v: BatchSkip; stepMetrics: Record<string, StepMetrics> };

/** What every song of a batch shares: made once by processBatch. */
interface BatchRun {
  options: BatchOptions;
  outDir: string;
  plan: RunPlan;
  models: ModelCache;
  /**
   * One set for the whole batch: a model that keeps failing is skipped fast for the following
   * songs, as in the original (whose breakers were process-global).
   */
  breakers: PipelineBreakers;
  log: Logger;
  total: number;
}

/**
 * Runs the pipeline over many inputs (`jobs` at once); a failing song is recorded, never thrown.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT for an empty input list or song ids that do not match it.
 */
export async function processBatch(inputFiles: readonly string[], outDir: string, options: BatchOptions = {}): Promise<BatchResult> {
  const songIds = batchSongIds(inputFiles, options.songIds);
  const log = options.logger ?? silentLogger;
  const plan = options.plan ?? planConcurrency({ jobs: options.jobs ?? 1 });
  const ownModels = options.models === undefined;
  const models = options.models ?? new ModelCache();
  log.debug(`Concurrency: ${plan.jobs} song(s) × ${plan.stemConcurrency} stem(s) × ${plan.ortIntraOpThreads} ORT thread(s) on ${plan.cores} core(s)`);
  const run: BatchRun = { options, outDir, plan, models, breakers: createPipelineBreakers(), log, total: inputFiles.length };
  const limit = pLimit(plan.jobs);
  const started = performance.now();
  const outcomes: SongOutcome[] = [];
  try {
    await Promise.all(
      inputFiles.map((inputPath, i) =>
        limit(async () => {
          const songId = songIds[i]!;
          const outcome = await runBatchSong(run, i, songId, inputPath);
          outcomes[i] = outcome;
          options.onSongDone?.({
            songId,
            inputPath,
            ok: outcome.kind !== 'fail',
            skipped: outcome.kind === 'skip',
            ...(outcome.kind === 'fail' ? { error: outcome.v[2] } : {}),
            ...(outcome.kind === 'ok' && outcome.v[2].degraded ? { degraded: outcome.v[2].degraded_reasons as string[] } : {}),
          });
        }),
      ),
    );
  } finally {
    if (ownModels) await models.close();
  }
  return aggregateBatch(outcomes, (performance.now() - started) / 1000, log);
}

/** The config of one song of the batch: the base config with the song's id, input and the batch's output root. */
function songConfig(base: BatchOptions['config'], songId: string, inputWav: string, outDir: string): PipelineConfig {
  return base instanceof PipelineConfig
    ? base.with({ songId, inputWav, outDir })
    : new PipelineConfig({ ...(base ?? {}), songId, inputWav, outDir }, { warn: null });
}

/** Runs (or, under `resume`, skips) song `index` of the batch; its failure is returned as an outcome, never thrown. */
async function runBatchSong(run: BatchRun, index: number, songId: string, inputPath: string): Promise<SongOutcome> {
  const { options, log, total } = run;
  log.info(`[${index + 1}/${total}] Processing: ${basename(inputPath)} (song_id=${songId})`);
  const stepMetrics: Record<string, StepMetrics> = {};
  if (options.signal?.aborted) {
    return { kind: 'fail', v: [songId, inputPath, 'AbortError: the batch was cancelled'], code: 'DE_ABORTED', stepMetrics };
  }
  try {
    const config = songConfig(options.config, songId, inputPath, run.outDir);
    // Checked before the song takes its lock or stages anything: a missing input leaves no trace.
    if (!existsSync(inputPath)) throw new DidacticError('DE_FILE_NOT_FOUND', inputPath);
    if (options.resume) {
      const problem = await resumeProblem(config);
      if (problem === null) {
        // A run killed after its manifest but before it let go of its lock leaves the lock file
        // behind; a skipped song clears such leftovers as a processed one does.
        for (const name of await removeStaleStaging(config.outDir)) log.info(`Removed the leftovers of a killed run: ${name}`);
        const summary = join(config.analysisDir, 'combined.json');
        log.info(`  ↷ Skipped (complete outputs from an earlier run, manifest verified): ${summary}`);
        return { kind: 'skip', v: [songId, inputPath, summary], stepMetrics };
      }
      log.info(`  Processing again (--resume): ${problem}`);
    }
    const env = songEnvironment(config, {
      plan: run.plan,
      models: run.models,
      breakers: run.breakers,
      services: options.services,
      // With several songs at once, every log line names its song.
      logger: run.plan.jobs > 1 && total > 1 ? prefixedLogger(log, `[${songId}] `) : log,
      signal: options.signal,
      onProgress: options.onProgress,
      savePosteriors: options.savePosteriors,
      strict: options.strict,
    });
    // runSong fills stepMetrics as the steps finish, so a failed song's steps count too.
    const results = (await runSong(env, { stepTimings: {}, stepMetrics })).results as SongResult;
    if (results.degraded) log.warn(`  ✓ Completed, degraded: ${(results.degraded_reasons as string[]).join('; ')}`);
    else log.info('  ✓ Completed successfully');
    return { kind: 'ok', v: [songId, inputPath, results], stepMetrics };
  } catch (err) {
    const notFound = err instanceof DidacticError && err.code === 'DE_FILE_NOT_FOUND';
    const name = err instanceof DidacticError ? err.name : ((err as Error)?.name ?? 'Error');
    const message = notFound ? `File not found: ${(err as Error).message}` : `${name}: ${(err as Error)?.message ?? String(err)}`;
    const code = err instanceof DidacticError ? err.code : 'DE_NATIVE_UNKNOWN';
    // One line per failed song, with its code (the step that failed logged a warning).
    if (notFound) log.warn(`  ✗ Failed (missing file): ${message} [${code}]`, { code, song_id: songId });
    else log.error(`  ✗ Failed: ${message} [${code}]`, { code, song_id: songId });
    return { kind: 'fail', v: [songId, inputPath, message], code, stepMetrics };
  }
}

/** The batch's result from its songs' outcomes (in input order) and its wall time in seconds. */
function aggregateBatch(outcomes: readonly SongOutcome[], wall: number, log: Logger): BatchResult {
  const total = outcomes.length;
  const successful = outcomes.filter((o) => o.kind === 'ok').map((o) => o.v as BatchSuccess);
  const failed = outcomes.filter((o) => o.kind === 'fail').map((o) => o.v as BatchFailure);
  const skipped = outcomes.filter((o) => o.kind === 'skip').map((o) => o.v as BatchSkip);
  const degraded = successful.filter(([, , r]) => r.degraded).map(([id, path, r]) => [id, path, r.degraded_reasons as string[]] as [string, string, string[]]);
  const failures = outcomes.flatMap((o) => (o.kind === 'fail' ? [{ song_id: o.v[0], input_path: o.v[1], error: o.v[2], code: o.code }] : []));
  log.info(`Batch processing complete: ${successful.length + skipped.length}/${total} successful`);
  const stepTotals: Record<string, { wall_s: number; cpu_s: number }> = {};
  // Bytes are null when any step could not measure them.
  let readBytes: number | null = 0;
  let writtenBytes: number | null = 0;
  for (const [key, m] of outcomes.flatMap((o) => Object.entries(o.stepMetrics))) {
    const t = (stepTotals[key] ??= { wall_s: 0, cpu_s: 0 });
    t.wall_s += m.wall_s;
    t.cpu_s += m.cpu_s;
    readBytes = readBytes === null || m.read_bytes === null ? null : readBytes + m.read_bytes;
    writtenBytes = writtenBytes === null || m.written_bytes === null ? null : writtenBytes + m.written_bytes;
  }
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  const metrics: BatchMetrics = {
    wall_s: round3(wall),
    songs_per_minute: wall > 0 ? round3((successful.length / wall) * 60) : 0,
    peak_rss_mib: Math.round(process.resourceUsage().maxRSS / 1024),
    read_bytes: readBytes,
    written_bytes: writtenBytes,
    steps: Object.fromEntries(Object.entries(stepTotals).map(([k, v]) => [k, { wall_s: round3(v.wall_s), cpu_s: round3(v.cpu_s) }])),
  };
  log.info(`Batch metrics: ${metrics.wall_s}s wall, ${metrics.songs_per_minute} songs/min, peak RSS ${metrics.peak_rss_mib} MiB`, { ...metrics });
  return {
    metrics,
    successful,
    failed,
    total,
    success_count: successful.length + skipped.length,
    failure_count: failed.length,
    skipped,
    degraded,
    failures,
  };
}
