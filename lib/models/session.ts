import { z } from 'zod';

import type { NativeOrtSession, NativeTensor, NativeTensorSpec } from '../../binding.js';
import { fromNative } from '../errors.js';
import { withCancel } from '../native/cancel.js';
import { loadBinding } from '../native/load.js';
import { parseOptions } from '../util/validate.js';
import { ensureOrtRuntime } from './runtime.js';

export const ExecutionProviderSchema = z.enum(['cpu', 'cuda']);
export type ExecutionProvider = z.infer<typeof ExecutionProviderSchema>;

export const SessionOptionsSchema = z.strictObject({
  intraOpThreads: z.number().int().min(1).max(256).default(1),
  interOpThreads: z.number().int().min(1).max(256).default(1),
  /** In preference order; CUDA falls back to CPU with a warning when its provider library is absent. */
  providers: z.array(ExecutionProviderSchema).min(1).default(['cpu']),
});
export type SessionOptions = z.input<typeof SessionOptionsSchema>;

export interface Tensor {
  data: Float32Array;
  dims: number[];
}

/** An ONNX Runtime session; `run` executes on a worker thread and may be called concurrently. */
export class OrtSession {
  readonly #native: NativeOrtSession;

  constructor(native: NativeOrtSession) {
    this.#native = native;
    for (const warning of native.warnings) process.emitWarning(warning, { code: 'DE_PROVIDER_FALLBACK' });
  }

  get inputs(): NativeTensorSpec[] {
    return this.#native.inputs;
  }
  get outputs(): NativeTensorSpec[] {
    return this.#native.outputs;
  }
  /** Execution providers actually in use, in order. */
  get providers(): string[] {
    return this.#native.providers;
  }
  get warnings(): string[] {
    return this.#native.warnings;
  }

  async run(
    feeds: Record<string, Tensor>,
    options: { outputNames?: string[]; signal?: AbortSignal } = {},
  ): Promise<Record<string, Tensor>> {
    const context = new Error();
    try {
      return await withCancel(options.signal, (token) =>
        this.#native.run(feeds as Record<string, NativeTensor>, options.outputNames, token),
      );
    } catch (err) {
      throw fromNative(err, context, 'run');
    }
  }
}

/** Creates a session from a model path or the model's bytes (loaded off the event loop). */
export async function createSession(model: string | Uint8Array, options?: SessionOptions): Promise<OrtSession> {
  const context = new Error();
  const opts = parseOptions('createSession', SessionOptionsSchema, options);
  await ensureOrtRuntime();
  try {
    return new OrtSession(await loadBinding().createSession(model, opts));
  } catch (err) {
    throw fromNative(err, context, 'createSession');
  }
}
