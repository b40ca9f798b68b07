/**
 * `didactic-engine serve` (the HTTP service; embedded queue, or BullMQ with --redis) and
 * `didactic-engine worker` (processes the Redis queue's jobs). Both stop on SIGTERM/SIGINT after
 * a grace period for the songs they are running.
 */
import { resolve } from 'node:path';

import { type Command, Option } from './commander.js';

import { planConcurrency } from '../pipeline/concurrency.js';
import { jsonLogger, LOG_LEVELS, textLogger, type Logger, type LogLevel } from '../util/logger.js';
import { loadFeature } from '../util/optional.js';
import { floatArg, intArg } from './args.js';

interface LogFlags {
  logLevel: LogLevel;
  logFormat: 'text' | 'json';
}

interface ServeFlags extends LogFlags {
  host: string;
  port: number;
  dataDir: string;
  redis?: string;
  token: string[];
  adminToken: string[];
  tokensFile?: string;
  maxUploadMb: number;
  maxQueue: number;
  rateLimit: number;
  authFailureLimit: number;
  inputRoot?: string;
  allowModel: string[];
  jobs?: number;
  attempts: number;
  grace: number;
  retentionDays: number;
  fetchModels?: string;
}

interface WorkerFlags extends LogFlags {
  redis: string;
  dataDir: string;
  concurrency: number;
  cores?: number;
  grace: number;
  lockDuration: number;
  stalledInterval: number;
}

function loggerFor(flags: LogFlags, name: string): Logger {
  return flags.logFormat === 'json' ? jsonLogger({ level: flags.logLevel, name }) : textLogger({ level: flags.logLevel, name });
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** Resolves when SIGTERM or SIGINT arrives. */
function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolveSignal) => {
    const on = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolveSignal(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

function logOptions(command: Command): Command {
  return command
    .addOption(new Option('--log-level <level>', 'log level').choices([...LOG_LEVELS]).default('INFO'))
    .addOption(new Option('--log-format <format>', 'text or json').choices(['text', 'json']).default('text'));
}

export function addServiceCommands(program: Command): void {
  logOptions(
    program
      .command('serve')
      .description('run the HTTP service: submit songs, watch progress, fetch outputs (see docs/service.md)')
      .option('--host <host>', 'address to listen on (a non-loopback address requires --token)', '127.0.0.1')
      .option('--port <port>', 'port; 0 = any free port (printed on start)', intArg, 8080)
      .option('--data-dir <dir>', 'where jobs, uploads and outputs live (one folder per job)', './didactic-data')
      .option('--redis <url>', 'put jobs on a BullMQ queue on this Redis (run `didactic-engine worker`s); default: embedded queue')
      .option('--token <[name:]token>', "a client's bearer token; it sees only its own jobs (repeatable; also DIDACTIC_TOKENS, comma-separated)", collect, [])
      .option('--admin-token <[name:]token>', "a bearer token that sees every client's jobs (repeatable)", collect, [])
      .option('--tokens-file <file>', "clients, one per line: 'name token' or 'name token admin'")
      .option('--max-upload-mb <n>', 'largest upload', floatArg, 200)
      .option('--max-queue <n>', 'queued jobs above which submissions get 429 with Retry-After', intArg, 1000)
      .option('--rate-limit <n>', 'API requests per minute per token (or address); 0 = unlimited', intArg, 1200)
      .option('--auth-failure-limit <n>', 'requests per minute per address with a missing or wrong token before 429', intArg, 60)
      .option('--input-root <dir>', 'allow JSON {"path": …} submissions of files under this folder')
      .option(
        '--allow-model <name>',
        "a model name clients may choose as demucs_model (repeatable); default: the models installed in the models folder ('<name>.onnx')",
        collect,
        [],
      )
      .option(
        '--fetch-models <names>',
        'before listening, make sure these models are installed, fetching the missing ones (comma-separated, e.g. htdemucs,beat-this; mirror: $DIDACTIC_MODELS_MIRROR)',
      )
      .option('-j, --jobs <n>', 'embedded mode: songs at once, each in its own worker process (default: half the cores)', intArg)
      .option('--attempts <n>', 'attempts per job for retryable failures', intArg, 3)
      .option('--retention-days <days>', 'Redis mode: how long Redis keeps finished jobs (their job.json stays in the data folder)', floatArg, 7)
      .option('--grace <seconds>', 'on SIGTERM, how long running songs may take to finish before they are handed back', floatArg, 30),
  ).action(async (flags: ServeFlags) => {
    const log = loggerFor(flags, 'didactic-engine.serve');
    // Loaded on use: the other commands do not pay for Fastify and BullMQ, and an install
    // without those optional peers gets DE_OPTIONAL_DEPENDENCY_MISSING with the install command.
    const { defaultServicePlan, startService } = await loadFeature('service', () => import('../service/service.js'));
    if (flags.fetchModels !== undefined) await fetchModelsAtStart(flags.fetchModels);
    const { parseTokenSpec, readTokensFile } = await import('../service/auth.js');
    const clientTokens = [...flags.token, ...(process.env.DIDACTIC_TOKENS ?? '').split(',')].map((t) => t.trim()).filter((t) => t.length > 0);
    const tokens = [
      ...clientTokens.map((t) => parseTokenSpec(t)),
      ...flags.adminToken.map((t) => parseTokenSpec(t, true)),
      ...(flags.tokensFile ? readTokensFile(flags.tokensFile) : []),
    ];
    const plan = flags.redis ? planConcurrency() : defaultServicePlan(flags.jobs);
    const service = await startService({
      host: flags.host,
      port: flags.port,
      dataDir: flags.dataDir,
      redisUrl: flags.redis,
      tokens,
      maxUploadBytes: Math.round(flags.maxUploadMb * 1024 * 1024),
      maxQueue: flags.maxQueue,
      rateLimitPerMinute: flags.rateLimit,
      authFailuresPerMinute: flags.authFailureLimit,
      inputRoot: flags.inputRoot ? resolve(flags.inputRoot) : undefined,
      clientConfig: { allowedModels: flags.allowModel },
      plan,
      logger: log,
      workerLogLevel: flags.logLevel === 'DEBUG' ? 'DEBUG' : 'WARNING',
      attempts: flags.attempts,
      retentionSeconds: flags.retentionDays * 24 * 3600,
    });
    const queueText = service.mode === 'redis' ? `BullMQ on ${redactUrl(flags.redis!)}` : `embedded queue, ${plan.jobs} worker process(es)`;
    process.stdout.write(
      `didactic-engine serve: listening on ${service.url} (${queueText}; data ${resolve(flags.dataDir)}${tokens.length ? '; tokens required' : ''})\n`,
    );
    const signal = await stopSignal();
    log.info(`${signal}: draining (grace ${flags.grace} s)`);
    await service.close(flags.grace * 1000);
    log.info('stopped');
    setTimeout(() => process.exit(0), 1000).unref();
  });

  logOptions(
    program
      .command('worker')
      .description('process jobs of a `serve --redis` queue; run any number, on any machine that mounts the data folder')
      .requiredOption('--redis <url>', 'the Redis the server queues on')
      .requiredOption('--data-dir <dir>', 'the data folder shared with the server (same path on every machine)')
      .option('--concurrency <n>', 'songs at once in this process', intArg, 1)
      .option('--cores <n>', 'cores this worker may use, split between its songs (default: all; give each of several workers on one machine its share)', intArg)
      .option('--grace <seconds>', 'on SIGTERM, how long running songs may take to finish before they are handed back', floatArg, 30)
      .option('--lock-duration <seconds>', 'a job whose worker stops renewing its lock for this long is taken over by another worker', floatArg, 30)
      .option('--stalled-interval <seconds>', 'how often this worker looks for jobs of dead workers', floatArg, 30),
  ).action(async (flags: WorkerFlags) => {
    const log = loggerFor(flags, 'didactic-engine.worker');
    const { startRedisWorker } = await loadFeature('service', () => import('../service/redis.js'));
    const { LocalJobStorage } = await import('../service/storage.js');
    const plan = planConcurrency({ jobs: flags.concurrency, cores: flags.cores });
    process.env.UV_THREADPOOL_SIZE ??= String(plan.uvThreadpoolSize);
    const storage = new LocalJobStorage(flags.dataDir);
    await storage.init();
    const handle = await startRedisWorker({
      url: flags.redis,
      storage,
      logger: log,
      concurrency: flags.concurrency,
      plan,
      lockDurationMs: flags.lockDuration * 1000,
      stalledIntervalMs: flags.stalledInterval * 1000,
    });
    process.stdout.write(
      `didactic-engine worker: processing jobs from ${redactUrl(flags.redis)} (pid ${process.pid}, concurrency ${flags.concurrency}, data ${storage.location})\n`,
    );
    const signal = await stopSignal();
    log.info(`${signal}: draining (grace ${flags.grace} s)`);
    await handle.close(flags.grace * 1000);
    log.info('stopped');
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

/** `serve --fetch-models`: each model installed before the service listens; a failed fetch ends `serve` with its code. */
async function fetchModelsAtStart(list: string): Promise<void> {
  const names = list
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  const { ensureModels } = await import('../models/ensure.js');
  for (const m of await ensureModels(names)) {
    const size = m.bytes === null ? '' : ` (${(m.bytes / 1e6).toFixed(1)} MB)`;
    process.stdout.write(`didactic-engine serve: model ${m.name} ${m.status === 'fetched' ? 'fetched and installed' : 'already installed'}${size}\n`);
  }
}

/** The URL without its password, for logs. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
