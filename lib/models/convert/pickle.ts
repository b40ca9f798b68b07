/**
 * A restricted pickle machine for PyTorch checkpoints: only the opcodes a `torch.save` of a state
 * dict or a Demucs package uses (protocol 2, plus protocol 4's FRAME/MEMOIZE/STACK_GLOBAL), and only
 * an allowlist of globals. Nothing is imported or executed: the few callables it knows
 * (OrderedDict, torch's tensor rebuilders, Fraction) are re-implemented here, model classes are
 * recorded by name, and any other opcode or global is refused with `DE_MODEL_INVALID` naming it.
 */
import { ModelError } from '../../errors.js';

/** A pickled global recorded by name (a model class such as `demucs.htdemucs.HTDemucs`, a storage type); never imported. */
export class PyGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}
  /** `module.name`, as Python prints it. */
  get qualified(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A `fractions.Fraction` (Demucs stores segment lengths as one, e.g. 39/5 s). */
export class PyFraction {
  constructor(
    readonly numerator: number,
    readonly denominator: number,
  ) {}
  /** The value as a float. */
  valueOf(): number {
    return this.numerator / this.denominator;
  }
  /** `n/d`, as Python's str(). */
  toString(): string {
    return `${this.numerator}/${this.denominator}`;
  }
}

/** Element types of torch storages, by storage class name. */
export const STORAGE_TYPES = {
  FloatStorage: { dtype: 'float32', bytes: 4 },
  HalfStorage: { dtype: 'float16', bytes: 2 },
  DoubleStorage: { dtype: 'float64', bytes: 8 },
  BFloat16Storage: { dtype: 'bfloat16', bytes: 2 },
  LongStorage: { dtype: 'int64', bytes: 8 },
  IntStorage: { dtype: 'int32', bytes: 4 },
  ShortStorage: { dtype: 'int16', bytes: 2 },
  CharStorage: { dtype: 'int8', bytes: 1 },
  ByteStorage: { dtype: 'uint8', bytes: 1 },
  BoolStorage: { dtype: 'bool', bytes: 1 },
} as const;

/** A storage's element type as torch names it (float16 and bfloat16 are widened to float32 when read). */
export type StorageDtype = (typeof STORAGE_TYPES)[keyof typeof STORAGE_TYPES]['dtype'];

/** A persistent storage reference: the `('storage', type, key, location, numel)` tuple of a torch zip. */
export interface StorageRef {
  kind: 'storage';
  dtype: StorageDtype;
  key: string;
  numel: number;
}

/** A checkpoint tensor, made contiguous (row-major) from its storage, offset and strides. */
export class Tensor {
  constructor(
    /** The dtype it was stored in (float16 stays recorded as such; `data` is widened to float32). */
    readonly dtype: StorageDtype,
    readonly shape: number[],
    readonly data: Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array,
  ) {}
  /** Number of elements. */
  get numel(): number {
    return this.shape.reduce((a, b) => a * b, 1);
  }
}

/** A value the restricted machine can produce. */
export type PyValue = null | boolean | number | bigint | string | PyValue[] | Map<PyValue, PyValue> | PyGlobal | PyFraction | Tensor | StorageRef;

/** Globals that may appear as values (recorded, never called): model classes and storage types. */
const RECORDED_GLOBALS = new Set<string>([
  'demucs.htdemucs.HTDemucs',
  'demucs.hdemucs.HDemucs',
  'demucs.demucs.Demucs',
  ...Object.keys(STORAGE_TYPES).map((n) => `torch.${n}`),
]);

/** Globals that REDUCE may call: each re-implemented below. */
const CALLABLE_GLOBALS = new Set<string>([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'fractions.Fraction',
]);

/** Reads a storage's bytes (little-endian) by key; given by the archive reader. */
export type StorageReader = (ref: StorageRef) => Buffer;

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

const HALF_TABLE = (() => {
  const t = new Float32Array(65536);
  for (let h = 0; h < 65536; h++) {
    const sign = h & 0x8000 ? -1 : 1;
    const exp = (h >> 10) & 0x1f;
    const frac = h & 0x3ff;
    // Every float16 value is exactly representable in float32, so this table is exact.
    if (exp === 0) t[h] = sign * frac * 2 ** -24;
    else if (exp === 31) t[h] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else t[h] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return t;
})();

/** IEEE float16 bits → float32 value (exact). */
export function halfToFloat(bits: number): number {
  return HALF_TABLE[bits & 0xffff]!;
}

/** Limits of one unpickling (everything else is bounded by the input's length). */
export interface UnpickleLimits {
  /** Tensor elements that may be materialised in all; default 4 × the archive's bytes. */
  maxElements: number;
  op: string;
}

function refuse(op: string, what: string, details: Record<string, unknown>): ModelError {
  return new ModelError('DE_MODEL_INVALID', `${op}: checkpoint refused: ${what}`, { op, details });
}

function isMap(v: PyValue | undefined): v is Map<PyValue, PyValue> {
  return v instanceof Map;
}

/**
 * Runs the restricted machine over one pickle. `readStorage` gives a storage's bytes for
 * BINPERSID references; tensors are materialised at their rebuild, within `limits.maxElements`.
 */
export function unpickle(data: Buffer, readStorage: StorageReader, limits: UnpickleLimits): PyValue {
  const { op } = limits;
  let budget = limits.maxElements;
  const stack: StackItem[] = [];
  const marks: number[] = [];
  const memo = new Map<number, PyValue>();
  let p = 0;
  const need = (n: number, opcode: string): void => {
    if (p + n > data.length) throw refuse(op, `truncated at ${opcode}`, { offset: p, opcode });
  };
  const pop = (opcode: string): PyValue => {
    const v = stack.pop();
    if (v === undefined || v === MARK) throw refuse(op, `stack underflow at ${opcode}`, { offset: p, opcode });
    return v;
  };
  const popMark = (opcode: string): PyValue[] => {
    const m = marks.pop();
    if (m === undefined) throw refuse(op, `no mark for ${opcode}`, { offset: p, opcode });
    const items = stack.splice(m) as StackItem[];
    items.shift(); // the mark itself
    if (items.some((i) => i === MARK)) throw refuse(op, `nested mark at ${opcode}`, { offset: p, opcode });
    return items as PyValue[];
  };
  const top = (opcode: string): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw refuse(op, `stack underflow at ${opcode}`, { offset: p, opcode });
    return v;
  };
  const str = (n: number, opcode: string): string => {
    need(n, opcode);
    const s = data.toString('utf8', p, p + n);
    p += n;
    return s;
  };
  const global = (module: string, name: string): PyGlobal => {
    const q = `${module}.${name}`;
    if (!RECORDED_GLOBALS.has(q) && !CALLABLE_GLOBALS.has(q)) {
      throw refuse(op, `global ${q} is not allowed`, { global: q });
    }
    return new PyGlobal(module, name);
  };
  const setItems = (target: PyValue, items: PyValue[], opcode: string): void => {
    if (!isMap(target)) throw refuse(op, `${opcode} on a non-dict`, { offset: p, opcode });
    if (items.length % 2) throw refuse(op, `${opcode} with an odd item count`, { offset: p, opcode });
    for (let i = 0; i < items.length; i += 2) target.set(key(items[i]!, opcode), items[i + 1]!);
  };
  const key = (k: PyValue, opcode: string): PyValue => {
    if (typeof k === 'string' || typeof k === 'number' || typeof k === 'bigint' || typeof k === 'boolean' || k === null) return k;
    throw refuse(op, `unhashable or unsupported dict key at ${opcode}`, { offset: p, opcode });
  };

  const reduce = (fn: PyValue, args: PyValue): PyValue => {
    if (!(fn instanceof PyGlobal) || !CALLABLE_GLOBALS.has(fn.qualified)) {
      const name = fn instanceof PyGlobal ? fn.qualified : typeof fn;
      throw refuse(op, `REDUCE of ${name} is not allowed`, { opcode: 'REDUCE', global: name });
    }
    if (!Array.isArray(args)) throw refuse(op, 'REDUCE arguments are not a tuple', { opcode: 'REDUCE' });
    switch (fn.qualified) {
      case 'collections.OrderedDict': {
        const m = new Map<PyValue, PyValue>();
        if (args.length === 1 && Array.isArray(args[0])) {
          for (const pair of args[0]) {
            if (!Array.isArray(pair) || pair.length !== 2) throw refuse(op, 'OrderedDict item is not a pair', { opcode: 'REDUCE' });
            m.set(key(pair[0]!, 'REDUCE'), pair[1]!);
          }
        } else if (args.length !== 0) throw refuse(op, 'OrderedDict with unexpected arguments', { opcode: 'REDUCE' });
        return m;
      }
      case 'fractions.Fraction': {
        const [a, b] = args;
        if (args.length === 1 && typeof a === 'string') {
          const m = /^\s*(-?\d{1,15})(?:\/(\d{1,15}))?\s*$/.exec(a);
          if (!m || Number(m[2] ?? 1) === 0) throw refuse(op, `Fraction(${JSON.stringify(a.slice(0, 40))}) is not n/d`, { opcode: 'REDUCE' });
          return new PyFraction(Number(m[1]), Number(m[2] ?? 1));
        }
        if (args.length === 2 && Number.isInteger(a) && Number.isInteger(b) && b !== 0) return new PyFraction(a as number, b as number);
        throw refuse(op, 'Fraction with unexpected arguments', { opcode: 'REDUCE' });
      }
      case 'torch._utils._rebuild_parameter': {
        if (args.length < 2 || !(args[0] instanceof Tensor)) throw refuse(op, '_rebuild_parameter without a tensor', { opcode: 'REDUCE' });
        return args[0];
      }
      default:
        return rebuildTensor(args);
    }
  };

  const rebuildTensor = (args: PyValue[]): Tensor => {
    const [storage, offset, size, stride] = args;
    if (args.length < 4 || args.length > 7 || !storage || typeof storage !== 'object' || !('kind' in storage)) {
      throw refuse(op, '_rebuild_tensor_v2 with unexpected arguments', { opcode: 'REDUCE' });
    }
    const dims = (v: PyValue | undefined): number[] | null =>
      Array.isArray(v) && v.every((d) => typeof d === 'number' && Number.isSafeInteger(d) && d >= 0) ? (v as number[]) : null;
    const shape = dims(size);
    const strides = dims(stride);
    if (!shape || !strides || shape.length !== strides.length || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
      throw refuse(op, 'tensor with a bad size, stride or offset', { opcode: 'REDUCE' });
    }
    const numel = shape.reduce((a, b) => a * b, 1);
    let last = offset;
    for (let i = 0; i < shape.length; i++) if (shape[i]! > 0) last += (shape[i]! - 1) * strides[i]!;
    if (numel > 0 && last >= storage.numel) {
      throw refuse(op, `tensor reaches past its storage ${storage.key}`, { storage: storage.key, numel: storage.numel });
    }
    if (numel > storage.numel) throw refuse(op, `tensor larger than its storage ${storage.key}`, { storage: storage.key });
    budget -= numel;
    if (budget < 0) throw refuse(op, 'tensors exceed the element budget of this file', { opcode: 'REDUCE' });
    const bytes = readStorage(storage);
    return gather(storage.dtype, bytes, offset, shape, strides);
  };

  for (;;) {
    need(1, 'opcode');
    const code = data[p++]!;
    switch (code) {
      case 0x80: // PROTO
        need(1, 'PROTO');
        if (data[p]! > 5) throw refuse(op, `pickle protocol ${data[p]} unsupported`, { opcode: 'PROTO' });
        p += 1;
        break;
      case 0x95: // FRAME
        need(8, 'FRAME');
        p += 8;
        break;
      case 0x2e: {
        // STOP
        const v = pop('STOP');
        if (stack.length) throw refuse(op, 'items left on the stack at STOP', { opcode: 'STOP' });
        return v;
      }
      case 0x28: // MARK
        marks.push(stack.length);
        stack.push(MARK);
        break;
      case 0x7d: // EMPTY_DICT
        stack.push(new Map());
        break;
      case 0x5d: // EMPTY_LIST
      case 0x29: // EMPTY_TUPLE
        stack.push([]);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4b: // BININT1
        need(1, 'BININT1');
        stack.push(data[p]!);
        p += 1;
        break;
      case 0x4d: // BININT2
        need(2, 'BININT2');
        stack.push(data.readUInt16LE(p));
        p += 2;
        break;
      case 0x4a: // BININT
        need(4, 'BININT');
        stack.push(data.readInt32LE(p));
        p += 4;
        break;
      case 0x8a: {
        // LONG1
        need(1, 'LONG1');
        const n = data[p++]!;
        need(n, 'LONG1');
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[p + i]!);
        if (n > 0 && data[p + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
        p += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: // BINFLOAT (big-endian)
        need(8, 'BINFLOAT');
        stack.push(data.readDoubleBE(p));
        p += 8;
        break;
      case 0x8c: // SHORT_BINUNICODE
        need(1, 'SHORT_BINUNICODE');
        p += 1;
        stack.push(str(data[p - 1]!, 'SHORT_BINUNICODE'));
        break;
      case 0x58: // BINUNICODE
        need(4, 'BINUNICODE');
        p += 4;
        stack.push(str(data.readUInt32LE(p - 4), 'BINUNICODE'));
        break;
      case 0x8d: {
        // BINUNICODE8
        need(8, 'BINUNICODE8');
        const n = data.readBigUInt64LE(p);
        p += 8;
        if (n > BigInt(data.length)) throw refuse(op, 'truncated at BINUNICODE8', { opcode: 'BINUNICODE8' });
        stack.push(str(Number(n), 'BINUNICODE8'));
        break;
      }
      case 0x74: // TUPLE
      case 0x6c: // LIST
        stack.push(popMark(code === 0x74 ? 'TUPLE' : 'LIST'));
        break;
      case 0x85: // TUPLE1
        stack.push([pop('TUPLE1')]);
        break;
      case 0x86: {
        // TUPLE2
        const b = pop('TUPLE2');
        stack.push([pop('TUPLE2'), b]);
        break;
      }
      case 0x87: {
        // TUPLE3
        const c = pop('TUPLE3');
        const b = pop('TUPLE3');
        stack.push([pop('TUPLE3'), b, c]);
        break;
      }
      case 0x64: {
        // DICT
        const m = new Map<PyValue, PyValue>();
        setItems(m, popMark('DICT'), 'DICT');
        stack.push(m);
        break;
      }
      case 0x61: {
        // APPEND
        const v = pop('APPEND');
        const list = top('APPEND');
        if (!Array.isArray(list)) throw refuse(op, 'APPEND to a non-list', { opcode: 'APPEND' });
        list.push(v);
        break;
      }
      case 0x65: {
        // APPENDS
        const items = popMark('APPENDS');
        const list = top('APPENDS');
        if (!Array.isArray(list)) throw refuse(op, 'APPENDS to a non-list', { opcode: 'APPENDS' });
        list.push(...items);
        break;
      }
      case 0x73: {
        // SETITEM
        const v = pop('SETITEM');
        const k = pop('SETITEM');
        setItems(top('SETITEM'), [k, v], 'SETITEM');
        break;
      }
      case 0x75: {
        // SETITEMS
        const items = popMark('SETITEMS');
        setItems(top('SETITEMS'), items, 'SETITEMS');
        break;
      }
      case 0x71: // BINPUT
        need(1, 'BINPUT');
        memo.set(data[p++]!, top('BINPUT'));
        break;
      case 0x72: // LONG_BINPUT
        need(4, 'LONG_BINPUT');
        memo.set(data.readUInt32LE(p), top('LONG_BINPUT'));
        p += 4;
        break;
      case 0x94: // MEMOIZE
        memo.set(memo.size, top('MEMOIZE'));
        break;
      case 0x68: // BINGET
      case 0x6a: {
        // LONG_BINGET
        const name = code === 0x68 ? 'BINGET' : 'LONG_BINGET';
        need(code === 0x68 ? 1 : 4, name);
        const idx = code === 0x68 ? data[p]! : data.readUInt32LE(p);
        p += code === 0x68 ? 1 : 4;
        if (!memo.has(idx)) throw refuse(op, `${name} of an unset memo slot`, { opcode: name, slot: idx });
        stack.push(memo.get(idx)!);
        break;
      }
      case 0x63: {
        // GLOBAL: "module\nname\n"
        const nl1 = data.indexOf(0x0a, p);
        const nl2 = nl1 < 0 ? -1 : data.indexOf(0x0a, nl1 + 1);
        if (nl1 < 0 || nl2 < 0 || nl2 - p > 512) throw refuse(op, 'truncated at GLOBAL', { opcode: 'GLOBAL' });
        const module = data.toString('utf8', p, nl1);
        const name = data.toString('utf8', nl1 + 1, nl2);
        p = nl2 + 1;
        stack.push(global(module, name));
        break;
      }
      case 0x93: {
        // STACK_GLOBAL
        const name = pop('STACK_GLOBAL');
        const module = pop('STACK_GLOBAL');
        if (typeof name !== 'string' || typeof module !== 'string') throw refuse(op, 'STACK_GLOBAL of non-strings', { opcode: 'STACK_GLOBAL' });
        stack.push(global(module, name));
        break;
      }
      case 0x52: {
        // REDUCE
        const args = pop('REDUCE');
        const fn = pop('REDUCE');
        stack.push(reduce(fn, args));
        break;
      }
      case 0x51: {
        // BINPERSID: ('storage', storage_type, key, location, numel)
        const pid = pop('BINPERSID');
        if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
          throw refuse(op, 'persistent id is not a storage tuple', { opcode: 'BINPERSID' });
        }
        const [, type, key, , numel] = pid;
        const info = type instanceof PyGlobal && type.module === 'torch' ? STORAGE_TYPES[type.name as keyof typeof STORAGE_TYPES] : undefined;
        if (!info || typeof key !== 'string' || typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
          throw refuse(op, 'persistent id with an unknown storage type or a bad key/size', { opcode: 'BINPERSID' });
        }
        stack.push({ kind: 'storage', dtype: info.dtype, key, numel });
        break;
      }
      case 0x62: {
        // BUILD: only an OrderedDict's attribute dict (a state_dict's _metadata), which is dropped.
        const state = pop('BUILD');
        const target = top('BUILD');
        if (!isMap(target) || !(isMap(state) || state === null)) throw refuse(op, 'BUILD of something other than a dict', { opcode: 'BUILD' });
        break;
      }
      case 0x30: // POP
        if (stack.length && stack[stack.length - 1] === MARK) {
          stack.pop();
          marks.pop();
        } else pop('POP');
        break;
      case 0x31: // POP_MARK
        popMark('POP_MARK');
        break;
      case 0x32: // DUP
        stack.push(top('DUP'));
        break;
      default:
        throw refuse(op, `opcode 0x${code.toString(16).padStart(2, '0')} (${JSON.stringify(String.fromCharCode(code))}) is not allowed`, {
          opcode: code,
          offset: p - 1,
        });
    }
  }
}

/** Copies a strided view of little-endian storage bytes into a contiguous array (float16/bfloat16 widened to float32). */
function gather(dtype: StorageDtype, bytes: Buffer, offset: number, shape: number[], strides: number[]): Tensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  // Fast path (every tensor of a state dict): row-major and contiguous, read in bulk.
  let contiguous = true;
  for (let d = shape.length - 1, want = 1; d >= 0; d--) {
    if (shape[d]! !== 1 && strides[d]! !== want) contiguous = false;
    want *= shape[d]!;
  }
  if (contiguous && (dtype === 'float16' || dtype === 'float32' || dtype === 'bfloat16')) {
    const size = dtype === 'float32' ? 4 : 2;
    const raw = new Uint8Array(numel * size);
    raw.set(bytes.subarray(offset * size, (offset + numel) * size));
    if (dtype === 'float32') return new Tensor(dtype, shape, new Float32Array(raw.buffer));
    const bits = new Uint16Array(raw.buffer);
    const o = new Float32Array(numel);
    if (dtype === 'float16') for (let i = 0; i < numel; i++) o[i] = HALF_TABLE[bits[i]!]!;
    else {
      const u = new Uint32Array(o.buffer);
      for (let i = 0; i < numel; i++) u[i] = bits[i]! << 16;
    }
    return new Tensor(dtype, shape, o);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let out: Tensor['data'];
  let read: (i: number, k: number) => void;
  switch (dtype) {
    case 'float32': {
      const o = new Float32Array(numel);
      read = (i, k) => (o[i] = view.getFloat32(k * 4, true));
      out = o;
      break;
    }
    case 'float16': {
      const o = new Float32Array(numel);
      read = (i, k) => (o[i] = HALF_TABLE[view.getUint16(k * 2, true)]!);
      out = o;
      break;
    }
    case 'bfloat16': {
      const o = new Float32Array(numel);
      const bits = new Uint32Array(o.buffer);
      read = (i, k) => (bits[i] = view.getUint16(k * 2, true) << 16);
      out = o;
      break;
    }
    case 'float64': {
      const o = new Float64Array(numel);
      read = (i, k) => (o[i] = view.getFloat64(k * 8, true));
      out = o;
      break;
    }
    case 'int64': {
      const o = new BigInt64Array(numel);
      read = (i, k) => (o[i] = view.getBigInt64(k * 8, true));
      out = o;
      break;
    }
    case 'int32': {
      const o = new Int32Array(numel);
      read = (i, k) => (o[i] = view.getInt32(k * 4, true));
      out = o;
      break;
    }
    case 'int16': {
      const o = new Int16Array(numel);
      read = (i, k) => (o[i] = view.getInt16(k * 2, true));
      out = o;
      break;
    }
    case 'int8': {
      const o = new Int8Array(numel);
      read = (i, k) => (o[i] = view.getInt8(k));
      out = o;
      break;
    }
    default: {
      const o = new Uint8Array(numel);
      read = (i, k) => (o[i] = view.getUint8(k));
      out = o;
    }
  }
  // Odometer over the dimensions, the last one fastest.
  const idx = new Array<number>(shape.length).fill(0);
  let k = offset;
  for (let i = 0; i < numel; i++) {
    read(i, k);
    for (let d = shape.length - 1; d >= 0; d--) {
      idx[d]!++;
      k += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      k -= idx[d]! * strides[d]!;
      idx[d] = 0;
    }
  }
  return new Tensor(dtype, shape, out);
}
