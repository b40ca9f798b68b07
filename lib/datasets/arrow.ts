/**
 * Arrow columns built straight from typed arrays (makeData), never from row objects: a
 * million-row table stays well under a second. Strings are encoded once into one buffer with
 * hand-built offsets; a constant string column is encoded once and repeated.
 */
import { endianness } from 'node:os';

import { Bool, type Data, type DataType, Field, Float64, Int64, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Utf8 } from 'apache-arrow';

import { InvalidArgumentError } from '../errors.js';
import type { ColumnKind, ColumnSpec, DatasetSchema } from './schema.js';

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

const LITTLE_ENDIAN = endianness() === 'LE';
const TWO_POW_32 = 2 ** 32;

export function arrowTypeFor(spec: ColumnSpec): DataType {
  switch (spec.kind) {
    case 'int64':
      return new Int64();
    case 'float64':
      return new Float64();
    case 'bool':
      return new Bool();
    case 'utf8':
      return new Utf8();
    case 'list<float64>':
      return new List(new Field('element', new Float64(), true));
  }
}

/** The Arrow schema of a dataset: every field nullable, as pandas → pyarrow writes it. */
export function arrowSchemaFor(schema: DatasetSchema): Schema {
  return new Schema(schema.columns.map((c) => new Field(c.name, arrowTypeFor(c), true)));
}

function fail(message: string): never {
  throw new InvalidArgumentError(message, { op: 'buildRecordBatch' });
}

function isArrayLike(v: unknown): v is ArrayLike<unknown> {
  return typeof v === 'object' && v !== null && typeof (v as { length?: unknown }).length === 'number';
}

export function int64Data(values: ArrayLike<number> | BigInt64Array | number, length: number, name = 'int64'): Data<Int64> {
  if (values instanceof BigInt64Array) {
    if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
    return makeData({ type: new Int64(), length, data: values });
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
  return makeData({ type: new Int64(), length, data: out });
}

export function float64Data(values: ArrayLike<number> | number, length: number, name = 'float64'): Data<Float64> {
  let data: Float64Array;
  if (typeof values === 'number') {
    data = new Float64Array(length).fill(values);
  } else {
    if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
    data = values instanceof Float64Array ? values : Float64Array.from(values);
  }
  return makeData({ type: new Float64(), length, data });
}

export function boolData(values: ArrayLike<boolean | number> | boolean, length: number, name = 'bool'): Data<Bool> {
  const bits = new Uint8Array((length + 7) >> 3);
  if (typeof values === 'boolean') {
    if (values) for (let i = 0; i < length; i++) bits[i >> 3]! |= 1 << (i & 7);
  } else {
    if (values.length !== length) fail(`column ${name}: expected ${length} values, got ${values.length}`);
    for (let i = 0; i < length; i++) if (values[i]) bits[i >> 3]! |= 1 << (i & 7);
  }
  return makeData({ type: new Bool(), length, data: bits });
}

const encoder = new TextEncoder();

export function utf8Data(values: readonly string[] | string, length: number, name = 'utf8'): Data<Utf8> {
  const offsets = new Int32Array(length + 1);
  if (typeof values === 'string') {
    const one = encoder.encode(values);
    const bytes = new Uint8Array(one.length * length);
    for (let i = 0; i < length; i++) {
      bytes.set(one, i * one.length);
      offsets[i + 1] = (i + 1) * one.length;
    }
    return makeData({ type: new Utf8(), length, valueOffsets: offsets, data: bytes });
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
  return makeData({ type: new Utf8(), length, valueOffsets: offsets, data: bytes.subarray(0, position) });
}

export function listFloat64Data(values: ListColumnValues, length: number, spec: ColumnSpec): Data<List<Float64>> {
  const type = arrowTypeFor(spec) as List<Float64>;
  const offsets = new Int32Array(length + 1);
  let flat: Float64Array;
  if (!Array.isArray(values) && 'width' in (values as object)) {
    const { values: v, width } = values as { values: ArrayLike<number>; width: number };
    if (spec.listSize !== undefined && width !== spec.listSize) fail(`column ${spec.name}: rows must hold ${spec.listSize} values, got width ${width}`);
    if (v.length !== width * length) fail(`column ${spec.name}: expected ${width * length} values (${length} rows × ${width}), got ${v.length}`);
    flat = v instanceof Float64Array ? v : Float64Array.from(v);
    for (let i = 0; i <= length; i++) offsets[i] = i * width;
  } else {
    const rows = values as readonly (readonly number[] | Float64Array)[];
    if (rows.length !== length) fail(`column ${spec.name}: expected ${length} rows, got ${rows.length}`);
    let total = 0;
    for (let i = 0; i < length; i++) {
      const row = rows[i]!;
      if (spec.listSize !== undefined && row.length !== spec.listSize)
        fail(`column ${spec.name}: row ${i} has ${row.length} values, expected ${spec.listSize}`);
      total += row.length;
      offsets[i + 1] = total;
    }
    flat = new Float64Array(total);
    for (let i = 0; i < length; i++) flat.set(rows[i]!, offsets[i]!);
  }
  const child = makeData({ type: new Float64(), length: flat.length, data: flat });
  return makeData({ type, length, valueOffsets: offsets, child });
}

function columnData(spec: ColumnSpec, values: ColumnValues | undefined, length: number): Data {
  if (values === undefined) fail(`missing column ${spec.name}`);
  const kind: ColumnKind = spec.kind;
  switch (kind) {
    case 'int64':
      if (typeof values !== 'number' && !isArrayLike(values)) fail(`column ${spec.name}: expected integers`);
      return int64Data(values as ArrayLike<number> | number, length, spec.name);
    case 'float64':
      if (typeof values !== 'number' && !isArrayLike(values)) fail(`column ${spec.name}: expected numbers`);
      return float64Data(values as ArrayLike<number> | number, length, spec.name);
    case 'bool':
      if (typeof values !== 'boolean' && !isArrayLike(values)) fail(`column ${spec.name}: expected booleans`);
      return boolData(values as ArrayLike<boolean> | boolean, length, spec.name);
    case 'utf8':
      if (typeof values !== 'string' && !Array.isArray(values)) fail(`column ${spec.name}: expected strings`);
      return utf8Data(values as readonly string[] | string, length, spec.name);
    case 'list<float64>':
      if (typeof values !== 'object' || values === null) fail(`column ${spec.name}: expected lists of numbers`);
      return listFloat64Data(values as ListColumnValues, length, spec);
  }
}

/** Builds one Arrow record batch with exactly the dataset's columns (extra names are an error). */
export function buildRecordBatch(schema: DatasetSchema, batch: ColumnBatch): RecordBatch {
  const { length } = batch;
  if (!Number.isInteger(length) || length < 0) fail(`batch length must be a non-negative integer, got ${length}`);
  const known = new Set(schema.columns.map((c) => c.name));
  for (const name of Object.keys(batch.columns)) {
    if (!known.has(name)) fail(`dataset ${schema.name} has no column ${name}`);
  }
  const arrowSchema = arrowSchemaFor(schema);
  const children = schema.columns.map((spec) => columnData(spec, batch.columns[spec.name], length));
  const struct = makeData({ type: new Struct(arrowSchema.fields), length, children, nullCount: 0 });
  return new RecordBatch(arrowSchema, struct);
}

/** One batch as an Arrow IPC stream (schema + record batch), the form the Parquet thread encodes. */
export function recordBatchIpc(schema: DatasetSchema, batch: ColumnBatch): Uint8Array {
  return tableToIPC(new Table(arrowSchemaFor(schema), [buildRecordBatch(schema, batch)]), 'stream');
}
