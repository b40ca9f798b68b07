/**
 * Streaming Parquet writer: batches are encoded into row groups and flushed to a temp file as
 * they arrive (parquet-wasm's transformParquetStream over Rust's ArrowWriter), so memory holds at
 * most one row group, not the dataset. Batches are validated and laid out as Arrow buffers here
 * (columns.ts) and transferred to the Parquet thread (parquetWorker.ts), which writes them as Arrow
 * IPC (ipc.ts) and encodes them off the main event loop (apache-arrow is not loaded to write); append()
 * resolves once the encoder has taken the batch. close() renames the finished file into place; abort() or a failure removes the temp
 * file. Same physical format as writeParquetDataset (SNAPPY, V1 pages, nullable columns, ARROW:schema).
 */
import { rename, rm } from 'node:fs/promises';

import { DatasetWriteError } from '../errors.js';
import { tempPathFor } from '../util/atomic.js';
import { type ColumnBatch, columnBuffers, transferList } from './columns.js';
import { parquetRequest, warmParquetThread } from './parquetThread.js';
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

let nextStreamId = 1;

/**
 * Writes a dataset row group by row group into a temporary file and renames it into place on close,
 * so a failed or aborted write leaves no partial file. Write failures throw WriteError (DE_WRITE_FAILED);
 * a batch that does not fit the schema, InvalidArgumentError (DE_INVALID_ARGUMENT).
 */
export class StreamingParquetWriter {
  readonly path: string;
  readonly schema: DatasetSchema;
  readonly #temp: string;
  readonly #id = nextStreamId++;
  /** Whether a valid batch was sent (the thread opens the stream on the first one). */
  #started = false;
  #rows = 0;
  #state: 'open' | 'closed' | 'aborted' = 'open';
  readonly #options: StreamingWriterOptions;

  constructor(path: string, schema: DatasetSchema, options: StreamingWriterOptions = {}) {
    this.path = path;
    this.schema = schema;
    this.#temp = tempPathFor(path);
    this.#options = options;
    // The thread's start-up (WebAssembly compilation) overlaps with whatever runs before the first append.
    warmParquetThread();
  }

  get rowCount(): number {
    return this.#rows;
  }

  /** Adds rows; they are encoded and written out as row groups fill. The encoder starts lazily, so an empty dataset never creates a file. */
  async append(batch: ColumnBatch): Promise<void> {
    if (this.#state !== 'open') throw new DatasetWriteError(`${this.schema.name}: append after close`, { op: 'append' });
    if (batch.length === 0) return;
    // Built (and validated) here, before the stream starts: an invalid first batch creates no file.
    const columns = columnBuffers(this.schema, batch);
    const transfer = transferList(columns, batch);
    const open = this.#started ? undefined : { temp: this.#temp, maxRowGroupSize: this.#options.maxRowGroupSize ?? 65_536 };
    this.#started = true;
    try {
      await parquetRequest({ op: 'append', id: this.#id, schema: this.schema, columns, ...(open ? { open } : {}) }, transfer);
    } catch (err) {
      // The Parquet thread failed (e.g. it died): a write failure like any other.
      throw new DatasetWriteError(`Could not write ${this.schema.name} dataset: ${(err as Error).message}`, {
        cause: err,
        op: 'append',
        details: { path: this.path },
      });
    }
    this.#rows += batch.length;
  }

  /** Finishes the file and moves it into place; null (no file) when no rows were appended. */
  async close(): Promise<ParquetWriteResult | null> {
    if (this.#state !== 'open') throw new DatasetWriteError(`${this.schema.name}: closed twice`, { op: 'close' });
    this.#state = 'closed';
    if (!this.#started) return null;
    try {
      const bytes = await parquetRequest<number>({ op: 'close', id: this.#id });
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
    if (!this.#started) return;
    await parquetRequest({ op: 'abort', id: this.#id }).catch(() => {});
    await rm(this.#temp, { force: true });
  }
}
