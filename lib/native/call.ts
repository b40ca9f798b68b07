import type { NativeBinding, NativeCancelToken } from '../../binding.js';
import { fromNative } from '../errors.js';
import { withCancel } from './cancel.js';
import { loadBinding } from './load.js';

/**
 * The one path of a call into the addon (sharp keeps its equivalent in `is.nativeError`): the
 * binding is loaded, `signal` is bridged to a native cancel token, and any failure becomes the
 * package's error class for its code with the stack of `context` — an Error the public function
 * made first thing, so the stack shows its caller, not the native frames. Work after the native
 * call that belongs to it (building the result) goes inside `call` and is mapped the same way.
 */
export async function callNative<T>(
  op: string,
  context: Error,
  signal: AbortSignal | undefined,
  call: (binding: NativeBinding, token: NativeCancelToken | undefined) => Promise<T>,
): Promise<T> {
  try {
    const binding = loadBinding();
    return await withCancel(signal, (token) => call(binding, token));
  } catch (err) {
    throw fromNative(err, context, op);
  }
}
