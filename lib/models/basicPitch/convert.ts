/**
 * TF.js graph model (the `@spotify/basic-pitch` npm package's model.json + weight shard) → ONNX.
 * Covers exactly the op types of the ICASSP 2022 graph (docs/models.md, "Basic Pitch"), one
 * converter per TF op type in `CONVERTERS`; names the input and outputs as the official nmp.onnx
 * does, so both load through the same contract.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

import { ModelError } from '../../errors.js';
import { buildModel, type InitializerSpec, type NodeSpec } from '../onnxBuilder.js';

interface TfAttr {
  i?: string;
  f?: number;
  b?: boolean;
  s?: string;
  type?: string;
  list?: { i?: string[]; s?: string[] };
}
interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}
interface TfModel {
  format: string;
  modelTopology: { node: TfNode[] };
  weightsManifest: { paths: string[]; weights: { name: string; shape: number[]; dtype: string }[] }[];
}
interface TfConst {
  shape: number[];
  dtype: string;
  data: Float32Array | Int32Array;
}

const INPUT = 'serving_default_input_2:0';
const OUTPUTS: Record<string, string> = {
  Identity: 'StatefulPartitionedCall:0',
  Identity_1: 'StatefulPartitionedCall:1',
  Identity_2: 'StatefulPartitionedCall:2',
};

const b64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
const ints = (a: TfAttr | undefined): number[] => (a?.list?.i ?? []).map(Number);

/** The ONNX graph under construction: nodes, initializers, and the TF constants they may use. */
class OnnxGraph {
  readonly nodes: NodeSpec[] = [];
  readonly inits: InitializerSpec[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(
    readonly consts: Map<string, TfConst>,
    readonly fail: (why: string) => never,
  ) {}

  /** A fresh name for an intermediate value or initializer. */
  tmp(base: string): string {
    return `${base}__${this.counter++}`;
  }

  /** Adds an int64 initializer and returns its name. */
  i64(name: string, values: number[], dims = [values.length]): string {
    this.inits.push({ name, dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  }

  /** The values of a TF constant (for inputs that ONNX takes as attributes or int64 initializers). */
  constValues(name: string): number[] {
    const c = this.consts.get(name);
    if (!c) return this.fail(`'${name}' must be a constant`);
    return Array.from(c.data);
  }

  /** The ONNX name of a TF input; a constant becomes an initializer on its first use. */
  ref(input: string): string {
    const name = input.replace(/:0$/, '');
    if (name === 'input_2') return INPUT;
    const c = this.consts.get(name);
    if (c && !this.used.has(name)) {
      this.used.add(name);
      if (c.dtype === 'float32') this.inits.push({ name, dims: c.shape, data: c.data as Float32Array });
      else this.i64(name, Array.from(c.data), c.shape);
    }
    return name;
  }

  push(node: NodeSpec): void {
    this.nodes.push(node);
  }
}

/** One TF node as a converter sees it: data inputs (control inputs dropped), output name, attributes. */
interface TfOp {
  name: string;
  op: string;
  inputs: string[];
  out: string;
  attr: Record<string, TfAttr>;
  /** The ONNX name of the first input. */
  x(): string;
}

type OpConverter = (g: OnnxGraph, n: TfOp) => void;

const skip: OpConverter = () => {};

// Same op name and one input in both formats.
const unary: OpConverter = (g, n) => g.push({ op: n.op, inputs: [n.x()], outputs: [n.out] });

const binary: OpConverter = (g, n) => g.push({ op: n.op === 'AddV2' ? 'Add' : n.op, inputs: [n.x(), g.ref(n.inputs[1]!)], outputs: [n.out] });

// x / y, 0 where y == 0.
const divNoNan: OpConverter = (g, n) => {
  const y = g.ref(n.inputs[1]!);
  const zero = g.tmp(`${n.name}/zero`);
  g.inits.push({ name: zero, dims: [], data: new Float32Array([0]) });
  const isZero = g.tmp(`${n.name}/eq`);
  const div = g.tmp(`${n.name}/div`);
  g.push({ op: 'Equal', inputs: [y, zero], outputs: [isZero] });
  g.push({ op: 'Div', inputs: [n.x(), y], outputs: [div] });
  g.push({ op: 'Where', inputs: [isZero, zero, div], outputs: [n.out] });
};

const pack: OpConverter = (g, n) => {
  const axis = Number(n.attr.axis?.i ?? 0);
  const parts = n.inputs.map((inp) => {
    const u = g.tmp(`${n.name}/unsq`);
    g.push({ op: 'Unsqueeze', inputs: [g.ref(inp), g.i64(g.tmp(`${n.name}/axes`), [axis])], outputs: [u] });
    return u;
  });
  g.push({ op: 'Concat', inputs: parts, outputs: [n.out], attributes: { axis } });
};

const reduceMinMax: OpConverter = (g, n) =>
  g.push({
    op: n.op === 'Min' ? 'ReduceMin' : 'ReduceMax',
    inputs: [n.x()],
    outputs: [n.out],
    attributes: { axes: g.constValues(n.inputs[1]!), keepdims: n.attr.keep_dims?.b ? 1 : 0 },
  });

// TF pads are [before, after] per axis; ONNX's are every axis' before, then every axis' after.
const pad: OpConverter = (g, n) => {
  const p = g.constValues(n.inputs[1]!);
  const r = p.length / 2;
  const pads = [...Array.from({ length: r }, (_, i) => p[2 * i]!), ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!)];
  if (n.op === 'MirrorPad' && b64(n.attr.mode?.s) !== 'REFLECT') g.fail(`MirrorPad mode ${b64(n.attr.mode?.s)} not supported`);
  g.push({
    op: 'Pad',
    inputs: [n.x(), g.i64(g.tmp(`${n.name}/pads`), pads)],
    outputs: [n.out],
    attributes: { mode: n.op === 'MirrorPad' ? 'reflect' : 'constant' },
  });
};

// Slice (stride 1 only), then Squeeze for shrink_axis_mask and Unsqueeze for new_axis_mask.
const stridedSlice: OpConverter = (g, n) => {
  const a = n.attr;
  const begin = g.constValues(n.inputs[1]!);
  const end = g.constValues(n.inputs[2]!);
  const strides = g.constValues(n.inputs[3]!);
  const bm = Number(a.begin_mask?.i ?? 0);
  const em = Number(a.end_mask?.i ?? 0);
  const nm = Number(a.new_axis_mask?.i ?? 0);
  const sm = Number(a.shrink_axis_mask?.i ?? 0);
  if (Number(a.ellipsis_mask?.i ?? 0) !== 0) g.fail('StridedSlice ellipsis_mask not supported');
  const starts: number[] = [],
    ends: number[] = [],
    axes: number[] = [],
    steps: number[] = [],
    squeeze: number[] = [],
    newAxes: number[] = [];
  let inAxis = 0,
    outAxis = 0;
  const BIG = 2 ** 53 - 1;
  for (let i = 0; i < begin.length; i++) {
    if (nm & (1 << i)) {
      newAxes.push(outAxis++);
      continue;
    }
    const s = strides[i]!;
    if (s !== 1) g.fail('StridedSlice with stride != 1 not supported');
    const b = bm & (1 << i) ? 0 : begin[i]!;
    let e = em & (1 << i) ? BIG : end[i]!;
    if (sm & (1 << i)) {
      e = b === -1 ? BIG : b + 1;
      squeeze.push(inAxis);
    } else {
      outAxis++;
    }
    starts.push(b);
    ends.push(e);
    axes.push(inAxis);
    steps.push(1);
    inAxis++;
  }
  let cur = g.tmp(`${n.name}/slice`);
  g.push({
    op: 'Slice',
    inputs: [
      n.x(),
      g.i64(g.tmp(`${n.name}/starts`), starts),
      g.i64(g.tmp(`${n.name}/ends`), ends),
      g.i64(g.tmp(`${n.name}/axes`), axes),
      g.i64(g.tmp(`${n.name}/steps`), steps),
    ],
    outputs: [cur],
  });
  if (squeeze.length) {
    const next = g.tmp(`${n.name}/squeeze`);
    g.push({ op: 'Squeeze', inputs: [cur, g.i64(g.tmp(`${n.name}/sqaxes`), squeeze)], outputs: [next] });
    cur = next;
  }
  if (newAxes.length) {
    const next = g.tmp(`${n.name}/unsqueeze`);
    g.push({ op: 'Unsqueeze', inputs: [cur, g.i64(g.tmp(`${n.name}/nwaxes`), newAxes)], outputs: [next] });
    cur = next;
  }
  g.push({ op: 'Identity', inputs: [cur], outputs: [n.out] });
};

// NHWC Conv2D (optionally fused with BiasAdd and Relu): transposed to NCHW around an ONNX Conv
// whose filter is the HWIO constant reordered to OIHW.
const conv2d: OpConverter = (g, n) => {
  const a = n.attr;
  if (b64(a.data_format?.s) !== 'NHWC') g.fail(`${n.name}: data_format must be NHWC`);
  const fused = (a.fused_ops?.list?.s ?? []).map(b64);
  if (n.op === '_FusedConv2D' && (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu'))) {
    g.fail(`${n.name}: fused ops ${fused.join(',')} not supported`);
  }
  const wName = n.inputs[1]!.replace(/:0$/, '');
  const w = g.consts.get(wName);
  if (w?.dtype !== 'float32' || w.shape.length !== 4) return g.fail(`${n.name}: filter must be a float32 HWIO constant`);
  const [H, W, I, O] = w.shape as [number, number, number, number];
  const oihw = new Float32Array(w.data.length);
  for (let h = 0; h < H; h++)
    for (let ww = 0; ww < W; ww++)
      for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) oihw[((o * I + i) * H + h) * W + ww] = w.data[((h * W + ww) * I + i) * O + o]!;
  const wOnnx = `${wName}__oihw`;
  if (!g.inits.some((t) => t.name === wOnnx)) g.inits.push({ name: wOnnx, dims: [O, I, H, W], data: oihw });
  const st = ints(a.strides),
    dl = ints(a.dilations);
  const nchw = g.tmp(`${n.name}/nchw`);
  g.push({ op: 'Transpose', inputs: [n.x()], outputs: [nchw], attributes: { perm: [0, 3, 1, 2] } });
  const convIn = [nchw, wOnnx];
  if (n.op === '_FusedConv2D') convIn.push(g.ref(n.inputs[2]!));
  const padding = b64(a.padding?.s);
  if (padding !== 'SAME' && padding !== 'VALID') g.fail(`${n.name}: padding ${padding} not supported`);
  const conv = g.tmp(`${n.name}/conv`);
  g.push({
    op: 'Conv',
    inputs: convIn,
    outputs: [conv],
    attributes: {
      strides: [st[1]!, st[2]!],
      dilations: [dl[1]!, dl[2]!],
      kernel_shape: [H, W],
      auto_pad: padding === 'SAME' ? 'SAME_UPPER' : 'VALID',
    },
  });
  let last = conv;
  if (fused[1] === 'Relu') {
    last = g.tmp(`${n.name}/relu`);
    g.push({ op: 'Relu', inputs: [conv], outputs: [last] });
  }
  g.push({ op: 'Transpose', inputs: [last], outputs: [n.out], attributes: { perm: [0, 2, 3, 1] } });
};

/** The converter of each TF op type of the Basic Pitch graph; any other op type is refused. */
const CONVERTERS: Record<string, OpConverter> = {
  // constants become initializers where they are used; the input is the graph input
  Const: skip,
  Placeholder: skip,
  Identity: unary,
  Neg: unary,
  Log: unary,
  Sqrt: unary,
  Sigmoid: unary,
  Shape: unary,
  Add: binary,
  AddV2: binary,
  Sub: binary,
  Mul: binary,
  Square: (g, n) => g.push({ op: 'Mul', inputs: [n.x(), n.x()], outputs: [n.out] }),
  DivNoNan: divNoNan,
  Reshape: (g, n) => g.push({ op: 'Reshape', inputs: [n.x(), g.ref(n.inputs[1]!)], outputs: [n.out] }),
  Transpose: (g, n) => g.push({ op: 'Transpose', inputs: [n.x()], outputs: [n.out], attributes: { perm: g.constValues(n.inputs[1]!) } }),
  ExpandDims: (g, n) => g.push({ op: 'Unsqueeze', inputs: [n.x(), g.i64(g.tmp(`${n.name}/axes`), g.constValues(n.inputs[1]!))], outputs: [n.out] }),
  Squeeze: (g, n) => g.push({ op: 'Squeeze', inputs: [n.x(), g.i64(g.tmp(`${n.name}/axes`), ints(n.attr.squeeze_dims))], outputs: [n.out] }),
  ConcatV2: (g, n) => {
    const axis = g.constValues(n.inputs[n.inputs.length - 1]!)[0]!;
    g.push({ op: 'Concat', inputs: n.inputs.slice(0, -1).map((i) => g.ref(i)), outputs: [n.out], attributes: { axis } });
  },
  Pack: pack,
  Sum: (g, n) =>
    g.push({
      op: 'ReduceSum',
      inputs: [n.x(), g.i64(g.tmp(`${n.name}/axes`), g.constValues(n.inputs[1]!))],
      outputs: [n.out],
      attributes: { keepdims: n.attr.keep_dims?.b ? 1 : 0 },
    }),
  Min: reduceMinMax,
  Max: reduceMinMax,
  Pad: pad,
  MirrorPad: pad,
  StridedSlice: stridedSlice,
  Conv2D: conv2d,
  _FusedConv2D: conv2d,
};

// Weights: decoded sequentially in manifest order, 4 bytes per element.
function readWeights(model: TfModel, modelJsonPath: string, fail: (why: string) => never): Map<string, TfConst> {
  const consts = new Map<string, TfConst>();
  for (const group of model.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => readFileSync(join(dirname(modelJsonPath), p))));
    let off = 0;
    for (const w of group.weights) {
      const n = w.shape.reduce((a, b) => a * b, 1);
      const bytes = new Uint8Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + n * 4));
      if (bytes.byteLength !== n * 4) fail(`weight shard too short at '${w.name}'`);
      if (w.dtype === 'float32') consts.set(w.name, { shape: w.shape, dtype: w.dtype, data: new Float32Array(bytes.buffer) });
      else if (w.dtype === 'int32') consts.set(w.name, { shape: w.shape, dtype: w.dtype, data: new Int32Array(bytes.buffer) });
      else fail(`weight dtype ${w.dtype} not supported`);
      off += n * 4;
    }
  }
  return consts;
}

/** Converts model.json (with its shards beside it) to ONNX bytes (opset 17). */
export function convertTfjsGraph(modelJsonPath: string): Uint8Array {
  const fail = (why: string): never => {
    throw new ModelError('DE_MODEL_INVALID', `convertTfjsGraph: ${modelJsonPath}: ${why}`, { op: 'convertTfjsGraph' });
  };
  let model: TfModel;
  try {
    model = JSON.parse(readFileSync(modelJsonPath, 'utf8')) as TfModel;
  } catch (err) {
    return fail(`cannot read the TF.js graph (${(err as Error).message})`);
  }
  if (model.format !== 'graph-model') fail(`format '${model.format}' is not 'graph-model'`);
  const g = new OnnxGraph(readWeights(model, modelJsonPath, fail), fail);
  for (const node of model.modelTopology.node) {
    const convert = Object.hasOwn(CONVERTERS, node.op) ? CONVERTERS[node.op] : undefined;
    if (!convert) return fail(`op ${node.op} (${node.name}) not supported by this converter`);
    const inputs = (node.input ?? []).filter((x) => !x.startsWith('^'));
    convert(g, {
      name: node.name,
      op: node.op,
      inputs,
      out: OUTPUTS[node.name] ?? node.name,
      attr: node.attr ?? {},
      x: () => g.ref(inputs[0]!),
    });
  }
  return buildModel({
    nodes: g.nodes,
    inputs: [{ name: INPUT, shape: ['batch', 43844, 1] }],
    outputs: [
      { name: OUTPUTS.Identity!, shape: ['batch', 172, 264] },
      { name: OUTPUTS.Identity_1!, shape: ['batch', 172, 88] },
      { name: OUTPUTS.Identity_2!, shape: ['batch', 172, 88] },
    ],
    initializers: g.inits,
    opset: 17,
    producer: 'didactic-engine basic-pitch converter',
    metadata: { source: '@spotify/basic-pitch model.json (TF.js graph)' },
  });
}
