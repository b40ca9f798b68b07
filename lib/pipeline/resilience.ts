/**
 * Retry with backoff, circuit breakers and timeouts, on cockatiel, with the Python original's
 * semantics and messages (see docs/compatibility.md for what differs). Unlike the original, the
 * breakers are not process-global: each pipeline run (or batch) owns its own set.
 */
import { createRequire } from 'node:module';

import type { ExponentialBackoff } from 'cockatiel';

// Required, not imported: cockatiel is CommonJS (29 files), and an ESM import of it first scans every
// file for its named exports; require() only compiles them (about 70 ms less CPU at every start).
const {
  BrokenCircuitError,
  circuitBreaker,
  CircuitState,
  ConsecutiveBreaker,
  ExponentialBackoff: Backoff,
  handleAll,
  handleWhen,
  noJitterGenerator,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
} = createRequire(import.meta.url)('cockatiel') as typeof import('cockatiel');

import { AbortError, CircuitOpenError, DidacticError, RetryExhaustedError, TimeoutError } from '../errors.js';

export interface RetryOptions {
  /** Retries after the first attempt (so up to maxRetries + 1 calls). */
  maxRetries?: number;
  /** Seconds. */
  baseDelay?: number;
  /** Seconds. */
  maxDelay?: number;
  exponentialBase?: number;
  /** Fraction of the delay added at random (0 = deterministic). */
  jitter?: number;
  /** Which errors are worth retrying; default: DidacticError.retryable, or any non-Didactic error. */
  retryable?: (err: unknown) => boolean;
  onRetry?: (attempt: number, err: unknown, delaySeconds: number) => void;
  /** For tests: replaces the random source of the jitter. */
  random?: () => number;
}

export const RETRY_DEFAULTS = { maxRetries: 3, baseDelay: 1.0, maxDelay: 60.0, exponentialBase: 2.0, jitter: 0.1 };

/** The original's compute_delay: min(base·exp^attempt, max) plus delay·jitter·U[0,1). Seconds. */
export function computeDelay(
  attempt: number,
  baseDelay = RETRY_DEFAULTS.baseDelay,
  maxDelay = RETRY_DEFAULTS.maxDelay,
  exponentialBase = RETRY_DEFAULTS.exponentialBase,
  jitter = RETRY_DEFAULTS.jitter,
  random: () => number = Math.random,
): number {
  const delay = Math.min(baseDelay * exponentialBase ** attempt, maxDelay);
  return jitter > 0 ? delay + delay * jitter * random() : delay;
}

function defaultRetryable(err: unknown): boolean {
  if (err instanceof AbortError) return false;
  if (err instanceof DidacticError) return err.retryable;
  return true;
}

/**
 * cockatiel's ExponentialBackoff with the original's delays (computeDelay, in ms). A generator of our
 * own because none of cockatiel's fits: its noJitterGenerator always doubles (it ignores `exponent`,
 * the original's exponential_base) and its jitters subtract from the delay, where the original adds
 * up to `jitter`·delay.
 */
function originalBackoff(o: Required<Omit<RetryOptions, 'retryable' | 'onRetry'>>): ExponentialBackoff<number> {
  return new Backoff<number>({
    initialDelay: o.baseDelay * 1000,
    maxDelay: o.maxDelay * 1000,
    exponent: o.exponentialBase,
    generator: (attempt = 0, { initialDelay, maxDelay, exponent }) => [
      computeDelay(attempt, initialDelay, maxDelay, exponent, o.jitter, o.random),
      attempt + 1,
    ],
  });
}

/**
 * The delay in ms before retry `n` (0 = the first) of a doubling backoff from `firstMs`, at most
 * `maxMs`: cockatiel's ExponentialBackoff without jitter (noJitterGenerator), `min(maxMs, firstMs·2^n)`.
 * The embedded queue's job retries use it, so they wait as BullMQ's built-in `exponential`
 * backoff makes Redis-mode retries wait (`firstMs·2^(attemptsMade-1)`).
 */
export function exponentialDelayMs(n: number, firstMs: number, maxMs = Number.POSITIVE_INFINITY): number {
  return noJitterGenerator(n, { generator: noJitterGenerator, initialDelay: firstMs, maxDelay: maxMs, exponent: 2 })[0];
}

/**
 * Runs `fn` with up to `maxRetries` retries. Non-retryable errors propagate at once, unwrapped; when
 * every attempt fails, RetryExhaustedError carries all attempt errors (the last as `cause`).
 */
export async function retryWithBackoff<T>(
  fn: (attempt: number, signal: AbortSignal) => Promise<T>,
  options: RetryOptions = {},
  signal?: AbortSignal,
): Promise<T> {
  const opts = {
    maxRetries: options.maxRetries ?? RETRY_DEFAULTS.maxRetries,
    baseDelay: options.baseDelay ?? RETRY_DEFAULTS.baseDelay,
    maxDelay: options.maxDelay ?? RETRY_DEFAULTS.maxDelay,
    exponentialBase: options.exponentialBase ?? RETRY_DEFAULTS.exponentialBase,
    jitter: options.jitter ?? RETRY_DEFAULTS.jitter,
    random: options.random ?? Math.random,
  };
  const isRetryable = options.retryable ?? defaultRetryable;
  const errors: unknown[] = [];
  const policy = retry(
    handleWhen((err) => isRetryable(err)),
    { maxAttempts: opts.maxRetries, backoff: originalBackoff(opts) },
  );
  policy.onRetry((event) => {
    if ('error' in event) options.onRetry?.(event.attempt - 1, event.error, event.delay / 1000);
  });
  let attempt = 0;
  try {
    return await policy.execute(async ({ signal: s }) => {
      try {
        return await fn(attempt++, s);
      } catch (err) {
        errors.push(err);
        throw err;
      }
    }, signal);
  } catch (err) {
    if (errors.length > opts.maxRetries && isRetryable(err)) {
      throw new RetryExhaustedError(`All ${errors.length} attempts failed. Last error: ${(err as Error).message}`, errors);
    }
    throw err;
  }
}

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** Seconds the circuit stays open before one trial call is let through. */
  recoveryTimeout: number;
}

/** The pipeline's breakers in the original: 3 consecutive failures, open for 120 s, 1 success closes. */
export const PIPELINE_BREAKER_DEFAULTS: BreakerOptions = { failureThreshold: 3, recoveryTimeout: 120 };

/** Per-run circuit breakers (the original's are process-global; see docs/compatibility.md). */
export interface PipelineBreakers {
  demucs: ServiceBreaker;
  basicPitch: ServiceBreaker;
}

/**
 * New circuit breakers for the Demucs and Basic Pitch steps (PIPELINE_BREAKER_DEFAULTS), to share
 * between runs: an AudioPipeline run makes its own unless given some, a batch one set for all its songs.
 */
export function createPipelineBreakers(): PipelineBreakers {
  return {
    demucs: new ServiceBreaker('demucs', PIPELINE_BREAKER_DEFAULTS),
    basicPitch: new ServiceBreaker('basic_pitch', PIPELINE_BREAKER_DEFAULTS),
  };
}

/**
 * A named circuit breaker (cockatiel ConsecutiveBreaker). While open, calls fail fast with
 * CircuitOpenError: `Circuit '<name>' is OPEN. Service unavailable. Retry in <s.s>s.`
 */
export class ServiceBreaker {
  readonly name: string;
  readonly #policy;
  readonly #recoveryMs: number;
  #openedAt = 0;

  constructor(name: string, options: BreakerOptions = PIPELINE_BREAKER_DEFAULTS) {
    this.name = name;
    this.#recoveryMs = options.recoveryTimeout * 1000;
    this.#policy = circuitBreaker(handleAll, {
      halfOpenAfter: this.#recoveryMs,
      breaker: new ConsecutiveBreaker(options.failureThreshold),
    });
    this.#policy.onBreak(() => {
      this.#openedAt = Date.now();
    });
  }

  get state(): BreakerState {
    switch (this.#policy.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.HalfOpen:
        return 'half_open';
      default:
        // cockatiel only moves to half-open on the next call; report what that call would see.
        return Date.now() - this.#openedAt >= this.#recoveryMs ? 'half_open' : 'open';
    }
  }

  /**
   * Runs `fn` through the breaker.
   * @throws CircuitOpenError DE_CIRCUIT_OPEN while the breaker is open; otherwise rethrows `fn`'s error.
   */
  async execute<T>(fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    try {
      return await this.#policy.execute(({ signal: s }) => fn(s), signal);
    } catch (err) {
      if (err instanceof BrokenCircuitError) {
        const remaining = Math.max(0, this.#recoveryMs - (Date.now() - this.#openedAt)) / 1000;
        throw new CircuitOpenError(`Circuit '${this.name}' is OPEN. Service unavailable. Retry in ${remaining.toFixed(1)}s.`, {
          details: { circuit: this.name, retryInSeconds: remaining },
        });
      }
      throw err;
    }
  }
}

/**
 * Runs `fn` with a cooperative timeout: the AbortSignal handed to `fn` fires after `seconds`
 * (native calls stop at their next cancellation point) and the call rejects with TimeoutError.
 * null or Infinity = no timeout.
 */
export async function withTimeout<T>(what: string, seconds: number | null, fn: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
  if (seconds === null || !Number.isFinite(seconds)) {
    return fn(signal ?? new AbortController().signal);
  }
  const policy = timeout(Math.max(0, seconds * 1000), { strategy: TimeoutStrategy.Aggressive, abortOnReturn: true });
  try {
    return await policy.execute(({ signal: s }) => fn(s), signal);
  } catch (err) {
    if (err instanceof TaskCancelledError && !signal?.aborted) {
      throw new TimeoutError(`${what} timed out after ${seconds}s`, { details: { seconds } });
    }
    if (err instanceof TaskCancelledError) throw new AbortError(`${what} was aborted`, { cause: signal?.reason });
    throw err;
  }
}
