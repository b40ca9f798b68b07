/**
 * Arrow data from a batch's buffers (columns.ts lays them out, validated, from typed arrays, never
 * from row objects: a million-row table stays well under a second), and the dataset schemas as
 * Arrow schemas (checkParquetDataset). Writing does not load this module: the Parquet thread writes
 * the IPC stream itself (ipc.ts), which the tests hold to this module's tableToIPC.
 */
import { Bool, type Data, type DataType, Field, Float64, Int64, List, makeData, RecordBatch, Schema, Struct, Table, tableToIPC, Utf8 } from 'apache-arrow';

import { type ColumnBatch, type ColumnBuffer, type ColumnBuffers, columnBuffers } from './columns.js';
import type { ColumnSpec, DatasetSchema } from './schema.js';

export type { ColumnBatch, ColumnValues, ListColumnValues } from './columns.js';

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

function columnData(spec: ColumnSpec, column: ColumnBuffer, length: number): Data {
  switch (column.kind) {
    case 'int64':
      return makeData({ type: new Int64(), length, data: column.data });
    case 'float64':
      return makeData({ type: new Float64(), length, data: column.data });
    case 'bool':
      return makeData({ type: new Bool(), length, data: column.data });
    case 'utf8':
      return makeData({ type: new Utf8(), length, valueOffsets: column.offsets, data: column.data });
    case 'list<float64>': {
      const child = makeData({ type: new Float64(), length: column.data.length, data: column.data });
      return makeData({ type: arrowTypeFor(spec) as List<Float64>, length, valueOffsets: column.offsets, child });
    }
  }
}

/** One Arrow record batch from buffers laid out by columnBuffers() for this dataset. */
export function recordBatchFromBuffers(schema: DatasetSchema, buffers: ColumnBuffers): RecordBatch {
  const { length } = buffers;
  const arrowSchema = arrowSchemaFor(schema);
  const children = schema.columns.map((spec, i) => columnData(spec, buffers.columns[i]!, length));
  const struct = makeData({ type: new Struct(arrowSchema.fields), length, children, nullCount: 0 });
  return new RecordBatch(arrowSchema, struct);
}

/** Builds one Arrow record batch with exactly the dataset's columns (extra names are an error). */
export function buildRecordBatch(schema: DatasetSchema, batch: ColumnBatch): RecordBatch {
  return recordBatchFromBuffers(schema, columnBuffers(schema, batch));
}

/** Buffers as an Arrow IPC stream (schema + record batch), the form parquet-wasm reads. */
export function ipcFromBuffers(schema: DatasetSchema, buffers: ColumnBuffers): Uint8Array {
  return tableToIPC(new Table(arrowSchemaFor(schema), [recordBatchFromBuffers(schema, buffers)]), 'stream');
}

/** One batch as an Arrow IPC stream (schema + record batch). */
export function recordBatchIpc(schema: DatasetSchema, batch: ColumnBatch): Uint8Array {
  return ipcFromBuffers(schema, columnBuffers(schema, batch));
}
