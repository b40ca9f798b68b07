/**
 * Beat This! Lightning checkpoints → the ONNX network the beat-this tracker runs, in Node. The graph
 * of each architecture is committed without weights (models/graphs/beat-this*.onnx, made by
 * scripts/models/beat_this_graph.py from the MIT beat-this 1.1.0 sources); this fills its
 * initialisers from the checkpoint's `state_dict` by name after checking its `hyper_parameters`
 * against the graph's and every tensor's name, shape and dtype.
 */
import { isDeepStrictEqual } from 'node:util';

import type { onnx as OnnxNs } from 'onnx-proto';

import type { ModelError } from '../../errors.js';
import { invalid, onnx, readWeightlessGraph } from './graph.js';
import { readTorchCheckpoint, Tensor, toPlain } from './checkpoint.js';
import { fillInitialiser } from './demucs.js';

/** A Beat This! Lightning checkpoint as read: its hyper-parameters and the network's tensors by BeatThis state key. */
export interface BeatThisCheckpoint {
  /** `hyper_parameters` (PLBeatThis' constructor arguments) as plain JSON-like values. */
  hparams: Record<string, unknown>;
  /** Tensors by BeatThis state key (the Lightning "model." prefix and torch.compile's "_orig_mod." removed). */
  state: Map<string, Tensor>;
}

/** BeatThis' constructor defaults (beat_this/model/beat_tracker.py) and PLBeatThis' fps: what a checkpoint that omits one means. */
const HPARAM_DEFAULTS: Record<string, unknown> = {
  spect_dim: 128,
  transformer_dim: 512,
  ff_mult: 4,
  n_layers: 6,
  head_dim: 32,
  stem_dim: 32,
  sum_head: true,
  partial_transformers: true,
  fps: 50,
};
/** Arguments that do not change the inference network (training only). */
const IGNORED_HPARAMS = new Set(['dropout']);

/**
 * Reads a Beat This! checkpoint (a dict with `state_dict` and `hyper_parameters`, as Lightning saves
 * it); refuses anything else with DE_MODEL_INVALID. State keys outside the "model." prefix are refused.
 */
export function readBeatThisCheckpoint(buf: Buffer, op = 'checkpoint'): BeatThisCheckpoint {
  const root = readTorchCheckpoint(buf, op);
  const fail = (why: string): ModelError => invalid(op, `not a Beat This! checkpoint: ${why}`);
  if (!(root instanceof Map)) throw fail('the checkpoint is not a dict');
  const stateDict = root.get('state_dict');
  const hp = root.get('hyper_parameters');
  if (!(stateDict instanceof Map)) throw fail('no state_dict');
  if (!(hp instanceof Map)) throw fail('no hyper_parameters');
  const state = new Map<string, Tensor>();
  for (const [k, t] of stateDict) {
    if (typeof k !== 'string' || !(t instanceof Tensor)) throw fail(`state entry ${String(k)} is not a tensor`);
    if (!k.startsWith('model.')) throw invalid(op, `checkpoint has an extra tensor ${k} (outside the model)`, { tensor: k });
    // load_model strips "model."; BeatThis._load_from_state_dict drops torch.compile's "_orig_mod.".
    state.set(k.slice('model.'.length).replaceAll('_orig_mod.', ''), t);
  }
  return { hparams: toPlain(hp) as Record<string, unknown>, state };
}

/** What a weightless Beat This! graph declares. */
export interface BeatThisGraphInfo {
  /** The architecture hyper-parameters the graph was exported with. */
  hparams: Record<string, unknown>;
  /** Initialisers to fill. */
  tensors: number;
  fps: number;
  sampleRate: number;
}

interface Parsed {
  model: OnnxNs.ModelProto;
  meta: Map<string, string>;
  mapping: Record<string, string>;
  unused: string[];
  info: BeatThisGraphInfo;
}

function parseGraph(graph: Uint8Array, op: string): Parsed {
  const { model, meta, json } = readWeightlessGraph(graph, op);
  const mapping = json('didactic_weights') as Record<string, string>;
  return {
    model,
    meta,
    mapping,
    unused: json('unused_state') as string[],
    info: {
      hparams: json('beat_this_hparams') as Record<string, unknown>,
      tensors: Object.keys(mapping).length,
      fps: Number(meta.get('fps') ?? 50),
      sampleRate: Number(meta.get('sample_rate') ?? 22050),
    },
  };
}

/** The architecture a weightless Beat This! graph was made for. */
export function beatThisGraphInfo(graph: Uint8Array, op = 'convert'): BeatThisGraphInfo {
  return parseGraph(graph, op).info;
}

/** Checks a checkpoint's hyper-parameters against the graph's; throws DE_MODEL_INVALID naming the first difference. */
export function checkBeatThisArchitecture(hparams: Record<string, unknown>, graph: BeatThisGraphInfo, op: string): void {
  for (const [key, want] of Object.entries(graph.hparams)) {
    if (IGNORED_HPARAMS.has(key)) continue;
    const got = key in hparams ? hparams[key] : HPARAM_DEFAULTS[key];
    if (!isDeepStrictEqual(got, want)) {
      throw invalid(op, `checkpoint: architecture argument ${key} is ${JSON.stringify(got)}, the graph has ${JSON.stringify(want)}`, {
        argument: key,
        got,
        want,
      });
    }
  }
}

/**
 * Fills a weightless Beat This! graph with a checkpoint's tensors and returns the ONNX model bytes.
 * Missing, extra or mis-shaped tensors and different architecture arguments are refused with
 * DE_MODEL_INVALID naming them.
 */
export function convertBeatThis(graph: Uint8Array, ckpt: BeatThisCheckpoint, options: { op?: string } = {}): Uint8Array {
  const op = options.op ?? 'convert';
  const { model, mapping, unused, info, meta } = parseGraph(graph, op);
  checkBeatThisArchitecture(ckpt.hparams, info, op);
  const wanted = new Set<string>([...Object.values(mapping), ...unused]);
  for (const key of ckpt.state.keys()) {
    if (!wanted.has(key)) throw invalid(op, `checkpoint has an extra tensor model.${key}`, { tensor: key });
  }
  // State tensors the network never reads (BatchNorm counters, the shared rotary frequencies under
  // their other paths): required, as load_state_dict requires them, not filled.
  for (const key of unused) {
    if (!ckpt.state.has(key)) throw invalid(op, `checkpoint lacks the tensor model.${key}`, { tensor: key });
  }
  let filled = 0;
  for (const init of model.graph?.initializer ?? []) {
    const key = mapping[init.name ?? ''];
    if (key === undefined) continue;
    const tensor = ckpt.state.get(key);
    if (!tensor) throw invalid(op, `checkpoint lacks the tensor model.${key}`, { tensor: key });
    fillInitialiser(init, tensor, `model.${key}`, key, op);
    filled++;
  }
  if (filled !== Object.keys(mapping).length) throw invalid(op, 'the graph names initialisers it does not hold');
  model.metadataProps = (model.metadataProps ?? []).filter((p) => p.key !== 'didactic_weights' && p.key !== 'producer');
  model.metadataProps.push({ key: 'producer', value: `didactic-engine models fetch (graph: ${meta.get('producer') ?? '?'})` });
  return onnx.ModelProto.encode(model).finish();
}
