/**
 * An Arrow IPC stream (schema message, one record batch, end-of-stream) written straight from a
 * batch's buffers (columns.ts) with the flatbuffers builder, for the few types the datasets use.
 * The Parquet thread hands it to parquet-wasm; apache-arrow itself (about 150 modules, some 0.2 s
 * of CPU to load) is then never loaded to write a file. Layout per the Arrow columnar format
 * (format/Schema.fbs, Message.fbs): metadata version V5, little-endian, every field nullable with no
 * nulls (empty validity buffers), buffers 8-byte aligned, no compression.
 */
import { Builder } from 'flatbuffers';

import type { ColumnBuffer, ColumnBuffers } from './columns.js';
import type { ColumnSpec, DatasetSchema } from './schema.js';

// Enum values and vtable slots of Schema.fbs / Message.fbs.
const METADATA_V5 = 4;
const HEADER_SCHEMA = 1;
const HEADER_RECORD_BATCH = 3;
const TYPE_INT = 2;
const TYPE_FLOATING_POINT = 3;
const TYPE_UTF8 = 5;
const TYPE_BOOL = 6;
const TYPE_LIST = 12;
const PRECISION_DOUBLE = 2;
const CONTINUATION = 0xffffffff;

function emptyTable(b: Builder): number {
  b.startObject(0);
  return b.endObject();
}

function offsetVector(b: Builder, offsets: number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

/** A Field table: `kind` of one of the datasets' column kinds (a list's element is a nullable float64 named `element`). */
function field(b: Builder, name: string, kind: ColumnSpec['kind']): number {
  const children = kind === 'list<float64>' ? [field(b, 'element', 'float64')] : [];
  const nameOffset = b.createString(name);
  let typeType: number;
  let type: number;
  switch (kind) {
    case 'int64':
      typeType = TYPE_INT;
      b.startObject(2);
      b.addFieldInt32(0, 64, 0); // bitWidth
      b.addFieldInt8(1, 1, 0); // is_signed
      type = b.endObject();
      break;
    case 'float64':
      typeType = TYPE_FLOATING_POINT;
      b.startObject(1);
      b.addFieldInt16(0, PRECISION_DOUBLE, 0);
      type = b.endObject();
      break;
    case 'bool':
      typeType = TYPE_BOOL;
      type = emptyTable(b);
      break;
    case 'utf8':
      typeType = TYPE_UTF8;
      type = emptyTable(b);
      break;
    case 'list<float64>':
      typeType = TYPE_LIST;
      type = emptyTable(b);
      break;
  }
  const childrenOffset = offsetVector(b, children);
  b.startObject(7);
  b.addFieldOffset(0, nameOffset, 0); // name
  b.addFieldInt8(1, 1, 0); // nullable
  b.addFieldInt8(2, typeType, 0); // type_type
  b.addFieldOffset(3, type, 0); // type
  b.addFieldOffset(5, childrenOffset, 0); // children
  return b.endObject();
}

/** One encapsulated message: continuation marker, metadata length, the Message flatbuffer padded to 8 bytes. */
function message(headerType: number, header: (b: Builder) => number, bodyLength: number): Uint8Array {
  const b = new Builder(1024);
  const headerOffset = header(b);
  b.startObject(5);
  b.addFieldInt16(0, METADATA_V5, 0); // version
  b.addFieldInt8(1, headerType, 0); // header_type
  b.addFieldOffset(2, headerOffset, 0); // header
  b.addFieldInt64(3, BigInt(bodyLength), BigInt(0)); // bodyLength
  b.finish(b.endObject());
  const fb = b.asUint8Array();
  const padded = (fb.length + 7) & ~7;
  const out = new Uint8Array(8 + padded);
  const view = new DataView(out.buffer);
  view.setUint32(0, CONTINUATION, true);
  view.setInt32(4, padded, true);
  out.set(fb, 8);
  return out;
}

/** The buffers of one column in IPC order (validity first: empty, as there are no nulls), and its field nodes. */
function columnLayout(c: ColumnBuffer, length: number): { nodes: [number, number][]; buffers: Uint8Array[] } {
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const none = new Uint8Array(0);
  switch (c.kind) {
    case 'int64':
    case 'float64':
    case 'bool':
      return { nodes: [[length, 0]], buffers: [none, bytes(c.data)] };
    case 'utf8':
      return { nodes: [[length, 0]], buffers: [none, bytes(c.offsets), bytes(c.data)] };
    case 'list<float64>':
      return {
        nodes: [
          [length, 0],
          [c.data.length, 0],
        ],
        buffers: [none, bytes(c.offsets), none, bytes(c.data)],
      };
  }
}

/** The batch as an Arrow IPC stream: what tableToIPC(table, 'stream') of the same table describes. */
export function ipcStream(schema: DatasetSchema, buffers: ColumnBuffers): Uint8Array {
  const schemaMessage = message(
    HEADER_SCHEMA,
    (b) => {
      const fields = offsetVector(
        b,
        schema.columns.map((c) => field(b, c.name, c.kind)),
      );
      b.startObject(4);
      b.addFieldInt16(0, 0, 0); // endianness: Little
      b.addFieldOffset(1, fields, 0);
      return b.endObject();
    },
    0,
  );

  const nodes: [number, number][] = [];
  const body: Uint8Array[] = [];
  buffers.columns.forEach((c) => {
    const layout = columnLayout(c, buffers.length);
    nodes.push(...layout.nodes);
    body.push(...layout.buffers);
  });
  const spans: [number, number][] = [];
  let bodyLength = 0;
  for (const buf of body) {
    spans.push([bodyLength, buf.byteLength]);
    bodyLength += (buf.byteLength + 7) & ~7;
  }
  const batchMessage = message(
    HEADER_RECORD_BATCH,
    (b) => {
      // Vectors of structs are written back to front, each struct's fields last to first.
      b.startVector(16, nodes.length, 8);
      for (let i = nodes.length - 1; i >= 0; i--) {
        b.prep(8, 16);
        b.writeInt64(BigInt(nodes[i]![1])); // null_count
        b.writeInt64(BigInt(nodes[i]![0])); // length
      }
      const nodesOffset = b.endVector();
      b.startVector(16, spans.length, 8);
      for (let i = spans.length - 1; i >= 0; i--) {
        b.prep(8, 16);
        b.writeInt64(BigInt(spans[i]![1])); // length
        b.writeInt64(BigInt(spans[i]![0])); // offset
      }
      const buffersOffset = b.endVector();
      b.startObject(5);
      b.addFieldInt64(0, BigInt(buffers.length), BigInt(0)); // length
      b.addFieldOffset(1, nodesOffset, 0);
      b.addFieldOffset(2, buffersOffset, 0);
      return b.endObject();
    },
    bodyLength,
  );

  const out = new Uint8Array(schemaMessage.length + batchMessage.length + bodyLength + 8);
  out.set(schemaMessage, 0);
  out.set(batchMessage, schemaMessage.length);
  const bodyStart = schemaMessage.length + batchMessage.length;
  for (let i = 0; i < body.length; i++) out.set(body[i]!, bodyStart + spans[i]![0]);
  // End of stream: a continuation marker and a zero length.
  new DataView(out.buffer).setUint32(bodyStart + bodyLength, CONTINUATION, true);
  return out;
}
