/**
 * Scale-out on Redis with BullMQ: the server (`RedisQueue`) adds jobs and reads their state; any
 * number of `didactic-engine worker` processes (`startRedisWorker`) on any number of machines run
 * them, sharing the data folder. Job ids are BullMQ job ids, so submitting an id twice runs it once;
 * a killed worker's job is found by BullMQ's stalled-job check and finished by another worker;
 * retryable codes are retried with exponential backoff, other codes fail at once
 * (UnrecoverableError). Cancelling a running job is a message on a Redis channel that the worker
 * holding it turns into an abort of the pipeline.
 */
import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';

import { DidacticError } from '../errors.js';

import { planConcurrency, type RunPlan } from '../pipeline/concurrency.js';
import { ModelCache } from '../pipeline/models.js';
import { prefixedLogger, type Logger } from '../util/logger.js';
import {
  decodeFailure,
  DONE_PROGRESS,
  encodeFailure,
  failureOf,
  isRetryableJobCode,
  QUEUED_PROGRESS,
  resultOf,
  throttledProgress,
  toStatus,
  type JobFailure,
  type JobOutcome,
  type JobProgress,
  type JobRecord,
  type JobSpec,
  type JobState,
  type JobStatus,
} from './jobs.js';
import { JobListeners, type CancelOutcome, type JobQueue, type QueueReadiness } from './queue.js';
import { runJob } from './runner.js';
import type { JobStorage } from './storage.js';

/** The BullMQ queue's name. */
export const QUEUE_NAME = 'didactic-jobs';
const CANCEL_CHANNEL = 'didactic-engine:cancel';

/**
 * One ioredis connection. Workers and event readers block on Redis and must wait out an outage
 * (`failFast` false); the API's own calls give up after a few reconnection attempts, so a request
 * during an outage gets 503 instead of hanging.
 */
export function redisConnection(url: string, failFast = false): Redis {
  return new Redis(url, { maxRetriesPerRequest: failFast ? 2 : null, enableReadyCheck: true, lazyConnect: false });
}

/** Redis trouble as the API's DE_UNAVAILABLE (503). */
async function orUnavailable<T>(body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof DidacticError) throw err;
    throw new DidacticError('DE_UNAVAILABLE', `The queue (Redis) is unavailable: ${(err as Error).message}`, { cause: err });
  }
}

/** Options of RedisQueue: the Redis URL, storage, retries (attempts, first backoff in ms). */
export interface RedisQueueOptions {
  url: string;
  storage: JobStorage;
  logger: Logger;
  /** Attempts per job for retryable failures (default 3). */
  attempts?: number;
  /** First retry delay, doubling per attempt (default 2000 ms). */
  backoffMs?: number;
  /**
   * How long Redis keeps a finished job (default 7 days); after that its status is read from the
   * `job.json` the worker wrote into the job's folder, so Redis memory stays bounded.
   */
  retentionSeconds?: number;
}

function stateOf(bull: string): JobState | null {
  if (bull === 'active') return 'running';
  if (bull === 'completed') return 'completed';
  if (bull === 'failed') return 'failed';
  if (bull === 'unknown') return null;
  return 'queued'; // waiting, delayed, prioritized, waiting-children
}

/**
 * A job's status document. `knownState` must have been read before `job` was fetched: the data is
 * then at least as new as the state (read the other way round, a job finishing in between is
 * "completed" without its result).
 */
async function statusOf(job: Job<JobSpec, JobOutcome>, knownState?: string): Promise<JobStatus | null> {
  let state = stateOf(knownState ?? (await job.getState()));
  // Fetched just before it finished: report it running until its result can be read with it.
  if (state === 'completed' && job.returnvalue == null) state = 'running';
  if (state === null) return null;
  const spec = job.data;
  const progress = state === 'completed' ? DONE_PROGRESS : isProgress(job.progress) ? job.progress : QUEUED_PROGRESS;
  const status: JobStatus = {
    id: spec.id,
    song_id: spec.songId,
    state,
    progress: state === 'failed' ? { ...progress, step: 'failed' } : progress,
    submitted_at: spec.submittedAt,
    attempts: job.attemptsMade + (state === 'running' ? 1 : 0),
  };
  if (spec.owner !== undefined) status.owner = spec.owner;
  if (job.processedOn) status.started_at = new Date(job.processedOn).toISOString();
  if (job.finishedOn && (state === 'completed' || state === 'failed')) status.finished_at = new Date(job.finishedOn).toISOString();
  if (state === 'completed' && job.returnvalue) status.result = resultOf(job.returnvalue);
  if (state === 'failed') status.error = decodeFailure(job.failedReason);
  return status;
}

function isProgress(value: unknown): value is JobProgress {
  return typeof value === 'object' && value !== null && typeof (value as JobProgress).step === 'string';
}

/** The server side of Redis mode: adds jobs to the BullMQ queue and reads their state; workers run them. */
export class RedisQueue implements JobQueue {
  readonly mode = 'redis' as const;
  readonly #o: Required<RedisQueueOptions>;
  readonly #queue: Queue<JobSpec, JobOutcome>;
  readonly #events: QueueEvents;
  readonly #publisher: Redis;
  readonly #listeners = new JobListeners();

  constructor(options: RedisQueueOptions) {
    this.#o = { attempts: 3, backoffMs: 2000, retentionSeconds: 7 * 24 * 3600, ...options };
    this.#queue = new Queue<JobSpec, JobOutcome>(QUEUE_NAME, { connection: redisConnection(options.url, true) });
    this.#events = new QueueEvents(QUEUE_NAME, { connection: redisConnection(options.url) });
    this.#publisher = redisConnection(options.url, true);
    this.#queue.on('error', (err: Error) => this.#o.logger.warn(`Redis: ${err.message}`));
    this.#events.on('error', (err: Error) => this.#o.logger.warn(`Redis: ${err.message}`));
    this.#publisher.on('error', (err: Error) => this.#o.logger.warn(`Redis: ${err.message}`));
    const refresh = (jobId: string, finished: boolean) => {
      if (!finished && !this.#listeners.watched(jobId)) return;
      void this.status(jobId).then((status) => {
        if (status) this.#listeners.notify(status, finished);
      });
    };
    this.#events.on('progress', ({ jobId }) => refresh(jobId, false));
    this.#events.on('active', ({ jobId }) => refresh(jobId, false));
    this.#events.on('completed', ({ jobId }) => refresh(jobId, true));
    this.#events.on('failed', ({ jobId }) => refresh(jobId, true));
    this.#events.on('retries-exhausted', ({ jobId }) => refresh(jobId, false));
  }

  /** Waits until the Redis connections are ready. */
  async start(): Promise<void> {
    await Promise.all([this.#queue.waitUntilReady(), this.#events.waitUntilReady()]);
  }

  async submit(spec: JobSpec): Promise<void> {
    await orUnavailable(() =>
      this.#queue.add('song', spec, {
        jobId: spec.id,
        attempts: this.#o.attempts,
        backoff: { type: 'exponential', delay: this.#o.backoffMs },
        // Bounded Redis memory: finished jobs go after the retention (BullMQ counts whole seconds);
        // their job.json in the data folder answers from then on.
        removeOnComplete: { age: Math.max(1, Math.round(this.#o.retentionSeconds)) },
        removeOnFail: { age: Math.max(1, Math.round(this.#o.retentionSeconds)) },
      }),
    );
  }

  /** See JobQueue.status. @throws DidacticError DE_UNAVAILABLE when Redis does not answer */
  async status(id: string): Promise<JobStatus | null> {
    const live = await orUnavailable(async () => {
      const state = await this.#queue.getJobState(id);
      if (state === 'unknown') return null;
      const job = await this.#queue.getJob(id);
      return job ? statusOf(job, state) : null;
    });
    if (live) return live;
    // Past Redis' retention: the record the worker left in the job's folder.
    const record = await this.#o.storage.readRecord<JobRecord>(id);
    return record?.spec ? toStatus(record) : null;
  }

  async list(limit: number, owner?: string): Promise<JobStatus[]> {
    return orUnavailable(() => this.#list(limit, owner));
  }

  async #list(limit: number, owner?: string): Promise<JobStatus[]> {
    const jobs = await this.#queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'], 0, limit - 1);
    const statuses = (await Promise.all(jobs.filter(Boolean).map((job) => statusOf(job)))).filter(
      (s): s is JobStatus => s !== null && (owner === undefined || s.owner === owner),
    );
    return statuses.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at)).slice(0, limit);
  }

  async cancel(id: string): Promise<CancelOutcome | null> {
    return orUnavailable(() => this.#cancel(id));
  }

  async #cancel(id: string): Promise<CancelOutcome | null> {
    const job = await this.#queue.getJob(id);
    if (!job) {
      if (!(await this.#o.storage.readRecord<JobRecord>(id))) return null;
      await this.#o.storage.remove(id);
      return 'deleted';
    }
    const state = stateOf(await job.getState());
    if (state === 'running') {
      await this.#publisher.publish(CANCEL_CHANNEL, id);
      return 'aborting';
    }
    try {
      await job.remove();
    } catch {
      // A worker took it between the two calls: abort it there instead.
      await this.#publisher.publish(CANCEL_CHANNEL, id);
      return 'aborting';
    }
    await this.#o.storage.remove(id);
    return state === 'queued' ? 'removed' : 'deleted';
  }

  /** See JobQueue.counts. @throws DidacticError DE_UNAVAILABLE when Redis does not answer */
  async counts(): Promise<Record<JobState, number>> {
    const c = await orUnavailable(() => this.#queue.getJobCounts('waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'completed', 'failed'));
    return {
      queued: (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0) + (c['waiting-children'] ?? 0),
      running: c.active ?? 0,
      completed: c.completed ?? 0,
      failed: c.failed ?? 0,
    };
  }

  subscribe(id: string, listener: (status: JobStatus) => void): () => void {
    return this.#listeners.subscribe(id, listener);
  }

  subscribeAll(listener: (status: JobStatus) => void): () => void {
    return this.#listeners.subscribeAll(listener);
  }

  onFinished(listener: (status: JobStatus) => void): void {
    this.#listeners.onFinished(listener);
  }

  /** Ready when Redis answers PING. */
  async ready(): Promise<QueueReadiness> {
    try {
      await this.#publisher.ping();
      const workers = await this.#queue.getWorkersCount();
      return { ok: true, details: `Redis reachable; ${workers} worker connection(s)` };
    } catch (err) {
      return { ok: false, details: `Redis unreachable: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
    this.#publisher.disconnect();
  }
}

/** Options of startRedisWorker: songs at once, and the lock and stalled-check periods in ms. */
export interface RedisWorkerOptions {
  url: string;
  storage: JobStorage;
  logger: Logger;
  /** Songs at once in this process (default 1). */
  concurrency?: number;
  /** The songs' threads (default: planConcurrency({ jobs: concurrency }), i.e. the whole machine). */
  plan?: RunPlan;
  /** How long a job's lock lives without renewal before another worker may take it (default 30 s). */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default 30 s). */
  stalledIntervalMs?: number;
}

/** A running Redis worker. */
export interface RedisWorkerHandle {
  /** Stops taking jobs; running ones get `graceMs`, then are aborted and handed back to the queue. */
  close(graceMs: number): Promise<void>;
  readonly worker: Worker<JobSpec, JobOutcome>;
}

/**
 * Runs jobs of the Redis queue in this process until closed: retryable codes are retried by
 * BullMQ with backoff, others fail at once; a cancel message aborts the running song.
 */
export async function startRedisWorker(options: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const plan = options.plan ?? planConcurrency({ jobs: concurrency });
  const models = new ModelCache();
  const log = options.logger;
  let handingBack = false;
  /** Jobs whose lock this worker failed to renew: their abort hands them back instead of failing them. */
  const lostLock = new Set<string>();

  const processor = async (job: Job<JobSpec, JobOutcome>, token?: string, signal?: AbortSignal): Promise<JobOutcome> => {
    const spec = job.data;
    let last: JobProgress | null = null;
    const startedAt = new Date().toISOString();
    // The final state also goes into the job's folder: it outlives Redis' retention of the job.
    const record = async (state: 'completed' | 'failed', result: { outcome?: JobOutcome; failure?: JobFailure }) => {
      const progress = state === 'completed' ? DONE_PROGRESS : { step: 'failed', fraction: last?.fraction ?? 0 };
      const finished: JobRecord = { spec, state, progress, attempts: job.attemptsMade + 1, startedAt, finishedAt: new Date().toISOString(), ...result };
      await options.storage.writeRecord(spec.id, finished).catch((err: Error) => log.warn(`Job ${spec.id}: could not write its record: ${err.message}`));
    };
    try {
      const outcome = await runJob(
        spec,
        { storage: options.storage, models, plan, logger: prefixedLogger(log, `[job ${spec.id}] `) },
        {
          signal,
          onProgress: throttledProgress((progress) => {
            last = progress;
            void job.updateProgress(progress).catch(() => {});
          }),
        },
      );
      await record('completed', { outcome });
      return outcome;
    } catch (err) {
      const failure = failureOf(err);
      if ((handingBack || lostLock.has(spec.id)) && failure.code === 'DE_ABORTED' && token) {
        // Shutting down past the grace period, or the lock was lost: the job goes back to the queue
        // (when another worker already holds it, the move is refused and the job stays theirs).
        lostLock.delete(spec.id);
        await job.moveToDelayed(Date.now(), token).catch((err: Error) => log.warn(`Job ${spec.id}: not handed back: ${err.message}`));
        throw new DelayedError();
      }
      log.warn(`Job ${spec.id} attempt ${job.attemptsMade + 1} failed: ${encodeFailure(failure)}`);
      const final = !isRetryableJobCode(failure.code) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      if (final) await record('failed', { failure });
      if (!isRetryableJobCode(failure.code)) throw new UnrecoverableError(encodeFailure(failure));
      throw new Error(encodeFailure(failure));
    }
  };

  const worker = new Worker<JobSpec, JobOutcome>(QUEUE_NAME, processor, {
    connection: redisConnection(options.url),
    concurrency,
    lockDuration: options.lockDurationMs ?? 30_000,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
    autorun: true,
  });
  worker.on('error', (err) => log.warn(`Redis worker: ${err.message}`));
  // A worker that could not renew a job's lock (its event loop stalled, Redis was unreachable) may
  // already have lost the job to another worker's stalled check: abort its run so that only one
  // attempt commits outputs.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) {
      lostLock.add(id);
      if (worker.cancelJob(id, 'this worker lost the job lock')) log.warn(`Job ${id}: lock renewal failed; aborting this attempt`);
    }
  });
  const subscriber = redisConnection(options.url);
  subscriber.on('error', (err: Error) => log.warn(`Redis: ${err.message}`));
  await subscriber.subscribe(CANCEL_CHANNEL);
  subscriber.on('message', (_channel: string, jobId: string) => {
    if (worker.cancelJob(jobId, 'cancelled by the client')) log.info(`Job ${jobId}: cancelled by the client`);
  });
  await worker.waitUntilReady();

  return {
    worker,
    async close(graceMs: number) {
      const closing = worker.close();
      const timer = setTimeout(() => {
        handingBack = true;
        worker.cancelAllJobs('the worker is stopping');
      }, graceMs);
      try {
        await closing;
      } finally {
        clearTimeout(timer);
        subscriber.disconnect();
        await models.close();
      }
    },
  };
}
