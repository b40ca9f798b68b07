/**
 * The main-thread side of the Parquet thread (parquetWorker.ts): one worker per process, started on
 * first use, kept referenced only while a request is pending (an idle process can exit), replaced
 * by a fresh one if it dies (its pending requests fail).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { threadId, Worker } from 'node:worker_threads';

import { DidacticError, type ErrorCode, NATIVE_ERROR_CODES, TS_ERROR_CODES } from '../errors.js';
import type { ParquetReply, ParquetRequest, SerializedError } from './parquetWorker.js';

/** Distributes a request without its `req` field (added here). */
type Request = ParquetRequest extends infer R ? (R extends ParquetRequest ? Omit<R, 'req'> : never) : never;

/** The compiled worker entry (tests that import the TypeScript sources still start the built file). */
function workerEntry(): string {
  const here = fileURLToPath(import.meta.url);
  const built = here.endsWith('.ts')
    ? fileURLToPath(new URL('../../dist/datasets/parquetWorker.js', import.meta.url))
    : here.replace(/parquetThread\.js$/, 'parquetWorker.js');
  if (!existsSync(built)) throw new Error(`The Parquet worker entry ${built} is missing: build the TypeScript (npm run build:ts)`);
  return built;
}

const CODES = new Set<string>([...NATIVE_ERROR_CODES, ...TS_ERROR_CODES]);

/** Rebuilds an error thrown on the Parquet thread: the package's own with their code, others as plain Errors. */
function revive(error: SerializedError): Error {
  if (error.code && CODES.has(error.code)) {
    return new DidacticError(error.code as ErrorCode, error.message);
  }
  const err = new Error(error.message);
  if (error.code) (err as Error & { code: string }).code = error.code;
  return err;
}

interface Pending {
  resolve: (reply: { value: unknown; thread: number }) => void;
  reject: (err: Error) => void;
}

let worker: Worker | null = null;
let nextReq = 1;
const pending = new Map<number, Pending>();
/** Files encoded per thread id (for tests: the encode must not run on the main thread). */
const encodedBy = new Map<number, number>();

function spawn(): Worker {
  // The process's flags minus those a worker refuses (`node --input-type=module -e ...` runs scripts).
  const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'));
  let w: Worker;
  try {
    w = new Worker(workerEntry(), { name: 'didactic-parquet', execArgv });
  } catch (err) {
    // A per-process flag a worker refuses: the thread needs none of the process's flags.
    if ((err as { code?: string }).code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    w = new Worker(workerEntry(), { name: 'didactic-parquet', execArgv: [] });
  }
  const fail = (err: Error) => {
    if (worker === w) worker = null;
    const waiting = [...pending.values()];
    pending.clear();
    for (const p of waiting) p.reject(err);
  };
  w.on('message', (reply: ParquetReply) => {
    const p = pending.get(reply.req);
    if (!p) return;
    pending.delete(reply.req);
    if (pending.size === 0) w.unref();
    if (reply.ok) p.resolve(reply);
    else p.reject(revive(reply.error));
  });
  w.on('error', (err) => fail(err));
  w.on('exit', (code) => fail(new Error(`the Parquet worker thread exited (code ${code})`)));
  // After the listeners: adding a 'message' listener refs the worker's port again, and a thread
  // started ahead of any request (warmParquetThread) would then keep the process alive.
  w.unref();
  return w;
}

/** Starts the Parquet thread now (its start-up then overlaps with other work); harmless when running. */
export function warmParquetThread(): void {
  try {
    worker ??= spawn();
  } catch {
    // Reported by the first request, which tries again.
  }
}

/** Sends one request to the Parquet thread; resolves with its answer, rejects with its error. */
export async function parquetRequest<T>(request: Request, transfer: ArrayBuffer[] = []): Promise<T> {
  const w = (worker ??= spawn());
  const req = nextReq++;
  const reply = await new Promise<{ value: unknown; thread: number }>((resolve, reject) => {
    pending.set(req, { resolve, reject });
    w.ref();
    try {
      w.postMessage({ ...request, req }, transfer);
    } catch (err) {
      // Not sent (e.g. a value that cannot be cloned): nothing will answer it.
      pending.delete(req);
      if (pending.size === 0) w.unref();
      reject(err as Error);
    }
  });
  if (request.op === 'close') encodedBy.set(reply.thread, (encodedBy.get(reply.thread) ?? 0) + 1);
  return reply.value as T;
}

/**
 * How many Parquet files each thread has encoded in this process (threadId → files); the main
 * thread's id is `mainThreadId`. For tests.
 */
export function parquetEncodeThreads(): { mainThreadId: number; encodedBy: ReadonlyMap<number, number> } {
  return { mainThreadId: threadId, encodedBy };
}

/**
 * Stops the Parquet thread (e.g. a long-lived host shutting down). Writes in progress fail with
 * DE_WRITE_FAILED; the next request starts a fresh thread.
 */
export async function stopParquetThread(): Promise<void> {
  const w = worker;
  if (!w) return;
  worker = null;
  await w.terminate();
}
