import type { NativeModelHandle } from '../../binding.js';
import { fromNative } from '../errors.js';
import { loadBinding } from '../native/load.js';

/**
 * The close() of every model object (OrtSession, Transcriber, Separator): the native side waits for
 * the handle's calls in flight, then frees the session; later calls fail with DE_CLOSED. The first
 * call's promise is kept, so closing twice is harmless.
 */
export class ModelLifecycle {
  readonly #handle: NativeModelHandle;
  #closing: Promise<void> | undefined;

  constructor(handle: NativeModelHandle) {
    this.#handle = handle;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  close(op: string): Promise<void> {
    if (!this.#closing) {
      const context = new Error();
      this.#closing = loadBinding()
        .modelClose(this.#handle)
        .catch((err: unknown) => {
          throw fromNative(err, context, op);
        });
    }
    return this.#closing;
  }
}
