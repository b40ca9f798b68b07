/**
 * The job model shared by the HTTP API, the embedded queue and the Redis workers: what a job is,
 * the states a client sees, the progress figure, and the codes that decide retries.
 */
import { DidacticError, ERROR_TABLE, type ErrorCodeFacts } from '../errors.js';
import type { ProgressEvent } from '../pipeline/context.js';
import { STEP_NAMES } from '../pipeline/run.js';

/** The states a client sees, in order. */
export const JOB_STATES = ['queued', 'running', 'completed', 'failed'] as const;
/** One of JOB_STATES. */
export type JobState = (typeof JOB_STATES)[number];

/** Client-chosen or generated job ids: one path component, safe in a URL and as a Redis key. */
export const JOB_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** What a worker needs to run one job; everything else derives from the data folder. */
export interface JobSpec {
  id: string;
  songId: string;
  /** The input file: a path inside the job's folder (uploads) or under the server's input root. */
  inputPath: string;
  /** Pipeline config overrides (snake_case or camelCase keys), already validated by the server. */
  config: Record<string, unknown>;
  submittedAt: string;
  /**
   * The client identity that submitted the job (the name of its token); absent when the server
   * has no tokens. The server shows a job only to its owner.
   */
  owner?: string;
}

/** How far a job is: the step running now and the fraction done (0 … 1). */
export interface JobProgress {
  /** The pipeline step running now (its original name), or the queue's word before and after. */
  step: string;
  /** 0 … 1 over the eleven steps; step 7 advances with the bars of each stem. */
  fraction: number;
  /** The worker running the job, `<host>:<pid>` (absent while queued). */
  worker?: string;
}

/** What a completed job yields: headline figures, degradation and the output files. */
export interface JobOutcome {
  /** Headline figures of the song (tempo, bars, notes per stem, timings). */
  summary: Record<string, unknown>;
  degraded: boolean;
  degradedReasons: string[];
  /** Output files relative to the job's output folder. */
  files: string[];
}

/** Why a job failed: a stable `DE_*` code and a message. */
export interface JobFailure {
  code: string;
  message: string;
}

/** The status document of `GET /v1/jobs/:id`. */
export interface JobStatus {
  id: string;
  song_id: string;
  state: JobState;
  progress: JobProgress;
  submitted_at: string;
  started_at?: string;
  finished_at?: string;
  /** Attempts started: a retry after a failure and a takeover after a killed worker each count. */
  attempts: number;
  /** Queued jobs waiting their turn: 1 = the next to run (absent while a retry waits out its backoff). */
  queue_position?: number;
  /**
   * Internal, not part of the API's schema (responses drop it): `spec.owner`, so that a server
   * can filter `JobQueue.subscribeAll` without a lookup per status.
   */
  owner?: string;
  result?: { summary: Record<string, unknown>; degraded: boolean; degraded_reasons: string[]; files: string[] };
  error?: JobFailure;
}

/**
 * Whether a failure with this `DE_*` code is worth another attempt on the same input: transient
 * resource or runtime trouble, or a worker that died under the job (ERROR_TABLE's `jobRetryable`).
 * Everything else (bad audio, bad config, unsafe paths, cancellation) fails at once with its code.
 */
export function isRetryableJobCode(code: string): boolean {
  return (ERROR_TABLE as Partial<Record<string, ErrorCodeFacts>>)[code]?.jobRetryable ?? false;
}

/** Any thrown value as `{ code, message }`; unknown errors become DE_INTERNAL. */
export function failureOf(err: unknown): JobFailure {
  if (err instanceof DidacticError) return { code: err.code, message: err.message };
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' && e.code.startsWith('DE_') ? e.code : 'DE_INTERNAL';
  return { code, message: typeof e?.message === 'string' ? e.message : String(err) };
}

/** `DE_X: message` — how a failure travels as one string (BullMQ's failedReason). */
export function encodeFailure(f: JobFailure): string {
  return `${f.code}: ${f.message}`;
}

export function decodeFailure(text: string | undefined): JobFailure {
  const match = /^(DE_[A-Z_]+): ([\s\S]*)$/.exec(text ?? '');
  return match ? { code: match[1]!, message: match[2]! } : { code: 'DE_INTERNAL', message: text ?? 'unknown failure' };
}

/** Turns the pipeline's progress events into one monotone `{ step, fraction }`. */
export class ProgressTracker {
  #index = 0;
  #step = 'queued';
  #fraction = 0;
  readonly #stemDone = new Map<string, number>();

  update(event: ProgressEvent): JobProgress {
    const total = STEP_NAMES.length;
    if (event.kind === 'step') {
      this.#index = event.index;
      this.#step = event.step;
      this.#stemDone.clear();
      this.#fraction = Math.max(this.#fraction, (event.index - 1) / total);
    } else if (event.total > 0) {
      this.#stemDone.set(event.stem, event.done / event.total);
      // Stems run concurrently: their mean completion moves step 7 along.
      let sum = 0;
      for (const v of this.#stemDone.values()) sum += v;
      const within = Math.min(1, sum / Math.max(1, this.#stemDone.size));
      this.#fraction = Math.max(this.#fraction, (this.#index - 1 + within) / total);
    }
    return this.current;
  }

  get current(): JobProgress {
    return { step: this.#step, fraction: Math.round(this.#fraction * 1000) / 1000 };
  }
}

/**
 * Progress worth sending on: the first report, then at most one every `intervalMs` (a short song
 * passes its eleven steps in a fraction of a second; each report is an IPC message or a Redis write).
 */
export function throttledProgress(send: (progress: JobProgress) => void, intervalMs = 250): (progress: JobProgress) => void {
  let lastAt = -Infinity;
  return (progress) => {
    const now = performance.now();
    if (now - lastAt < intervalMs) return;
    lastAt = now;
    send(progress);
  };
}

export const QUEUED_PROGRESS: JobProgress = { step: 'queued', fraction: 0 };
export const DONE_PROGRESS: JobProgress = { step: 'done', fraction: 1 };

/** A completed job's `result` in the status document (snake_case, as the API writes it). */
export function resultOf(o: JobOutcome): NonNullable<JobStatus['result']> {
  return { summary: o.summary, degraded: o.degraded, degraded_reasons: o.degradedReasons, files: o.files };
}

/** What `job.json` holds. */
export interface JobRecord {
  spec: JobSpec;
  state: JobState;
  progress: JobProgress;
  attempts: number;
  startedAt?: string;
  finishedAt?: string;
  outcome?: JobOutcome;
  failure?: JobFailure;
}

/** The status document of a record. */
export function toStatus(record: JobRecord): JobStatus {
  const status: JobStatus = {
    id: record.spec.id,
    song_id: record.spec.songId,
    state: record.state,
    progress: record.progress,
    submitted_at: record.spec.submittedAt,
    attempts: record.attempts,
  };
  if (record.spec.owner !== undefined) status.owner = record.spec.owner;
  if (record.startedAt) status.started_at = record.startedAt;
  if (record.finishedAt && (record.state === 'completed' || record.state === 'failed')) status.finished_at = record.finishedAt;
  if (record.state === 'completed' && record.outcome) status.result = resultOf(record.outcome);
  if (record.state === 'failed' && record.failure) status.error = record.failure;
  return status;
}
