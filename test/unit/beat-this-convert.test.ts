// The Beat This! converter on the committed weightless small0 graph (models/graphs/beat-this-small.onnx)
// and Lightning checkpoints written by test/helpers/lightningCheckpoint.ts: the checkpoint reader
// strips "model." (and torch.compile's "_orig_mod."), the filled network runs on ONNX Runtime with
// the checkpoint's values, and a missing, extra or mis-shaped tensor or another architecture is
// refused by name. (Against PyTorch: test/parity/beat-this.test.ts.)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { beatThisGraphInfo, convertBeatThis, readBeatThisCheckpoint } from '../../lib/models/convert/beatThis.js';
import { graphsDir } from '../../lib/models/fetch.js';
import { parseModel } from '../../lib/models/onnxBuilder.js';
import { createSession } from '../../lib/models/session.js';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { torchZip } from '../helpers/torchZip.js';
import { refused } from '../helpers/refused.js';

const graph = readFileSync(join(graphsDir(), 'beat-this-small.onnx'));

const convert = (state = beatThisState(graph), hparams = beatThisHparams(128)): Uint8Array =>
  convertBeatThis(graph, readBeatThisCheckpoint(lightningCheckpoint(state, hparams)));

describe('convertBeatThis', () => {
  it('fills the small0 graph from a Lightning checkpoint and the network runs with its values', async () => {
    expect(beatThisGraphInfo(graph)).toMatchObject({ fps: 50, sampleRate: 22050, hparams: { transformer_dim: 128, n_layers: 6 } });
    const a = convert(beatThisState(graph, 1));
    const b = convert(beatThisState(graph, 2));
    const meta = Object.fromEntries(parseModel(a).metadataProps.map((p) => [p.key, p.value]));
    expect(meta.didactic_weights).toBeUndefined();
    expect(meta.producer).toMatch(/^didactic-engine models fetch \(graph: .*beat_this_graph\.py/);
    const T = 40;
    const spect = Float32Array.from({ length: T * 128 }, (_, i) => Math.sin(i * 0.37) + 1);
    const run = async (onnx: Uint8Array): Promise<Float32Array[]> => {
      await using session = await createSession(onnx);
      const out = await session.run({ spect: { data: spect, dims: [1, T, 128] } });
      expect(out.beat!.dims).toEqual([1, T]);
      expect(out.downbeat!.dims).toEqual([1, T]);
      return [out.beat!.data as Float32Array, out.downbeat!.data as Float32Array];
    };
    const [ba, da] = await run(a);
    const [bb] = await run(b);
    expect(ba.every(Number.isFinite) && da.every(Number.isFinite)).toBe(true);
    // Other weights give other logits: the values came from the checkpoint, not the graph.
    expect(ba.some((v, i) => Math.abs(v - bb[i]!) > 1e-3)).toBe(true);
  });

  it('reads torch.compile keys (model.frontend._orig_mod.…) like beat_this.load_model', () => {
    const state = new Map([...beatThisState(graph)].map(([k, v]) => [k.replace(/^model\.frontend\./, 'model.frontend._orig_mod.'), v]));
    const ckpt = readBeatThisCheckpoint(lightningCheckpoint(state, beatThisHparams(128)));
    expect(ckpt.state.has('frontend.stem.bn1d.weight')).toBe(true);
    expect(convertBeatThis(graph, ckpt).length).toBeGreaterThan(graph.length);
  });

  it('refuses a missing, an extra or a mis-shaped tensor by name, and another architecture', () => {
    const drop = beatThisState(graph);
    drop.delete('model.transformer_blocks.layers.3.1.net.1.weight');
    expect(refused(() => convert(drop)).message).toContain('lacks the tensor model.transformer_blocks.layers.3.1.net.1.weight');
    const counter = beatThisState(graph);
    counter.delete('model.frontend.stem.bn2d.num_batches_tracked');
    expect(refused(() => convert(counter)).message).toContain('lacks the tensor model.frontend.stem.bn2d.num_batches_tracked');
    const extra = beatThisState(graph);
    extra.set('model.transformer_blocks.layers.6.0.to_qkv.weight', { shape: [2], data: new Float32Array(2) });
    expect(refused(() => convert(extra)).message).toContain('extra tensor model.transformer_blocks.layers.6.0.to_qkv.weight');
    const outside = beatThisState(graph);
    outside.set('beat_loss.pos_weight', { shape: [], data: new Float32Array(1) });
    expect(refused(() => convert(outside)).message).toContain('extra tensor beat_loss.pos_weight');
    const wide = beatThisState(graph);
    wide.set('model.task_heads.beat_downbeat_lin.weight', { shape: [2, 256], data: new Float32Array(512) });
    const e = refused(() => convert(wide));
    expect(e.message).toContain('tensor model.task_heads.beat_downbeat_lin.weight has shape [2,256], the graph needs [2,128]');
    expect(e.details).toMatchObject({ tensor: 'task_heads.beat_downbeat_lin.weight', shape: [2, 256], want: [2, 128] });
    // final0's hyper-parameters against the small graph.
    const big = refused(() => convert(beatThisState(graph), beatThisHparams(512)));
    expect(big.message).toContain('architecture argument transformer_dim is 512, the graph has 128');
    expect(refused(() => convert(beatThisState(graph), { ...beatThisHparams(128), fps: 100 })).message).toContain('fps is 100');
  });

  it('refuses a checkpoint that is not a Lightning one', () => {
    // A dict without state_dict (an empty one: `}`), and a truncated file.
    expect(refused(() => readBeatThisCheckpoint(torchZip(Buffer.from([0x7d])))).message).toContain('not a Beat This! checkpoint: no state_dict');
    expect(refused(() => readBeatThisCheckpoint(lightningCheckpoint(new Map(), {}).subarray(0, 10))).message).toContain('torch.save zip');
  });
});
