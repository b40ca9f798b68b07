import { describe, expect, it } from 'vitest';

import { CircuitOpenError, DidacticError, RetryExhaustedError, TimeoutError } from '../../lib/errors.js';
import { computeDelay, retryWithBackoff, ServiceBreaker, withTimeout } from '../../lib/pipeline/resilience.js';

describe('computeDelay (the original compute_delay)', () => {
  it('doubles from the base and caps at the maximum, without jitter', () => {
    expect(computeDelay(0, 1, 60, 2, 0)).toBe(1);
    expect([0, 1, 2].map((a) => computeDelay(a, 1, 60, 2, 0))).toEqual([1, 2, 4]);
    expect(computeDelay(10, 1, 5, 2, 0)).toBe(5);
  });
  it('adds up to delay*jitter at random', () => {
    const samples = Array.from({ length: 10 }, () => computeDelay(1, 1, 60, 2, 0.5));
    expect(new Set(samples).size).toBeGreaterThan(1);
    for (const s of samples) {
      expect(s).toBeGreaterThanOrEqual(2);
      expect(s).toBeLessThan(3);
    }
  });
});

describe('retryWithBackoff', () => {
  const fast = { baseDelay: 0.001, jitter: 0 };
  it('calls once on success', async () => {
    let calls = 0;
    await expect(retryWithBackoff(async () => ++calls, fast)).resolves.toBe(1);
    expect(calls).toBe(1);
  });
  it('retries failures and returns the eventual value', async () => {
    let calls = 0;
    const retries: number[] = [];
    const value = await retryWithBackoff(
      async () => {
        if (++calls < 3) throw new Error(`boom ${calls}`);
        return 'ok';
      },
      { ...fast, maxRetries: 3, onRetry: (attempt) => retries.push(attempt) },
    );
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(retries).toEqual([0, 1]);
  });
  it('gives up after maxRetries + 1 attempts with every error attached', async () => {
    let calls = 0;
    const err = await retryWithBackoff(
      async () => {
        throw new Error(`fail ${++calls}`);
      },
      { ...fast, maxRetries: 2 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryExhaustedError);
    expect((err as RetryExhaustedError).errors).toHaveLength(3);
    expect(((err as RetryExhaustedError).cause as Error).message).toBe('fail 3');
  });
  it('does not retry errors that are not retryable', async () => {
    let calls = 0;
    const notRetryable = new DidacticError('DE_CORRUPT_AUDIO', 'corrupt');
    await expect(
      retryWithBackoff(async () => {
        calls++;
        throw notRetryable;
      }, fast),
    ).rejects.toBe(notRetryable);
    expect(calls).toBe(1);
  });
});

describe('ServiceBreaker', () => {
  const fail = async (): Promise<never> => {
    throw new Error('down');
  };
  it('opens after the threshold of consecutive failures and then fails fast with the original message', async () => {
    const breaker = new ServiceBreaker('basic_pitch', { failureThreshold: 3, recoveryTimeout: 120 });
    expect(breaker.state).toBe('closed');
    for (let i = 0; i < 3; i++) await expect(breaker.execute(fail)).rejects.toThrow('down');
    expect(breaker.state).toBe('open');
    let ran = false;
    const err = await breaker
      .execute(async () => {
        ran = true;
      })
      .catch((e: unknown) => e);
    expect(ran).toBe(false);
    expect(err).toBeInstanceOf(CircuitOpenError);
    expect((err as Error).message).toMatch(/^Circuit 'basic_pitch' is OPEN\. Service unavailable\. Retry in 1[12]\d\.\ds\.$/);
  });
  it('a success in between resets the failure count', async () => {
    const breaker = new ServiceBreaker('demucs', { failureThreshold: 3, recoveryTimeout: 120 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    await breaker.execute(async () => 1);
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe('closed');
  });
  it('lets a trial call through after the recovery time and closes on success', async () => {
    const breaker = new ServiceBreaker('x', { failureThreshold: 1, recoveryTimeout: 0.01 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe('open');
    await new Promise((r) => setTimeout(r, 25));
    expect(breaker.state).toBe('half_open');
    await expect(breaker.execute(async () => 'ok')).resolves.toBe('ok');
    expect(breaker.state).toBe('closed');
  });
});

describe('withTimeout', () => {
  it('rejects with TimeoutError and aborts the signal handed to the work', async () => {
    let aborted = false;
    const err = await withTimeout('Basic Pitch', 0.02, (signal) => {
      signal.addEventListener('abort', () => (aborted = true));
      return new Promise((r) => setTimeout(r, 200));
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toBe('Basic Pitch timed out after 0.02s');
    expect(aborted).toBe(true);
  });
  it('null means no timeout', async () => {
    await expect(withTimeout('x', null, async () => 5)).resolves.toBe(5);
  });
});
