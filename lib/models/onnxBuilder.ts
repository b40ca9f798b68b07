/**
 * A small ONNX graph builder over onnx-proto: used to generate test and stand-in models in code
 * (no downloads) and by the model converters.
 */
import { createRequire } from 'node:module';

import type { onnx as OnnxNs } from 'onnx-proto';

const require = createRequire(import.meta.url);
let onnxNs: typeof OnnxNs | undefined;
/**
 * onnx-proto (with protobufjs, ~60 modules), loaded on the first model built or parsed: a pipeline
 * run that converts nothing never loads it. CommonJS, so through require (predictable interop).
 */
function protos(): typeof OnnxNs {
  onnxNs ??= (require('onnx-proto') as { onnx: typeof OnnxNs }).onnx;
  return onnxNs;
}

export type Dim = number | string;

/** A graph input or output: name, element type and shape (numbers, or strings for dynamic dimensions). */
export interface ValueInfo {
  name: string;
  /** Element type: 1 = FLOAT, 7 = INT64 (onnx.TensorProto.DataType). */
  elemType?: number;
  shape: Dim[];
}

export type AttributeValue = number | number[] | string | { ints: number[] } | { floats: number[] } | { float: number };

/** One ONNX node: operator, input and output names, optional name, domain and attributes. */
export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attributes?: Record<string, AttributeValue>;
}

/** A constant tensor of the graph: name, dimensions and float32 or int64 data. */
export interface InitializerSpec {
  name: string;
  dims: number[];
  /** Float32 or Int64 (BigInt64Array) data. */
  data: Float32Array | BigInt64Array;
}

/** A whole ONNX model for buildModel: nodes, inputs, outputs, initializers, opset and metadata. */
export interface ModelSpec {
  nodes: NodeSpec[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers?: InitializerSpec[];
  opset?: number;
  graphName?: string;
  producer?: string;
  metadata?: Record<string, string>;
}

/** ONNX element type float32 (onnx.TensorProto.DataType.FLOAT). */
export const FLOAT = 1;
/** ONNX element type int64 (onnx.TensorProto.DataType.INT64). */
export const INT64 = 7;

function valueInfo(v: ValueInfo): OnnxNs.IValueInfoProto {
  return {
    name: v.name,
    type: {
      tensorType: {
        elemType: v.elemType ?? FLOAT,
        shape: { dim: v.shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, value: AttributeValue): OnnxNs.IAttributeProto {
  const T = protos().AttributeProto.AttributeType;
  if (typeof value === 'number') {
    return Number.isInteger(value) ? { name, type: T.INT, i: value } : { name, type: T.FLOAT, f: value };
  }
  if (typeof value === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: T.INTS, ints: value };
  if ('ints' in value) return { name, type: T.INTS, ints: value.ints };
  if ('floats' in value) return { name, type: T.FLOATS, floats: value.floats };
  return { name, type: T.FLOAT, f: value.float };
}

function initializer(spec: InitializerSpec): OnnxNs.ITensorProto {
  const isFloat = spec.data instanceof Float32Array;
  return {
    name: spec.name,
    dims: spec.dims,
    dataType: isFloat ? FLOAT : INT64,
    rawData: new Uint8Array(spec.data.buffer, spec.data.byteOffset, spec.data.byteLength),
  };
}

/** Serialises a model to ONNX protobuf bytes. */
export function buildModel(spec: ModelSpec): Uint8Array {
  const onnx = protos();
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: spec.producer ?? 'didactic-engine',
    opsetImport: [{ domain: '', version: spec.opset ?? 17 }],
    metadataProps: Object.entries(spec.metadata ?? {}).map(([key, value]) => ({ key, value })),
    graph: {
      name: spec.graphName ?? 'graph',
      node: spec.nodes.map((n, i) => ({
        opType: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `${n.op}_${i}`,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attributes ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: spec.inputs.map(valueInfo),
      output: spec.outputs.map(valueInfo),
      initializer: (spec.initializers ?? []).map(initializer),
    },
  });
  return onnx.ModelProto.encode(model).finish();
}

/** Parses ONNX bytes (for inspection in tests and converters). */
export function parseModel(bytes: Uint8Array): OnnxNs.ModelProto {
  return protos().ModelProto.decode(bytes);
}
