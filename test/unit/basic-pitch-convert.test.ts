// The TF.js → ONNX converter's op table on small hand-written graphs: constants become initializers
// once, control inputs are dropped, the graph's outputs get nmp.onnx's names, and an op type outside
// the table (including one named like an Object.prototype member) is refused with DE_MODEL_INVALID.
// (The real Basic Pitch graph against the official nmp.onnx: test/parity/basic-pitch-convert.test.ts.)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { convertTfjsGraph } from '../../lib/models/basicPitch/convert.js';
import { parseModel } from '../../lib/models/onnxBuilder.js';
import { useTempDir } from '../helpers/tmp.js';

const dir = useTempDir('didactic-bp-convert-');
const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Writes model.json and its one shard (float32 `scale` [2], int32 `perm` [3], int32 `pads` [2, 2]); returns the path. */
function writeGraph(name: string, nodes: object[]): string {
  const shard = Buffer.concat([
    Buffer.from(new Float32Array([2, 3]).buffer),
    Buffer.from(new Int32Array([0, 2, 1]).buffer),
    Buffer.from(new Int32Array([1, 2, 3, 4]).buffer),
  ]);
  writeFileSync(join(dir, `${name}.bin`), shard);
  const model = {
    format: 'graph-model',
    modelTopology: { node: nodes },
    weightsManifest: [
      {
        paths: [`${name}.bin`],
        weights: [
          { name: 'scale', shape: [2], dtype: 'float32' },
          { name: 'perm', shape: [3], dtype: 'int32' },
          { name: 'pads', shape: [2, 2], dtype: 'int32' },
        ],
      },
    ],
  };
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify(model));
  return path;
}

describe('convertTfjsGraph', () => {
  it('converts each op through its table entry', () => {
    const path = writeGraph('ok', [
      { name: 'input_2', op: 'Placeholder' },
      { name: 'scale', op: 'Const' },
      { name: 'perm', op: 'Const' },
      { name: 'pads', op: 'Const' },
      { name: 'scaled', op: 'Mul', input: ['input_2', 'scale', '^scale'] },
      { name: 'Identity', op: 'Transpose', input: ['scaled:0', 'perm'] },
      { name: 'Identity_1', op: 'Square', input: ['scaled'] },
      { name: 'again', op: 'AddV2', input: ['scaled', 'scale'] },
      { name: 'Identity_2', op: 'MirrorPad', input: ['again', 'pads'], attr: { mode: { s: b64('REFLECT') } } },
    ]);
    const graph = parseModel(convertTfjsGraph(path)).graph!;
    expect(graph.node!.map((n) => [n.opType, n.input, n.output])).toEqual([
      ['Mul', ['serving_default_input_2:0', 'scale'], ['scaled']],
      ['Transpose', ['scaled'], ['StatefulPartitionedCall:0']],
      ['Mul', ['scaled', 'scaled'], ['StatefulPartitionedCall:1']],
      ['Add', ['scaled', 'scale'], ['again']],
      ['Pad', ['again', 'Identity_2/pads__0'], ['StatefulPartitionedCall:2']],
    ]);
    const perm = graph.node![1]!.attribute!.find((a) => a.name === 'perm')!;
    expect(perm.ints!.map(Number)).toEqual([0, 2, 1]);
    // the constant used twice is one initializer; `perm` and `pads` were read as values, never as tensors
    expect(graph.initializer!.map((t) => t.name)).toEqual(['scale', 'Identity_2/pads__0']);
    // TF's [before, after] per axis becomes ONNX's befores, then afters
    const raw = graph.initializer![1]!.rawData!;
    expect(Array.from(new BigInt64Array(new Uint8Array(raw).buffer), Number)).toEqual([1, 3, 2, 4]);
    expect(graph.node![4]!.attribute!.find((a) => a.name === 'mode')!.s).toEqual(Buffer.from('reflect'));
  });

  it.each(['Softmax', 'toString', 'constructor'])('refuses op %s with DE_MODEL_INVALID', (op) => {
    const path = writeGraph(`bad-${op}`, [
      { name: 'input_2', op: 'Placeholder' },
      { name: 'x', op, input: ['input_2'] },
    ]);
    expect(() => convertTfjsGraph(path)).toThrow(expect.objectContaining({ code: 'DE_MODEL_INVALID', message: expect.stringContaining(`op ${op} (x)`) }));
  });

  it('refuses a MirrorPad mode other than REFLECT', () => {
    const path = writeGraph('symmetric', [
      { name: 'input_2', op: 'Placeholder' },
      { name: 'perm', op: 'Const' },
      { name: 'Identity', op: 'MirrorPad', input: ['input_2', 'perm'], attr: { mode: { s: b64('SYMMETRIC') } } },
    ]);
    expect(() => convertTfjsGraph(path)).toThrow(expect.objectContaining({ code: 'DE_MODEL_INVALID', message: expect.stringContaining('SYMMETRIC') }));
  });
});
