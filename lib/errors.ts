/**
 * One error hierarchy with stable codes. Native failures arrive as plain Errors carrying `code`
 * and `op`; `fromNative` moves them onto the matching class with the caller's stack.
 */

/**
 * Codes the addon can raise: the same list as native/src/common/error.h (the native half of the one
 * error table; test/unit/error-codes.test.ts fails on any difference).
 */
export const NATIVE_ERROR_CODES = [
  'DE_INVALID_ARGUMENT',
  'DE_FILE_NOT_FOUND',
  'DE_PERMISSION_DENIED',
  'DE_IS_DIRECTORY',
  'DE_EMPTY_FILE',
  'DE_UNSUPPORTED_FORMAT',
  'DE_CORRUPT_AUDIO',
  'DE_NON_FINITE_SAMPLES',
  'DE_WRITE_FAILED',
  'DE_RESAMPLE_FAILED',
  'DE_NATIVE_RUNTIME_MISSING',
  'DE_NATIVE_RUNTIME_TOO_OLD',
  'DE_MODEL_INVALID',
  'DE_MODEL_NOT_FOUND',
  'DE_INFERENCE_FAILED',
  'DE_ABORTED',
  'DE_OUT_OF_MEMORY',
  'DE_RESOURCE_LIMIT',
  'DE_CLOSED',
  'DE_NATIVE_UNKNOWN',
] as const;

/** Codes raised only by the TypeScript layers. */
export const TS_ERROR_CODES = [
  'DE_INVALID_CONFIG',
  'DE_ADDON_LOAD_FAILED',
  'DE_TIMEOUT',
  'DE_CIRCUIT_OPEN',
  'DE_RETRY_EXHAUSTED',
  'DE_UNSAFE_PATH',
  'DE_INTERNAL',
  'DE_LOCKED',
  'DE_DEGRADED',
  'DE_DISK_FULL',
  // The service (lib/service): HTTP-facing conditions, each with its status code there.
  'DE_UPLOAD_TOO_LARGE',
  'DE_JOB_NOT_FOUND',
  'DE_UNAUTHORIZED',
  'DE_RATE_LIMITED',
  'DE_QUEUE_FULL',
  'DE_WORKER_LOST',
  'DE_UNAVAILABLE',
  'DE_NO_BROWSER',
  'DE_RANGE_NOT_SATISFIABLE',
] as const;

/** Every stable error code (`DE_*`) the package raises: the native ones and the TypeScript-only ones. */
export type ErrorCode = (typeof NATIVE_ERROR_CODES)[number] | (typeof TS_ERROR_CODES)[number];

/** Optional parts of a DidacticError: the `cause`, structured `details` and the operation (`op`) that failed. */
export interface DidacticErrorOptions {
  cause?: unknown;
  details?: Record<string, unknown>;
  op?: string;
}

/**
 * Base class of every error the package throws: a stable `code` (`DE_*`), whether a retry may help
 * (`retryable`), the failed operation (`op`) and structured `details`. Match on `code`, never on messages.
 */
export class DidacticError extends Error {
  readonly code: ErrorCode;
  /** Whether retrying the same call may succeed (read by the retry/circuit logic; never parse messages). */
  readonly retryable: boolean;
  readonly op: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: DidacticErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = RETRYABLE.has(code);
    this.op = options.op;
    this.details = options.details;
  }
}

/** A wrong argument, caught before or at the native boundary. */
export class InvalidArgumentError extends DidacticError {
  constructor(message: string, options: DidacticErrorOptions = {}) {
    super('DE_INVALID_ARGUMENT', message, options);
  }
}

/** Configuration that fails validation; `issues` holds zod's issue list. */
export class ConfigError extends DidacticError {
  readonly issues: readonly unknown[];
  constructor(message: string, issues: readonly unknown[] = [], options: DidacticErrorOptions = {}) {
    super('DE_INVALID_CONFIG', message, options);
    this.issues = issues;
  }
}

/** Input files that cannot be read or decoded. */
export class DecodeError extends DidacticError {}
/** Output that could not be written. */
export class WriteError extends DidacticError {}
/** Kept for dataset writers: same code as WriteError. */
export class DatasetWriteError extends WriteError {
  constructor(message: string, options: DidacticErrorOptions = {}) {
    super('DE_WRITE_FAILED', message, options);
  }
}
/** The native addon or the ONNX runtime is missing, too old or failed. */
export class NativeError extends DidacticError {}
/** A model file that is missing, corrupt, of the wrong signature, an inference failure, or a call on a closed model. */
export class ModelError extends DidacticError {}

/** The operation was cancelled through its AbortSignal (code DE_ABORTED); nothing half-written is left behind. */
export class AbortError extends DidacticError {
  constructor(message = 'The operation was aborted', options: DidacticErrorOptions = {}) {
    super('DE_ABORTED', message, options);
    this.name = 'AbortError';
  }
}

/** A model step ran past its time limit (code DE_TIMEOUT; `details.seconds` holds the limit in seconds). Retryable. */
export class TimeoutError extends DidacticError {
  constructor(message: string, options: DidacticErrorOptions = {}) {
    super('DE_TIMEOUT', message, options);
  }
}

/** A circuit breaker is open after repeated failures and refuses calls until it recovers (code DE_CIRCUIT_OPEN). */
export class CircuitOpenError extends DidacticError {
  constructor(message: string, options: DidacticErrorOptions = {}) {
    super('DE_CIRCUIT_OPEN', message, options);
  }
}

/** Every attempt of a retried call failed (code DE_RETRY_EXHAUSTED); `errors` holds each attempt's error, the last one is `cause`. */
export class RetryExhaustedError extends DidacticError {
  readonly errors: readonly unknown[];
  constructor(message: string, errors: readonly unknown[], options: DidacticErrorOptions = {}) {
    super('DE_RETRY_EXHAUSTED', message, { ...options, cause: errors[errors.length - 1] });
    this.errors = errors;
  }
}

const RETRYABLE = new Set<ErrorCode>(['DE_TIMEOUT', 'DE_INFERENCE_FAILED', 'DE_WRITE_FAILED', 'DE_OUT_OF_MEMORY']);

const FILE_CODES = new Set(['DE_FILE_NOT_FOUND', 'DE_PERMISSION_DENIED', 'DE_IS_DIRECTORY', 'DE_NON_FINITE_SAMPLES']);

type ErrorClass = new (code: ErrorCode, message: string, options?: DidacticErrorOptions) => DidacticError;

/** One code table: which class each native code becomes. */
const CLASS_BY_CODE: Record<string, ErrorClass> = {
  DE_FILE_NOT_FOUND: DecodeError,
  DE_PERMISSION_DENIED: DecodeError,
  DE_IS_DIRECTORY: DecodeError,
  DE_EMPTY_FILE: DecodeError,
  DE_UNSUPPORTED_FORMAT: DecodeError,
  DE_CORRUPT_AUDIO: DecodeError,
  DE_NON_FINITE_SAMPLES: DecodeError,
  DE_WRITE_FAILED: WriteError,
  DE_RESAMPLE_FAILED: NativeError,
  DE_NATIVE_RUNTIME_MISSING: NativeError,
  DE_NATIVE_RUNTIME_TOO_OLD: NativeError,
  DE_MODEL_INVALID: ModelError,
  DE_MODEL_NOT_FOUND: ModelError,
  DE_INFERENCE_FAILED: ModelError,
  DE_CLOSED: ModelError,
  DE_OUT_OF_MEMORY: NativeError,
  /** An input-sized allocation over the ceiling (env DIDACTIC_MAX_BYTES, default 4 GiB); also a song whose planned memory exceeds memory_budget_mb (lib/pipeline/memory.ts). */
  DE_RESOURCE_LIMIT: NativeError,
};

function isNativeErrorLike(err: unknown): err is Error & { code?: unknown; op?: unknown } {
  return err instanceof Error;
}

/**
 * Maps an error thrown or rejected by the addon onto the package's classes, keeping the stack of
 * `context` (an Error created by the public function before it crossed the boundary).
 */
export function fromNative(err: unknown, context?: Error, opOverride?: string): DidacticError {
  if (err instanceof DidacticError) return err;
  if (!isNativeErrorLike(err)) {
    return new DidacticError('DE_NATIVE_UNKNOWN', String(err), { op: opOverride });
  }
  const code = typeof err.code === 'string' ? err.code : 'DE_NATIVE_UNKNOWN';
  const op = opOverride ?? (typeof err.op === 'string' ? err.op : undefined);
  let result: DidacticError;
  if (code === 'DE_ABORTED') result = new AbortError(err.message, { op, cause: err });
  else if (code === 'DE_INVALID_ARGUMENT') result = new InvalidArgumentError(err.message, { op, cause: err });
  else {
    // File-system codes describe the input when decoding and the output when writing.
    const writing = op !== undefined && /^write/i.test(op) && FILE_CODES.has(code);
    const Cls = writing ? WriteError : (CLASS_BY_CODE[code] ?? DidacticError);
    const known = Cls !== DidacticError || code === 'DE_NATIVE_UNKNOWN';
    result = new Cls(known ? (code as ErrorCode) : 'DE_NATIVE_UNKNOWN', err.message, { op, cause: err });
  }
  if (context?.stack) {
    // Keep our message and the caller's frames: the native frames say nothing useful.
    const callerFrames = context.stack.split('\n').slice(1).join('\n');
    result.stack = `${result.name}: ${result.message}\n${callerFrames}`;
  }
  return result;
}

/** Turns an AbortSignal's state into the package's AbortError. */
export function abortErrorFrom(signal: AbortSignal): AbortError {
  const reason: unknown = signal.reason;
  const message = reason instanceof Error ? reason.message : 'The operation was aborted';
  return new AbortError(message, { cause: reason });
}
