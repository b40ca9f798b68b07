/**
 * The Parquet thread: every parquet-wasm call of the process runs here, on a worker thread, so that neither the 5 MB WebAssembly module's
 * compilation nor an encode holds the main event loop. Started by parquetThread.ts; one per process.
 *
 * Protocol (one reply per request, matched by `req`): `append` (a batch's validated column buffers,
 * written here as an Arrow IPC stream (ipc.ts); the first one of a stream opens it),
 * `close`, `abort`, `read` (file bytes → Arrow IPC stream), `info` (file bytes → footer facts).
 * Appends are acknowledged once the encoder has taken the batch (backpressure: the caller holds at
 * most one batch per stream in flight, the encoder at most one row group).
 */
import { open } from 'node:fs/promises';
import { parentPort, threadId } from 'node:worker_threads';

import { Compression, ParquetFile, readParquet, Table as WasmTable, transformParquetStream, WriterPropertiesBuilder, WriterVersion } from 'parquet-wasm';
import type { RecordBatch as WasmRecordBatch } from 'parquet-wasm';

import type { ColumnBuffers } from './columns.js';
import { ipcStream } from './ipc.js';
import type { DatasetSchema } from './schema.js';

/** A request to the Parquet thread. */
export type ParquetRequest =
  | { op: 'append'; req: number; id: number; schema: DatasetSchema; columns: ColumnBuffers; open?: { temp: string; maxRowGroupSize: number } }
  | { op: 'close' | 'abort'; req: number; id: number }
  | { op: 'read' | 'info'; req: number; bytes: Uint8Array };

/** An error crossing the thread boundary: enough to rebuild a DidacticError (code) or a plain Error. */
export interface SerializedError {
  name: string;
  message: string;
  code?: string;
}

/** The Parquet thread's answer to request `req`; `thread` is the threadId that did the work. */
export type ParquetReply = { req: number; thread: number; ok: true; value: unknown } | { req: number; thread: number; ok: false; error: SerializedError };

interface OpenStream {
  controller: ReadableStreamDefaultController<WasmRecordBatch>;
  /** Bytes written once the file is complete and synced. */
  pump: Promise<number>;
  settled: boolean;
  /** Appends waiting for the encoder to take their batches. */
  waiters: Array<() => void>;
}

const streams = new Map<number, OpenStream>();

function startStream(temp: string, maxRowGroupSize: number): OpenStream {
  const waiters: Array<() => void> = [];
  let controller!: ReadableStreamDefaultController<WasmRecordBatch>;
  // highWaterMark 1: pull() runs when the encoder has taken every queued batch.
  const input = new ReadableStream<WasmRecordBatch>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => {
        for (const wake of waiters.splice(0)) wake();
      },
    },
    { highWaterMark: 1 },
  );
  const properties = new WriterPropertiesBuilder()
    .setCompression(Compression.SNAPPY)
    .setWriterVersion(WriterVersion.V1)
    .setMaxRowGroupSize(maxRowGroupSize)
    .build();
  // Not awaited here: the encoder pulls the first batch before it resolves.
  const encoded = transformParquetStream(input, properties);
  const stream: OpenStream = { controller, pump: Promise.resolve(0), settled: false, waiters };
  stream.pump = (async () => {
    const output = await encoded;
    const file = await open(temp, 'wx');
    let bytes = 0;
    const reader = output.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = value as Uint8Array;
        // A write may be short; the rest follows.
        for (let offset = 0; offset < chunk.byteLength; ) offset += (await file.write(chunk, offset, chunk.byteLength - offset)).bytesWritten;
        bytes += chunk.byteLength;
      }
      await file.sync();
    } finally {
      await file.close();
    }
    return bytes;
  })();
  // A failed encoder must not leave appends waiting; its error is reported by close().
  stream.pump
    .finally(() => {
      stream.settled = true;
      for (const wake of waiters.splice(0)) wake();
    })
    .catch(() => {});
  return stream;
}

async function append(msg: Extract<ParquetRequest, { op: 'append' }>): Promise<null> {
  let stream = streams.get(msg.id);
  if (!stream) {
    if (!msg.open) throw new Error(`stream ${msg.id} was never opened`);
    stream = startStream(msg.open.temp, msg.open.maxRowGroupSize);
    streams.set(msg.id, stream);
  }
  const table = WasmTable.fromIPCStream(ipcStream(msg.schema, msg.columns));
  const s = stream;
  if (s.settled) return null; // the encoder failed: close() reports it
  try {
    for (const rb of table.recordBatches()) s.controller.enqueue(rb);
  } catch {
    return null; // the input stream errored with the encoder: close() reports it
  }
  // Acknowledged once the encoder has taken the batch (or failed).
  if ((s.controller.desiredSize ?? 1) <= 0 && !s.settled) await new Promise<void>((wake) => s.waiters.push(wake));
  return null;
}

async function close(id: number): Promise<number> {
  const stream = streams.get(id);
  if (!stream) throw new Error(`stream ${id} was never opened`);
  streams.delete(id);
  stream.controller.close();
  return stream.pump;
}

async function abort(id: number): Promise<null> {
  const stream = streams.get(id);
  if (!stream) return null;
  streams.delete(id);
  stream.controller.error(new Error('aborted'));
  await stream.pump.catch(() => {});
  return null;
}

function info(bytes: Uint8Array) {
  return ParquetFile.fromFile(new Blob([bytes])).then((file) => {
    const meta = file.metadata();
    const fileMeta = meta.fileMetadata();
    const first = meta.rowGroups()[0];
    const columns = first
      ? first.columns().map((c) => ({
          path: c.columnPath().join('.'),
          compression: Compression[c.compression()] ?? String(c.compression()),
          encodings: c.encodings().map(String),
        }))
      : [];
    const keyValueMetadata = new Map<string, string>();
    for (const [k, v] of fileMeta.keyValueMetadata() as Map<unknown, unknown>) keyValueMetadata.set(String(k), String(v));
    return { createdBy: fileMeta.createdBy(), numRows: fileMeta.numRows(), numRowGroups: meta.numRowGroups(), columns, keyValueMetadata };
  });
}

function serialize(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'Error', message: String(err) };
}

async function handle(msg: ParquetRequest): Promise<{ value: unknown; transfer: ArrayBuffer[] }> {
  switch (msg.op) {
    case 'append':
      return { value: await append(msg), transfer: [] };
    case 'close':
      return { value: await close(msg.id), transfer: [] };
    case 'abort':
      return { value: await abort(msg.id), transfer: [] };
    case 'read': {
      const ipc = readParquet(msg.bytes).intoIPCStream();
      return { value: ipc, transfer: [ipc.buffer as ArrayBuffer] };
    }
    case 'info':
      return { value: await info(msg.bytes), transfer: [] };
  }
}

parentPort?.on('message', (msg: ParquetRequest) => {
  handle(msg).then(
    ({ value, transfer }) => parentPort!.postMessage({ req: msg.req, thread: threadId, ok: true, value } satisfies ParquetReply, transfer),
    (err: unknown) => parentPort!.postMessage({ req: msg.req, thread: threadId, ok: false, error: serialize(err) } satisfies ParquetReply),
  );
});
