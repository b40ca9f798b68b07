/**
 * One song through the original's eleven steps over one SongContext. Each step is a named function
 * of the context (lib/pipeline/steps/); this file only sequences them, records each step's timing
 * and resources, and commits or discards the song's staged outputs. With one slot per song
 * (`plan.songConcurrency` 1) the steps run one after another in the original's order; with more,
 * the parts that do not depend on each other overlap (see runOverlapped).
 */
import pLimit from 'p-limit';

import { AbortError, DidacticError } from '../errors.js';
import { stemFrameFeatures } from '../music/barFeatures.js';
import { startStepMetrics, type StepMetrics } from '../util/metrics.js';
import { SongContext, type SongRunEnvironment } from './context.js';
import { writeSongManifest } from './manifest.js';
import { checkInputMemory } from './memory.js';
import { removeStaleStaging, SongLock } from './songLock.js';
import { analyzeRhythm, computeBars, prefetchRhythmModel } from './steps/analyze.js';
import { buildDatasets, writeDatasets } from './steps/datasets.js';
import { copyInput, ingest, preprocess, preprocessAudio } from './steps/input.js';
import { exportReports } from './steps/reports.js';
import { separateStems } from './steps/separate.js';
import { processStems } from './steps/stems.js';
import { writeSummaryJson, type StepRecords } from './steps/summary.js';

/** The original's step names; the timing key is derived from each (see timingKey). */
export const STEP_NAMES = [
  'Step 1: Copy input file',
  'Step 2: Ingest WAV file',
  'Step 3: Preprocess audio',
  'Step 4: Analyze audio',
  'Step 5: Separate stems (Demucs)',
  'Step 6: Compute bar boundaries',
  'Step 7: Process stems (chunks/transcription/align)',
  'Step 8: Build datasets',
  'Step 9: Write Parquet datasets',
  'Step 10: Export reports',
  'Step 11: Write summary JSON',
] as const;

type Step = (ctx: SongContext, records: StepRecords) => Promise<void>;

/** The steps in the original's order. */
const STEPS: ReadonlyArray<readonly [(typeof STEP_NAMES)[number], Step]> = [
  [STEP_NAMES[0], copyInput],
  [STEP_NAMES[1], ingest],
  [STEP_NAMES[2], preprocess],
  [STEP_NAMES[3], analyzeRhythm],
  [STEP_NAMES[4], separateStems],
  [STEP_NAMES[5], computeBars],
  [STEP_NAMES[6], processStems],
  [STEP_NAMES[7], buildDatasets],
  [STEP_NAMES[8], writeDatasets],
  [STEP_NAMES[9], exportReports],
  [STEP_NAMES[10], writeSummaryJson],
];

/** `Step 5: Separate stems (Demucs)` → `step_5_separate_stems_(demucs)`, as the original derives keys. */
export function timingKey(stepName: string): string {
  return stepName.toLowerCase().replace(/:/g, '').replace(/ /g, '_').replace(/_+/g, '_');
}

export interface SongRun extends StepRecords {
  /** The result object (the original's keys in its order, plus additive keys). */
  results: Record<string, unknown>;
}

/**
 * Runs every step. `records` is filled as the steps finish (also when one fails), so the caller
 * sees the timings of a failed run too.
 */
export async function runSong(env: SongRunEnvironment, records: StepRecords): Promise<SongRun> {
  const ctx = new SongContext(env);
  const { config: cfg, log, signal, staging } = ctx;
  log.info(`Starting audio processing pipeline for ${cfg.inputWav} (song_id=${cfg.songId})`);
  // Before anything is copied, decoded or written: a song whose planned memory exceeds the budget
  // is refused here, leaving no folder behind.
  await checkInputMemory(cfg, ctx.plan, log);
  // Leftovers of runs killed in this output folder go first; then this song gets its one writer.
  for (const name of await removeStaleStaging(cfg.outDir)) log.info(`Removed the leftovers of a killed run: ${name}`);
  const lock = await SongLock.acquire(cfg.outDir, cfg.songId);
  try {
    await staging.create();
    prefetchRhythmModel(ctx);
    try {
      if (ctx.plan.songConcurrency > 1) await runOverlapped(ctx, records);
      else for (let index = 0; index < STEPS.length; index++) await runStep(ctx, records, index);
      if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled`);
      const degraded = ctx.results.degraded_reasons as string[];
      if (ctx.strict && degraded.length > 0) {
        throw new DidacticError('DE_DEGRADED', `${cfg.songId}: degraded (strict mode): ${degraded.join('; ')}`, { details: { reasons: degraded } });
      }
      await staging.commit();
    } catch (err) {
      await ctx.sink?.abort();
      await staging.discard();
      throw err;
    }
    // The manifest is the last act: a song without a verifying manifest is redone by --resume.
    await writeSongManifest(cfg, ctx.fingerprint, ctx.results.degraded === true, staging.digests);
    log.info(`Pipeline completed ${ctx.results.degraded ? 'with degradation' : 'successfully'} for ${cfg.songId}`);
    return { results: ctx.results, ...records };
  } finally {
    ctx.releaseAllAudio();
    await lock.release();
  }
}

/** Step `index` (0-based): the cancellation check, its progress event, then `body` (default: the step) timed. */
async function runStep(ctx: SongContext, records: StepRecords, index: number, body?: () => Promise<void>): Promise<void> {
  const [name, step] = STEPS[index]!;
  const { config: cfg, signal } = ctx;
  if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled before ${name}`);
  ctx.onProgress?.({ kind: 'step', songId: cfg.songId, step: name, index: index + 1, total: STEPS.length });
  await timed(ctx, records, name, body ?? (() => step(ctx, records)));
}

/**
 * The steps with what does not depend on each other overlapped, at most `plan.songConcurrency`
 * at once. After step 3 has trimmed and normalised the analysis audio, three things only read it
 * or the input's analysis audio: step 3's own file write (resample to preprocess_target_sr, WAV),
 * step 4 (the rhythm network) and, when separation is off so the full mix is the only stem, the
 * full mix's spectral analysis that step 7 aggregates per bar. The rest runs in the original's
 * order: each later step reads what the one before it made (step 11 lists step 10's files and
 * timing in combined.json). Outputs equal a sequential run's. A failure fails the song as in
 * order: every started part is settled first, then the first failure in step order is thrown (a
 * failed spectral analysis is left to step 7, which repeats it and fails there, as it would have).
 */
async function runOverlapped(ctx: SongContext, records: StepRecords): Promise<void> {
  const { config: cfg, signal } = ctx;
  await runStep(ctx, records, 0);
  await runStep(ctx, records, 1);
  const limit = pLimit(ctx.plan.songConcurrency);
  let analysisReady!: () => void;
  const ready = new Promise<void>((resolve) => (analysisReady = resolve));
  const step3 = limit(() =>
    runStep(ctx, records, 2, async () => {
      const write = await preprocessAudio(ctx);
      analysisReady();
      await write?.();
    }),
  );
  // Settled below; until then a rejection must not count as unhandled.
  step3.catch(() => undefined);
  // Rejects only when step 3 fails before the analysis audio is made; nothing else is started then.
  await Promise.race([ready, step3]);
  const parts = [step3, limit(() => runStep(ctx, records, 3))];
  if (!cfg.useDemucsSeparation && cfg.writeBarChunks) {
    const analysisInput = ctx.analysisInput;
    parts.push(
      limit(async () => {
        if (signal?.aborted) return;
        ctx.log.debug('Spectral analysis of the full mix (for step 7), beside step 4');
        try {
          ctx.fullMixFrames = await stemFrameFeatures(analysisInput, cfg.analysisSr, cfg.hopLength, signal);
          ctx.log.debug('Spectral analysis of the full mix done');
        } catch (err) {
          // Step 7 computes them again and fails (or is cancelled) there, as in a sequential run.
          ctx.log.debug(`Spectral analysis of the full mix left to step 7: ${(err as Error)?.message ?? String(err)}`);
        }
      }),
    );
  }
  const settled = await Promise.allSettled(parts);
  orderRecords(records);
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
  for (let index = 4; index < STEPS.length; index++) await runStep(ctx, records, index);
}

/** Step timings and metrics keyed in the original's step order, whichever finished first. */
function orderRecords(records: StepRecords): void {
  for (const table of [records.stepTimings, records.stepMetrics] as Record<string, unknown>[]) {
    const entries = STEP_NAMES.map(timingKey)
      .filter((key) => key in table)
      .map((key) => [key, table[key]] as const);
    for (const [key] of entries) delete table[key];
    for (const [key, value] of entries) table[key] = value;
  }
}

async function timed(ctx: SongContext, records: StepRecords, name: string, body: () => Promise<void>): Promise<void> {
  const { log, config: cfg } = ctx;
  log.info(name);
  const started = performance.now();
  const finish = startStepMetrics();
  const key = timingKey(name);
  const record = (): number => {
    const seconds = (performance.now() - started) / 1000;
    records.stepTimings[key] = Math.round(seconds * 1000) / 1000;
    records.stepMetrics[key] = finish();
    return seconds;
  };
  try {
    await body();
  } catch (err) {
    // Which step, as a warning: whoever runs the song reports the failure itself, once, with its
    // reason and code (the CLI's ERROR line, a batch's "✗ Failed", a job's error). The stack only at
    // debug level (--verbose).
    const code = err instanceof DidacticError ? err.code : 'DE_NATIVE_UNKNOWN';
    log.warn(`${name} failed after ${record().toFixed(2)}s [${code}]`, { step: key, song_id: cfg.songId, code });
    log.debug(`${name} failure detail`, { err, step: key, song_id: cfg.songId });
    throw err;
  }
  const seconds = record();
  log.info(`${name} completed in ${seconds.toFixed(2)}s`, { step: key, song_id: cfg.songId, ...(records.stepMetrics[key] as StepMetrics) });
}
