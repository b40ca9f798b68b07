/**
 * Scale-out on Redis with BullMQ: the server (`RedisQueue`) adds jobs and reads their state; any
 * number of `didactic-engine worker` processes (`startRedisWorker`) on any number of machines run
 * them, sharing the data folder. Job ids are BullMQ job ids, so submitting an id twice runs it once;
 * a killed worker's job is found by BullMQ's stalled-job check and finished by another worker;
 * retryable codes are retried with exponential backoff, other codes fail at once
 * (UnrecoverableError). Cancelling a running job is a message on a Redis channel that the worker
 * holding it turns into an abort of the pipeline.
 *
 * Outages: the API's Redis calls never wait for a reconnection (no offline queue, a short command
 * timeout, a deadline per call), so requests answer 503 DE_UNAVAILABLE at once; the outage and its
 * end are logged once each. Commits are fenced: each attempt runs into its own folder and commits
 * only after a Lua script has checked, atomically in Redis, that the attempt still holds the job's
 * lock and that no other attempt has committed (see `fenceCommit`).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

import { DelayedError, Queue, QueueEvents, UnrecoverableError, Worker, type Job, type QueueEventsOptions } from 'bullmq';
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
import { committedOutcome, runJob } from './runner.js';
import type { JobStorage } from './storage.js';

/** The BullMQ queue's name. */
export const QUEUE_NAME = 'didactic-jobs';
const CANCEL_CHANNEL = 'didactic-engine:cancel';
/** The job hash field that records which attempt committed the job's outputs (set once). */
const COMMIT_FIELD = 'didacticCommit';
/** A Redis command on the request path that has no answer after this long fails. */
const COMMAND_TIMEOUT_MS = 800;
/** The longest a request waits for all of its Redis calls together before answering 503. */
const REQUEST_DEADLINE_MS = 1000;
/** How often a server or worker that saw Redis fail checks whether it is back. */
const PROBE_INTERVAL_MS = 500;

/**
 * One ioredis connection. Workers and event readers block on Redis and must wait out an outage
 * (`failFast` false); those connect on first use, because BullMQ's blocking readers (Worker,
 * QueueEvents) connect a duplicate and leave the one they were given unused (connected, its
 * reconnection errors would reach no listener). The API's own calls (`failFast`) never wait:
 * without the offline queue a command on a broken connection fails at once, and one that a hung
 * Redis does not answer fails after COMMAND_TIMEOUT_MS, so a request during an outage gets 503
 * instead of hanging.
 */
export function redisConnection(url: string, failFast = false): Redis {
  return failFast
    ? new Redis(url, { maxRetriesPerRequest: 1, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS, enableReadyCheck: true, lazyConnect: false })
    : new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: true });
}

/**
 * Whether Redis is reachable, as one state that changes on evidence: a failed call or a
 * connection error makes it check at once (PING), and a failed check starts an outage; a PING
 * every PROBE_INTERVAL_MS during an outage ends it. Each change is logged once, however many
 * connections and requests fail meanwhile.
 */
class RedisHealth {
  #downSince: number | null = null;
  #reason = '';
  #probing = false;
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly logger: Logger,
    private readonly ping: () => Promise<unknown>,
    private readonly what: string,
  ) {}

  /** Since when Redis is unreachable (ms since the epoch), or null. */
  get downSince(): number | null {
    return this.#downSince;
  }

  get reason(): string {
    return this.#reason;
  }

  /** Something failed: find out now whether Redis is down. */
  suspect(err: unknown): void {
    if (this.#downSince !== null) return;
    void this.#check(err);
  }

  async #check(cause: unknown): Promise<void> {
    if (this.#probing) return;
    this.#probing = true;
    try {
      await this.ping();
      if (this.#downSince !== null) {
        this.logger.warn(`Redis is back after ${((Date.now() - this.#downSince) / 1000).toFixed(1)} s; ${this.what} work again`);
        this.#downSince = null;
        if (this.#timer) clearInterval(this.#timer);
        this.#timer = null;
      }
    } catch (err) {
      if (this.#downSince === null) {
        this.#downSince = Date.now();
        this.#reason = (err as Error).message || (cause as Error)?.message || String(err);
        this.logger.warn(`Redis outage: ${this.#reason}; ${this.what} fail until it answers again (checking every ${PROBE_INTERVAL_MS} ms)`);
        this.#timer = setInterval(() => void this.#check(null), PROBE_INTERVAL_MS);
        this.#timer.unref();
      }
    } finally {
      this.#probing = false;
    }
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

function unavailable(message: string, cause?: unknown): DidacticError {
  return new DidacticError('DE_UNAVAILABLE', `The queue (Redis) is unavailable: ${message}`, cause === undefined ? {} : { cause });
}

/** The Redis key of a job's hash (BullMQ's layout: `<prefix>:<queue>:<id>`; its lock is `<that>:lock`). */
function jobKey(queue: { toKey: (type: string) => string }, id: string): string {
  return queue.toKey(id);
}

/** The sorted set of one client's job ids, scored by submission time (ms). */
function ownerKey(owner: string): string {
  return `didactic-engine:owner:${encodeURIComponent(owner)}`;
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
    attempts: attemptsOf(job, state),
  };
  if (spec.owner !== undefined) status.owner = spec.owner;
  if (job.processedOn) status.started_at = new Date(job.processedOn).toISOString();
  if (job.finishedOn && (state === 'completed' || state === 'failed')) status.finished_at = new Date(job.finishedOn).toISOString();
  if (state === 'completed' && job.returnvalue) status.result = resultOf(job.returnvalue);
  if (state === 'failed') status.error = decodeFailure(job.failedReason);
  return status;
}

/**
 * Attempts started. BullMQ counts a started attempt in `attemptsStarted` (also one that a killed
 * worker never finished, which `attemptsMade` misses) and a finished one in `attemptsMade`.
 */
function attemptsOf(job: Job<JobSpec, JobOutcome>, state: JobState): number {
  return Math.max(job.attemptsStarted ?? 0, job.attemptsMade + (state === 'running' ? 1 : 0));
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
  /** Fail-fast commands of our own (PING, the owner sets, queue positions) and cancel messages. */
  readonly #client: Redis;
  /** The connections given to BullMQ: it leaves a caller's client open when it closes. */
  readonly #given: Redis[];
  readonly #health: RedisHealth;
  readonly #listeners = new JobListeners();

  constructor(options: RedisQueueOptions) {
    this.#o = { attempts: 3, backoffMs: 2000, retentionSeconds: 7 * 24 * 3600, ...options };
    this.#given = [redisConnection(options.url, true), redisConnection(options.url)];
    this.#queue = new Queue<JobSpec, JobOutcome>(QUEUE_NAME, { connection: this.#given[0]! });
    // Not autorun: BullMQ's reader starts from '$' whenever its first XREAD happens to be sent, and
    // a job submitted before that loses its events; start() pins the starting id first.
    this.#events = new QueueEvents(QUEUE_NAME, { connection: this.#given[1]!, autorun: false });
    this.#client = redisConnection(options.url, true);
    this.#health = new RedisHealth(options.logger, () => this.#client.ping(), 'API calls that need Redis');
    // Connection errors repeat on every reconnection attempt: they only feed the outage state.
    const suspect = (err: Error) => this.#health.suspect(err);
    this.#queue.on('error', suspect);
    this.#events.on('error', suspect);
    this.#client.on('error', suspect);
    const refresh = (jobId: string, finished: boolean) => {
      if (!finished && !this.#listeners.watched(jobId)) return;
      this.status(jobId).then(
        (status) => {
          if (status) this.#listeners.notify(status, finished);
        },
        () => {
          // Redis went away between the event and the read: the outage is logged once elsewhere.
        },
      );
    };
    this.#events.on('added', ({ jobId }) => refresh(jobId, false));
    this.#events.on('waiting', ({ jobId }) => refresh(jobId, false));
    this.#events.on('delayed', ({ jobId }) => refresh(jobId, false));
    this.#events.on('progress', ({ jobId }) => refresh(jobId, false));
    this.#events.on('active', ({ jobId }) => refresh(jobId, false));
    this.#events.on('completed', ({ jobId }) => refresh(jobId, true));
    this.#events.on('failed', ({ jobId }) => refresh(jobId, true));
    this.#events.on('retries-exhausted', ({ jobId }) => refresh(jobId, false));
  }

  /**
   * Waits until the Redis connections are ready and starts reading queue events from the last one
   * already in the stream, so every event of a job submitted after start() returns is heard.
   */
  async start(): Promise<void> {
    await Promise.all([this.#queue.waitUntilReady(), this.#events.waitUntilReady()]);
    // On the connection the Queue uses as given (shared, not duplicated): ready now, while our own
    // fail-fast client may still be connecting ("Stream isn't writeable").
    const last = await this.#given[0]!.xrevrange(this.#queue.keys.events!, '+', '-', 'COUNT', 1);
    (this.#events.opts as QueueEventsOptions).lastEventId = last[0]?.[0] ?? '0-0';
    this.#events.run().catch((err: Error) => this.#health.suspect(err));
  }

  /**
   * Runs the Redis calls of one request: at once DE_UNAVAILABLE during a known outage, otherwise
   * within REQUEST_DEADLINE_MS or DE_UNAVAILABLE (and the outage check starts).
   */
  async #call<T>(body: () => Promise<T>, deadlineMs = REQUEST_DEADLINE_MS): Promise<T> {
    const since = this.#health.downSince;
    if (since !== null) throw unavailable(`unreachable since ${new Date(since).toISOString()} (${this.#health.reason})`);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    const work = body();
    work.catch(() => {}); // settled later than the deadline: nobody waits for it any more
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      if (err instanceof DidacticError) throw err;
      this.#health.suspect(err);
      throw unavailable((err as Error).message, err);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Queues the job; with an owner, also files its id in the owner's sorted set (first, so that a
   * job is never queued without it; an entry whose job never arrived is dropped by `list`).
   */
  async submit(spec: JobSpec): Promise<void> {
    await this.#call(async () => {
      if (spec.owner !== undefined) await this.#client.zadd(ownerKey(spec.owner), Date.parse(spec.submittedAt) || Date.now(), spec.id);
      await this.#queue.add('song', spec, {
        jobId: spec.id,
        attempts: this.#o.attempts,
        backoff: { type: 'exponential', delay: this.#o.backoffMs },
        // Bounded Redis memory: finished jobs go after the retention (BullMQ counts whole seconds);
        // their job.json in the data folder answers from then on.
        removeOnComplete: { age: Math.max(1, Math.round(this.#o.retentionSeconds)) },
        removeOnFail: { age: Math.max(1, Math.round(this.#o.retentionSeconds)) },
      });
    });
    if (spec.owner !== undefined) void this.#sweepOwner(spec.owner).catch(() => {});
  }

  /**
   * Keeps an owner's set as small as Redis' own retention: on each submission, the oldest few
   * entries older than the retention whose job Redis no longer holds are removed (amortised O(1)
   * per submission).
   */
  async #sweepOwner(owner: string): Promise<void> {
    const key = ownerKey(owner);
    const old = await this.#client.zrangebyscore(key, '-inf', Date.now() - this.#o.retentionSeconds * 1000, 'LIMIT', 0, 10);
    for (const id of old) if ((await this.#client.exists(jobKey(this.#queue, id))) === 0) await this.#client.zrem(key, id);
  }

  /** See JobQueue.status. @throws DidacticError DE_UNAVAILABLE when Redis does not answer */
  async status(id: string): Promise<JobStatus | null> {
    const live = await this.#call(async () => {
      const state = await this.#queue.getJobState(id);
      if (state === 'unknown') return null;
      const job = await this.#queue.getJob(id);
      const status = job ? await statusOf(job, state) : null;
      if (status?.state === 'queued' && state === 'waiting') await this.#addPositions([status]);
      return status;
    });
    if (live) return live;
    // Past Redis' retention: the record the worker left in the job's folder.
    const record = await this.#o.storage.readRecord<JobRecord>(id);
    return record?.spec ? toStatus(record) : null;
  }

  /**
   * Sets `queue_position` of the queued statuses that wait in BullMQ's wait list, in one
   * round trip: LLEN and one LPOS per job (O(queued jobs) each, bounded by --max-queue). New jobs
   * are pushed on the left and workers take from the right, so the last element is next.
   */
  async #addPositions(statuses: JobStatus[]): Promise<void> {
    const queued = statuses.filter((s) => s.state === 'queued');
    if (queued.length === 0) return;
    const wait = this.#queue.toKey('wait');
    const tx = this.#client.multi().llen(wait);
    for (const s of queued) tx.lpos(wait, s.id);
    const replies = (await tx.exec()) ?? [];
    const length = Number(replies[0]?.[1] ?? 0);
    queued.forEach((s, i) => {
      const at = replies[i + 1]?.[1];
      if (typeof at === 'number') s.queue_position = length - at;
    });
  }

  /** See JobQueue.list. @throws DidacticError DE_UNAVAILABLE when Redis does not answer */
  async list(limit: number, owner?: string): Promise<JobStatus[]> {
    // A long list reads many jobs from a live Redis; a hung one fails its first command at once.
    return this.#call(
      async () => {
        const statuses = owner === undefined ? await this.#list(limit) : await this.#listOwned(limit, owner);
        await this.#addPositions(statuses);
        return statuses;
      },
      REQUEST_DEADLINE_MS + 5 * limit,
    );
  }

  async #list(limit: number): Promise<JobStatus[]> {
    const jobs = await this.#queue.getJobs(['active', 'waiting', 'delayed', 'prioritized', 'completed', 'failed'], 0, limit - 1);
    const statuses = (await Promise.all(jobs.filter(Boolean).map((job) => statusOf(job)))).filter((s): s is JobStatus => s !== null);
    return statuses.sort((a, b) => b.submitted_at.localeCompare(a.submitted_at)).slice(0, limit);
  }

  /**
   * One owner's jobs from their sorted set, newest first, a page of `limit` ids at a time. Ids
   * whose job Redis no longer holds (past retention, or deleted) are skipped, and dropped from
   * the set unless just submitted (the job may be on its way, see `submit`).
   */
  async #listOwned(limit: number, owner: string): Promise<JobStatus[]> {
    const key = ownerKey(owner);
    const out: JobStatus[] = [];
    for (let offset = 0; out.length < limit; offset += limit) {
      const page = await this.#client.zrevrange(key, offset, offset + limit - 1, 'WITHSCORES');
      if (page.length === 0) break;
      const ids = page.filter((_, i) => i % 2 === 0);
      const jobs = await Promise.all(ids.map((id) => this.#queue.getJob(id)));
      const gone: string[] = [];
      for (const [i, job] of jobs.entries()) {
        const status = job && job.data?.owner === owner ? await statusOf(job) : null;
        if (status) out.push(status);
        else if (Number(page[2 * i + 1]) < Date.now() - 60_000) gone.push(ids[i]!);
      }
      if (gone.length > 0) await this.#client.zrem(key, ...gone);
      if (page.length < 2 * limit) break;
    }
    return out.slice(0, limit);
  }

  /**
   * See JobQueue.ownerOf: one HGET of the job's data (JSON of its spec); past retention, its
   * job.json. @throws DidacticError DE_UNAVAILABLE when Redis does not answer
   */
  async ownerOf(id: string): Promise<string | undefined | null> {
    const data = await this.#call(() => this.#client.hget(jobKey(this.#queue, id), 'data'));
    if (data !== null) return (JSON.parse(data) as JobSpec).owner;
    const record = await this.#o.storage.readRecord<JobRecord>(id);
    return record?.spec ? record.spec.owner : null;
  }

  /**
   * See JobQueue.cancel. The Redis part is bounded like every request's; the folder is removed
   * after it. @throws DidacticError DE_UNAVAILABLE when Redis does not answer
   */
  async cancel(id: string): Promise<CancelOutcome | null> {
    const outcome = await this.#call(() => this.#cancelInRedis(id));
    if (outcome === 'aborting') return outcome;
    if (outcome === null) {
      // Past Redis' retention: the job lives on in its folder.
      const record = await this.#o.storage.readRecord<JobRecord>(id);
      if (!record) return null;
      await this.#o.storage.remove(id);
      const owner = record.spec?.owner;
      if (owner !== undefined) await this.#call(() => this.#client.zrem(ownerKey(owner), id)).catch(() => {});
      return 'deleted';
    }
    await this.#o.storage.remove(id);
    return outcome;
  }

  /** Removes the job from Redis or tells its worker to abort it; null when Redis does not hold it. */
  async #cancelInRedis(id: string): Promise<CancelOutcome | null> {
    const job = await this.#queue.getJob(id);
    if (!job) return null;
    const state = stateOf(await job.getState());
    if (state === 'running') {
      await this.#client.publish(CANCEL_CHANNEL, id);
      return 'aborting';
    }
    try {
      await job.remove();
    } catch {
      // A worker took it between the two calls: abort it there instead.
      await this.#client.publish(CANCEL_CHANNEL, id);
      return 'aborting';
    }
    if (job.data.owner !== undefined) await this.#client.zrem(ownerKey(job.data.owner), id);
    return state === 'queued' ? 'removed' : 'deleted';
  }

  /** See JobQueue.counts. @throws DidacticError DE_UNAVAILABLE when Redis does not answer */
  async counts(): Promise<Record<JobState, number>> {
    const c = await this.#call(() => this.#queue.getJobCounts('waiting', 'delayed', 'prioritized', 'waiting-children', 'active', 'completed', 'failed'));
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

  /** See JobQueue.subscribeAll: fed by the same BullMQ queue events as `subscribe`. */
  subscribeAll(listener: (status: JobStatus) => void): () => void {
    return this.#listeners.subscribeAll(listener);
  }

  onFinished(listener: (status: JobStatus) => void): void {
    this.#listeners.onFinished(listener);
  }

  /** Ready when Redis answers PING (at once not ready during a known outage). */
  async ready(): Promise<QueueReadiness> {
    try {
      const workers = await this.#call(async () => {
        await this.#client.ping();
        return this.#queue.getWorkersCount();
      });
      return { ok: true, details: `Redis reachable; ${workers} worker connection(s)` };
    } catch (err) {
      return { ok: false, details: `Redis unreachable: ${(err as Error).message}` };
    }
  }

  async close(): Promise<void> {
    this.#health.stop();
    await Promise.allSettled([this.#events.close(), this.#queue.close()]);
    this.#client.disconnect();
    for (const connection of this.#given) connection.disconnect();
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
 * The commit fence, one Lua script so that Redis checks and decides atomically: only the attempt
 * that holds the job's lock now (BullMQ's lock key holds the token of the worker that owns the
 * job) may commit, and only once per job; the decision is recorded in the job's hash. Returns the
 * committed attempt (this one, or one that committed earlier and then died), or nil when this
 * attempt lost the job (another worker holds its lock, it finished elsewhere, or it is gone).
 */
const FENCE_SCRIPT = `
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return false end
local decided = redis.call('HGET', KEYS[1], ARGV[3])
if decided then return decided end
redis.call('HSET', KEYS[1], ARGV[3], ARGV[2])
return ARGV[2]
`;

/** Whether the token still holds the job's lock (checked before a failure is recorded). */
const HOLDS_LOCK_SCRIPT = `return redis.call('GET', KEYS[1]) == ARGV[1] and 1 or 0`;

/**
 * Test hook: a worker started with this variable set to `1` stops itself (SIGSTOP) right before
 * its commit fence, so that a test can let its lock expire and another worker take the job over
 * before it continues (SIGCONT); set to `after-fence`, right after the fence let it commit and
 * before it makes the commit (a test kills it there and checks that the next worker finishes it).
 */
const STOP_BEFORE_COMMIT_ENV = 'DIDACTIC_TEST_STOP_BEFORE_COMMIT';

/** The test hook's stop (see STOP_BEFORE_COMMIT_ENV) at `point`. */
function testStop(point: '1' | 'after-fence', log: Logger, id: string): void {
  if (process.env[STOP_BEFORE_COMMIT_ENV] !== point) return;
  log.warn(`Job ${id}: stopping ${point === '1' ? 'before the commit fence' : 'after the commit fence'} (${STOP_BEFORE_COMMIT_ENV})`);
  process.kill(process.pid, 'SIGSTOP');
}

/** A name for one attempt's folder: the attempt number, the worker and a random part. */
function attemptName(job: Job<JobSpec, JobOutcome>): string {
  const host = hostname()
    .replace(/[^A-Za-z0-9.-]+/g, '_')
    .slice(0, 64);
  return `${job.attemptsStarted || job.attemptsMade + 1}-${host}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** A job that this worker gave up without a result: BullMQ must not move it (another worker holds it, or it was handed back). */
function letGo(): DelayedError {
  return new DelayedError();
}

/**
 * Runs jobs of the Redis queue in this process until closed: retryable codes are retried by
 * BullMQ with backoff, others fail at once; a cancel message aborts the running song. Each
 * attempt runs into its own folder and commits through the fence (`FENCE_SCRIPT`): only the
 * attempt that holds the job's lock at that moment commits, once; a later attempt that finds a
 * commit made finishes it instead of running the song again.
 */
export async function startRedisWorker(options: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const plan = options.plan ?? planConcurrency({ jobs: concurrency });
  const lockDurationMs = options.lockDurationMs ?? 30_000;
  const models = new ModelCache();
  const log = options.logger;
  const { storage } = options;
  let handingBack = false;
  /** Jobs whose lock this worker failed to renew: their abort hands them back instead of failing them. */
  const lostLock = new Set<string>();
  // Our own commands (the fence, PING): they fail fast, so an outage is noticed and retried here.
  const commands = redisConnection(options.url, true);
  const health = new RedisHealth(log, () => commands.ping(), 'jobs');
  commands.on('error', (err: Error) => health.suspect(err));
  if (commands.status !== 'ready') await new Promise((resolve) => commands.once('ready', resolve));

  let worker: Worker<JobSpec, JobOutcome>;
  const keysOf = (id: string) => {
    const key = jobKey(worker, id);
    return [key, `${key}:lock`] as const;
  };

  /**
   * Asks the fence, retrying a Redis that does not answer for up to a lock period (past that the
   * lock is gone anyway). Returns the committed attempt, null when this attempt lost the job, or
   * undefined when Redis never answered (the decision may have been made: keep the folder).
   */
  const fence = async (id: string, token: string, attempt: string): Promise<string | null | undefined> => {
    const [key, lock] = keysOf(id);
    const until = Date.now() + lockDurationMs;
    for (;;) {
      try {
        return (await commands.eval(FENCE_SCRIPT, 2, key, lock, token, attempt, COMMIT_FIELD)) as string | null;
      } catch (err) {
        health.suspect(err);
        if (Date.now() > until) return undefined;
        await new Promise((r) => setTimeout(r, PROBE_INTERVAL_MS));
      }
    }
  };

  const holdsLock = async (id: string, token: string): Promise<boolean> => {
    try {
      return (await commands.eval(HOLDS_LOCK_SCRIPT, 1, keysOf(id)[1], token)) === 1;
    } catch {
      return false;
    }
  };

  const processor = async (job: Job<JobSpec, JobOutcome>, token?: string, signal?: AbortSignal): Promise<JobOutcome> => {
    const spec = job.data;
    const id = spec.id;
    let last: JobProgress | null = null;
    const startedAt = new Date().toISOString();
    const attempts = job.attemptsStarted || job.attemptsMade + 1;
    // The final state also goes into the job's folder: it outlives Redis' retention of the job.
    const record = async (state: 'completed' | 'failed', result: { outcome?: JobOutcome; failure?: JobFailure }) => {
      const progress = state === 'completed' ? DONE_PROGRESS : { step: 'failed', fraction: last?.fraction ?? 0 };
      const finished: JobRecord = { spec, state, progress, attempts, startedAt, finishedAt: new Date().toISOString(), ...result };
      await storage.writeRecord(id, finished).catch((err: Error) => log.warn(`Job ${id}: could not write its record: ${err.message}`));
    };
    /**
     * Makes the committed attempt's outputs the job's (idempotent: whoever holds the job next
     * does the same), and the job complete with them. The record is written while the lock is
     * ours, so that a worker that stalls here does not overwrite its successor's record.
     */
    const finish = async (committed: string, outcome?: JobOutcome): Promise<JobOutcome> => {
      await storage.commitAttempt(id, committed);
      const result = outcome ?? (await committedOutcome(spec, storage));
      if (await holdsLock(id, token!)) await record('completed', { outcome: result });
      return result;
    };
    if (!token) throw new Error(`Job ${id}: BullMQ gave no lock token`);
    // A fresh lock: a lost lock of an earlier attempt here (fenced out, not aborted) is history.
    lostLock.delete(id);

    const attempt = attemptName(job);
    let committed: string | null | undefined = null;
    try {
      // An earlier attempt committed and then died before completing the job: finish its commit.
      // (Unreadable now: the song runs, and the fence still finds that commit.)
      const earlier = await commands.hget(keysOf(id)[0], COMMIT_FIELD).catch(() => null);
      if (earlier) {
        committed = earlier;
        log.warn(`Job ${id}: attempt ${earlier} committed before its worker stopped; completing the job with its outputs`);
        return await finish(earlier);
      }
      const outcome = await runJob(
        spec,
        { storage, models, plan, logger: prefixedLogger(log, `[job ${id}] `) },
        {
          signal,
          attempt,
          onProgress: throttledProgress((progress) => {
            last = progress;
            void job.updateProgress(progress).catch(() => {});
          }),
        },
      );
      testStop('1', log, id);
      committed = await fence(id, token, attempt);
      if (committed === undefined) {
        log.warn(`Job ${id}: Redis did not answer the commit fence; leaving the job to the next attempt`);
        throw letGo();
      }
      if (committed === null) {
        log.warn(`Job ${id}: this attempt lost the job's lock before its commit (another worker holds it); its outputs are discarded`);
        await storage.discardAttempt(id, attempt);
        throw letGo();
      }
      if (committed !== attempt) log.info(`Job ${id}: attempt ${committed} committed first; completing the job with its outputs`);
      else testStop('after-fence', log, id);
      return await finish(committed, committed === attempt ? outcome : undefined);
    } catch (err) {
      if (err instanceof DelayedError) throw err;
      // Outputs of an attempt that did not win the fence are garbage; a decided commit's are not.
      if (committed === null) await storage.discardAttempt(id, attempt).catch(() => {});
      const failure = failureOf(err);
      if ((handingBack || lostLock.has(id)) && failure.code === 'DE_ABORTED') {
        // Shutting down past the grace period, or the lock was lost: the job goes back to the queue
        // (when another worker already holds it, the move is refused and the job stays theirs).
        lostLock.delete(id);
        await job.moveToDelayed(Date.now(), token).catch((err: Error) => log.warn(`Job ${id}: not handed back: ${err.message}`));
        throw letGo();
      }
      log.warn(`Job ${id} attempt ${attempts} failed: ${encodeFailure(failure)}`);
      const final = !isRetryableJobCode(failure.code) || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Only the lock's holder records the job's end (a stale attempt would overwrite the record
      // of the worker that took the job over).
      if (final && (await holdsLock(id, token))) await record('failed', { failure });
      if (!isRetryableJobCode(failure.code)) throw new UnrecoverableError(encodeFailure(failure));
      throw new Error(encodeFailure(failure));
    }
  };

  const given = redisConnection(options.url);
  worker = new Worker<JobSpec, JobOutcome>(QUEUE_NAME, processor, {
    connection: given,
    concurrency,
    lockDuration: lockDurationMs,
    stalledInterval: options.stalledIntervalMs ?? 30_000,
    maxStalledCount: 2,
    autorun: true,
  });
  // Connection errors repeat on every reconnection attempt: logged once per outage.
  worker.on('error', (err) => health.suspect(err));
  // A worker that could not renew a job's lock (its event loop stalled, Redis was unreachable) may
  // already have lost the job to another worker's stalled check: abort its run (the fence would
  // refuse its commit anyway) so that the song is not run to its end for nothing.
  worker.on('lockRenewalFailed', (jobIds: string[]) => {
    for (const id of jobIds) {
      lostLock.add(id);
      if (worker.cancelJob(id, 'this worker lost the job lock')) log.warn(`Job ${id}: lock renewal failed; aborting this attempt`);
    }
  });
  const subscriber = redisConnection(options.url);
  subscriber.on('error', (err: Error) => health.suspect(err));
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
        health.stop();
        subscriber.disconnect();
        commands.disconnect();
        given.disconnect();
        await models.close();
      }
    },
  };
}
