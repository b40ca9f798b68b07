// The Demucs converter on a small weightless graph with the same metadata the committed graphs carry
// (didactic_weights, demucs_kwargs, demucs_defaults, unused_state): the filled model runs on ONNX
// Runtime with the checkpoint's values, and a missing, extra or mis-shaped tensor, a different class
// or different architecture arguments are refused by name. (The real graphs against PyTorch:
// test/parity/demucs-convert.test.ts.)
import { describe, expect, it } from 'vitest';

import { Tensor } from '../../lib/models/convert/checkpoint.js';
import type { DemucsPackage } from '../../lib/models/convert/checkpoint.js';
import { composeDemucsBag, convertDemucs, demucsGraphInfo } from '../../lib/models/convert/demucs.js';
import { buildModel, parseModel } from '../../lib/models/onnxBuilder.js';
import { createSession } from '../../lib/models/session.js';
import { refused } from '../helpers/refused.js';

const KWARGS = { sources: ['drums', 'bass'], segment: '39/5', channels: 4, bottom_channels: 512, rescale: 0.1 };
const DEFAULTS = { channels: 48, bottom_channels: 0, rescale: 0.1, multi_freqs: null };

/**
 * h = x·W + b with W and b weightless initialisers named by module path as the exporter does, and
 * the contract's two outputs of ranks 5 and 4 (x_out [1,S,1,1,1], xt_out [1,S,1,1]) reshaped from h
 * through int64 shape initialisers that stay in the graph with their data.
 */
function graph(): Uint8Array {
  return buildModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'm.lin.weight'], outputs: ['h0'] },
      { op: 'Add', inputs: ['h0', 'm.lin.bias'], outputs: ['h'] },
      { op: 'Reshape', inputs: ['h', 'shape5'], outputs: ['x_out'] },
      { op: 'Reshape', inputs: ['h', 'shape4'], outputs: ['xt_out'] },
    ],
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: [
      { name: 'x_out', shape: [1, 2, 1, 1, 1] },
      { name: 'xt_out', shape: [1, 2, 1, 1] },
    ],
    initializers: [
      { name: 'm.lin.weight', dims: [3, 2], data: new Float32Array(0) },
      { name: 'm.lin.bias', dims: [2], data: new Float32Array(0) },
      { name: 'shape5', dims: [5], data: BigInt64Array.from([1n, 2n, 1n, 1n, 1n]) },
      { name: 'shape4', dims: [4], data: BigInt64Array.from([1n, 2n, 1n, 1n]) },
    ],
    metadata: {
      sources: 'drums,bass',
      demucs_klass: 'demucs.htdemucs.HTDemucs',
      demucs_kwargs: JSON.stringify({ ...DEFAULTS, ...KWARGS }),
      demucs_defaults: JSON.stringify(DEFAULTS),
      demucs_members: '1',
      didactic_weights: JSON.stringify({ 'm.lin.weight': [0, 'lin.weight'], 'm.lin.bias': [0, 'lin.bias'] }),
      unused_state: JSON.stringify(['0:unused.buffer']),
      producer: 'test graph',
    },
  });
}

function pkg(over: Partial<DemucsPackage> = {}, state?: Array<[string, Tensor]>, scale = 1): DemucsPackage {
  return {
    klass: 'demucs.htdemucs.HTDemucs',
    args: [],
    // As the training config writes it: multi_freqs [] (= None), a float for rescale.
    kwargs: { ...KWARGS, multi_freqs: [], rescale: 0.25 },
    state: new Map(
      state ?? [
        [
          'lin.weight',
          new Tensor(
            'float16',
            [3, 2],
            Float32Array.from([1, 2, 3, 4, 5, 6], (v) => v * scale),
          ),
        ],
        [
          'lin.bias',
          new Tensor(
            'float16',
            [2],
            Float32Array.from([0.5, -0.5], (v) => v * scale),
          ),
        ],
        ['unused.buffer', new Tensor('float32', [1], Float32Array.from([0]))],
      ],
    ),
    ...over,
  };
}

describe('convertDemucs', () => {
  it('fills the initialisers by name and the model computes with the checkpoint values', async () => {
    expect(demucsGraphInfo(graph())).toMatchObject({ klass: 'demucs.htdemucs.HTDemucs', members: 1, tensors: 2, sources: ['drums', 'bass'] });
    const onnx = convertDemucs(graph(), [pkg()]);
    const meta = Object.fromEntries(parseModel(onnx).metadataProps.map((p) => [p.key, p.value]));
    expect(meta.didactic_weights).toBeUndefined();
    expect(meta.producer).toBe('didactic-engine models fetch (graph: test graph)');
    await using session = await createSession(onnx);
    const out = await session.run({ x: { data: Float32Array.from([1, 1, 2]), dims: [1, 3] } });
    // [1,1,2]·[[1,2],[3,4],[5,6]] + [0.5,-0.5] = [14.5, 17.5]
    expect(Array.from(out.x_out!.data)).toEqual([14.5, 17.5]);
    expect(out.xt_out!.dims).toEqual([1, 2, 1, 1]);
  });

  it('composes a bag: per source the weighted mean of the members, weights normalised per source', async () => {
    const bag = composeDemucsBag(graph(), [
      [1, 1],
      [0, 3],
    ]);
    expect(demucsGraphInfo(bag)).toMatchObject({ members: 2, tensors: 4 });
    // Member 0 computes [14.5, 17.5], member 1 (weights ×2) [29, 35]: source 0 takes member 0 only,
    // source 1 is (1·17.5 + 3·35) / 4.
    const onnx = convertDemucs(bag, [pkg(), pkg({}, undefined, 2)]);
    await using session = await createSession(onnx);
    const out = await session.run({ x: { data: Float32Array.from([1, 1, 2]), dims: [1, 3] } });
    expect(Array.from(out.x_out!.data)).toEqual([14.5, 30.625]);
    expect(Array.from(out.xt_out!.data)).toEqual([14.5, 30.625]);
    const e = refused(() => convertDemucs(bag, [pkg(), pkg({ kwargs: { ...KWARGS, channels: 8 } })]));
    expect(e.message).toContain('(bag member 1): architecture argument channels is 8');
    const [w, , u] = [...pkg().state.entries()];
    expect(refused(() => convertDemucs(bag, [pkg(), pkg({}, [w!, u!])])).message).toContain('lacks the tensor lin.bias (member 1)');
    expect(refused(() => composeDemucsBag(graph(), [[1, 0]])).message).toContain('positive total');
  });

  it('refuses a missing, an extra or a mis-shaped tensor by name', () => {
    const [w, b, u] = [...pkg().state.entries()];
    expect(refused(() => convertDemucs(graph(), [pkg({}, [w!, u!])])).message).toContain('lacks the tensor lin.bias');
    expect(refused(() => convertDemucs(graph(), [pkg({}, [w!, b!])])).message).toContain('lacks the tensor unused.buffer');
    const extra: [string, Tensor] = ['decoder.9.weight', new Tensor('float16', [1], new Float32Array(1))];
    expect(refused(() => convertDemucs(graph(), [pkg({}, [w!, b!, u!, extra])])).message).toContain('extra tensor decoder.9.weight');
    const wide: [string, Tensor] = ['lin.weight', new Tensor('float16', [3, 3], new Float32Array(9))];
    const e = refused(() => convertDemucs(graph(), [pkg({}, [wide, b!, u!])]));
    expect(e.message).toContain('tensor lin.weight has shape [3,3], the graph needs [3,2]');
    expect(e.details).toMatchObject({ tensor: 'lin.weight', shape: [3, 3], want: [3, 2] });
    const ints: [string, Tensor] = ['lin.bias', new Tensor('int64', [2], new BigInt64Array(2))];
    expect(refused(() => convertDemucs(graph(), [pkg({}, [w!, ints, u!])])).message).toContain('lin.bias is int64');
  });

  it('refuses another class, other architecture arguments, unknown arguments and the wrong member count', () => {
    expect(refused(() => convertDemucs(graph(), [pkg({ klass: 'demucs.hdemucs.HDemucs' })])).message).toContain('is a demucs.hdemucs.HDemucs');
    const e = refused(() => convertDemucs(graph(), [pkg({ kwargs: { ...KWARGS, channels: 48 } })]));
    expect(e.message).toContain('architecture argument channels is 48, the graph has 4');
    // An argument left to its default is compared as the default.
    expect(refused(() => convertDemucs(graph(), [pkg({ kwargs: { sources: KWARGS.sources, segment: '39/5', channels: 4 } })])).message).toContain(
      'bottom_channels is 0',
    );
    expect(refused(() => convertDemucs(graph(), [pkg({ kwargs: { ...KWARGS, sources: ['vocals', 'bass'] } })])).message).toContain('sources');
    expect(refused(() => convertDemucs(graph(), [pkg({ kwargs: { ...KWARGS, segment: '10' } })])).message).toContain('segment');
    expect(refused(() => convertDemucs(graph(), [pkg({ kwargs: { ...KWARGS, wings: 2 } })])).message).toContain('unknown constructor argument wings');
    expect(refused(() => convertDemucs(graph(), [pkg({ args: [1] })])).message).toContain('positional');
    expect(refused(() => convertDemucs(graph(), [pkg(), pkg()])).message).toContain('takes 1 checkpoint(s), got 2');
    expect(refused(() => convertDemucs(new Uint8Array([1, 2, 3]), [pkg()])).message).toContain('not an ONNX model');
  });
});
