import { z } from 'zod';

import type { NativeSessionHandle, NativeSessionInfo, NativeTensor, NativeTensorSpec } from '../../binding.js';
import { callNative } from '../native/call.js';
import { parseOptions } from '../util/validate.js';
import { ModelLifecycle } from './handle.js';
import { MAX_INTRA_OP_THREADS } from './limits.js';
import { ensureOrtRuntime } from './runtime.js';

/** Zod schema of the ONNX Runtime execution providers the package can request. */
export const ExecutionProviderSchema = z.enum(['cpu', 'cuda']);
/** An execution provider name: `cpu` or `cuda`. */
export type ExecutionProvider = z.infer<typeof ExecutionProviderSchema>;

/** Zod schema of createSession's options: intra-/inter-op threads (1..256) and providers in preference order. */
export const SessionOptionsSchema = z.strictObject({
  intraOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  interOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  /** In preference order; CUDA falls back to CPU with a warning when its provider library is absent. */
  providers: z.array(ExecutionProviderSchema).min(1).default(['cpu']),
});
/** Options of createSession (see SessionOptionsSchema). */
export type SessionOptions = z.input<typeof SessionOptionsSchema>;

/** A float32 tensor: row-major data and its dimensions. */
export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/**
 * An ONNX Runtime session; `run` executes on a worker thread and may be called concurrently.
 * `close()` (or `await using`) waits for runs in flight, then frees the native session; later runs
 * reject with DE_CLOSED. Without close() the session is freed when garbage-collected.
 */
export class OrtSession {
  readonly #handle: NativeSessionHandle;
  readonly #info: NativeSessionInfo;
  readonly #lifecycle: ModelLifecycle;

  constructor(handle: NativeSessionHandle, info: NativeSessionInfo) {
    this.#handle = handle;
    this.#info = info;
    this.#lifecycle = new ModelLifecycle(handle);
    for (const warning of info.warnings) process.emitWarning(warning, { code: 'DE_PROVIDER_FALLBACK' });
  }

  get inputs(): NativeTensorSpec[] {
    return this.#info.inputs;
  }
  get outputs(): NativeTensorSpec[] {
    return this.#info.outputs;
  }
  /** Execution providers actually in use, in order. */
  get providers(): string[] {
    return this.#info.providers;
  }
  get warnings(): string[] {
    return this.#info.warnings;
  }
  /** Whether close() was called. */
  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /**
   * Runs the model on a worker thread with the given inputs; returns the named (default: all) outputs.
   * @throws ModelError DE_INFERENCE_FAILED, DE_CLOSED after close(); AbortError DE_ABORTED when `signal` aborts.
   */
  async run(feeds: Record<string, Tensor>, options: { outputNames?: string[]; signal?: AbortSignal } = {}): Promise<Record<string, Tensor>> {
    const context = new Error();
    return callNative('run', context, options.signal, (binding, token) =>
      binding.sessionRun(this.#handle, feeds as Record<string, NativeTensor>, options.outputNames, token),
    );
  }

  /** Waits for runs in flight, then frees the native session. Closing twice is harmless. */
  close(): Promise<void> {
    return this.#lifecycle.close('close');
  }

  /** close() for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a session from a model path or the model's bytes (loaded off the event loop).
 * @throws ModelError DE_MODEL_NOT_FOUND, DE_MODEL_INVALID; NativeError DE_NATIVE_RUNTIME_MISSING, DE_NATIVE_RUNTIME_TOO_OLD.
 */
export async function createSession(model: string | Uint8Array, options?: SessionOptions): Promise<OrtSession> {
  const context = new Error();
  const opts = parseOptions('createSession', SessionOptionsSchema, options);
  await ensureOrtRuntime();
  return callNative('createSession', context, undefined, async (binding) => {
    const opened = await binding.createSession(model, opts);
    return new OrtSession(opened.handle, opened.info);
  });
}
