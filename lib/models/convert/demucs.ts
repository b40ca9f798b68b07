/**
 * Demucs checkpoints → the ONNX contract of docs/models.md, in Node. The network graph of each
 * architecture is committed without weights (models/graphs/, made by scripts/models/demucs_graph.py
 * from the MIT demucs sources); this fills its initialisers from the checkpoints by name, after
 * checking the model class, the architecture arguments and every tensor's name, shape and dtype.
 */
import { isDeepStrictEqual } from 'node:util';

import type { onnx as OnnxNs } from 'onnx-proto';

import { invalid, onnx, readWeightlessGraph } from './graph.js';
import type { DemucsPackage, Tensor } from './checkpoint.js';

/**
 * Constructor arguments that do not change the exported network or its weights' shapes
 * (initialisation, training, optimiser and Wiener-filter settings that htdemucs' cac path never uses);
 * the others must equal the graph's.
 */
const IGNORED_KWARGS = new Set([
  'wiener_iters',
  'end_iters',
  'wiener_residual',
  'dconv_init',
  'rescale',
  'emb_smooth',
  't_dropout',
  't_lr',
  't_weight_decay',
  't_sin_random_shift',
  't_cape_augment',
  't_mask_random_seed',
  'use_train_segment',
]);

/** What a weightless graph declares: how many member checkpoints it takes and what it needs from each. */
export interface DemucsGraphInfo {
  klass: string;
  members: number;
  kwargs: Record<string, unknown>;
  sources: string[];
  /** Initialiser count to fill. */
  tensors: number;
}

interface Parsed {
  model: OnnxNs.ModelProto;
  meta: Map<string, string>;
  mapping: Record<string, [number, string]>;
  info: DemucsGraphInfo;
  defaults: Record<string, unknown>;
}

function parseGraph(graph: Uint8Array, op: string): Parsed {
  const { model, meta, json } = readWeightlessGraph(graph, op);
  const mapping = json('didactic_weights') as Record<string, [number, string]>;
  const kwargs = json('demucs_kwargs') as Record<string, unknown>;
  return {
    model,
    meta,
    mapping,
    defaults: json('demucs_defaults') as Record<string, unknown>,
    info: {
      klass: meta.get('demucs_klass') ?? '',
      members: Number(meta.get('demucs_members') ?? 1),
      kwargs,
      sources: (meta.get('sources') ?? '').split(','),
      tensors: Object.keys(mapping).length,
    },
  };
}

/** The architecture a weightless graph was made for (class, members, resolved constructor arguments). */
export function demucsGraphInfo(graph: Uint8Array, op = 'convert'): DemucsGraphInfo {
  return parseGraph(graph, op).info;
}

/** `[]` and null both mean "none" for list arguments (the training config writes `multi_freqs: []`). */
function normal(v: unknown): unknown {
  if (Array.isArray(v) && v.length === 0) return null;
  if (typeof v === 'string' && /^-?\d+\/\d+$/.test(v)) {
    const [n, d] = v.split('/').map(Number);
    return n! / d!;
  }
  return v;
}

/** Checks a package's class and arguments against the graph's; throws DE_MODEL_INVALID naming the first difference. */
export function checkDemucsArchitecture(pkg: DemucsPackage, graph: DemucsGraphInfo, defaults: Record<string, unknown>, op: string, member = 0): void {
  const where = graph.members > 1 ? ` (bag member ${member})` : '';
  if (pkg.klass !== graph.klass) {
    throw invalid(op, `checkpoint${where} is a ${pkg.klass}, the graph is a ${graph.klass}`, { klass: pkg.klass });
  }
  if (pkg.args.length) throw invalid(op, `checkpoint${where} has positional constructor arguments; Demucs packages use keywords`);
  for (const key of Object.keys(pkg.kwargs)) {
    if (!(key in graph.kwargs)) throw invalid(op, `checkpoint${where} has an unknown constructor argument ${key}`, { argument: key });
  }
  for (const [key, want] of Object.entries(graph.kwargs)) {
    if (IGNORED_KWARGS.has(key)) continue;
    const got = key in pkg.kwargs ? pkg.kwargs[key] : defaults[key];
    if (!isDeepStrictEqual(normal(got), normal(want))) {
      throw invalid(op, `checkpoint${where}: architecture argument ${key} is ${JSON.stringify(got)}, the graph has ${JSON.stringify(want)}`, {
        argument: key,
        got,
        want,
      });
    }
  }
}

/**
 * Sets one weightless initialiser's data from a checkpoint tensor after checking its shape, its
 * dtype (a float tensor for a float initialiser) and that every value is finite; throws
 * DE_MODEL_INVALID naming `label` otherwise. Shared by the Demucs and Beat This converters.
 */
export function fillInitialiser(init: OnnxNs.ITensorProto, tensor: Tensor, label: string, key: string, op: string): void {
  const dims = (init.dims ?? []).map(Number);
  if (!isDeepStrictEqual(tensor.shape, dims)) {
    throw invalid(op, `tensor ${label} has shape [${tensor.shape}], the graph needs [${dims}]`, { tensor: key, shape: tensor.shape, want: dims });
  }
  if (init.dataType !== onnx.TensorProto.DataType.FLOAT || !(tensor.data instanceof Float32Array)) {
    throw invalid(op, `tensor ${label} is ${tensor.dtype}; the graph needs a float tensor (float16/float32/bfloat16 in the checkpoint)`, {
      tensor: key,
      dtype: tensor.dtype,
    });
  }
  for (let i = 0; i < tensor.data.length; i++) {
    if (!Number.isFinite(tensor.data[i]!)) throw invalid(op, `tensor ${label} holds a non-finite value at ${i}`, { tensor: key });
  }
  init.rawData = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
}

/** Options of convertDemucs: the operation name carried on errors. */
export interface ConvertDemucsOptions {
  op?: string;
}

/**
 * Fills a weightless Demucs graph with the tensors of its member packages (one, or a bag's in
 * order) and returns the ONNX model bytes. Missing, extra or mis-shaped tensors, a different class or
 * different architecture arguments are refused with DE_MODEL_INVALID naming them.
 */
export function convertDemucs(graph: Uint8Array, packages: DemucsPackage[], options: ConvertDemucsOptions = {}): Uint8Array {
  const op = options.op ?? 'convert';
  const parsed = parseGraph(graph, op);
  const { model, mapping, info } = parsed;
  if (packages.length !== info.members) {
    throw invalid(op, `the graph takes ${info.members} checkpoint(s), got ${packages.length}`, { members: info.members });
  }
  for (const [i, pkg] of packages.entries()) checkDemucsArchitecture(pkg, info, parsed.defaults, op, i);
  const wanted = new Map<string, string>(); // "member:key" → initialiser
  for (const [init, [member, key]] of Object.entries(mapping)) wanted.set(`${member}:${key}`, init);
  // State tensors the network never reads: required in the checkpoint (as load_state_dict would), not filled.
  const unused = JSON.parse(parsed.meta.get('unused_state') ?? '[]') as string[];
  for (const name of unused) {
    const [member, key] = [Number(name.slice(0, name.indexOf(':'))), name.slice(name.indexOf(':') + 1)];
    if (!packages[member]?.state.has(key)) throw invalid(op, `checkpoint lacks the tensor ${key}`, { tensor: key });
    wanted.set(name, '');
  }
  packages.forEach((pkg, i) => {
    for (const key of pkg.state.keys()) {
      if (!wanted.has(`${i}:${key}`)) throw invalid(op, `checkpoint has an extra tensor ${key}${info.members > 1 ? ` (member ${i})` : ''}`, { tensor: key });
    }
  });
  let filled = 0;
  for (const init of model.graph?.initializer ?? []) {
    const hit = mapping[init.name ?? ''];
    if (!hit) continue;
    const [member, key] = hit;
    const tensor = packages[member]!.state.get(key);
    const label = `${key}${info.members > 1 ? ` (member ${member})` : ''}`;
    if (!tensor) throw invalid(op, `checkpoint lacks the tensor ${label}`, { tensor: key });
    fillInitialiser(init, tensor, label, key, op);
    filled++;
  }
  if (filled !== Object.keys(mapping).length) throw invalid(op, 'the graph names initialisers it does not hold');
  // The architecture metadata stays (it documents what was converted); the map of names is dropped.
  model.metadataProps = (model.metadataProps ?? []).filter((p) => p.key !== 'didactic_weights' && p.key !== 'producer');
  model.metadataProps.push({ key: 'producer', value: `didactic-engine models fetch (graph: ${parsed.meta.get('producer') ?? '?'})` });
  return onnx.ModelProto.encode(model).finish();
}

/**
 * A bag of models (htdemucs_ft) as one graph, from the weightless graph of its member architecture:
 * the member network once per member (every tensor and node name prefixed `m<i>/`, the inputs
 * shared), then per source the weighted mean of the members' outputs, with the weights normalised
 * per source as demucs.apply.apply_model does (the overlap-add is linear, so combining per segment
 * is the same). The result is again weightless, its initialisers mapped to member `i`'s state.
 */
export function composeDemucsBag(member: Uint8Array, weights: number[][], options: { op?: string; name?: string } = {}): Uint8Array {
  const op = options.op ?? 'convert';
  const { model, mapping, meta, info } = parseGraph(member, op);
  if (info.members !== 1) throw invalid(op, 'a bag is composed from a one-member graph');
  const S = info.sources.length;
  if (!weights.length || weights.some((w) => w.length !== S || w.some((v) => !Number.isFinite(v) || v < 0))) {
    throw invalid(op, `bag weights must be [members][${S}] non-negative numbers`);
  }
  const totals = info.sources.map((_, s) => weights.reduce((a, w) => a + w[s]!, 0));
  if (totals.some((t) => t <= 0)) throw invalid(op, 'every source needs a positive total bag weight');
  const g = model.graph!;
  const shared = new Set((g.input ?? []).map((i) => i.name ?? ''));
  const [xOut, xtOut] = (g.output ?? []).map((o) => o.name ?? '');
  const nodes: OnnxNs.INodeProto[] = [];
  const inits: OnnxNs.ITensorProto[] = [];
  const newMapping: Record<string, [number, string]> = {};
  const unused: string[] = [];
  const baseUnused = JSON.parse(meta.get('unused_state') ?? '[]') as string[];
  weights.forEach((w, i) => {
    const rename = (name: string | null | undefined): string => (!name || shared.has(name) ? (name ?? '') : `m${i}/${name}`);
    for (const n of g.node ?? []) {
      nodes.push(
        onnx.NodeProto.create({
          opType: n.opType,
          domain: n.domain,
          attribute: n.attribute,
          input: (n.input ?? []).map(rename),
          output: (n.output ?? []).map(rename),
          name: `m${i}/${n.name ?? ''}`,
        }),
      );
    }
    for (const t of g.initializer ?? []) {
      const copy = onnx.TensorProto.decode(onnx.TensorProto.encode(t).finish());
      copy.name = rename(t.name);
      inits.push(copy);
      const hit = mapping[t.name ?? ''];
      if (hit) newMapping[copy.name] = [i, hit[1]];
    }
    for (const u of baseUnused) unused.push(`${i}:${u.slice(u.indexOf(':') + 1)}`);
    const scale = (dims: number[]): OnnxNs.ITensorProto => {
      const data = Float32Array.from(info.sources, (_, s) => w[s]! / totals[s]!);
      return { dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(data.buffer) };
    };
    inits.push({ ...scale([1, S, 1, 1, 1]), name: `bag/w${i}_x` }, { ...scale([1, S, 1, 1]), name: `bag/w${i}_xt` });
    nodes.push(
      onnx.NodeProto.create({ opType: 'Mul', input: [rename(xOut), `bag/w${i}_x`], output: [`bag/x${i}`], name: `bag/mul_x${i}` }),
      onnx.NodeProto.create({ opType: 'Mul', input: [rename(xtOut), `bag/w${i}_xt`], output: [`bag/xt${i}`], name: `bag/mul_xt${i}` }),
    );
  });
  nodes.push(
    onnx.NodeProto.create({ opType: 'Sum', input: weights.map((_, i) => `bag/x${i}`), output: [xOut!], name: 'bag/sum_x' }),
    onnx.NodeProto.create({ opType: 'Sum', input: weights.map((_, i) => `bag/xt${i}`), output: [xtOut!], name: 'bag/sum_xt' }),
  );
  g.node = nodes;
  g.initializer = inits;
  g.valueInfo = [];
  const set = (key: string, value: string): void => {
    meta.set(key, value);
  };
  set('demucs_members', String(weights.length));
  set('bag_weights', JSON.stringify(weights));
  set('didactic_weights', JSON.stringify(newMapping));
  set('unused_state', JSON.stringify(unused));
  if (options.name) set('model', options.name);
  model.metadataProps = [...meta].map(([key, value]) => ({ key, value }));
  return onnx.ModelProto.encode(model).finish();
}
