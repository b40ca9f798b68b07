/**
 * One concurrency budget for songs × stems × ONNX Runtime threads, so a batch never runs more
 * compute threads than the machine has cores:
 *
 *   jobs (songs at once) × stemConcurrency (stems at once per song) × ortIntraOpThreads ≤ cores
 *
 * Defaults: the songs asked for (`--jobs`, capped at the core count), then as many stems per song
 * as the remaining cores allow (at most 4, the most stems a model gives), then the remaining
 * factor as ONNX Runtime intra-op threads. Explicit values are honoured as given. Native DSP jobs
 * run on the libuv pool, which is sized to jobs × stems + 2 so that file I/O always has a thread.
 */
import { availableParallelism } from 'node:os';

export interface ConcurrencyRequest {
  cores?: number;
  jobs?: number;
  stemConcurrency?: number;
  ortIntraOpThreads?: number;
}

export interface ConcurrencyPlan {
  cores: number;
  jobs: number;
  stemConcurrency: number;
  ortIntraOpThreads: number;
  /** Recommended UV_THREADPOOL_SIZE (it only takes effect when set before the pool starts). */
  uvThreadpoolSize: number;
}

export function planConcurrency(request: ConcurrencyRequest = {}): ConcurrencyPlan {
  const cores = Math.max(1, request.cores ?? availableParallelism());
  const jobs = Math.max(1, request.jobs ?? 1);
  const perSong = Math.max(1, Math.floor(cores / jobs));
  const stemConcurrency = Math.max(1, request.stemConcurrency ?? Math.min(4, perSong));
  const ortIntraOpThreads = Math.max(1, request.ortIntraOpThreads ?? Math.floor(cores / (jobs * stemConcurrency)));
  return { cores, jobs, stemConcurrency, ortIntraOpThreads, uvThreadpoolSize: Math.max(4, jobs * stemConcurrency + 2) };
}

let ortThreads: number | undefined;

/** The intra-op thread count model sessions are created with (set from the plan by the CLI or batch). */
export function setOrtIntraOpThreads(n: number): void {
  ortThreads = Math.max(1, Math.floor(n));
}

export function ortIntraOpThreads(): number {
  return ortThreads ?? planConcurrency().ortIntraOpThreads;
}
