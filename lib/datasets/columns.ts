/**
 * A batch's columns validated and laid out as Arrow's buffers (values, offsets, validity bits),
 * without Apache Arrow itself: the main thread builds these, the Parquet thread wraps them into
 * Arrow data (arrow.ts), so the main thread never loads apache-arrow. Built straight from typed
 * arrays, never from row objects; strings are encoded once into one buffer with hand-built offsets.
 */
import { endianness } from 'node:os';

import { InvalidArgumentError } from '../errors.js';
import type { ColumnKind, DatasetSchema } from './schema.js';

/** A list column: row-major flattened values with a fixed width, or one array per row. */
export type ListColumnValues = { values: ArrayLike<number>; width: number } | readonly (readonly number[] | Float64Array)[];

/**
 * Values for one column of a batch. Scalars fill the whole column (e.g. song_id). int64 accepts
 * safe integers (numbers) or a BigInt64Array.
 */
export type ColumnValues = ArrayLike<number> | BigInt64Array | ArrayLike<boolean> | readonly string[] | ListColumnValues | number | string | boolean;

/** A column-major slice of a dataset: `length` rows, one entry per column name. */
export interface ColumnBatch {
  length: number;
  columns: Readonly<Record<string, ColumnValues>>;
}

/** One column as Arrow lays it out: `data` holds the values (bits for bool, UTF-8 bytes for utf8, the items for lists). */
export type ColumnBuffer =
  | { kind: 'int64'; data: BigInt64Array }
  | { kind: 'float64'; data: Float64Array }
  | { kind: 'bool'; data: Uint8Array }
  | { kind: 'utf8'; offsets: Int32Array; data: Uint8Array }
  | { kind: 'list<float64>'; offsets: Int32Array; data: Float64Array };

/** A validated batch: one buffer set per schema column, in schema order. */
export interface ColumnBuffers {
  length: number;
  columns: ColumnBuffer[];
}

const LITTLE_ENDIAN = endianness() === 'LE';
const TWO_POW_32 = 2 ** 32;

function fail(message: string): never {
  throw new InvalidArgumentError(message, { op: 'buildRecordBatch' });
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { length?: unknown }).length === 'number';
}

export function int64Values(values: ArrayLike<number> | BigInt64Array | number, length: number, name = 'int64'): BigInt64Array {
  if (values instanceof BigInt64Array) {
    if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
    return values;
  }
  const out = new BigInt64Array(length);
  const constant = typeof values === 'number' ? values : undefined;
  if (constant === undefined && (values as ArrayLike<number>).length !== length) {
    fail(`column ${name}: expected ${length} values, got ${(values as ArrayLike<number>).length}`);
  }
  const words = LITTLE_ENDIAN ? new Int32Array(out.buffer) : undefined;
  for (let i = 0; i < length; i++) {
    const v = constant ?? (values as ArrayLike<number>)[i]!;
    if (!Number.isSafeInteger(v)) fail(`column ${name}: row ${i} is not a safe integer (${v})`);
    if (words) {
      // Two 32-bit words are much faster than a BigInt per value.
      words[2 * i] = (v % TWO_POW_32) | 0;
      words[2 * i + 1] = Math.floor(v / TWO_POW_32);
    } else {
      out[i] = BigInt(v);
    }
  }
  return out;
}

export function float64Values(values: ArrayLike<number> | number, length: number, name = 'float64'): Float64Array {
  if (typeof values === 'number') return new Float64Array(length).fill(values);
  if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
  return values instanceof Float64Array ? values : Float64Array.from(values);
}

export function boolBits(values: ArrayLike<boolean | number> | boolean, length: number, name = 'bool'): Uint8Array {
  const bits = new Uint8Array((length + 7) >> 3);
  if (typeof values === 'boolean') {
    if (values) for (let i = 0; i < length; i++) bits[i >> 3]! |= 1 << (i & 7);
  } else {
    if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
    for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  }
  return bits;
}

const encoder = new TextEncoder();

export function utf8Values(values: readonly string[] | string, length: number, name = 'utf8'): { offsets: Int32Array; data: Uint8Array } {
  const offsets = new Int32Array(length + 1);
  if (typeof values === 'string') {
    const one = encoder.encode(values);
    const bytes = new Uint8Array(one.length * length);
    for (let i = 0; i < length; i++) {
      bytes.set(one, i * one.length);
      offsets[i + 1] = (i + 1) * one.length;
    }
    return { offsets, data: bytes };
  }
  if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
  let capacity = 0;
  for (let i = 0; i < length; i++) {
    const s = values[i];
    if (typeof s !== 'string') fail(`column ${name}: row ${i} is not a string`);
    capacity += s.length * 3; // a UTF-16 unit never needs more than 3 UTF-8 bytes
  }
  const bytes = new Uint8Array(capacity);
  let position = 0;
  for (let i = 0; i < length; i++) {
    position += encoder.encodeInto(values[i]!, bytes.subarray(position)).written;
    if (position > 0x7fffffff) fail(`column ${name}: more than 2 GiB of text`);
    offsets[i + 1] = position;
  }
  return { offsets, data: bytes.subarray(0, position) };
}

export function listFloat64Values(values: ListColumnValues, length: number, name: string, listSize?: number): { offsets: Int32Array; data: Float64Array } {
  const offsets = new Int32Array(length + 1);
  let flat: Float64Array;
  if (!Array.isArray(values) && 'width' in (values as object)) {
    const { values: v, width } = values as { values: ArrayLike<number>; width: number };
    if (listSize !== undefined && width !== listSize) fail(`column ${name}: rows must hold ${listSize} values, got width ${width}`);
    if (v.length !== width * length) fail(`column ${name}: expected ${width * length} values (${length} rows × ${width}), got ${v.length}`);
    flat = v instanceof Float64Array ? v : Float64Array.from(v);
    for (let i = 0; i <= length; i++) offsets[i] = i * width;
  } else {
    const rows = values as readonly (readonly number[] | Float64Array)[];
    if (rows.length !== length) fail(`column ${name}: expected ${length} rows, got ${rows.length}`);
    let total = 0;
    for (let i = 0; i < length; i++) {
      const row = rows[i]!;
      if (listSize !== undefined && row.length !== listSize) fail(`column ${name}: row ${i} has ${row.length} values, expected ${listSize}`);
      total += row.length;
      offsets[i + 1] = total;
    }
    flat = new Float64Array(total);
    for (let i = 0; i < length; i++) flat.set(rows[i]!, offsets[i]!);
  }
  return { offsets, data: flat };
}

function columnBuffer(spec: DatasetSchema['columns'][number], values: ColumnValues | undefined, length: number): ColumnBuffer {
  if (values === undefined) fail(`missing column ${spec.name}`);
  const kind: ColumnKind = spec.kind;
  switch (kind) {
    case 'int64':
      if (typeof values !== 'number' && !isArrayLike(values)) fail(`column ${spec.name}: expected integers`);
      return { kind, data: int64Values(values as ArrayLike<number> | number, length, spec.name) };
    case 'float64':
      if (typeof values !== 'number' && !isArrayLike(values)) fail(`column ${spec.name}: expected numbers`);
      return { kind, data: float64Values(values as ArrayLike<number> | number, length, spec.name) };
    case 'bool':
      if (typeof values !== 'boolean' && !isArrayLike(values)) fail(`column ${spec.name}: expected booleans`);
      return { kind, data: boolBits(values as ArrayLike<boolean> | boolean, length, spec.name) };
    case 'utf8':
      if (typeof values !== 'string' && !Array.isArray(values)) fail(`column ${spec.name}: expected strings`);
      return { kind, ...utf8Values(values as readonly string[] | string, length, spec.name) };
    case 'list<float64>':
      if (typeof values !== 'object' || values === null) fail(`column ${spec.name}: expected lists of numbers`);
      return { kind, ...listFloat64Values(values as ListColumnValues, length, spec.name, spec.listSize) };
  }
}

/**
 * Validates a batch against its dataset (exactly its columns: extra names are an error) and lays
 * out each column's buffers. Throws InvalidArgumentError (DE_INVALID_ARGUMENT) on a mismatch.
 * Typed arrays of the caller may be used as they are (not copied).
 */
export function columnBuffers(schema: DatasetSchema, batch: ColumnBatch): ColumnBuffers {
  const { length } = batch;
  if (!Number.isInteger(length) || length < 0) fail(`batch length must be a non-negative integer, got ${length}`);
  const known = new Set(schema.columns.map((c) => c.name));
  for (const name of Object.keys(batch.columns)) {
    if (!known.has(name)) fail(`dataset ${schema.name} has no column ${name}`);
  }
  return { length, columns: schema.columns.map((spec) => columnBuffer(spec, batch.columns[spec.name], length)) };
}

/**
 * The buffers to transfer with `buffers` to another thread. A typed array that is the caller's own
 * (or a view into a larger buffer) is first replaced by a copy of just its bytes, so that the transfer
 * neither detaches the caller's memory nor drags a larger buffer along.
 */
export function transferList(buffers: ColumnBuffers, batch: ColumnBatch): ArrayBuffer[] {
  const callers = new Set<ArrayBufferLike>();
  for (const v of Object.values(batch.columns)) {
    if (ArrayBuffer.isView(v)) callers.add(v.buffer);
    else if (typeof v === 'object' && v !== null && 'values' in v && ArrayBuffer.isView(v.values)) callers.add(v.values.buffer);
  }
  const out = new Set<ArrayBuffer>();
  for (const c of buffers.columns) {
    if (callers.has(c.data.buffer)) (c as { data: typeof c.data }).data = c.data.slice();
    out.add(c.data.buffer as ArrayBuffer);
    if ('offsets' in c) out.add(c.offsets.buffer as ArrayBuffer);
  }
  return [...out];
}
