import { monitorEventLoopDelay } from 'node:perf_hooks';

/** Generous bound on one event-loop stall during native work on a shared 2-core CI machine (GC included). */
export const MAX_EVENT_LOOP_GAP_MS = 250;

/**
 * Runs `work` while measuring the event loop: how often a 1 ms timer fired and the longest delay
 * (ms) the loop saw. A test asserts both, so "the loop stayed live" cannot pass on one lucky tick.
 */
export async function watchEventLoop<T>(work: () => Promise<T>): Promise<{ result: T; ticks: number; maxGapMs: number; elapsedMs: number }> {
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  histogram.enable();
  const started = performance.now();
  try {
    const result = await work();
    return { result, ticks, maxGapMs: histogram.max / 1e6, elapsedMs: performance.now() - started };
  } finally {
    histogram.disable();
    clearInterval(timer);
  }
}
