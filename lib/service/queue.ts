/**
 * What the HTTP API needs from a queue. Two implementations: `EmbeddedQueue` (in-process, songs in
 * worker processes; the default) and `RedisQueue` (BullMQ on Redis; `didactic-engine worker`
 * processes run the songs, on any number of machines).
 */
import type { JobSpec, JobState, JobStatus } from './jobs.js';

/** What `DELETE /v1/jobs/:id` did: removed a queued job, is aborting a running one, or deleted a finished one. */
export type CancelOutcome = 'removed' | 'aborting' | 'deleted';

/** Whether the queue can take and run jobs, and why not. */
export interface QueueReadiness {
  ok: boolean;
  details: string;
}

/** A job queue as the HTTP API uses it (embedded or Redis). */
export interface JobQueue {
  readonly mode: 'embedded' | 'redis';
  /** Queues a job whose folder the storage has claimed (so its id is new). */
  submit(spec: JobSpec): Promise<void>;
  /** The job's status document, or null when there is no such job. */
  status(id: string): Promise<JobStatus | null>;
  /**
   * The most recent jobs, newest first; with `owner`, only that client's jobs (`spec.owner ===
   * owner`), still `limit` of them (filtered before limiting). Embedded: a scan of the records in
   * memory. Redis: a per-owner sorted set, newest first, read in pages of `limit`
   * (O(log n + limit) per page), so an owner's list never loads other clients' jobs.
   */
  list(limit: number, owner?: string): Promise<JobStatus[]>;
  /**
   * Who submitted the job: its `spec.owner` (undefined when it was submitted without tokens), or
   * null when there is no such job. The cheapest check for the server's visibility rule (a job of
   * another client answers 404): embedded, a map lookup (the job.json only for finished jobs no
   * longer in memory); Redis, one HGET of the job's data (the job.json past retention) — cheaper
   * than `status`, which also reads the state, progress and result. Status documents carry the
   * owner too (`JobStatus.owner`), so a server that reads the status anyway needs no second call.
   */
  ownerOf(id: string): Promise<string | undefined | null>;
  /**
   * Queued: removed with its folder. Running: aborted through the pipeline's AbortSignal (nothing
   * is committed; the job ends failed with DE_ABORTED). Finished: its record and folder deleted.
   */
  cancel(id: string): Promise<CancelOutcome | null>;
  /** How many jobs are in each state. */
  counts(): Promise<Record<JobState, number>>;
  /** Calls `listener` with the job's status on every progress step and when it ends. */
  subscribe(id: string, listener: (status: JobStatus) => void): () => void;
  /**
   * Calls `listener` with every status change of every job (queued, started, progress, retried,
   * finished; a queued job's position moving up is no change of its own); the status carries
   * `owner` for filtering. Jobs removed by a cancel get no last status. Returns the unsubscribe.
   */
  subscribeAll(listener: (status: JobStatus) => void): () => void;
  /** Called once per finished job (for metrics). */
  onFinished(listener: (status: JobStatus) => void): void;
  /** Whether jobs can be queued and run now (for /readyz). */
  ready(): Promise<QueueReadiness>;
  /** Stops taking work; running jobs get `graceMs` to finish, then are handed back. */
  close(graceMs: number): Promise<void>;
}

/**
 * The listeners of a queue: per-job subscribers (event streams) and finished-job listeners
 * (metrics); both queues hold one of these.
 */
export class JobListeners {
  readonly #byJob = new Map<string, Set<(status: JobStatus) => void>>();
  readonly #finished: Array<(status: JobStatus) => void> = [];
  readonly #all = new Set<(status: JobStatus) => void>();

  /** See JobQueue.subscribe. */
  subscribe(id: string, listener: (status: JobStatus) => void): () => void {
    let set = this.#byJob.get(id);
    if (!set) this.#byJob.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byJob.delete(id);
    };
  }

  /** See JobQueue.subscribeAll. */
  subscribeAll(listener: (status: JobStatus) => void): () => void {
    this.#all.add(listener);
    return () => {
      this.#all.delete(listener);
    };
  }

  /** See JobQueue.onFinished. */
  onFinished(listener: (status: JobStatus) => void): void {
    this.#finished.push(listener);
  }

  /** Whether anyone follows this job (its own subscribers or those of every job). */
  watched(id: string): boolean {
    return this.#all.size > 0 || this.#byJob.has(id);
  }

  /** Tells the job's subscribers, those of every job and, when it ended, the finished listeners its new status. */
  notify(status: JobStatus, finished: boolean): void {
    for (const listener of this.#byJob.get(status.id) ?? []) listener(status);
    for (const listener of this.#all) listener(status);
    if (finished) for (const listener of this.#finished) listener(status);
  }
}
