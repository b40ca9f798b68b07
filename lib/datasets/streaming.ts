/**
 * Streaming Parquet writer: batches are encoded into row groups and flushed to a temp file as
 * they arrive (parquet-wasm's transformParquetStream over Rust's ArrowWriter), so memory holds at
 * most one row group, not the dataset. close() renames the finished file into place; abort() or
 * a failure removes the temp file. Same physical format as writeParquetDataset (SNAPPY, V1 pages,
 * nullable columns, ARROW:schema).
 */
import { createWriteStream } from 'node:fs';
import { open, rename, rm } from 'node:fs/promises';
import { once } from 'node:events';

import { type RecordBatch as ArrowRecordBatch, Table, tableToIPC } from 'apache-arrow';
import { Compression, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder, WriterVersion } from 'parquet-wasm';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';

import { DatasetWriteError } from '../errors.js';
import { tempPathFor } from '../util/atomic.js';
import { arrowSchemaFor, buildRecordBatch, type ColumnBatch } from './arrow.js';
import type { DatasetSchema } from './schema.js';

/** A written dataset file. */
export interface ParquetWriteResult {
  path: string;
  rows: number;
  bytes: number;
}

export interface StreamingWriterOptions {
  /** Rows per row group (a row group is flushed once this many rows are buffered). Default 65,536. */
  maxRowGroupSize?: number;
}

/**
 * Writes a dataset row group by row group into a temporary file and renames it into place on close,
 * so a failed or aborted write leaves no partial file. Write failures throw WriteError (DE_WRITE_FAILED).
 */
export class StreamingParquetWriter {
  readonly path: string;
  readonly schema: DatasetSchema;
  readonly #temp: string;
  #controller!: ReadableStreamDefaultController<WasmRecordBatch>;
  #pump: Promise<number> | null = null;
  #rows = 0;
  #state: 'open' | 'closed' | 'aborted' = 'open';
  readonly #options: StreamingWriterOptions;

  constructor(path: string, schema: DatasetSchema, options: StreamingWriterOptions = {}) {
    this.path = path;
    this.schema = schema;
    this.#temp = tempPathFor(path);
    this.#options = options;
  }

  get rowCount(): number {
    return this.#rows;
  }

  /** Starts the encoder lazily, so an empty dataset never creates a file. */
  #start(): void {
    const input = new ReadableStream<WasmRecordBatch>({
      start: (controller) => {
        this.#controller = controller;
      },
    });
    const properties = new WriterPropertiesBuilder()
      .setCompression(Compression.SNAPPY)
      .setWriterVersion(WriterVersion.V1)
      .setMaxRowGroupSize(this.#options.maxRowGroupSize ?? 65_536)
      .build();
    // Not awaited here: the encoder pulls the first batch before it resolves.
    const encoded = transformParquetStream(input, properties);
    this.#pump = (async () => {
      const output = await encoded;
      const file = createWriteStream(this.#temp, { flags: 'wx' });
      let bytes = 0;
      const reader = output.getReader();
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          bytes += (value as Uint8Array).byteLength;
          if (!file.write(value)) await once(file, 'drain');
        }
      } finally {
        file.end();
        await once(file, 'close');
      }
      return bytes;
    })();
    // Surface encoder failures at close(), not as unhandled rejections.
    this.#pump.catch(() => {});
  }

  /** Adds rows; they are encoded and written out as row groups fill. */
  async append(batch: ColumnBatch): Promise<void> {
    if (this.#state !== 'open') throw new DatasetWriteError(`${this.schema.name}: append after close`, { op: 'append' });
    if (batch.length === 0) return;
    const arrow: ArrowRecordBatch = buildRecordBatch(this.schema, batch);
    if (!this.#pump) this.#start();
    const table = WasmTable.fromIPCStream(tableToIPC(new Table(arrowSchemaFor(this.schema), [arrow]), 'stream'));
    for (const rb of table.recordBatches()) this.#controller.enqueue(rb);
    this.#rows += batch.length;
  }

  /** Finishes the file and moves it into place; null (no file) when no rows were appended. */
  async close(): Promise<ParquetWriteResult | null> {
    if (this.#state !== 'open') throw new DatasetWriteError(`${this.schema.name}: closed twice`, { op: 'close' });
    this.#state = 'closed';
    if (!this.#pump) return null;
    this.#controller.close();
    try {
      const bytes = await this.#pump;
      const handle = await open(this.#temp, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(this.#temp, this.path);
      return { path: this.path, rows: this.#rows, bytes };
    } catch (err) {
      await rm(this.#temp, { force: true });
      throw new DatasetWriteError(`Could not write ${this.schema.name} dataset: ${(err as Error).message}`, {
        cause: err,
        op: 'writeParquet',
        details: { path: this.path },
      });
    }
  }

  /** Stops writing and deletes the temporary file; the destination is left untouched. Harmless after close(). */
  async abort(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'aborted';
    if (!this.#pump) return;
    this.#controller.error(new Error('aborted'));
    await this.#pump.catch(() => {});
    await rm(this.#temp, { force: true });
  }
}
