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
  /** The most recent jobs, newest first. */
  list(limit: number): Promise<JobStatus[]>;
  /**
   * Queued: removed with its folder. Running: aborted through the pipeline's AbortSignal (nothing
   * is committed; the job ends failed with DE_ABORTED). Finished: its record and folder deleted.
   */
  cancel(id: string): Promise<CancelOutcome | null>;
  /** How many jobs are in each state. */
  counts(): Promise<Record<JobState, number>>;
  /** Calls `listener` with the job's status on every progress step and when it ends. */
  subscribe(id: string, listener: (status: JobStatus) => void): () => void;
  /** Called once per finished job (for metrics). */
  onFinished(listener: (status: JobStatus) => void): void;
  /** Whether jobs can be queued and run now (for /readyz). */
  ready(): Promise<QueueReadiness>;
  /** Stops taking work; running jobs get `graceMs` to finish, then are handed back. */
  close(graceMs: number): Promise<void>;
}
