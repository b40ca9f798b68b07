// The Demucs converter on a small weightless graph with the same metadata the committed graphs carry
// (didactic_weights, demucs_kwargs, demucs_defaults, unused_state): the filled model runs on ONNX
// Runtime with the checkpoint's values, and a missing, extra or mis-shaped tensor, a different class
// or different architecture arguments are refused by name. (The real graphs against PyTorch:
// test/parity/demucs-convert.test.ts.)
import { describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { Tensor } from '../../lib/models/convert/checkpoint.js';
import type { DemucsPackage } from '../../lib/models/convert/checkpoint.js';
import { convertDemucs, demucsGraphInfo } from '../../lib/models/convert/demucs.js';
import { buildModel, parseModel } from '../../lib/models/onnxBuilder.js';
import { createSession } from '../../lib/models/session.js';

const KWARGS = { sources: ['drums', 'bass'], segment: '39/5', channels: 4, bottom_channels: 512, rescale: 0.1 };
const DEFAULTS = { channels: 48, bottom_channels: 0, rescale: 0.1, multi_freqs: null };

/** y = x·W + b, with W and b weightless initialisers named by module path as the exporter does. */
function graph(members = 1): Uint8Array {
  const mapping: Record<string, [number, string]> = {};
  for (let m = 0; m < members; m++) {
    const pre = members === 1 ? 'm.' : `members.${m}.m.`;
    mapping[`${pre}lin.weight`] = [m, 'lin.weight'];
    mapping[`${pre}lin.bias`] = [m, 'lin.bias'];
  }
  return buildModel({
    nodes: [
      { op: 'MatMul', inputs: ['x', 'm.lin.weight'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'm.lin.bias'], outputs: ['y'] },
    ],
    inputs: [{ name: 'x', shape: [1, 3] }],
    outputs: [{ name: 'y', shape: [1, 2] }],
    initializers: [
      { name: 'm.lin.weight', dims: [3, 2], data: new Float32Array(0) },
      { name: 'm.lin.bias', dims: [2], data: new Float32Array(0) },
    ],
    metadata: {
      sources: 'drums,bass',
      demucs_klass: 'demucs.htdemucs.HTDemucs',
      demucs_kwargs: JSON.stringify({ ...DEFAULTS, ...KWARGS }),
      demucs_defaults: JSON.stringify(DEFAULTS),
      demucs_members: String(members),
      didactic_weights: JSON.stringify(mapping),
      unused_state: JSON.stringify(['0:unused.buffer']),
      producer: 'test graph',
    },
  });
}

function pkg(over: Partial<DemucsPackage> = {}, state?: Array<[string, Tensor]>): DemucsPackage {
  return {
    klass: 'demucs.htdemucs.HTDemucs',
    args: [],
    // As the training config writes it: multi_freqs [] (= None), a float for rescale.
    kwargs: { ...KWARGS, multi_freqs: [], rescale: 0.25 },
    state: new Map(
      state ?? [
        ['lin.weight', new Tensor('float16', [3, 2], Float32Array.from([1, 2, 3, 4, 5, 6]))],
        ['lin.bias', new Tensor('float16', [2], Float32Array.from([0.5, -0.5]))],
        ['unused.buffer', new Tensor('float32', [1], Float32Array.from([0]))],
      ],
    ),
    ...over,
  };
}

function refused(fn: () => unknown): DidacticError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DidacticError);
    expect((e as DidacticError).code).toBe('DE_MODEL_INVALID');
    return e as DidacticError;
  }
  throw new Error('not refused');
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
    expect(Array.from(out.y!.data)).toEqual([14.5, 17.5]);
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
