/**
 * Batch processing (the original's AudioPipeline.process_batch), with bounded parallelism
 * (`jobs`), resume of songs whose outputs are complete, and cancellation. Per-file failures never
 * throw: they are collected, as in the original.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import pLimit from 'p-limit';

import { DidacticError, InvalidArgumentError } from '../errors.js';
import { silentLogger, type Logger } from '../util/logger.js';
import type { BatchMetrics, StepMetrics } from '../util/metrics.js';
import { planConcurrency, type RunPlan } from './concurrency.js';
import { PipelineConfig, type PipelineConfigFields } from './config.js';
import type { PipelineBreakers, ProgressEvent } from './context.js';
import { runFingerprint } from './fingerprint.js';
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

export interface BatchResult {
  successful: BatchSuccess[];
  failed: BatchFailure[];
  total: number;
  success_count: number;
  failure_count: number;
  /** Additive: songs skipped by `resume` because their outputs were complete. */
  skipped: BatchSkip[];
  /** Additive: resource figures summed over the songs processed in this batch. */
  metrics: BatchMetrics;
}

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
  onProgress?: (event: ProgressEvent) => void;
  /** The run's concurrency; default planConcurrency({ jobs }) (see concurrency.ts). */
  plan?: RunPlan;
  /** Opened models shared by the songs; default: a cache the batch opens and closes itself. */
  models?: ModelCache;
  /** See PipelineOptions.savePosteriors. */
  savePosteriors?: boolean;
  onSongDone?: (outcome: { songId: string; inputPath: string; ok: boolean; skipped: boolean; error?: string }) => void;
}

/**
 * True when `analysis/<id>/combined.json` exists, parses, was made from the same input and config,
 * and every file it lists exists.
 */
export async function isSongComplete(config: PipelineConfig): Promise<string | null> {
  const summary = `${config.analysisDir}/combined.json`;
  if (!existsSync(summary)) return null;
  try {
    const parsed = JSON.parse(await readFile(summary, 'utf8')) as Record<string, unknown>;
    if (parsed.run_fingerprint !== (await runFingerprint(config))) return null;
    const files = parsed.files_generated;
    if (!Array.isArray(files) || !files.every((f) => typeof f === 'string' && existsSync(f))) return null;
    return summary;
  } catch {
    return null;
  }
}

export async function processBatch(
  inputFiles: readonly string[],
  outDir: string,
  options: BatchOptions = {},
): Promise<BatchResult> {
  if (inputFiles.length === 0) throw new InvalidArgumentError('input_files list cannot be empty');
  const songIds = options.songIds ?? inputFiles.map((f) => basename(f, extname(f)));
  if (songIds.length !== inputFiles.length) {
    throw new InvalidArgumentError(
      `Number of song_ids (${songIds.length}) must match number of input_files (${inputFiles.length})`,
    );
  }
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
  const outcomes: Array<{ kind: 'ok'; v: BatchSuccess } | { kind: 'fail'; v: BatchFailure } | { kind: 'skip'; v: BatchSkip }> = [];

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
          });
        };
        if (options.signal?.aborted) {
          done({ kind: 'fail', v: [songId, inputPath, 'AbortError: the batch was cancelled'] });
          return;
        }
        try {
          const config = songConfig(songId, inputPath);
          if (options.resume) {
            const summary = await isSongComplete(config);
            if (summary) {
              log.info(`  ↷ Skipped (complete outputs from an earlier run): ${summary}`);
              done({ kind: 'skip', v: [songId, inputPath, summary] });
              return;
            }
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
                log,
                staging: new SongStaging(outDir, songId),
                signal: options.signal,
                onProgress: options.onProgress,
                chunkWriteConcurrency: 4,
                savePosteriors: options.savePosteriors ?? false,
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
          log.info('  ✓ Completed successfully');
          done({ kind: 'ok', v: [songId, inputPath, results] });
        } catch (err) {
          const notFound = err instanceof DidacticError && err.code === 'DE_FILE_NOT_FOUND';
          const name = err instanceof DidacticError ? err.name : (err as Error)?.name ?? 'Error';
          const message = notFound ? `File not found: ${(err as Error).message}` : `${name}: ${(err as Error)?.message ?? String(err)}`;
          if (notFound) log.warn(`  ✗ Failed (missing file): ${message}`);
          else log.error(`  ✗ Failed: ${message}`);
          done({ kind: 'fail', v: [songId, inputPath, message] });
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
  };
}
