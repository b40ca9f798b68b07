/**
 * What the HTTP API needs from a queue. Two implementations: `EmbeddedQueue` (in-process, songs in
 * worker processes; the default) and `RedisQueue` (BullMQ on Redis; `didactic-engine worker`
 * processes run the songs, on any number of machines).
 */
import type { JobSpec, JobState, JobStatus } from './jobs.js';

export type CancelOutcome = 'removed' | 'aborting' | 'deleted';

export interface QueueReadiness {
  ok: boolean;
  details: string;
}

export interface JobQueue {
  readonly mode: 'embedded' | 'redis';
  /** Queues a job whose folder the storage has claimed (so its id is new). */
  submit(spec: JobSpec): Promise<void>;
  status(id: string): Promise<JobStatus | null>;
  /** The most recent jobs, newest first. */
  list(limit: number): Promise<JobStatus[]>;
  /**
   * Queued: removed with its folder. Running: aborted through the pipeline's AbortSignal (nothing
   * is committed; the job ends failed with DE_ABORTED). Finished: its record and folder deleted.
   */
  cancel(id: string): Promise<CancelOutcome | null>;
  counts(): Promise<Record<JobState, number>>;
  /** Calls `listener` with the job's status on every progress step and when it ends. */
  subscribe(id: string, listener: (status: JobStatus) => void): () => void;
  /** Called once per finished job (for metrics). */
  onFinished(listener: (status: JobStatus) => void): void;
  ready(): Promise<QueueReadiness>;
  /** Stops taking work; running jobs get `graceMs` to finish, then are handed back. */
  close(graceMs: number): Promise<void>;
}
