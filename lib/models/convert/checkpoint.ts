/**
 * PyTorch checkpoints (`torch.save`, zip format) read without Python: the zip (./zip.ts), the
 * restricted pickle (./pickle.ts) and the raw storages. Demucs packages (`demucs.states.
 * serialize_model`: klass, args, kwargs, state) get a typed view on top.
 */
import { ModelError } from '../../errors.js';
import { PyFraction, PyGlobal, type PyValue, STORAGE_TYPES, type StorageRef, Tensor, unpickle } from './pickle.js';
import { looksLikeZip, readZipEntries } from './zip.js';

export { halfToFloat, PyFraction, PyGlobal, type PyValue, Tensor } from './pickle.js';

/** Reads a `torch.save` zip held in memory and returns the unpickled object (tensors materialised). */
export function readTorchCheckpoint(buf: Buffer, op = 'checkpoint'): PyValue {
  if (!looksLikeZip(buf)) {
    // The legacy (pre-1.6) format starts with a pickled magic number; no official file we know uses it.
    throw new ModelError('DE_MODEL_INVALID', `${op}: not a torch.save zip checkpoint (the legacy non-zip format is not read)`, {
      op,
      details: { reason: 'not a zip' },
    });
  }
  const entries = readZipEntries(buf, op);
  const pkl = [...entries.keys()].filter((n) => /^[^/]+\/data\.pkl$/.test(n));
  if (pkl.length !== 1) {
    throw new ModelError('DE_MODEL_INVALID', `${op}: expected one <archive>/data.pkl in the checkpoint, found ${pkl.length}`, { op });
  }
  const prefix = pkl[0]!.slice(0, -'data.pkl'.length);
  const order = entries.get(`${prefix}byteorder`);
  if (order && buf.toString('latin1', order.offset, order.offset + order.size) !== 'little') {
    throw new ModelError('DE_MODEL_INVALID', `${op}: big-endian checkpoints are not read`, { op });
  }
  const entry = entries.get(pkl[0]!)!;
  const readStorage = (ref: StorageRef): Buffer => {
    const e = entries.get(`${prefix}data/${ref.key}`);
    const itemBytes = Object.values(STORAGE_TYPES).find((t) => t.dtype === ref.dtype)!.bytes;
    if (!e || e.size < ref.numel * itemBytes) {
      throw new ModelError('DE_MODEL_INVALID', `${op}: storage ${ref.key} is missing or shorter than its ${ref.numel} elements`, {
        op,
        details: { storage: ref.key },
      });
    }
    return buf.subarray(e.offset, e.offset + ref.numel * itemBytes);
  };
  return unpickle(buf.subarray(entry.offset, entry.offset + entry.size), readStorage, {
    maxElements: Math.max(1 << 20, 4 * buf.length),
    op,
  });
}

/** A Demucs model package (`demucs.states.serialize_model`) as read from its checkpoint. */
export interface DemucsPackage {
  /** The model class recorded in the pickle (e.g. `demucs.htdemucs.HTDemucs`); never imported. */
  klass: string;
  args: PyValue[];
  /** Constructor keyword arguments, as plain JSON-like values (Fractions as "n/d" strings). */
  kwargs: Record<string, unknown>;
  /** Parameter and buffer tensors by state-dict name. */
  state: Map<string, Tensor>;
}

/** A pickled value as plain JSON-like data (Map → object, Fraction → "n/d", bigint → number or string, global → its name). */
export function toPlain(v: PyValue): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, val] of v) o[String(k)] = toPlain(val);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v instanceof PyFraction) return v.denominator === 1 ? v.numerator : v.toString();
  if (v instanceof PyGlobal) return v.qualified;
  if (v instanceof Tensor) return { tensor: v.dtype, shape: v.shape };
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (v !== null && typeof v === 'object') return { storage: v.key };
  return v;
}

/** Reads a Demucs package checkpoint; refuses anything else (a quantised one too) with DE_MODEL_INVALID. */
export function readDemucsPackage(buf: Buffer, op = 'checkpoint'): DemucsPackage {
  const root = readTorchCheckpoint(buf, op);
  const fail = (why: string): ModelError => new ModelError('DE_MODEL_INVALID', `${op}: not a Demucs model package: ${why}`, { op });
  if (!(root instanceof Map)) throw fail('the checkpoint is not a dict');
  const klass = root.get('klass');
  const args = root.get('args');
  const kwargs = root.get('kwargs');
  const state = root.get('state');
  if (!(klass instanceof PyGlobal)) throw fail('no klass');
  if (!Array.isArray(args)) throw fail('no args tuple');
  if (!(kwargs instanceof Map)) throw fail('no kwargs dict');
  if (!(state instanceof Map)) throw fail('no state dict');
  if (state.has('__quantized')) throw fail('quantised (diffq) packages are not supported');
  const tensors = new Map<string, Tensor>();
  for (const [k, t] of state) {
    if (typeof k !== 'string' || !(t instanceof Tensor)) throw fail(`state entry ${String(k)} is not a tensor`);
    tensors.set(k, t);
  }
  return { klass: klass.qualified, args, kwargs: toPlain(kwargs) as Record<string, unknown>, state: tensors };
}
