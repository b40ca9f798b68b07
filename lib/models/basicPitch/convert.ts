/**
 * TF.js graph model (the `@spotify/basic-pitch` npm package's model.json + weight shard) → ONNX.
 * Covers exactly the op types of the ICASSP 2022 graph (docs/models.md, "Basic Pitch"); names the
 * input and outputs as the official nmp.onnx does, so both load through the same contract.
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

const INPUT = 'serving_default_input_2:0';
const OUTPUTS: Record<string, string> = {
  Identity: 'StatefulPartitionedCall:0',
  Identity_1: 'StatefulPartitionedCall:1',
  Identity_2: 'StatefulPartitionedCall:2',
};

const b64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');
const ints = (a: TfAttr | undefined): number[] => (a?.list?.i ?? []).map(Number);

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
  // Weights: decoded sequentially in manifest order, 4 bytes per element.
  const consts = new Map<string, { shape: number[]; dtype: string; data: Float32Array | Int32Array }>();
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
  const nodes: NodeSpec[] = [];
  const inits: InitializerSpec[] = [];
  const used = new Set<string>();
  let counter = 0;
  const tmp = (base: string): string => `${base}__${counter++}`;
  const i64 = (name: string, values: number[], dims = [values.length]): string => {
    inits.push({ name, dims, data: BigInt64Array.from(values.map((v) => BigInt(v))) });
    return name;
  };
  const constValues = (name: string): number[] => {
    const c = consts.get(name);
    if (!c) return fail(`'${name}' must be a constant`);
    return Array.from(c.data);
  };
  const ref = (input: string): string => {
    const name = input.replace(/:0$/, '');
    if (name === 'input_2') return INPUT;
    if (consts.has(name) && !used.has(name)) {
      used.add(name);
      const c = consts.get(name)!;
      if (c.dtype === 'float32') inits.push({ name, dims: c.shape, data: c.data as Float32Array });
      else i64(name, Array.from(c.data), c.shape);
    }
    return name;
  };
  for (const n of model.modelTopology.node) {
    const inputs = (n.input ?? []).filter((x) => !x.startsWith('^'));
    const out = OUTPUTS[n.name] ?? n.name;
    const a = n.attr ?? {};
    const x = (): string => ref(inputs[0]!);
    switch (n.op) {
      case 'Const':
      case 'Placeholder':
        break;
      case 'Identity':
      case 'Neg':
      case 'Log':
      case 'Sqrt':
      case 'Sigmoid':
      case 'Shape':
        nodes.push({ op: n.op, inputs: [x()], outputs: [out] });
        break;
      case 'Add':
      case 'AddV2':
      case 'Sub':
      case 'Mul':
        nodes.push({ op: n.op === 'AddV2' ? 'Add' : n.op, inputs: [x(), ref(inputs[1]!)], outputs: [out] });
        break;
      case 'Square':
        nodes.push({ op: 'Mul', inputs: [x(), x()], outputs: [out] });
        break;
      case 'DivNoNan': {
        const y = ref(inputs[1]!);
        const zero = tmp(`${n.name}/zero`);
        inits.push({ name: zero, dims: [], data: new Float32Array([0]) });
        const isZero = tmp(`${n.name}/eq`);
        const div = tmp(`${n.name}/div`);
        nodes.push({ op: 'Equal', inputs: [y, zero], outputs: [isZero] });
        nodes.push({ op: 'Div', inputs: [x(), y], outputs: [div] });
        nodes.push({ op: 'Where', inputs: [isZero, zero, div], outputs: [out] });
        break;
      }
      case 'Reshape':
        nodes.push({ op: 'Reshape', inputs: [x(), ref(inputs[1]!)], outputs: [out] });
        break;
      case 'Transpose':
        nodes.push({ op: 'Transpose', inputs: [x()], outputs: [out], attributes: { perm: constValues(inputs[1]!) } });
        break;
      case 'ExpandDims':
        nodes.push({ op: 'Unsqueeze', inputs: [x(), i64(tmp(`${n.name}/axes`), constValues(inputs[1]!))], outputs: [out] });
        break;
      case 'Squeeze':
        nodes.push({ op: 'Squeeze', inputs: [x(), i64(tmp(`${n.name}/axes`), ints(a.squeeze_dims))], outputs: [out] });
        break;
      case 'ConcatV2': {
        const axis = constValues(inputs[inputs.length - 1]!)[0]!;
        nodes.push({ op: 'Concat', inputs: inputs.slice(0, -1).map(ref), outputs: [out], attributes: { axis } });
        break;
      }
      case 'Pack': {
        const axis = Number(a.axis?.i ?? 0);
        const parts = inputs.map((inp) => {
          const u = tmp(`${n.name}/unsq`);
          nodes.push({ op: 'Unsqueeze', inputs: [ref(inp), i64(tmp(`${n.name}/axes`), [axis])], outputs: [u] });
          return u;
        });
        nodes.push({ op: 'Concat', inputs: parts, outputs: [out], attributes: { axis } });
        break;
      }
      case 'Sum':
        nodes.push({
          op: 'ReduceSum',
          inputs: [x(), i64(tmp(`${n.name}/axes`), constValues(inputs[1]!))],
          outputs: [out],
          attributes: { keepdims: a.keep_dims?.b ? 1 : 0 },
        });
        break;
      case 'Min':
      case 'Max':
        nodes.push({
          op: n.op === 'Min' ? 'ReduceMin' : 'ReduceMax',
          inputs: [x()],
          outputs: [out],
          attributes: { axes: constValues(inputs[1]!), keepdims: a.keep_dims?.b ? 1 : 0 },
        });
        break;
      case 'Pad':
      case 'MirrorPad': {
        const p = constValues(inputs[1]!);
        const r = p.length / 2;
        const pads = [...Array.from({ length: r }, (_, i) => p[2 * i]!), ...Array.from({ length: r }, (_, i) => p[2 * i + 1]!)];
        if (n.op === 'MirrorPad' && b64(a.mode?.s) !== 'REFLECT') fail(`MirrorPad mode ${b64(a.mode?.s)} not supported`);
        nodes.push({
          op: 'Pad',
          inputs: [x(), i64(tmp(`${n.name}/pads`), pads)],
          outputs: [out],
          attributes: { mode: n.op === 'MirrorPad' ? 'reflect' : 'constant' },
        });
        break;
      }
      case 'StridedSlice': {
        const begin = constValues(inputs[1]!);
        const end = constValues(inputs[2]!);
        const strides = constValues(inputs[3]!);
        const bm = Number(a.begin_mask?.i ?? 0);
        const em = Number(a.end_mask?.i ?? 0);
        const nm = Number(a.new_axis_mask?.i ?? 0);
        const sm = Number(a.shrink_axis_mask?.i ?? 0);
        if (Number(a.ellipsis_mask?.i ?? 0) !== 0) fail('StridedSlice ellipsis_mask not supported');
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
          if (s !== 1) fail('StridedSlice with stride != 1 not supported');
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
        let cur = tmp(`${n.name}/slice`);
        nodes.push({
          op: 'Slice',
          inputs: [
            x(),
            i64(tmp(`${n.name}/starts`), starts),
            i64(tmp(`${n.name}/ends`), ends),
            i64(tmp(`${n.name}/axes`), axes),
            i64(tmp(`${n.name}/steps`), steps),
          ],
          outputs: [cur],
        });
        if (squeeze.length) {
          const next = tmp(`${n.name}/squeeze`);
          nodes.push({ op: 'Squeeze', inputs: [cur, i64(tmp(`${n.name}/sqaxes`), squeeze)], outputs: [next] });
          cur = next;
        }
        if (newAxes.length) {
          const next = tmp(`${n.name}/unsqueeze`);
          nodes.push({ op: 'Unsqueeze', inputs: [cur, i64(tmp(`${n.name}/nwaxes`), newAxes)], outputs: [next] });
          cur = next;
        }
        nodes.push({ op: 'Identity', inputs: [cur], outputs: [out] });
        break;
      }
      case 'Conv2D':
      case '_FusedConv2D': {
        if (b64(a.data_format?.s) !== 'NHWC') fail(`${n.name}: data_format must be NHWC`);
        const fused = (a.fused_ops?.list?.s ?? []).map(b64);
        if (n.op === '_FusedConv2D' && (fused[0] !== 'BiasAdd' || fused.length > 2 || (fused[1] && fused[1] !== 'Relu'))) {
          fail(`${n.name}: fused ops ${fused.join(',')} not supported`);
        }
        const wName = inputs[1]!.replace(/:0$/, '');
        const w = consts.get(wName);
        if (w?.dtype !== 'float32' || w.shape.length !== 4) return fail(`${n.name}: filter must be a float32 HWIO constant`);
        const [H, W, I, O] = w.shape as [number, number, number, number];
        const oihw = new Float32Array(w.data.length);
        for (let h = 0; h < H; h++)
          for (let ww = 0; ww < W; ww++)
            for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) oihw[((o * I + i) * H + h) * W + ww] = w.data[((h * W + ww) * I + i) * O + o]!;
        const wOnnx = `${wName}__oihw`;
        if (!inits.some((t) => t.name === wOnnx)) inits.push({ name: wOnnx, dims: [O, I, H, W], data: oihw });
        const st = ints(a.strides),
          dl = ints(a.dilations);
        const nchw = tmp(`${n.name}/nchw`);
        nodes.push({ op: 'Transpose', inputs: [x()], outputs: [nchw], attributes: { perm: [0, 3, 1, 2] } });
        const convIn = [nchw, wOnnx];
        if (n.op === '_FusedConv2D') convIn.push(ref(inputs[2]!));
        const pad = b64(a.padding?.s);
        if (pad !== 'SAME' && pad !== 'VALID') fail(`${n.name}: padding ${pad} not supported`);
        const conv = tmp(`${n.name}/conv`);
        nodes.push({
          op: 'Conv',
          inputs: convIn,
          outputs: [conv],
          attributes: { strides: [st[1]!, st[2]!], dilations: [dl[1]!, dl[2]!], kernel_shape: [H, W], auto_pad: pad === 'SAME' ? 'SAME_UPPER' : 'VALID' },
        });
        let last = conv;
        if (fused[1] === 'Relu') {
          last = tmp(`${n.name}/relu`);
          nodes.push({ op: 'Relu', inputs: [conv], outputs: [last] });
        }
        nodes.push({ op: 'Transpose', inputs: [last], outputs: [out], attributes: { perm: [0, 2, 3, 1] } });
        break;
      }
      default:
        fail(`op ${n.op} (${n.name}) not supported by this converter`);
    }
  }
  return buildModel({
    nodes,
    inputs: [{ name: INPUT, shape: ['batch', 43844, 1] }],
    outputs: [
      { name: OUTPUTS.Identity!, shape: ['batch', 172, 264] },
      { name: OUTPUTS.Identity_1!, shape: ['batch', 172, 88] },
      { name: OUTPUTS.Identity_2!, shape: ['batch', 172, 88] },
    ],
    initializers: inits,
    opset: 17,
    producer: 'didactic-engine basic-pitch converter',
    metadata: { source: '@spotify/basic-pitch model.json (TF.js graph)' },
  });
}
