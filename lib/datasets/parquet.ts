/**
 * Parquet writing (apache-arrow + parquet-wasm) and reading back.
 *
 * Physical format as the original's pandas → pyarrow files: SNAPPY, dictionary
 * encoding with PLAIN/RLE fallbacks, one row group for the sizes the pipeline produces, all
 * columns OPTIONAL, Arrow schema in the `ARROW:schema` key. Files are written atomically.
 * Writing goes through StreamingParquetWriter (streaming.ts): row groups are encoded and flushed
 * as batches arrive. Both directions run parquet-wasm on the Parquet thread (parquetWorker.ts); the
 * main thread loads apache-arrow only when a table is read back.
 */
import { readFile } from 'node:fs/promises';

import type { Table } from 'apache-arrow';

import type { ColumnBatch } from './columns.js';
import { parquetRequest } from './parquetThread.js';
import type { DatasetSchema } from './schema.js';
import { StreamingParquetWriter, type StreamingWriterOptions } from './streaming.js';

import type { ParquetWriteResult } from './streaming.js';
export type { ParquetWriteResult };

/**
 * Writes a whole dataset (one or more batches, e.g. one per stem) to `path` through the same
 * streaming writer the pipeline uses; no file (null) for an empty dataset, as in the original.
 * @throws WriteError DE_WRITE_FAILED (DatasetWriteError).
 */
export async function writeParquetDataset(
  path: string,
  schema: DatasetSchema,
  batches: readonly ColumnBatch[],
  options: StreamingWriterOptions = {},
): Promise<ParquetWriteResult | null> {
  const writer = new StreamingParquetWriter(path, schema, options);
  try {
    for (const batch of batches) await writer.append(batch);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  return writer.close();
}

export interface ParquetColumnChunkInfo {
  path: string;
  compression: string;
  encodings: string[];
}

/** Footer facts of a Parquet file: writer, rows, row groups, the first row group's column chunks and key-value metadata. */
export interface ParquetFileInfo {
  createdBy: string | undefined;
  numRows: number;
  numRowGroups: number;
  /** Column chunks of the first row group, in file order (paths like `mfcc_mean.list.element`). */
  columns: ParquetColumnChunkInfo[];
  keyValueMetadata: Map<string, string>;
}

/** A file's bytes and the buffer to transfer to the Parquet thread (a copy when the buffer is shared, e.g. pooled). */
async function fileBytes(path: string): Promise<{ bytes: Uint8Array; transfer: ArrayBuffer[] }> {
  const read = await readFile(path);
  const bytes = read.byteOffset === 0 && read.byteLength === read.buffer.byteLength ? read : new Uint8Array(read);
  return { bytes, transfer: [bytes.buffer as ArrayBuffer] };
}

/** Reads a Parquet file into an Arrow table (tests, resume checks, reports). The decode runs on the Parquet thread. */
export async function readParquetTable(path: string): Promise<Table> {
  const { bytes, transfer } = await fileBytes(path);
  const ipc = await parquetRequest<Uint8Array>({ op: 'read', bytes }, transfer);
  const { tableFromIPC } = await import('apache-arrow');
  return tableFromIPC(ipc);
}

/** File-level facts of a Parquet file: writer, row groups, per-column compression/encodings. */
export async function readParquetInfo(path: string): Promise<ParquetFileInfo> {
  const { bytes, transfer } = await fileBytes(path);
  return parquetRequest<ParquetFileInfo>({ op: 'info', bytes }, transfer);
}

/** checkParquetDataset's verdict: whether the file is complete with the expected schema, its rows, and each problem found. */
export interface DatasetCheck {
  ok: boolean;
  rows: number;
  problems: string[];
}

/**
 * Whether a Parquet file on disk is a complete, readable dataset with exactly `schema`'s columns,
 * types and nullability (e.g. for `--resume` deciding that a song's outputs are valid).
 */
export async function checkParquetDataset(path: string, schema: DatasetSchema): Promise<DatasetCheck> {
  let table: Table;
  try {
    table = await readParquetTable(path);
  } catch (err) {
    return { ok: false, rows: 0, problems: [`unreadable: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const problems: string[] = [];
  const { arrowSchemaFor } = await import('./arrow.js');
  const expected = arrowSchemaFor(schema).fields;
  const actual = table.schema.fields;
  if (actual.map((f) => f.name).join(',') !== expected.map((f) => f.name).join(',')) {
    problems.push(`columns [${actual.map((f) => f.name).join(', ')}] differ from [${expected.map((f) => f.name).join(', ')}]`);
  } else {
    actual.forEach((field, i) => {
      const want = expected[i]!;
      if (String(field.type) !== String(want.type)) problems.push(`${field.name}: type ${String(field.type)}, expected ${String(want.type)}`);
      if (!field.nullable) problems.push(`${field.name}: not nullable`);
    });
  }
  return { ok: problems.length === 0, rows: table.numRows, problems };
}
