/**
 * What the checkpoint converters share: the committed weightless graph decoded, with its metadata
 * (the architecture it was made for and the weight mapping, as JSON under fixed keys).
 */
import { createRequire } from 'node:module';

import type { onnx as OnnxNs } from 'onnx-proto';

import { ModelError } from '../../errors.js';

const require = createRequire(import.meta.url);
/** onnx-proto's protobuf classes (a CommonJS package). */
export const { onnx } = require('onnx-proto') as { onnx: typeof OnnxNs };

/** A converter's refusal: DE_MODEL_INVALID naming `op`. */
export function invalid(op: string, message: string, details: Record<string, unknown> = {}): ModelError {
  return new ModelError('DE_MODEL_INVALID', `${op}: ${message}`, { op, details });
}

/** A decoded weightless graph: the model, its metadata, and a reader of one JSON metadata value. */
export interface WeightlessGraph {
  model: OnnxNs.ModelProto;
  meta: Map<string, string>;
  /** The metadata value under `key`, parsed; DE_MODEL_INVALID when the graph has none. */
  json(key: string): unknown;
}

/** Decodes a weightless graph; DE_MODEL_INVALID when it is not an ONNX model. */
export function readWeightlessGraph(graph: Uint8Array, op: string): WeightlessGraph {
  let model: OnnxNs.ModelProto;
  try {
    model = onnx.ModelProto.decode(graph);
  } catch (e) {
    throw invalid(op, 'the weightless graph is not an ONNX model', { cause: String(e) });
  }
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const json = (key: string): unknown => {
    const v = meta.get(key);
    if (v === undefined) throw invalid(op, `the graph has no ${key} metadata`);
    return JSON.parse(v);
  };
  return { model, meta, json };
}
