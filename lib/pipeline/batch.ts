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
import { PipelineConfig, type PipelineConfigFields } from './config.js';
import { AudioPipeline, createPipelineBreakers, type PipelineResult, type ProgressEvent } from './pipeline.js';
import type { PipelineServices } from './services.js';
import { runFingerprint } from './fingerprint.js';
import { planConcurrency, setOrtIntraOpThreads } from './concurrency.js';

export { runFingerprint };

export type BatchSuccess = [songId: string, inputPath: string, results: PipelineResult];
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

export interface BatchMetrics {
  wall_s: number;
  songs_per_minute: number;
  peak_rss_mib: number;
  read_bytes: number | null;
  written_bytes: number | null;
  /** Per step: seconds summed over songs (wall and CPU). */
  steps: Record<string, { wall_s: number; cpu_s: number }>;
}

export interface BatchOptions {
  songIds?: readonly string[];
  /** Config fields applied to every song (camelCase or snake_case). */
  config?: Partial<PipelineConfigFields> | Record<string, unknown>;
  logger?: Logger;
  /** Songs processed at once (default 1, like the original). */
  jobs?: number;
  /** Skip songs whose previous outputs are complete and were made from the same input and config. */
  resume?: boolean;
  signal?: AbortSignal;
  services?: PipelineServices;
  onProgress?: (event: ProgressEvent) => void;
  /** Stems processed at once per song; default from planConcurrency(). */
  stemConcurrency?: number;
  /** ONNX Runtime intra-op threads per session; default from planConcurrency(). */
  ortIntraOpThreads?: number;
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
  const plan = planConcurrency({
    jobs: options.jobs ?? 1,
    ...(options.stemConcurrency !== undefined ? { stemConcurrency: options.stemConcurrency } : {}),
    ...(options.ortIntraOpThreads !== undefined ? { ortIntraOpThreads: options.ortIntraOpThreads } : {}),
  });
  setOrtIntraOpThreads(plan.ortIntraOpThreads, plan.separatorThreads);
  log.debug(`Concurrency: ${plan.jobs} song(s) × ${plan.stemConcurrency} stem(s) × ${plan.ortIntraOpThreads} ORT thread(s) on ${plan.cores} core(s)`);
  const limit = pLimit(plan.jobs);
  // One set of breakers for the whole batch: a model that keeps failing is skipped fast for the
  // following songs, as in the original (whose breakers were process-global).
  const breakers = createPipelineBreakers();
  const total = inputFiles.length;
  const started = performance.now();
  const stepTotals: Record<string, { wall_s: number; cpu_s: number }> = {};
  let readBytes: number | null = 0;
  let writtenBytes: number | null = 0;
  const outcomes: Array<{ kind: 'ok'; v: BatchSuccess } | { kind: 'fail'; v: BatchFailure } | { kind: 'skip'; v: BatchSkip }> = [];

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
        if (!existsSync(inputPath)) {
          const message = `File not found: Input file not found: ${inputPath}`;
          log.warn(`  ✗ Failed (missing file): ${message}`);
          done({ kind: 'fail', v: [songId, inputPath, message] });
          return;
        }
        try {
          const config = new PipelineConfig({ ...(options.config ?? {}), songId, inputWav: inputPath, outDir } as never, { warn: null });
          if (options.resume) {
            const summary = await isSongComplete(config);
            if (summary) {
              log.info(`  ↷ Skipped (complete outputs from an earlier run): ${summary}`);
              done({ kind: 'skip', v: [songId, inputPath, summary] });
              return;
            }
          }
          const pipeline = new AudioPipeline(config, {
            logger: log,
            breakers,
            stemConcurrency: plan.stemConcurrency,
            ...(options.savePosteriors ? { savePosteriors: true } : {}),
            ...(options.signal ? { signal: options.signal } : {}),
            ...(options.services ? { services: options.services } : {}),
            ...(options.onProgress ? { onProgress: options.onProgress } : {}),
          });
          let results: PipelineResult;
          try {
            results = await pipeline.run();
          } finally {
            for (const [key, m] of Object.entries(pipeline.stepMetrics)) {
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
