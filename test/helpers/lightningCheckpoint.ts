// Writes torch.save checkpoints without Python, for the fetch and converter tests: Beat This!
// Lightning checkpoints ({state_dict: {"model.<key>": tensor}, hyper_parameters,
// pytorch-lightning_version}) and Demucs model packages ({klass, args, kwargs, state}), holding the
// tensors a weightless graph names (its didactic_weights and unused_state metadata), seeded values.
import { createRequire } from 'node:module';

import type { onnx as OnnxNs } from 'onnx-proto';

import { torchZip } from './torchZip.js';

const require = createRequire(import.meta.url);
const { onnx } = require('onnx-proto') as { onnx: typeof OnnxNs };

/** A tensor to write: float32 or int64 values and a shape. */
export interface CkptTensor {
  shape: number[];
  data: Float32Array | BigInt64Array;
}

const op = (c: number): Buffer => Buffer.from([c]);
function str(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const n = Buffer.alloc(4);
  n.writeUInt32LE(b.length);
  return Buffer.concat([op(0x58), n, b]);
}
function int(v: number): Buffer {
  const b = Buffer.alloc(5);
  b[0] = 0x4a;
  b.writeInt32LE(v, 1);
  return b;
}
function float(v: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x47;
  b.writeDoubleBE(v, 1);
  return b;
}
const global = (module: string, name: string): Buffer => Buffer.from(`c${module}\n${name}\n`, 'latin1');
const tuple = (items: Buffer[]): Buffer => (items.length ? Buffer.concat([op(0x28), ...items, op(0x74)]) : op(0x29));

/** A plain value (dict, list of numbers, number, string, boolean, null) as pickle opcodes. */
function value(v: unknown): Buffer {
  if (v === null) return op(0x4e);
  if (typeof v === 'boolean') return op(v ? 0x88 : 0x89);
  if (typeof v === 'number') return Number.isInteger(v) ? int(v) : float(v);
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return Buffer.concat([op(0x5d), op(0x28), ...v.map(value), op(0x65)]);
  const entries = Object.entries(v as Record<string, unknown>);
  return Buffer.concat([op(0x7d), ...(entries.length ? [op(0x28), ...entries.flatMap(([k, x]) => [str(k), value(x)]), op(0x75)] : [])]);
}

/** torch.save of {state_dict, hyper_parameters, pytorch-lightning_version} as a Lightning checkpoint holds it. */
export function lightningCheckpoint(state: Map<string, CkptTensor>, hparams: Record<string, unknown>): Buffer {
  const storages: Record<string, Buffer> = {};
  const stateDict = stateDictPickle(state, storages);
  const root = Buffer.concat([
    op(0x7d),
    op(0x28),
    str('state_dict'),
    stateDict,
    str('hyper_parameters'),
    value(hparams),
    str('pytorch-lightning_version'),
    str('2.3.0'),
    op(0x75),
  ]);
  return torchZip(root, storages);
}

/** Seeded values in [-0.05, 0.05) (mulberry32). */
function seeded(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5) * 0.1;
  }
  return out;
}

/**
 * Every state tensor a weightless Beat This! graph needs, with seeded values (BatchNorm variances
 * positive), keyed as in the checkpoint ("model." + BeatThis key).
 */
export function beatThisState(graph: Uint8Array, seed = 1): Map<string, CkptTensor> {
  const model = onnx.ModelProto.decode(graph);
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const mapping = JSON.parse(meta.get('didactic_weights')!) as Record<string, string>;
  const unused = JSON.parse(meta.get('unused_state')!) as string[];
  const dims = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
  const state = new Map<string, CkptTensor>();
  let s = seed;
  const freqsShape = [...Object.entries(mapping)].find(([, k]) => k.endsWith('rotary_embed.freqs'));
  for (const [init, key] of Object.entries(mapping)) {
    const shape = dims.get(init)!;
    const data = seeded(
      shape.reduce((a, b) => a * b, 1),
      s++,
    );
    if (key.endsWith('running_var')) for (let i = 0; i < data.length; i++) data[i] = 1 + Math.abs(data[i]!);
    state.set(`model.${key}`, { shape, data });
  }
  for (const key of unused) {
    if (key.endsWith('num_batches_tracked')) state.set(`model.${key}`, { shape: [], data: BigInt64Array.from([7n]) });
    else {
      const shape = freqsShape ? dims.get(freqsShape[0])! : [16];
      state.set(`model.${key}`, {
        shape,
        data: seeded(
          shape.reduce((a, b) => a * b, 1),
          s++,
        ),
      });
    }
  }
  return state;
}

/** PLBeatThis' hyper-parameters for an architecture (what save_hyperparameters records). */
export function beatThisHparams(transformerDim: number): Record<string, unknown> {
  return {
    spect_dim: 128,
    fps: 50,
    transformer_dim: transformerDim,
    ff_mult: 4,
    n_layers: 6,
    stem_dim: 32,
    dropout: { frontend: 0.1, transformer: 0.2 },
    lr: 0.0008,
    weight_decay: 0.01,
    pos_weights: { beat: 1, downbeat: 1 },
    head_dim: 32,
    loss_type: 'shift_tolerant_weighted_bce',
    warmup_steps: 1000,
    max_epochs: 100,
    use_dbn: false,
    eval_trim_beats: 5,
    sum_head: true,
    partial_transformers: true,
  };
}

/** The pickled `state` dict of tensors (an OrderedDict), with their storages. */
function stateDictPickle(state: Map<string, CkptTensor>, storages: Record<string, Buffer>): Buffer {
  const items: Buffer[] = [];
  let i = Object.keys(storages).length;
  for (const [key, t] of state) {
    const sk = String(i++);
    storages[sk] = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    const kind = t.data instanceof Float32Array ? 'FloatStorage' : 'LongStorage';
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    const ref = Buffer.concat([tuple([str('storage'), global('torch', kind), str(sk), str('cpu'), int(t.data.length)]), op(0x51)]);
    const args = tuple([
      ref,
      int(0),
      tuple(t.shape.map(int)),
      tuple(strides.map(int)),
      op(0x89),
      Buffer.concat([global('collections', 'OrderedDict'), op(0x29), op(0x52)]),
    ]);
    items.push(str(key), Buffer.concat([global('torch._utils', '_rebuild_tensor_v2'), args, op(0x52)]));
  }
  return Buffer.concat([global('collections', 'OrderedDict'), op(0x29), op(0x52), ...(items.length ? [op(0x28), ...items, op(0x75)] : [])]);
}

/**
 * A Demucs model package as demucs' `serialize_model` + `torch.save` write it ({klass, args,
 * kwargs, state}; klass a pickled global, never imported by the reader), for the single-model graph
 * `graph` (models/graphs/htdemucs*.onnx): every state tensor its didactic_weights name, seeded
 * values (float32 here; the official files hold float16), kwargs the graph's own architecture.
 */
export function demucsCheckpoint(graph: Uint8Array, seed = 1): Buffer {
  const model = onnx.ModelProto.decode(graph);
  const meta = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const mapping = JSON.parse(meta.get('didactic_weights')!) as Record<string, [number, string]>;
  const dims = new Map((model.graph?.initializer ?? []).map((t) => [t.name ?? '', (t.dims ?? []).map(Number)]));
  const state = new Map<string, CkptTensor>();
  let s = seed;
  for (const [init, [, key]] of Object.entries(mapping)) {
    const shape = dims.get(init)!;
    state.set(key, {
      shape,
      data: seeded(
        shape.reduce((a, b) => a * b, 1),
        s++,
      ),
    });
  }
  const [module, name] = [meta.get('demucs_klass')!.replace(/\.[^.]+$/, ''), meta.get('demucs_klass')!.replace(/^.*\./, '')];
  const storages: Record<string, Buffer> = {};
  const root = Buffer.concat([
    op(0x7d),
    op(0x28),
    str('klass'),
    global(module, name),
    str('args'),
    op(0x29),
    str('kwargs'),
    value(JSON.parse(meta.get('demucs_kwargs')!)),
    str('state'),
    stateDictPickle(state, storages),
    op(0x75),
  ]);
  return torchZip(root, storages);
}
