/**
 * One concurrency budget for songs × stems × ONNX Runtime threads, so a batch never runs more
 * compute threads than the machine has cores:
 *
 *   jobs (songs at once) × stemConcurrency (stems at once per song) × ortIntraOpThreads ≤ cores
 *
 * Defaults: the songs asked for (`--jobs`, capped at the core count), then as many stems per song
 * as the remaining cores allow (at most 4, the most stems a model gives), then the remaining
 * factor as ONNX Runtime intra-op threads. Stem separation runs before a song's stems fan out, so
 * its session gets the song's whole share: stemConcurrency × ortIntraOpThreads threads. Explicit
 * values are honoured as given. A song's own independent steps (the preprocessed-audio write, the
 * rhythm network and the full mix's spectral analysis) overlap on the song's share of the cores:
 * songConcurrency = min(3, cores ÷ jobs), 1 (today's sequential order) on a single core or when
 * the songs at once fill the cores. Native DSP jobs run on the libuv pool, which is sized to
 * jobs × max(stems, songConcurrency) + 2 so that file I/O always has a thread.
 */
import { availableParallelism } from 'node:os';

import { InvalidArgumentError } from '../errors.js';
import { MAX_INTRA_OP_THREADS } from '../models/limits.js';

export interface ConcurrencyRequest {
  cores?: number;
  jobs?: number;
  stemConcurrency?: number;
  ortIntraOpThreads?: number;
  songConcurrency?: number;
}

/** The most independent steps of one song that run at once (write, rhythm, spectral analysis). */
export const MAX_SONG_CONCURRENCY = 3;

/**
 * The run's concurrency, planned once at the entry (CLI, batch, server) and passed down to every
 * song and model session; nothing below reads a global thread setting.
 */
export interface RunPlan {
  cores: number;
  jobs: number;
  stemConcurrency: number;
  ortIntraOpThreads: number;
  /** Intra-op threads of the separation session (it runs alone within its song). */
  separatorThreads: number;
  /**
   * Independent steps of one song run at once (the preprocessed-audio write, the rhythm network and
   * the full mix's spectral analysis); 1 runs the steps one after another in the original's order.
   */
  songConcurrency: number;
  /** Recommended UV_THREADPOOL_SIZE (it only takes effect when set before the pool starts). */
  uvThreadpoolSize: number;
}

/**
 * Plans a run's concurrency for this machine: songs, stems and ONNX Runtime threads with their product within the cores.
 * @throws InvalidArgumentError DE_INVALID_ARGUMENT for more ONNX Runtime threads than a session takes (MAX_INTRA_OP_THREADS).
 */
export function planConcurrency(request: ConcurrencyRequest = {}): RunPlan {
  if (request.ortIntraOpThreads !== undefined && !(request.ortIntraOpThreads <= MAX_INTRA_OP_THREADS)) {
    throw new InvalidArgumentError(`ortIntraOpThreads must be at most ${MAX_INTRA_OP_THREADS}, got ${request.ortIntraOpThreads}`);
  }
  const cores = Math.max(1, request.cores ?? availableParallelism());
  const jobs = Math.max(1, request.jobs ?? 1);
  const perSong = Math.max(1, Math.floor(cores / jobs));
  const stemConcurrency = Math.max(1, request.stemConcurrency ?? Math.min(4, perSong));
  const ortIntraOpThreads = Math.max(1, request.ortIntraOpThreads ?? Math.floor(cores / (jobs * stemConcurrency)));
  // A session takes at most MAX_INTRA_OP_THREADS: a product above it is capped, never refused mid-song.
  const separatorThreads = Math.min(MAX_INTRA_OP_THREADS, Math.max(1, stemConcurrency * ortIntraOpThreads));
  // The steps that overlap are single-threaded native calls, file writes and the rhythm network's
  // one intra-op thread: one core each, from the song's share (never more than the cores).
  const songConcurrency = Math.max(1, Math.floor(request.songConcurrency ?? Math.min(MAX_SONG_CONCURRENCY, perSong)));
  return {
    cores,
    jobs,
    stemConcurrency,
    ortIntraOpThreads,
    separatorThreads,
    songConcurrency,
    uvThreadpoolSize: Math.max(4, jobs * Math.max(stemConcurrency, songConcurrency) + 2),
  };
}

/**
 * Intra-op threads for a per-stem model (transcription) when only `stemCount` stems run in a song:
 * the idle stem slots' cores go to the model instead (e.g. a lone full_mix stem).
 */
export function transcriberThreads(plan: RunPlan, stemCount: number): number {
  const slots = Math.max(1, plan.stemConcurrency);
  const spare = Math.max(1, Math.floor(slots / Math.min(slots, Math.max(1, stemCount))));
  return Math.min(MAX_INTRA_OP_THREADS, plan.ortIntraOpThreads * spare);
}
