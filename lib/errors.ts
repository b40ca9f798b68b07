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
  'DE_DISK_FULL',
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
  'DE_OPTIONAL_DEPENDENCY_MISSING',
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
    this.retryable = ERROR_TABLE[code]?.retryable ?? false;
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

const FILE_CODES = new Set(['DE_FILE_NOT_FOUND', 'DE_PERMISSION_DENIED', 'DE_IS_DIRECTORY', 'DE_NON_FINITE_SAMPLES', 'DE_DISK_FULL']);

type ErrorClass = new (code: ErrorCode, message: string, options?: DidacticErrorOptions) => DidacticError;

/** What the package states about one error code: one row of {@link ERROR_TABLE}. */
export interface ErrorCodeFacts {
  /** The class an error with this code is raised as (by `fromNative` for the native codes). */
  readonly class: abstract new (
    ...args: never[]
  ) => DidacticError;
  /** Whether repeating the same call may succeed (`DidacticError.retryable`; read by the retry and circuit logic). */
  readonly retryable: boolean;
  /** Whether the service runs a job that failed with this code again, on the same input (its attempts permitting). */
  readonly jobRetryable: boolean;
  /** The HTTP status the service answers with; absent: 500. */
  readonly status?: number;
  /** What the code means, in one line. */
  readonly meaning: string;
}

function facts(cls: ErrorCodeFacts['class'], meaning: string, more: { retryable?: boolean; jobRetryable?: boolean; status?: number } = {}): ErrorCodeFacts {
  return {
    class: cls,
    retryable: more.retryable ?? false,
    jobRetryable: more.jobRetryable ?? false,
    ...(more.status !== undefined ? { status: more.status } : {}),
    meaning,
  };
}

/**
 * The one error table: for each code, its class, whether a call or a service job is retried, its
 * HTTP status and what it means. docs/errors.md is generated from it (`npm run docs:errors`).
 */
export const ERROR_TABLE: { readonly [C in ErrorCode]: ErrorCodeFacts } = {
  DE_INVALID_ARGUMENT: facts(InvalidArgumentError, 'An argument of the wrong type or out of range.', { status: 400 }),
  DE_FILE_NOT_FOUND: facts(DecodeError, 'The file, or the folder it should be written in, does not exist (ENOENT, ENOTDIR).', { status: 404 }),
  DE_PERMISSION_DENIED: facts(DecodeError, 'The file or folder may not be read or written: no permission or a read-only file system (EACCES, EPERM, EROFS).'),
  DE_IS_DIRECTORY: facts(DecodeError, 'A folder where a file was expected (EISDIR).', { status: 404 }),
  DE_EMPTY_FILE: facts(DecodeError, 'The input has 0 bytes.'),
  DE_UNSUPPORTED_FORMAT: facts(DecodeError, 'The input is no audio format the package reads, or its sample rate is outside 1 kHz to 768 kHz.', { status: 415 }),
  DE_CORRUPT_AUDIO: facts(DecodeError, 'The audio data is damaged or cut short (with `strict`).'),
  DE_NON_FINITE_SAMPLES: facts(DecodeError, 'The samples hold NaN or an infinity.'),
  DE_WRITE_FAILED: facts(WriteError, 'Writing an output failed for a reason that may pass (an I/O error).', { retryable: true, jobRetryable: true }),
  DE_RESAMPLE_FAILED: facts(NativeError, 'The resampler failed.'),
  DE_NATIVE_RUNTIME_MISSING: facts(NativeError, 'ONNX Runtime could not be found or loaded.'),
  DE_NATIVE_RUNTIME_TOO_OLD: facts(NativeError, 'The ONNX Runtime found is older than the package needs.'),
  DE_MODEL_INVALID: facts(ModelError, 'The model file is damaged or does not have the inputs and outputs this model needs.'),
  DE_MODEL_NOT_FOUND: facts(ModelError, 'The model file does not exist.'),
  DE_INFERENCE_FAILED: facts(ModelError, 'ONNX Runtime failed while running the model.', { retryable: true, jobRetryable: true }),
  DE_ABORTED: facts(AbortError, 'Cancelled through its AbortSignal; nothing half-written is left.'),
  DE_OUT_OF_MEMORY: facts(NativeError, 'An allocation failed.', { retryable: true, jobRetryable: true }),
  DE_RESOURCE_LIMIT: facts(
    NativeError,
    'An allocation sized by the input is over the ceiling (DIDACTIC_MAX_BYTES, default 4 GiB), or a song whose planned memory exceeds memory_budget_mb.',
  ),
  DE_CLOSED: facts(ModelError, 'A call on a model after its close().'),
  DE_NATIVE_UNKNOWN: facts(DidacticError, 'A native failure without a code (a bug: please report it).'),
  DE_DISK_FULL: facts(WriteError, 'The disk or the quota is full (ENOSPC, EDQUOT).', { jobRetryable: true }),
  DE_INVALID_CONFIG: facts(ConfigError, 'The configuration fails validation; `issues` lists where.', { status: 400 }),
  DE_ADDON_LOAD_FAILED: facts(DidacticError, 'The native addon could not be loaded; the message says what to install or rebuild.'),
  DE_TIMEOUT: facts(TimeoutError, 'A model step ran past its time limit.', { retryable: true, jobRetryable: true }),
  DE_CIRCUIT_OPEN: facts(CircuitOpenError, 'A circuit breaker is open after repeated failures and refuses calls until it recovers.'),
  DE_RETRY_EXHAUSTED: facts(RetryExhaustedError, 'Every attempt of a retried call failed; `errors` holds each one.'),
  DE_UNSAFE_PATH: facts(DidacticError, 'A path leads outside the folder it must stay in.', { status: 403 }),
  DE_INTERNAL: facts(DidacticError, 'A failure the package did not expect (a bug: please report it).', { jobRetryable: true }),
  DE_LOCKED: facts(DidacticError, 'Another run holds the song lock.', { jobRetryable: true }),
  DE_DEGRADED: facts(DidacticError, 'The song ran degraded (a fallback was used) and strict mode was on.'),
  DE_UPLOAD_TOO_LARGE: facts(DidacticError, 'The upload is larger than the server accepts (--max-upload-mb).', { status: 413 }),
  DE_JOB_NOT_FOUND: facts(DidacticError, 'No job with that id (for this client).', { status: 404 }),
  DE_UNAUTHORIZED: facts(DidacticError, 'The request has no valid token.', { status: 401 }),
  DE_RATE_LIMITED: facts(DidacticError, 'Too many requests from this client; retry after `Retry-After`.', { status: 429 }),
  DE_QUEUE_FULL: facts(DidacticError, 'The job queue is at its limit (--max-queue); retry after `Retry-After`.', { status: 429 }),
  DE_WORKER_LOST: facts(DidacticError, 'The worker process died while running the job.', { jobRetryable: true }),
  DE_UNAVAILABLE: facts(DidacticError, 'The queue (Redis) is unavailable; retry later.', { status: 503 }),
  DE_NO_BROWSER: facts(DidacticError, 'Chromium, needed for PNG reports, is missing or did not start.'),
  DE_RANGE_NOT_SATISFIABLE: facts(DidacticError, 'The requested byte range is outside the file.', { status: 416 }),
  DE_OPTIONAL_DEPENDENCY_MISSING: facts(
    DidacticError,
    'An optional feature (the service, PNG reports) needs npm packages that are not installed; the message names the `npm install` command.',
  ),
};

/**
 * The one mapping of OS failures (Node's `err.code`, errno names) to codes: the same table as
 * `kErrnoCodes` in native/src/common/error.h (test/unit/error-codes.test.ts holds them equal).
 */
export const ERRNO_CODES: Readonly<Record<string, ErrorCode>> = {
  ENOENT: 'DE_FILE_NOT_FOUND',
  ENOTDIR: 'DE_FILE_NOT_FOUND',
  EACCES: 'DE_PERMISSION_DENIED',
  EPERM: 'DE_PERMISSION_DENIED',
  EROFS: 'DE_PERMISSION_DENIED',
  EISDIR: 'DE_IS_DIRECTORY',
  ENOSPC: 'DE_DISK_FULL',
  EDQUOT: 'DE_DISK_FULL',
};

/** The code of an OS error name (`err.code` of a Node fs error), or `fallback` when the table has none. */
export function codeOfErrno(errno: unknown, fallback: ErrorCode): ErrorCode {
  return (typeof errno === 'string' ? ERRNO_CODES[errno] : undefined) ?? fallback;
}

const NATIVE_CODES = new Set<string>(NATIVE_ERROR_CODES);

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
    const known = NATIVE_CODES.has(code);
    // Every native code but DE_ABORTED and DE_INVALID_ARGUMENT (above) has a (code, message, options) class.
    const Cls = writing ? WriteError : known ? (ERROR_TABLE[code as ErrorCode].class as ErrorClass) : DidacticError;
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

/** docs/errors.md: the code table and the errno table as Markdown (written by `npm run docs:errors`, checked by a test). */
export function renderErrorTableMarkdown(): string {
  const yes = (b: boolean): string => (b ? 'yes' : '');
  const native = new Set<string>(NATIVE_ERROR_CODES);
  const rows = (Object.keys(ERROR_TABLE) as ErrorCode[]).map((code) => {
    const f = ERROR_TABLE[code];
    return `| \`${code}\` | ${f.class.name} | ${yes(f.retryable)} | ${yes(f.jobRetryable)} | ${f.status ?? 500} | ${yes(native.has(code))} | ${f.meaning} |`;
  });
  const errnos = Object.entries(ERRNO_CODES).map(([errno, code]) => `| \`${errno}\` | \`${code}\` |`);
  return [
    '# Error codes',
    '',
    '<!-- Generated from ERROR_TABLE and ERRNO_CODES in lib/errors.ts by `npm run docs:errors`; do not edit. -->',
    '',
    'Every error the package throws is a `DidacticError` (or a subclass) with one of these stable codes.',
    'Match on `code`, never on messages. *Retryable*: `err.retryable`, whether the same call may succeed',
    "when repeated (the pipeline's retry and circuit breakers read it). *Job retried*: whether the service",
    'runs a job that failed with it again (up to `--attempts`). *HTTP*: the status the service answers with.',
    '*Native*: the addon can raise it too (native/src/common/error.h holds the same list).',
    '',
    '| code | class | retryable | job retried | HTTP | native | meaning |',
    '|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '## Operating-system errors',
    '',
    'One mapping for C++ (`kErrnoCodes` in native/src/common/error.h) and TypeScript (`ERRNO_CODES`):',
    'a failed open, write or rename becomes this code; any other errno is `DE_WRITE_FAILED` when writing.',
    '',
    '| errno | code |',
    '|---|---|',
    ...errnos,
    '',
  ].join('\n');
}
