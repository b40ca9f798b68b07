#!/usr/bin/env node
/**
 * The `didactic-engine` command: the original's flags and exit codes for the main job (single
 * file or batch), plus `--jobs`, `--json`, `--resume`, `--quiet/--verbose`, and subcommands.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Command, CommanderError, Option } from './commander.js';

import { DidacticError } from '../errors.js';
import type { BatchOptions, BatchResult, processBatch as ProcessBatch } from '../pipeline/batch.js';
import { batchSongIds, songIdOf } from '../pipeline/batchInputs.js';
import { MAX_INTRA_OP_THREADS } from '../models/limits.js';
import type { PipelineConfig } from '../pipeline/config.js';
import { BASIC_PITCH_BACKENDS, BEAT_THIS_POSTPROCESS_MODES, BEAT_TRACKERS } from '../pipeline/configChoices.js';
import { planConcurrency } from '../pipeline/concurrency.js';
import { jsonLogger, LOG_LEVELS, textLogger, type Logger, type LogLevel } from '../util/logger.js';
import { boundedIntArg, intArg, timeoutArg } from './args.js';
import { normalizeArgv, usageError } from './argv.js';
import { addModelCommands } from './modelCommands.js';
import { addModelsCommand } from './modelsCommand.js';
import { addServiceCommands } from './serviceCommands.js';
import { addReportCommand, EXIT_NO_BROWSER } from './reportCommand.js';
import { createProgress } from './progress.js';

const packageJson = JSON.parse(readFileSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'), 'utf8')) as { version: string };

const USAGE_HINT = "(run 'didactic-engine --help' for usage)";

interface MainOptions {
  wav?: string[];
  songId?: string;
  out: string;
  demucsModel: string;
  demucsDevice: string;
  demucs: boolean;
  demucsTimeout?: number | 'none';
  sr: number;
  hop: number;
  tsNum: number;
  tsDen: number;
  useEssentia?: boolean;
  preprocess: boolean;
  barChunks: boolean;
  chunkWavs: boolean;
  preserveChunkAudio?: boolean;
  basicPitchBackend: string;
  transcription: boolean;
  basicPitchTimeout?: number | 'none';
  beatTracker: string;
  beatThisPostprocess: string;
  detectMeter: boolean;
  htmlReport: boolean;
  memoryBudget?: number;
  progress?: boolean;
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
  config?: string;
  jobs: number;
  stemJobs?: number;
  ortThreads?: number;
  json?: boolean;
  metricsFile?: string;
  resume?: boolean;
  strict?: boolean;
  savePosteriors?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

function buildLogger(opts: MainOptions): Logger {
  const level: LogLevel = opts.quiet ? 'WARNING' : opts.verbose ? 'DEBUG' : opts.logLevel;
  return opts.logFormat === 'json' ? jsonLogger({ level }) : textLogger({ level, name: 'didactic_engine.cli' });
}

/** CLI flags → config fields. Omitted timeouts mean "no timeout" (the original crashed on them). */
function configFromFlags(opts: MainOptions, given: (name: string) => boolean): Record<string, unknown> {
  const fields: Record<string, unknown> = {
    demucsModel: opts.demucsModel,
    demucsDevice: opts.demucsDevice,
    useDemucsSeparation: opts.demucs,
    analysisSr: opts.sr,
    hopLength: opts.hop,
    timeSignatureNum: opts.tsNum,
    timeSignatureDen: opts.tsDen,
    useEssentiaFeatures: Boolean(opts.useEssentia),
    usePydubPreprocess: opts.preprocess,
    writeBarChunks: opts.barChunks,
    writeBarChunkWavs: opts.chunkWavs && opts.barChunks,
    preserveChunkAudio: Boolean(opts.preserveChunkAudio),
    basicPitchBackend: opts.basicPitchBackend,
    useBasicPitchTranscription: opts.transcription,
    // Omitted timeouts keep the config's defaults (3600 s / 1800 s, so production runs cannot
    // hang); `none` asks for no timeout.
    ...(opts.demucsTimeout !== undefined ? { demucsTimeoutS: opts.demucsTimeout === 'none' ? null : opts.demucsTimeout } : {}),
    ...(opts.basicPitchTimeout !== undefined ? { basicPitchTimeoutS: opts.basicPitchTimeout === 'none' ? null : opts.basicPitchTimeout } : {}),
    enableProgress: opts.progress ?? null,
    beatTracker: opts.beatTracker,
    beatThisPostprocess: opts.beatThisPostprocess,
    detectMeter: opts.detectMeter,
    htmlReport: opts.htmlReport,
    ...(opts.memoryBudget !== undefined ? { memoryBudgetMb: opts.memoryBudget } : {}),
  };
  if (opts.config) {
    // With a config file, only flags given explicitly override the file's values.
    const flagOf: Record<string, string> = {
      demucsModel: 'demucsModel',
      demucsDevice: 'demucsDevice',
      useDemucsSeparation: 'demucs',
      analysisSr: 'sr',
      hopLength: 'hop',
      timeSignatureNum: 'tsNum',
      timeSignatureDen: 'tsDen',
      useEssentiaFeatures: 'useEssentia',
      usePydubPreprocess: 'preprocess',
      writeBarChunks: 'barChunks',
      writeBarChunkWavs: 'chunkWavs',
      preserveChunkAudio: 'preserveChunkAudio',
      basicPitchBackend: 'basicPitchBackend',
      useBasicPitchTranscription: 'transcription',
      demucsTimeoutS: 'demucsTimeout',
      basicPitchTimeoutS: 'basicPitchTimeout',
      enableProgress: 'progress',
      beatTracker: 'beatTracker',
      beatThisPostprocess: 'beatThisPostprocess',
      detectMeter: 'detectMeter',
      htmlReport: 'htmlReport',
      memoryBudgetMb: 'memoryBudget',
    };
    for (const key of Object.keys(fields)) if (!given(flagOf[key]!)) delete fields[key];
  }
  return fields;
}

/** What the single and the batch branch of the main job share, made once by runMain. */
interface MainRun {
  opts: MainOptions;
  log: Logger;
  /** The run's config; per-song configs are derived from it with config.with() by the batch. */
  config: PipelineConfig;
  showProgress: boolean;
  /** Loaded when a job runs (--version and --help stay light). */
  processBatch: typeof ProcessBatch;
  /** The batch options both branches pass: config, plan, models, cancellation, flags. */
  common: BatchOptions;
}

async function runMain(opts: MainOptions, given: (name: string) => boolean): Promise<number> {
  // The pipeline's module graph starts loading now, beside the config's: the ESM loader reads
  // files asynchronously, and two graphs in flight keep the main thread busy while it waits.
  const pipelineModules = Promise.all([import('../pipeline/batch.js'), import('../pipeline/models.js')]);
  // Awaited below; a usage error thrown before then must not leave it an unhandled rejection.
  pipelineModules.catch(() => undefined);
  const log = buildLogger(opts);
  const files = opts.wav ?? [];
  // A missing input is not checked here: the batch reports it (DE_FILE_NOT_FOUND) and goes on
  // with the other files, as it does for a corrupt one.
  const single = files.length === 1;
  // Two files that would write the same song folder: the batch's own check, run before anything
  // else and reported as a usage error.
  if (!single) {
    try {
      batchSongIds(files);
    } catch (err) {
      throw err instanceof DidacticError ? usageError(err.message) : err;
    }
  }
  // A config file's out_dir applies unless --out is given; its song_id names the single song
  // unless --song-id is given, and is refused in batch mode (ids come from file names); its
  // input_wav is refused (the inputs are --wav).
  // The config's validation (zod) is loaded by the commands that run something (--version and --help stay light).
  const { checkConfigFields, PipelineConfig, readPipelineConfigFile } = await import('../pipeline/config.js');
  const fromFile = opts.config ? await readPipelineConfigFile(opts.config) : {};
  if (fromFile.inputWav !== undefined) throw usageError(`the config file sets input_wav; give the input with --wav instead`);
  if (!single && fromFile.songId !== undefined) throw usageError('the config file sets song_id, which batch mode cannot use (song ids come from file names)');
  // The file on its own first: a flag overriding a wrongly typed value must not hide it.
  checkConfigFields(fromFile);
  const songId = opts.songId ?? (typeof fromFile.songId === 'string' ? fromFile.songId : undefined);
  // Exit 1, as in the original.
  if (single && !songId) throw new DidacticError('DE_INVALID_ARGUMENT', '--song-id is required when processing a single file');
  const outDir = given('out') || typeof fromFile.outDir !== 'string' ? opts.out : fromFile.outDir;
  // One config for the run: per-song configs are derived from it with config.with() by the batch.
  const identity = { songId: single ? songId! : songIdOf(files[0]!), inputWav: files[0]!, outDir };
  const config = new PipelineConfig({ ...fromFile, ...configFromFlags(opts, given), ...identity }, { warn: null });
  // The concurrency plan is made once, here, and handed down.
  const plan = planConcurrency({
    jobs: single ? 1 : opts.jobs,
    ...(opts.stemJobs !== undefined ? { stemConcurrency: opts.stemJobs } : {}),
    ...(opts.ortThreads !== undefined ? { ortIntraOpThreads: opts.ortThreads } : {}),
  });
  // Only effective before the libuv pool starts, which is why the CLI sets it this early.
  process.env.UV_THREADPOOL_SIZE ??= String(plan.uvThreadpoolSize);
  // Every song writes Parquet: start that thread now (after UV_THREADPOOL_SIZE is set), so its start-up
  // (WebAssembly compilation) overlaps with loading the pipeline's modules instead of holding step 7.
  (await import('../datasets/parquetThread.js')).warmParquetThread();
  // The pipeline's module graph is loaded here, when a job runs (--version and --help stay light).
  const [{ processBatch }, { ModelCache }] = await pipelineModules;
  const models = new ModelCache();
  const controller = new AbortController();
  const onSignal = () => {
    log.warn('Interrupted: cancelling (outputs of unfinished songs are discarded)');
    controller.abort();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const run: MainRun = {
    opts,
    log,
    config,
    showProgress: opts.progress ?? Boolean(process.stderr.isTTY),
    processBatch,
    common: {
      config,
      plan,
      models,
      resume: Boolean(opts.resume),
      strict: Boolean(opts.strict),
      signal: controller.signal,
      savePosteriors: Boolean(opts.savePosteriors),
    },
  };
  try {
    return single ? await runSingle(run, files[0]!) : await runBatch(run, files);
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await models.close();
  }
}

/** One file (`--wav a.wav --song-id x`): the pipeline's own log lines, one ERROR line on failure. Returns the exit code. */
async function runSingle(run: MainRun, file: string): Promise<number> {
  const { opts, log, config } = run;
  log.info('Didactic Engine - Audio Processing Pipeline');
  log.info(`Input: ${file}`);
  log.info(`Song ID: ${config.songId}`);
  log.info(`Output: ${config.outDir}`);
  const progress = run.showProgress ? createProgress(1, log) : null;
  const batch = await run.processBatch([file], config.outDir, {
    ...run.common,
    songIds: [config.songId],
    logger: silentPrefix(log),
    ...(progress ? { onProgress: progress.onProgress, onSongDone: progress.onSongDone } : {}),
  });
  progress?.stop();
  await writeMetrics(opts, batch);
  if (opts.json) process.stdout.write(`${JSON.stringify(batchJson(batch), null, 2)}\n`);
  if (batch.failure_count > 0) {
    // The one ERROR line of a failed song (the pipeline's own step line is a warning).
    const failure = batch.failures[0]!;
    log.error(`Error during processing: ${failure.error} [${failure.code}]`, { code: failure.code, song_id: failure.song_id });
    return 1;
  }
  const degraded = batch.degraded[0];
  if (degraded) log.warn(`Processing completed with degradation (${degraded[2].join('; ')}); results saved to: ${config.outDir}`);
  else log.info(`Processing completed successfully; results saved to: ${config.outDir}`);
  return 0;
}

/** Several files (song ids from file names, `--jobs` at once): the batch's lines and a closing summary. Returns the exit code. */
async function runBatch(run: MainRun, files: string[]): Promise<number> {
  const { opts, log, config } = run;
  if (opts.songId) log.warn('--song-id is ignored in batch mode. Song IDs are auto-generated from filenames.');
  log.info('Didactic Engine - Batch Processing Mode');
  log.info(`Files to process: ${files.length}`);
  log.info(`Output directory: ${config.outDir}`);
  const progress = run.showProgress ? createProgress(files.length, log) : null;
  const batch = await run.processBatch(files, config.outDir, {
    ...run.common,
    logger: log,
    jobs: opts.jobs,
    ...(progress ? { onProgress: progress.onProgress, onSongDone: progress.onSongDone } : {}),
  });
  progress?.stop();
  await writeMetrics(opts, batch);
  log.info(`Batch results: total=${batch.total} successful=${batch.success_count} failed=${batch.failure_count} degraded=${batch.degraded.length}`);
  if (batch.degraded.length > 0) {
    log.warn('Degraded files (completed with a fallback):');
    for (const [songId, path, reasons] of batch.degraded) log.warn(`  - ${path.split('/').pop()} (${songId}): ${reasons.join('; ')}`);
  }
  if (batch.failure_count > 0) {
    log.warn('Failed files:');
    for (const f of batch.failures) {
      log.warn(`  - ${f.input_path.split('/').pop()} (${f.song_id}): ${f.error} [${f.code}]`, { code: f.code, song_id: f.song_id });
    }
  }
  log.info(`Results saved to: ${config.outDir}`);
  if (opts.json) process.stdout.write(`${JSON.stringify(batchJson(batch), null, 2)}\n`);
  return batch.failure_count > 0 ? 1 : 0;
}

/** Single mode logs the pipeline's own lines, not the batch bookkeeping. */
function silentPrefix(log: Logger): Logger {
  // Skips (--resume) are still logged: a user must see that nothing was redone.
  const skip = (m: string) => /^\[\d+\/\d+\] Processing:|^ {2}[✓✗]|^Batch processing complete/.test(m);
  return {
    debug: (m, f) => log.debug(m, f),
    info: (m, f) => (skip(m) ? undefined : log.info(m, f)),
    warn: (m, f) => (skip(m) ? undefined : log.warn(m, f)),
    error: (m, f) => (skip(m) ? undefined : log.error(m, f)),
  };
}

async function writeMetrics(opts: MainOptions, batch: BatchResult): Promise<void> {
  if (!opts.metricsFile) return;
  const { recordBatch, renderPrometheus } = await import('../util/prometheus.js');
  const { writeFileAtomic } = await import('../util/atomic.js');
  recordBatch(batch);
  await writeFileAtomic(opts.metricsFile, await renderPrometheus(), { op: 'writeMetrics' });
}

function batchJson(batch: BatchResult) {
  return {
    total: batch.total,
    success_count: batch.success_count,
    failure_count: batch.failure_count,
    successful: batch.successful.map(([song_id, input_path, results]) => ({ song_id, input_path, results })),
    skipped: batch.skipped.map(([song_id, input_path, summary_json]) => ({ song_id, input_path, summary_json })),
    degraded_count: batch.degraded.length,
    degraded: batch.degraded.map(([song_id, input_path, reasons]) => ({ song_id, input_path, reasons })),
    failed: batch.failures,
    metrics: batch.metrics,
  };
}

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('didactic-engine')
    .description('Audio processing pipeline for stem separation, analysis, MIDI transcription, and feature extraction')
    .version(`didactic-engine ${packageJson.version}`, '--version')
    // Options after a subcommand name belong to the subcommand (`info x --json`).
    .enablePositionalOptions()
    .showHelpAfterError(USAGE_HINT)
    .option('--wav <path...>', 'input audio file(s); more than one means batch mode')
    .option('--song-id <id>', 'song identifier (required for a single file; batch mode uses file names)')
    .option('-o, --out <dir>', 'output root', 'data')
    .option('--demucs-model <name>', 'Demucs model name (a file <name>.onnx in the models folder) or path', 'htdemucs')
    .option('--demucs-device <device>', 'cpu or cuda', 'cpu')
    .option('--no-demucs', 'skip stem separation (single full_mix stem)')
    .option('--demucs-timeout <seconds>', 'Demucs timeout in seconds, or none (default 3600)', timeoutArg)
    .option('--sr <hz>', 'analysis sample rate', intArg, 22050)
    .option('--hop <samples>', 'hop length of the per-bar features', intArg, 512)
    .option('--ts-num <n>', 'time signature numerator', intArg, 4)
    .option('--ts-den <n>', 'time signature denominator', intArg, 4)
    .option('--use-essentia', 'request Essentia features (not available in this engine; recorded as unavailable)')
    .option('--no-preprocess', 'skip preprocessing (trim, normalise)')
    .option('--no-bar-chunks', 'skip per-bar features and chunk WAVs')
    .option('--no-chunk-wavs', 'compute per-bar features but write no chunk WAVs')
    .option('--preserve-chunk-audio', 'chunk WAVs keep the stem’s native rate and channels')
    .addOption(new Option('--basic-pitch-backend <backend>', 'Basic Pitch model serialisation').choices([...BASIC_PITCH_BACKENDS]).default('tf'))
    .option('--no-transcription', 'skip MIDI transcription')
    .option('--basic-pitch-timeout <seconds>', 'per-stem transcription timeout in seconds, or none (default 1800)', timeoutArg)
    .addOption(
      new Option(
        '--beat-tracker <tracker>',
        'auto (default: beat-this when installed, else beatnet), beatnet or beat-this (learned beats and downbeats, bars on downbeats), or librosa (the original)',
      )
        .choices([...BEAT_TRACKERS])
        .default('auto'),
    )
    .addOption(
      new Option(
        '--beat-this-postprocess <mode>',
        "Beat This!'s decoding: auto (default: dbn with meter detection, else minimal), minimal (peak picking) or dbn (the bar-pointer DBN)",
      )
        .choices([...BEAT_THIS_POSTPROCESS_MODES])
        .default('auto'),
    )
    .option('--detect-meter', 'detect the beats per bar (default; beatnet and beat-this)')
    .option('--no-detect-meter', 'use --ts-num/--ts-den as the meter instead of detecting it')
    .option('--no-html-report', 'do not write reports/<song_id>/report.html')
    .option(
      '--memory-budget <MiB>',
      'the most memory one song may plan to use; a longer input is refused before step 1 (default: half the memory, divided by --jobs)',
      intArg,
    )
    .addOption(new Option('--progress', 'show progress bars').conflicts('noProgress'))
    .addOption(new Option('--no-progress', 'hide progress bars'))
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('INFO'))
    .addOption(new Option('--log-format <format>', 'text (the original’s format) or json (structured)').choices(['text', 'json']).default('text'))
    .option('--config <file.json>', 'JSON config file (snake_case or camelCase keys); flags given explicitly override it')
    .option('-j, --jobs <n>', 'songs processed in parallel in batch mode', intArg, 1)
    .option('--stem-jobs <n>', 'stems processed in parallel inside a song (default: the cores left per song, at most 4)', boundedIntArg(1))
    .option(
      '--ort-threads <n>',
      `ONNX Runtime intra-op threads per model session, 1..${MAX_INTRA_OP_THREADS} (default: the cores left)`,
      boundedIntArg(1, MAX_INTRA_OP_THREADS),
    )
    .option('--save-posteriors', "also write each stem's raw Basic Pitch posteriors as midi/<song_id>/<stem>.{note,onset,contour}.npy")
    .option('--metrics-file <path>', 'write Prometheus text-format metrics of the run to this file')
    .option('--json', 'print a JSON summary on stdout')
    .option('--resume', 'skip songs whose outputs verify against their manifest and were made from the same input and config; degraded songs are redone')
    .option('--strict', 'a degraded song (a model missing or failing, a truncated input) fails instead of completing (exit 1)')
    .option('-q, --quiet', 'only warnings and errors')
    .option('-v, --verbose', 'debug logging')
    .action(async function (this: Command) {
      const opts = this.opts<MainOptions>();
      if (!opts.wav || opts.wav.length === 0) {
        this.error('error: the following arguments are required: --wav', { exitCode: 2, code: 'didactic.missingWav' });
      }
      if (opts.jobs < 1) this.error('error: --jobs must be at least 1', { exitCode: 2 });
      const given = (name: string) => this.getOptionValueSource(name) === 'cli';
      process.exitCode = await runMain(opts, given);
    });

  program
    .command('info')
    .description('print the decoded metadata of an audio file')
    .argument('<file>', 'audio file (WAV, AIFF, FLAC, Ogg Vorbis, Opus, ...)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const { audioInfo } = await import('../audio/info.js');
      const info = await audioInfo(file);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return;
      }
      const lines = [
        `file:          ${info.path}`,
        `container:     ${info.container}`,
        `sample format: ${info.sampleFormat}`,
        `sample rate:   ${info.sampleRate} Hz`,
        `channels:      ${info.channels}`,
        `frames:        ${info.frames}`,
        `duration:      ${info.duration.toFixed(3)} s`,
        `peak:          ${info.peak.toFixed(4)} (${(20 * Math.log10(info.peak || 1e-12)).toFixed(1)} dBFS)`,
        `rms:           ${info.rms.toFixed(4)} (${(20 * Math.log10(info.rms || 1e-12)).toFixed(1)} dBFS)`,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  program
    .command('doctor')
    .description('check what this installation can do (addon, audio, ONNX Runtime providers, models, output folder)')
    .option('-o, --out <dir>', 'output folder to check', 'data')
    .option('--demucs-model <name>', 'Demucs model to look for', 'htdemucs')
    .option('--json', 'print JSON')
    .action(async (opts: { out: string; demucsModel: string; json?: boolean }) => {
      const { runDoctor, formatDoctorReport } = await import('../doctor.js');
      const report = await runDoctor({ outDir: opts.out, demucsModel: opts.demucsModel });
      process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : `${formatDoctorReport(report)}\n`);
      process.exitCode = report.ok ? 0 : 1;
    });
  addModelCommands(program);
  addModelsCommand(program);
  addServiceCommands(program);
  addReportCommand(program);
  return program;
}

/** The value of a `--flag value` / `--flag=value` option in raw argv (before commander parses it). */
function rawFlagValue(argv: readonly string[], flag: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === flag) return argv[i + 1];
    if (argv[i]!.startsWith(`${flag}=`)) return argv[i]!.slice(flag.length + 1);
  }
  return undefined;
}

/**
 * Reports an error that ended the command before or outside a song: one line on stderr with its
 * code (a JSON record with `--log-format json`), and with `--json` an error document on stdout.
 */
function reportFailure(argv: readonly string[], code: string, message: string, usage: boolean): void {
  const line = message.replace(/\s*\n\s*/g, ' ');
  if (rawFlagValue(argv, '--log-format') === 'json') {
    jsonLogger({ name: 'didactic-engine' }).error(line, { code });
  } else {
    const text = usage ? `${line.startsWith('error: ') ? line : `error: ${line}`} [${code}]\n${USAGE_HINT}\n` : `didactic-engine: ${line} [${code}]\n`;
    process.stderr.write(text);
  }
  if (argv.includes('--json')) process.stdout.write(`${JSON.stringify({ error: { code, message: line.replace(/^error: /, '') } }, null, 2)}\n`);
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  // argparse's conventions: usage errors exit 2, help and version exit 0. Errors are printed
  // below, with their code, rather than by commander.
  for (const c of [program, ...program.commands]) {
    c.exitOverride();
    c.configureOutput({ outputError: () => undefined });
    c.showHelpAfterError(false);
  }
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    await program.parseAsync(normalizeArgv(argv, program));
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
      reportFailure(argv, 'DE_INVALID_ARGUMENT', err.message, true);
      return err.exitCode === 1 ? 2 : err.exitCode;
    }
    // Expected errors are one line with their code; a stack only with --verbose.
    if (err instanceof DidacticError) {
      // A value outside the engine's bounds is a usage error; the original's own rules exit 1 as there.
      const bound = err.code === 'DE_INVALID_CONFIG' && (await import('../pipeline/config.js')).isConfigBoundError(err);
      reportFailure(argv, err.code, err.message, bound);
      if (verbose && err.stack) process.stderr.write(`${err.stack}\n`);
      if (bound) return 2;
      return err.code === 'DE_NO_BROWSER' ? EXIT_NO_BROWSER : 1;
    }
    reportFailure(argv, 'DE_INTERNAL', (err as Error)?.message ?? String(err), false);
    if (verbose && (err as Error)?.stack) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

// Run when executed directly (bin), not when imported by tests.
const invokedDirectly = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1]);
if (invokedDirectly) {
  process.exitCode = await main();
}
