import type { NativeModelHandle } from '../../binding.js';
import { fromNative, ModelError } from '../errors.js';
import { loadBinding } from '../native/load.js';

/**
 * The close() of every model object (OrtSession, Transcriber, Separator): the native side waits for
 * the handle's calls in flight, then frees the session; later calls fail with DE_CLOSED. The first
 * call's promise is kept, so closing twice is harmless.
 */
export class ModelLifecycle {
  readonly #handle: NativeModelHandle;
  #closing: Promise<void> | undefined;
  // Calls that do JS work (resampling) before they reach the addon: close() waits for them too.
  readonly #held = new Set<Promise<unknown>>();

  constructor(handle: NativeModelHandle) {
    this.#handle = handle;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  close(op: string): Promise<void> {
    if (!this.#closing) {
      const context = new Error();
      const closeNative = (): Promise<void> =>
        loadBinding()
          .modelClose(this.#handle)
          .catch((err: unknown) => {
            throw fromNative(err, context, op);
          });
      // Without held calls the native close starts now, so a later call is DE_CLOSED at once.
      this.#closing = this.#held.size === 0 ? closeNative() : Promise.allSettled([...this.#held]).then(closeNative);
    }
    return this.#closing;
  }

  /**
   * Runs a call whose first await comes before its native call: DE_CLOSED at once after close(),
   * and a close() meanwhile waits for it (as the native lease does once the call reaches the addon).
   */
  hold<T>(op: string, call: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new ModelError('DE_CLOSED', `${op}: the model was closed`, { op }));
    const running = call();
    this.#held.add(running);
    const forget = (): void => {
      this.#held.delete(running);
    };
    running.then(forget, forget);
    return running;
  }
}

/**
 * An opened network with one native handle (the rhythm trackers): its path and providers, and the
 * close() every model has. Subclasses open it in a static `open()` and run calls through `lifecycle`.
 */
export abstract class OpenedModel<H extends NativeModelHandle> {
  protected readonly handle: H;
  protected readonly lifecycle: ModelLifecycle;
  /** The model file it was opened from (undefined when opened from bytes). */
  readonly modelPath: string | undefined;
  /** ONNX Runtime's execution providers in use. */
  readonly providers: string[];

  protected constructor(handle: H, providers: string[], modelPath?: string) {
    this.handle = handle;
    this.lifecycle = new ModelLifecycle(handle);
    this.providers = providers;
    this.modelPath = modelPath;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.lifecycle.closed;
  }

  /**
   * Waits for the calls in flight, then frees the native session; later calls reject with
   * ModelError DE_CLOSED. Closing twice is harmless.
   */
  close(): Promise<void> {
    return this.lifecycle.close('close');
  }

  /** close() for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
