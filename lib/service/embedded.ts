/**
 * The embedded queue: jobs in memory (and in each job's `job.json`, so a restarted server picks up
 * where it stopped), songs run in worker processes — one song each, as many processes as the run
 * plan's songs — so the API's event loop stays free while every core is busy, and a crash costs one
 * attempt of one job. Retries with backoff only for retryable codes.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

import type { RunPlan } from '../pipeline/concurrency.js';
import { exponentialDelayMs } from '../pipeline/resilience.js';
import type { Logger, LogLevel } from '../util/logger.js';
import {
  DONE_PROGRESS,
  isRetryableJobCode,
  QUEUED_PROGRESS,
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
import type { JobStorage } from './storage.js';

export type ParentMessage =
  | { type: 'init'; dataDir: string; plan: RunPlan; logLevel: LogLevel | null }
  | { type: 'run'; spec: JobSpec }
  | { type: 'cancel'; id: string; reason: string }
  | { type: 'shutdown' };

export type ChildMessage =
  | { type: 'ready'; pid: number }
  | { type: 'progress'; id: string; progress: JobProgress }
  | { type: 'done'; id: string; outcome: JobOutcome }
  | { type: 'failed'; id: string; failure: JobFailure };

/** Options of EmbeddedQueue: storage, the run plan (worker processes = plan.jobs), retries (attempts, backoff in ms). */
export interface EmbeddedQueueOptions {
  storage: JobStorage;
  dataDir: string;
  /** Worker processes = plan.jobs; each runs one song with the plan's per-song threads. */
  plan: RunPlan;
  logger: Logger;
  /** Log level of the worker processes (null: silent). */
  workerLogLevel?: LogLevel | null;
  /** Attempts per job for retryable failures (default 3). */
  attempts?: number;
  /** First retry delay; doubles per attempt (default 2000 ms). */
  backoffMs?: number;
  /**
   * Finished jobs whose records stay in memory (default 10 000); older ones are read from their
   * `job.json` when asked for, so memory stays bounded however many jobs a server has run.
   */
  finishedInMemory?: number;
}

/** The compiled worker entry (tests that import the TypeScript sources still fork the built file). */
function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/service/processWorker.js', import.meta.url))
    : here.replace(/embedded\.js$/, 'processWorker.js');
  if (!existsSync(built)) throw new Error(`The worker entry ${built} is missing: build the TypeScript (npm run build:ts)`);
  return built;
}

/** Niceness of the worker processes relative to the API process (lower priority). */
const WORKER_NICENESS = 10;

class WorkerSlot {
  child: ChildProcess | null = null;
  jobId: string | null = null;
  ready = false;
  crashes = 0;
}

/** The in-process queue: jobs in memory and in `job.json`, songs in forked worker processes (`plan.jobs` of them). */
export class EmbeddedQueue implements JobQueue {
  readonly mode = 'embedded' as const;
  readonly #o: Required<Omit<EmbeddedQueueOptions, 'workerLogLevel'>> & { workerLogLevel: LogLevel | null };
  readonly #records = new Map<string, JobRecord>();
  readonly #pending: string[] = [];
  readonly #slots: WorkerSlot[];
  readonly #listeners = new JobListeners();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #cancelling = new Set<string>();
  readonly #writes = new Map<string, Promise<void>>();
  /** Finished jobs held in memory, oldest first, and how many finished jobs there are in all. */
  readonly #finishedOrder: string[] = [];
  readonly #finishedCounts = { completed: 0, failed: 0 };
  #closing = false;

  constructor(options: EmbeddedQueueOptions) {
    this.#o = { attempts: 3, backoffMs: 2000, workerLogLevel: null, finishedInMemory: 10_000, ...options };
    this.#slots = Array.from({ length: Math.max(1, options.plan.jobs) }, () => new WorkerSlot());
  }

  /** Loads the jobs of an earlier run (unfinished ones are queued again) and starts the workers. */
  async start(): Promise<void> {
    const finished: Array<[string, JobRecord]> = [];
    for (const id of await this.#o.storage.listJobIds()) {
      const record = await this.#o.storage.readRecord<JobRecord>(id);
      if (!record?.spec) continue;
      if (record.state === 'queued' || record.state === 'running') {
        record.state = 'queued';
        record.progress = QUEUED_PROGRESS;
        this.#pending.push(id);
        this.#records.set(id, record);
      } else {
        this.#finishedCounts[record.state]++;
        finished.push([id, record]);
      }
    }
    finished.sort((a, b) => (a[1].finishedAt ?? '').localeCompare(b[1].finishedAt ?? ''));
    for (const [id, record] of finished.slice(-this.#o.finishedInMemory)) {
      this.#records.set(id, record);
      this.#finishedOrder.push(id);
    }
    this.#pending.sort((a, b) => this.#records.get(a)!.spec.submittedAt.localeCompare(this.#records.get(b)!.spec.submittedAt));
    for (const slot of this.#slots) this.#spawn(slot);
  }

  #spawn(slot: WorkerSlot): void {
    const plan = this.#o.plan;
    // Each process runs one song: the plan's per-song share of the cores.
    const childPlan: RunPlan = { ...plan, jobs: 1, uvThreadpoolSize: Math.max(4, Math.max(plan.stemConcurrency, plan.songConcurrency) + 2) };
    const child = fork(workerEntry(), [], {
      env: { ...process.env, UV_THREADPOOL_SIZE: String(childPlan.uvThreadpoolSize) },
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    slot.child = child;
    slot.ready = false;
    // Songs yield the CPU to the API: with every core busy, requests are still answered at once.
    if (child.pid !== undefined) {
      try {
        setPriority(child.pid, WORKER_NICENESS);
      } catch {
        // Not permitted here: the workers run at the server's priority.
      }
    }
    child.on('message', (message: ChildMessage) => this.#onMessage(slot, message));
    child.on('exit', (code, signal) => this.#onExit(slot, child, code, signal));
    child.send({ type: 'init', dataDir: this.#o.dataDir, plan: childPlan, logLevel: this.#o.workerLogLevel } satisfies ParentMessage);
  }

  #onMessage(slot: WorkerSlot, message: ChildMessage): void {
    if (message.type === 'ready') {
      slot.ready = true;
      slot.crashes = 0;
      this.#dispatch();
      return;
    }
    const record = this.#records.get(message.id);
    if (!record) return;
    if (message.type === 'progress') {
      record.progress = message.progress;
      this.#notify(message.id, record);
      return;
    }
    slot.jobId = null;
    if (message.type === 'done') {
      void this.#finish(message.id, record, 'completed', { outcome: message.outcome });
    } else if (this.#closing && message.failure.code === 'DE_ABORTED' && !this.#cancelling.has(message.id)) {
      // Aborted by shutdown, not by a client: back to the queue for the next start.
      record.state = 'queued';
      record.progress = QUEUED_PROGRESS;
      void this.#persist(message.id, record);
    } else {
      this.#failOrRetry(message.id, record, message.failure);
    }
    this.#dispatch();
  }

  #onExit(slot: WorkerSlot, child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (slot.child !== child) return;
    slot.child = null;
    slot.ready = false;
    const jobId = slot.jobId;
    slot.jobId = null;
    if (this.#closing) return;
    this.#o.logger.warn(`Worker process ${child.pid} exited (${signal ?? `code ${code}`})${jobId ? ` while running job ${jobId}` : ''}`);
    if (jobId) {
      const record = this.#records.get(jobId);
      if (record) {
        const failure = { code: 'DE_WORKER_LOST', message: `the worker process died (${signal ?? `exit code ${code}`}) while running the song` };
        if (this.#cancelling.has(jobId)) this.#failOrRetry(jobId, record, { code: 'DE_ABORTED', message: 'cancelled' });
        else this.#failOrRetry(jobId, record, failure);
      }
    }
    // A process that keeps dying is restarted with a growing pause, not in a tight loop.
    slot.crashes++;
    this.#later(exponentialDelayMs(slot.crashes - 1, 250, 30_000), () => {
      if (!this.#closing) this.#spawn(slot);
    });
  }

  #failOrRetry(id: string, record: JobRecord, failure: JobFailure): void {
    this.#cancelling.delete(id);
    if (isRetryableJobCode(failure.code) && record.attempts < this.#o.attempts) {
      // BullMQ's `exponential` schedule in Redis mode: backoffMs, then doubling.
      const delay = exponentialDelayMs(record.attempts - 1, this.#o.backoffMs);
      this.#o.logger.warn(`Job ${id} attempt ${record.attempts} failed (${failure.code}: ${failure.message}); retrying in ${delay} ms`);
      record.state = 'queued';
      record.progress = QUEUED_PROGRESS;
      record.failure = failure;
      void this.#persist(id, record);
      this.#notify(id, record);
      this.#later(delay, () => {
        if (this.#records.get(id) === record && record.state === 'queued') {
          this.#pending.push(id);
          this.#dispatch();
        }
      });
      return;
    }
    void this.#finish(id, record, 'failed', { failure });
  }

  async #finish(id: string, record: JobRecord, state: 'completed' | 'failed', result: { outcome?: JobOutcome; failure?: JobFailure }): Promise<void> {
    const final: JobRecord = {
      ...record,
      state,
      finishedAt: new Date().toISOString(),
      progress: state === 'completed' ? DONE_PROGRESS : { ...record.progress, step: 'failed' },
      outcome: result.outcome,
      failure: result.failure,
    };
    // On disk first: a client that sees the job finished finds its job.json finished too.
    await this.#persist(id, record, final);
    Object.assign(record, final);
    this.#listeners.notify(toStatus(record), true);
    this.#finishedCounts[state]++;
    this.#finishedOrder.push(id);
    while (this.#finishedOrder.length > this.#o.finishedInMemory) {
      const old = this.#finishedOrder.shift()!;
      const oldRecord = this.#records.get(old);
      if (oldRecord && (oldRecord.state === 'completed' || oldRecord.state === 'failed')) this.#records.delete(old);
    }
  }

  #dispatch(): void {
    if (this.#closing) return;
    for (const slot of this.#slots) {
      if (!slot.ready || slot.jobId !== null || !slot.child) continue;
      const id = this.#pending.shift();
      if (id === undefined) return;
      const record = this.#records.get(id);
      if (record?.state !== 'queued') continue;
      slot.jobId = id;
      record.state = 'running';
      record.attempts++;
      record.startedAt = new Date().toISOString();
      record.progress = { step: 'starting', fraction: 0 };
      void this.#persist(id, record);
      this.#notify(id, record);
      slot.child.send({ type: 'run', spec: record.spec } satisfies ParentMessage);
    }
  }

  #later(ms: number, body: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      body();
    }, ms);
    this.#timers.add(timer);
  }

  /**
   * Writes the job's record as it is now (`content` overrides what is written). Writes of one job
   * are chained, so an earlier state never lands after a later one.
   */
  #persist(id: string, record: JobRecord, content: JobRecord = record): Promise<void> {
    if (this.#records.get(id) !== record) return Promise.resolve();
    const snapshot = structuredClone(content);
    const next = (this.#writes.get(id) ?? Promise.resolve())
      .then(() => this.#o.storage.writeRecord(id, snapshot))
      .catch((err: Error) => this.#o.logger.error(`Could not save the record of job ${id}: ${err.message}`));
    this.#writes.set(id, next);
    void next.finally(() => {
      if (this.#writes.get(id) === next) this.#writes.delete(id);
    });
    return next;
  }

  #notify(id: string, record: JobRecord): void {
    if (this.#listeners.watched(id)) this.#listeners.notify(this.#statusOf(record), false);
  }

  /**
   * The status document with the queue position of a queued job: its place among the jobs waiting
   * for a worker process (`positions` maps ids to places when many statuses are made at once).
   */
  #statusOf(record: JobRecord, positions?: Map<string, number>): JobStatus {
    const status = toStatus(record);
    if (record.state === 'queued') {
      const at = positions ? (positions.get(record.spec.id) ?? -1) : this.#pending.indexOf(record.spec.id);
      if (at >= 0) status.queue_position = at + 1;
    }
    return status;
  }

  async submit(spec: JobSpec): Promise<void> {
    const record: JobRecord = { spec, state: 'queued', progress: QUEUED_PROGRESS, attempts: 0 };
    this.#records.set(spec.id, record);
    await this.#persist(spec.id, record);
    this.#pending.push(spec.id);
    this.#notify(spec.id, record);
    this.#dispatch();
  }

  /** See JobQueue.status. */
  async status(id: string): Promise<JobStatus | null> {
    const record = this.#records.get(id) ?? (await this.#finishedOnDisk(id));
    return record ? this.#statusOf(record) : null;
  }

  /** See JobQueue.ownerOf: a map lookup, or the job.json of a finished job no longer in memory. */
  async ownerOf(id: string): Promise<string | undefined | null> {
    const record = this.#records.get(id) ?? (await this.#finishedOnDisk(id));
    return record ? record.spec.owner : null;
  }

  /** A finished job no longer held in memory. */
  async #finishedOnDisk(id: string): Promise<JobRecord | null> {
    const record = await this.#o.storage.readRecord<JobRecord>(id);
    return record?.spec && (record.state === 'completed' || record.state === 'failed') ? record : null;
  }

  /** See JobQueue.list: the records in memory, filtered by owner before the limit. */
  async list(limit: number, owner?: string): Promise<JobStatus[]> {
    const positions = new Map(this.#pending.map((id, i) => [id, i]));
    return [...this.#records.values()]
      .filter((r) => owner === undefined || r.spec.owner === owner)
      .sort((a, b) => b.spec.submittedAt.localeCompare(a.spec.submittedAt))
      .slice(0, limit)
      .map((r) => this.#statusOf(r, positions));
  }

  async cancel(id: string): Promise<CancelOutcome | null> {
    const record = this.#records.get(id) ?? (await this.#finishedOnDisk(id));
    if (!record) return null;
    if (record.state === 'running') {
      const slot = this.#slots.find((s) => s.jobId === id);
      this.#cancelling.add(id);
      slot?.child?.send({ type: 'cancel', id, reason: 'cancelled by the client' } satisfies ParentMessage);
      return 'aborting';
    }
    const wasQueued = record.state === 'queued';
    const at = this.#pending.indexOf(id);
    if (at >= 0) this.#pending.splice(at, 1);
    if (record.state === 'completed' || record.state === 'failed') {
      this.#finishedCounts[record.state]--;
      const i = this.#finishedOrder.indexOf(id);
      if (i >= 0) this.#finishedOrder.splice(i, 1);
    }
    this.#records.delete(id);
    await this.#o.storage.remove(id);
    return wasQueued ? 'removed' : 'deleted';
  }

  /** See JobQueue.counts. */
  async counts(): Promise<Record<JobState, number>> {
    const counts: Record<JobState, number> = { queued: 0, running: 0, ...this.#finishedCounts };
    for (const record of this.#records.values()) if (record.state === 'queued' || record.state === 'running') counts[record.state]++;
    return counts;
  }

  subscribe(id: string, listener: (status: JobStatus) => void): () => void {
    return this.#listeners.subscribe(id, listener);
  }

  /** See JobQueue.subscribeAll: every queued, started, progress, retry and end notice. */
  subscribeAll(listener: (status: JobStatus) => void): () => void {
    return this.#listeners.subscribeAll(listener);
  }

  onFinished(listener: (status: JobStatus) => void): void {
    this.#listeners.onFinished(listener);
  }

  /** Ready when at least one worker process is up. */
  async ready(): Promise<QueueReadiness> {
    const alive = this.#slots.filter((s) => s.ready).length;
    return { ok: alive > 0, details: `embedded queue: ${alive} of ${this.#slots.length} worker processes ready` };
  }

  async close(graceMs: number): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    const busy = () => this.#slots.some((s) => s.jobId !== null && s.child);
    const deadline = Date.now() + graceMs;
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    // Past the grace period: abort what still runs; its record goes back to queued (see #onMessage).
    for (const slot of this.#slots) {
      if (slot.jobId && slot.child) slot.child.send({ type: 'cancel', id: slot.jobId, reason: 'the service is stopping' } satisfies ParentMessage);
    }
    const abortDeadline = Date.now() + 10_000;
    while (busy() && Date.now() < abortDeadline) await new Promise((r) => setTimeout(r, 50));
    for (const slot of this.#slots) {
      const record = slot.jobId ? this.#records.get(slot.jobId) : undefined;
      if (record) {
        record.state = 'queued';
        await this.#persist(slot.jobId!, record);
      }
    }
    await Promise.all(
      this.#slots.map(
        (slot) =>
          new Promise<void>((resolve) => {
            const child = slot.child;
            if (!child || child.exitCode !== null) return resolve();
            const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
            child.once('exit', () => {
              clearTimeout(kill);
              resolve();
            });
            child.send({ type: 'shutdown' } satisfies ParentMessage);
          }),
      ),
    );
    // Every record written before the process may exit.
    await Promise.all(this.#writes.values());
  }
}
