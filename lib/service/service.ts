/**
 * Starting and stopping the service: storage, the queue (embedded or Redis), the HTTP API; a
 * stop drains (no new requests, running songs get a grace period, then are handed back).
 */
import type { FastifyInstance } from 'fastify';

import { modelsDir } from '../models/paths.js';
import { packageRoot } from '../native/load.js';
import { planConcurrency, type RunPlan } from '../pipeline/concurrency.js';
import type { Logger, LogLevel } from '../util/logger.js';
import { EmbeddedQueue } from './embedded.js';
import type { JobQueue } from './queue.js';
import { RedisQueue } from './redis.js';
import { TokenTable, type TokenSpec } from './auth.js';
import type { ClientConfigPolicy } from './clientConfig.js';
import { PathRedactor } from './redact.js';
import { assertBindingSafe, buildApi } from './server.js';
import { registerWebPage } from './web.js';
import { LocalJobStorage } from './storage.js';

export interface ServiceOptions {
  host: string;
  /** 0 = any free port (the chosen one is in the returned url). */
  port: number;
  dataDir: string;
  /** BullMQ on this Redis; without it the embedded queue runs the songs in worker processes. */
  redisUrl?: string;
  /** Accepted tokens with their client identities (see auth.ts); none = no auth, loopback only. */
  tokens: readonly TokenSpec[];
  maxUploadBytes: number;
  maxQueue: number;
  rateLimitPerMinute: number;
  /** Requests per minute per address with a missing or wrong token before 429 (default 60). */
  authFailuresPerMinute?: number;
  inputRoot?: string;
  /** Embedded mode: songs at once (worker processes) and their threads. */
  plan?: RunPlan;
  logger: Logger;
  workerLogLevel?: LogLevel | null;
  attempts?: number;
  backoffMs?: number;
  /** Redis mode: seconds Redis keeps a finished job (default 7 days). */
  retentionSeconds?: number;
  /** Extra routes on the same server (the web page). */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
  /** Which model names clients may choose (`--allow-model`); default: those installed in the models folder. */
  clientConfig?: ClientConfigPolicy;
}

export interface RunningService {
  url: string;
  mode: 'embedded' | 'redis';
  app: FastifyInstance;
  queue: JobQueue;
  /** Stops listening, then lets running songs finish for `graceMs` before handing them back. */
  close(graceMs: number): Promise<void>;
}

/** A sensible default for embedded mode: half the cores as songs at once, the rest as threads. */
export function defaultServicePlan(jobs?: number): RunPlan {
  const cores = planConcurrency().cores;
  return planConcurrency({ jobs: jobs ?? Math.max(1, Math.floor(cores / 2)) });
}

export async function startService(options: ServiceOptions): Promise<RunningService> {
  const tokens = new TokenTable(options.tokens);
  assertBindingSafe(options.host, tokens);
  const storage = new LocalJobStorage(options.dataDir);
  await storage.init();
  let queue: EmbeddedQueue | RedisQueue;
  if (options.redisUrl) {
    queue = new RedisQueue({
      url: options.redisUrl,
      storage,
      logger: options.logger,
      attempts: options.attempts,
      backoffMs: options.backoffMs,
      retentionSeconds: options.retentionSeconds,
    });
    await queue.start();
  } else {
    queue = new EmbeddedQueue({
      storage,
      dataDir: storage.location,
      plan: options.plan ?? defaultServicePlan(),
      logger: options.logger,
      workerLogLevel: options.workerLogLevel ?? null,
      attempts: options.attempts,
      backoffMs: options.backoffMs,
    });
    await queue.start();
  }
  const { app, closeStreams } = await buildApi({
    queue,
    storage,
    logger: options.logger,
    tokens,
    dataDir: storage.location,
    redactor: new PathRedactor([
      { path: storage.location, symbol: '<data>' },
      ...(options.inputRoot ? [{ path: options.inputRoot, symbol: '<input-root>' }] : []),
      { path: packageRoot, symbol: '<package>' },
      { path: modelsDir(), symbol: '<models>' },
    ]),
    maxUploadBytes: options.maxUploadBytes,
    maxQueue: options.maxQueue,
    rateLimitPerMinute: options.rateLimitPerMinute,
    authFailuresPerMinute: options.authFailuresPerMinute ?? 60,
    inputRoot: options.inputRoot,
    clientConfig: options.clientConfig,
    extraRoutes: async (app) => {
      registerWebPage(app);
      await options.extraRoutes?.(app);
    },
  });
  let address: string;
  try {
    address = await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await queue.close(0);
    throw err;
  }
  return {
    url: address,
    mode: queue.mode,
    app,
    queue,
    async close(graceMs: number) {
      closeStreams();
      await app.close();
      await queue.close(graceMs);
    },
  };
}
