// The backoff schedules on cockatiel: the retry keeps the original's compute_delay, and the
// embedded queue's delays are the ones its former formulas gave (and BullMQ's, for job retries).
import { Backoffs } from 'bullmq';
import { describe, expect, it } from 'vitest';

import { computeDelay, exponentialDelayMs, retryWithBackoff } from '../../lib/pipeline/resilience.js';

describe('exponentialDelayMs', () => {
  it('job retries wait backoffMs·2^(attempt-1), as BullMQ’s built-in exponential backoff does in Redis mode', () => {
    for (const backoffMs of [1, 250, 2000]) {
      for (let attempt = 1; attempt <= 12; attempt++) {
        const delay = exponentialDelayMs(attempt - 1, backoffMs);
        expect(delay).toBe(backoffMs * 2 ** (attempt - 1));
        expect(delay).toBe(Backoffs.calculate({ type: 'exponential', delay: backoffMs }, attempt, new Error('x'), undefined as never));
      }
    }
  });

  it('a worker process that keeps dying is restarted after 250 ms, doubling, at most 30 s', () => {
    const delays = Array.from({ length: 40 }, (_, i) => exponentialDelayMs(i, 250, 30_000));
    expect(delays.slice(0, 9)).toEqual([250, 500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000]);
    expect(delays).toEqual(delays.map((_, i) => Math.min(30_000, 250 * 2 ** Math.min(i, 7))));
    expect(exponentialDelayMs(5000, 250, 30_000)).toBe(30_000);
  });
});

describe('retryWithBackoff waits computeDelay', () => {
  const failTimes = (n: number) => {
    let calls = 0;
    return async () => {
      if (++calls <= n) throw new Error(`fail ${calls}`);
      return calls;
    };
  };

  it('honours exponentialBase and the cap, without jitter', async () => {
    const waits: number[] = [];
    await retryWithBackoff(failTimes(4), {
      maxRetries: 4,
      baseDelay: 0.001,
      exponentialBase: 3,
      maxDelay: 0.02,
      jitter: 0,
      onRetry: (_a, _e, s) => waits.push(s),
    });
    expect(waits).toHaveLength(4);
    const expected = [0, 1, 2, 3].map((a) => computeDelay(a, 0.001, 0.02, 3, 0));
    for (const [i, w] of waits.entries()) expect(w).toBeCloseTo(expected[i]!, 12);
    expect(expected.map((e) => Math.round(e * 1e6))).toEqual([1000, 3000, 9000, 20_000]);
  });

  it('adds the original’s jitter (delay·jitter·U) from the given random source', async () => {
    const waits: number[] = [];
    await retryWithBackoff(failTimes(2), { maxRetries: 2, baseDelay: 0.001, jitter: 0.5, random: () => 0.5, onRetry: (_a, _e, s) => waits.push(s) });
    expect(waits[0]).toBeCloseTo(0.001 * 1.25, 12);
    expect(waits[1]).toBeCloseTo(0.002 * 1.25, 12);
  });
});
