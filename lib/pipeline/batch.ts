/**
 * Batch processing (the original's AudioPipeline.process_batch), with bounded parallelism
 * (`jobs`), resume of songs whose outputs are complete, and cancellation. Per-file failures never
 * throw: they are collected, as in the original.
 */
import { existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';

import pLimit from 'p-limit';

import { DidacticError, InvalidArgumentError } from '../errors.js';
import { prefixedLogger, silentLogger, type Logger } from '../util/logger.js';
import type { BatchMetrics, StepMetrics } from '../util/metrics.js';
import { planConcurrency, type RunPlan } from './concurrency.js';
import { PipelineConfig, type PipelineConfigFields } from './config.js';
import type { PipelineBreakers, ProgressEvent } from './context.js';
import { runFingerprint } from './fingerprint.js';
import { manifestProblem } from './manifest.js';
import { ModelCache } from './models.js';
import { PIPELINE_BREAKER_DEFAULTS, ServiceBreaker } from './resilience.js';
import { runSong } from './run.js';
import type { PipelineServices } from './services.js';
import { SongStaging } from './staging.js';

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

/**
 * Runs the pipeline over many inputs (`jobs` at once); a failing song is recorded, never thrown.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT for an empty input list or song ids that do not match it.
 */
export async function processBatch(inputFiles: readonly string[], outDir: string, options: BatchOptions = {}): Promise<BatchResult> {
  if (inputFiles.length === 0) throw new InvalidArgumentError('input_files list cannot be empty');
  const songIds = options.songIds ?? inputFiles.map((f) => basename(f, extname(f)));
  if (songIds.length !== inputFiles.length) {
    throw new InvalidArgumentError(`Number of song_ids (${songIds.length}) must match number of input_files (${inputFiles.length})`);
  }
  const firstFileOf = new Map<string, string>();
  songIds.forEach((id, i) => {
    const other = firstFileOf.get(id);
    if (other !== undefined) {
      throw new InvalidArgumentError(
        `Two inputs would write the same song_id '${id}': ${other} and ${inputFiles[i]}. Rename one of them (song ids come from file names).`,
      );
    }
    firstFileOf.set(id, inputFiles[i]!);
  });
  const log = options.logger ?? silentLogger;
  const plan = options.plan ?? planConcurrency({ jobs: options.jobs ?? 1 });
  const ownModels = options.models === undefined;
  const models = options.models ?? new ModelCache();
  const base = options.config;
  const songConfig = (songId: string, inputWav: string): PipelineConfig =>
    base instanceof PipelineConfig
      ? base.with({ songId, inputWav, outDir })
      : new PipelineConfig({ ...(base ?? {}), songId, inputWav, outDir }, { warn: null });
  log.debug(`Concurrency: ${plan.jobs} song(s) × ${plan.stemConcurrency} stem(s) × ${plan.ortIntraOpThreads} ORT thread(s) on ${plan.cores} core(s)`);
  const limit = pLimit(plan.jobs);
  // One set of breakers for the whole batch: a model that keeps failing is skipped fast for the
  // following songs, as in the original (whose breakers were process-global).
  const breakers: PipelineBreakers = {
    demucs: new ServiceBreaker('demucs', PIPELINE_BREAKER_DEFAULTS),
    basicPitch: new ServiceBreaker('basic_pitch', PIPELINE_BREAKER_DEFAULTS),
  };
  const total = inputFiles.length;
  const started = performance.now();
  const stepTotals: Record<string, { wall_s: number; cpu_s: number }> = {};
  let readBytes: number | null = 0;
  let writtenBytes: number | null = 0;
  const outcomes: Array<{ kind: 'ok'; v: BatchSuccess } | { kind: 'fail'; v: BatchFailure; code: string } | { kind: 'skip'; v: BatchSkip }> = [];
  // With several songs at once, every log line names its song.
  const songLog = (songId: string): Logger => (plan.jobs > 1 && total > 1 ? prefixedLogger(log, `[${songId}] `) : log);

  try {
    await Promise.all(
      inputFiles.map((inputPath, i) =>
        limit(async () => {
          const songId = songIds[i]!;
          log.info(`[${i + 1}/${total}] Processing: ${basename(inputPath)} (song_id=${songId})`);
          const done = (o: (typeof outcomes)[number]) => {
            outcomes[i] = o;
            options.onSongDone?.({
              songId,
              inputPath,
              ok: o.kind !== 'fail',
              skipped: o.kind === 'skip',
              ...(o.kind === 'fail' ? { error: o.v[2] } : {}),
              ...(o.kind === 'ok' && o.v[2].degraded ? { degraded: o.v[2].degraded_reasons as string[] } : {}),
            });
          };
          if (options.signal?.aborted) {
            done({ kind: 'fail', v: [songId, inputPath, 'AbortError: the batch was cancelled'], code: 'DE_ABORTED' });
            return;
          }
          try {
            const config = songConfig(songId, inputPath);
            // Checked before the song takes its lock or stages anything: a missing input leaves no trace.
            if (!existsSync(inputPath)) throw new DidacticError('DE_FILE_NOT_FOUND', inputPath);
            if (options.resume) {
              const problem = await resumeProblem(config);
              if (problem === null) {
                const summary = join(config.analysisDir, 'combined.json');
                log.info(`  ↷ Skipped (complete outputs from an earlier run, manifest verified): ${summary}`);
                done({ kind: 'skip', v: [songId, inputPath, summary] });
                return;
              }
              log.info(`  Processing again (--resume): ${problem}`);
            }
            const records = { stepTimings: {}, stepMetrics: {} as Record<string, StepMetrics> };
            let results: SongResult;
            try {
              const run = await runSong(
                {
                  config,
                  plan,
                  models,
                  services: options.services ?? {},
                  breakers,
                  log: songLog(songId),
                  staging: new SongStaging(outDir, songId),
                  signal: options.signal,
                  onProgress: options.onProgress,
                  chunkWriteConcurrency: 4,
                  savePosteriors: options.savePosteriors ?? false,
                  strict: options.strict ?? false,
                },
                records,
              );
              results = run.results as SongResult;
            } finally {
              for (const [key, m] of Object.entries(records.stepMetrics)) {
                const t = (stepTotals[key] ??= { wall_s: 0, cpu_s: 0 });
                t.wall_s += m.wall_s;
                t.cpu_s += m.cpu_s;
                readBytes = readBytes === null || m.read_bytes === null ? null : readBytes + m.read_bytes;
                writtenBytes = writtenBytes === null || m.written_bytes === null ? null : writtenBytes + m.written_bytes;
              }
            }
            if (results.degraded) log.warn(`  ✓ Completed, degraded: ${(results.degraded_reasons as string[]).join('; ')}`);
            else log.info('  ✓ Completed successfully');
            done({ kind: 'ok', v: [songId, inputPath, results] });
          } catch (err) {
            const notFound = err instanceof DidacticError && err.code === 'DE_FILE_NOT_FOUND';
            const name = err instanceof DidacticError ? err.name : ((err as Error)?.name ?? 'Error');
            const message = notFound ? `File not found: ${(err as Error).message}` : `${name}: ${(err as Error)?.message ?? String(err)}`;
            const code = err instanceof DidacticError ? err.code : 'DE_NATIVE_UNKNOWN';
            // One line per failed song, with its code (the step that failed logged a warning).
            if (notFound) log.warn(`  ✗ Failed (missing file): ${message} [${code}]`, { code, song_id: songId });
            else log.error(`  ✗ Failed: ${message} [${code}]`, { code, song_id: songId });
            done({ kind: 'fail', v: [songId, inputPath, message], code });
          }
        }),
      ),
    );
  } finally {
    if (ownModels) await models.close();
  }

  const successful = outcomes.filter((o) => o.kind === 'ok').map((o) => o.v as BatchSuccess);
  const failed = outcomes.filter((o) => o.kind === 'fail').map((o) => o.v as BatchFailure);
  const skipped = outcomes.filter((o) => o.kind === 'skip').map((o) => o.v as BatchSkip);
  const degraded = successful.filter(([, , r]) => r.degraded).map(([id, path, r]) => [id, path, r.degraded_reasons as string[]] as [string, string, string[]]);
  const failures = outcomes.flatMap((o) => (o.kind === 'fail' ? [{ song_id: o.v[0], input_path: o.v[1], error: o.v[2], code: o.code }] : []));
  log.info(`Batch processing complete: ${successful.length + skipped.length}/${total} successful`);
  const wall = (performance.now() - started) / 1000;
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
