/**
 * Parquet writing (apache-arrow + parquet-wasm) and reading back.
 *
 * Physical format as the original's pandas → pyarrow files (spec §4.2): SNAPPY, dictionary
 * encoding with PLAIN/RLE fallbacks, one row group for the sizes the pipeline produces, all
 * columns OPTIONAL, Arrow schema in the `ARROW:schema` key. Files are written atomically.
 *
 * `ParquetDatasetWriter` takes batches one at a time so that a later version can flush row groups
 * as they arrive (issue 7); today it keeps the batches and encodes them on `close()`.
 */
import { readFile } from 'node:fs/promises';

import { type RecordBatch, type Schema, Table, tableFromIPC, tableToIPC } from 'apache-arrow';
import {
  Compression,
  ParquetFile,
  readParquet,
  Table as WasmTable,
  writeParquet,
  WriterPropertiesBuilder,
  WriterVersion,
} from 'parquet-wasm';

import { DatasetWriteError, DidacticError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { arrowSchemaFor, buildRecordBatch, type ColumnBatch } from './arrow.js';
import type { DatasetSchema } from './schema.js';

export interface ParquetWriteOptions {
  /** Rows per row group. Default 1,048,576 (pyarrow's default): one row group per file here. */
  maxRowGroupSize?: number;
  /** Extra file-level key/value metadata. */
  keyValueMetadata?: ReadonlyMap<string, string>;
}

export interface ParquetWriteResult {
  path: string;
  rows: number;
  bytes: number;
}

/** Encodes Arrow record batches of one schema as a Parquet file in memory. */
export function encodeParquet(schema: Schema, batches: readonly RecordBatch[], options: ParquetWriteOptions = {}): Uint8Array {
  const table = new Table(schema, batches as RecordBatch[]);
  // V1 data pages, as pyarrow writes by default; SNAPPY as the original.
  let builder = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setWriterVersion(WriterVersion.V1)
    .setMaxRowGroupSize(options.maxRowGroupSize ?? 1024 * 1024);
  if (options.keyValueMetadata) builder = builder.setKeyValueMetadata(new Map(options.keyValueMetadata));
  const properties = builder.build();
  const wasmTable = WasmTable.fromIPCStream(tableToIPC(table, 'stream'));
  try {
    return writeParquet(wasmTable, properties);
  } finally {
    // writeParquet consumes the table and the properties; free() on a consumed object throws.
    try {
      wasmTable.free();
    } catch {
      /* already consumed */
    }
  }
}

/**
 * Collects batches of one dataset and writes them as one Parquet file, atomically, on close().
 * Nothing is written when no batch (or only empty batches) arrived unless `writeEmpty` is set —
 * the original writes no file for an empty dataset.
 */
export class ParquetDatasetWriter {
  readonly path: string;
  readonly schema: DatasetSchema;
  private readonly batches: RecordBatch[] = [];
  private rows = 0;
  private closed = false;
  private readonly options: ParquetWriteOptions;

  constructor(path: string, schema: DatasetSchema, options: ParquetWriteOptions = {}) {
    this.path = path;
    this.schema = schema;
    this.options = options;
  }

  get rowCount(): number {
    return this.rows;
  }

  /** Validates and converts a batch now, so a bad batch fails at the call that supplied it. */
  append(batch: ColumnBatch): void {
    if (this.closed) throw new DatasetWriteError(`${this.schema.name}: append after close`, { op: 'ParquetDatasetWriter.append' });
    if (batch.length === 0) return;
    this.batches.push(buildRecordBatch(this.schema, batch));
    this.rows += batch.length;
  }

  /** Writes the file; returns null (and writes nothing) for an empty dataset unless writeEmpty. */
  async close(writeEmpty = false): Promise<ParquetWriteResult | null> {
    if (this.closed) throw new DatasetWriteError(`${this.schema.name}: closed twice`, { op: 'ParquetDatasetWriter.close' });
    this.closed = true;
    if (this.rows === 0 && !writeEmpty) return null;
    let bytes: Uint8Array;
    try {
      bytes = encodeParquet(arrowSchemaFor(this.schema), this.batches, this.options);
    } catch (err) {
      throw new DatasetWriteError(`Could not encode ${this.schema.name} as Parquet: ${(err as Error).message}`, {
        cause: err,
        op: 'encodeParquet',
        details: { path: this.path },
      });
    } finally {
      this.batches.length = 0;
    }
    try {
      await writeFileAtomic(this.path, bytes, { op: `write ${this.schema.name}.parquet` });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw new DatasetWriteError(`Could not write ${this.schema.name} dataset: ${reason}`, {
        cause: err,
        op: 'writeParquet',
        details: { path: this.path, ...(err instanceof DidacticError ? err.details : {}) },
      });
    }
    return { path: this.path, rows: this.rows, bytes: bytes.byteLength };
  }

  /** Drops the collected batches without writing. */
  abort(): void {
    this.closed = true;
    this.batches.length = 0;
  }
}

/** Writes a whole dataset (one or more batches, e.g. one per stem) to `path`. */
export async function writeParquetDataset(
  path: string,
  schema: DatasetSchema,
  batches: readonly ColumnBatch[],
  options: ParquetWriteOptions & { writeEmpty?: boolean } = {},
): Promise<ParquetWriteResult | null> {
  const writer = new ParquetDatasetWriter(path, schema, options);
  try {
    for (const batch of batches) writer.append(batch);
  } catch (err) {
    writer.abort();
    throw err;
  }
  return writer.close(options.writeEmpty ?? false);
}

export interface ParquetColumnChunkInfo {
  path: string;
  compression: string;
  encodings: string[];
}

export interface ParquetFileInfo {
  createdBy: string | undefined;
  numRows: number;
  numRowGroups: number;
  /** Column chunks of the first row group, in file order (paths like `mfcc_mean.list.element`). */
  columns: ParquetColumnChunkInfo[];
  keyValueMetadata: Map<string, string>;
}

/** Reads a Parquet file into an Arrow table (tests, resume checks). */
export async function readParquetTable(path: string): Promise<Table> {
  const bytes = await readFile(path);
  const wasmTable = readParquet(bytes);
  return tableFromIPC(wasmTable.intoIPCStream());
}

/** File-level facts of a Parquet file: writer, row groups, per-column compression/encodings. */
export async function readParquetInfo(path: string): Promise<ParquetFileInfo> {
  const bytes = await readFile(path);
  const file = await ParquetFile.fromFile(new Blob([bytes]));
  const meta = file.metadata();
  const fileMeta = meta.fileMetadata();
  const groups = meta.rowGroups();
  const first = groups[0];
  const columns = first
    ? first.columns().map((c) => ({
        path: c.columnPath().join('.'),
        compression: Compression[c.compression()] ?? String(c.compression()),
        encodings: c.encodings().map(String),
      }))
    : [];
  const kv = new Map<string, string>();
  for (const [k, v] of fileMeta.keyValueMetadata() as Map<unknown, unknown>) kv.set(String(k), String(v));
  return {
    createdBy: fileMeta.createdBy(),
    numRows: fileMeta.numRows(),
    numRowGroups: meta.numRowGroups(),
    columns,
    keyValueMetadata: kv,
  };
}

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
