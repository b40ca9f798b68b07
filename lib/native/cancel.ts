import type { NativeCancelToken } from '../../binding.js';
import { abortErrorFrom } from '../errors.js';
import { loadBinding } from './load.js';

/**
 * Bridges an AbortSignal to a native cancel token for the duration of one native call.
 * Throws AbortError at once when the signal is already aborted.
 */
export async function withCancel<T>(signal: AbortSignal | undefined, call: (token: NativeCancelToken | undefined) => Promise<T>): Promise<T> {
  if (!signal) return call(undefined);
  if (signal.aborted) throw abortErrorFrom(signal);
  const binding = loadBinding();
  const token = new binding.CancelToken();
  const onAbort = (): void => token.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(token);
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
