// The PyTorch checkpoint reader (lib/models/convert): real torch.save files written by torch 1.13
// (scripts/reference/make_checkpoint_fixtures.py, values as torch reports them in the .json beside
// them) and hand-written hostile pickles that must be refused by opcode or global name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { halfToFloat, PyFraction, readTorchCheckpoint, Tensor } from '../../lib/models/convert/checkpoint.js';
import { storedZip, torchZip } from '../helpers/torchZip.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'checkpoints');
const read = (name: string): Buffer => readFileSync(join(dir, name));

interface Want {
  shape: number[];
  dtype: string;
  /** Non-finite values as Python's repr ('inf', '-inf'). */
  values: Array<number | string>;
}

function expectTensor(t: unknown, want: Want): void {
  expect(t).toBeInstanceOf(Tensor);
  const tensor = t as Tensor;
  expect(tensor.shape).toEqual(want.shape);
  expect(tensor.dtype).toBe(want.dtype);
  const got = Array.from(tensor.data as ArrayLike<number | bigint>, (v) => Number(v));
  // Exact: float16/bfloat16 widen exactly, the JSON holds torch's float() of each element.
  expect(got.length).toBe(want.values.length);
  const wanted = want.values.map((v) => (v === 'inf' ? Infinity : v === '-inf' ? -Infinity : Number(v)));
  for (const [i, v] of got.entries()) expect(Object.is(v, wanted[i]), `element ${i}: ${v} vs ${wanted[i]}`).toBe(true);
}

function refusal(buf: Buffer): DidacticError {
  try {
    readTorchCheckpoint(buf);
  } catch (e) {
    expect(e).toBeInstanceOf(DidacticError);
    return e as DidacticError;
  }
  throw new Error('not refused');
}

const pk = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('torch.save checkpoints', () => {
  it('reads a module state_dict (OrderedDict with _metadata, float32 and int64) exactly as torch has it', () => {
    const root = readTorchCheckpoint(read('state_dict.pt'));
    const want = JSON.parse(read('state_dict.json').toString()) as Record<string, Want>;
    expect(root).toBeInstanceOf(Map);
    const map = root as Map<string, unknown>;
    expect([...map.keys()]).toEqual(Object.keys(want));
    for (const [k, w] of Object.entries(want)) expectTensor(map.get(k), w);
  });

  it('honours strides and offsets of views sharing a storage; float16 (subnormals, inf, -0), bfloat16, float64, 0-d and empty tensors', () => {
    const root = readTorchCheckpoint(read('views.pt')) as Map<string, unknown>;
    expect(root.get('klass_args')).toEqual([1, 'two', 3.5, null, true]);
    const seg = root.get('segment');
    expect(seg).toBeInstanceOf(PyFraction);
    expect(`${seg}`).toBe('39/5');
    const tensors = root.get('tensors') as Map<string, unknown>;
    const want = JSON.parse(read('views.json').toString()) as Record<string, Want>;
    for (const [k, w] of Object.entries(want)) expectTensor(tensors.get(k), w);
    expect((tensors.get('half') as Tensor).dtype).toBe('float16');
  });

  it('widens float16 exactly, NaN included', () => {
    const t = (readTorchCheckpoint(read('nan.pt')) as Map<string, Tensor>).get('nan')!;
    expect(Number.isNaN(t.data[0])).toBe(true);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(halfToFloat(0x03ff)).toBe(1023 * 2 ** -24);
    expect(halfToFloat(0x7bff)).toBe(65504);
    expect(halfToFloat(0xfc00)).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
    expect(halfToFloat(0x3555)).toBe(Math.fround(0.333251953125));
  });
});

describe('hostile or broken checkpoints are refused with DE_MODEL_INVALID naming what', () => {
  it('an arbitrary GLOBAL (os.system) before any call', () => {
    const e = refusal(torchZip(pk('cos\nsystem\n(X\x07\x00\x00\x00echo hitR')));
    expect(e.code).toBe('DE_MODEL_INVALID');
    expect(e.message).toContain('global os.system is not allowed');
  });

  it('builtins.eval through STACK_GLOBAL', () => {
    const e = refusal(torchZip(pk('\x8c\x08builtins\x8c\x04eval\x93')));
    expect(e.message).toContain('global builtins.eval is not allowed');
  });

  it('REDUCE of a recorded but non-callable global (the model class, a storage type)', () => {
    const e = refusal(torchZip(pk('cdemucs.htdemucs\nHTDemucs\n)R')));
    expect(e.code).toBe('DE_MODEL_INVALID');
    expect(e.message).toContain('REDUCE of demucs.htdemucs.HTDemucs is not allowed');
    expect(refusal(torchZip(pk('ctorch\nFloatStorage\n)R'))).message).toContain('REDUCE of torch.FloatStorage');
  });

  it('object-building opcodes (NEWOBJ, INST, OBJ, EXT1, persistent ids by string) by opcode', () => {
    for (const [body, name] of [
      ['ctorch\nFloatStorage\n)\x81', '0x81'],
      ['(ios\nsystem\n', '0x69'],
      ['(o', '0x6f'],
      ['\x82\x01', '0x82'],
      ['P1\n', '0x50'],
    ] as const) {
      const e = refusal(torchZip(pk(body)));
      expect(e.code).toBe('DE_MODEL_INVALID');
      expect(e.message).toContain(`opcode ${name}`);
    }
  });

  it('a tensor reaching past its storage, a missing storage, a bad persistent id', () => {
    const rebuild = (size: number, stride: number, numel: number): Buffer =>
      pk(
        `ctorch._utils\n_rebuild_tensor_v2\n((X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK${String.fromCharCode(numel)}tQK\x00K${String.fromCharCode(size)}\x85K${String.fromCharCode(stride)}\x85\x89)tR`,
      );
    const four = Buffer.alloc(16);
    expect(readTorchCheckpoint(torchZip(rebuild(4, 1, 4), { '0': four }))).toBeInstanceOf(Tensor);
    expect(refusal(torchZip(rebuild(4, 2, 4), { '0': four })).message).toContain('reaches past its storage 0');
    expect(refusal(torchZip(rebuild(4, 1, 4), {})).message).toContain('storage 0 is missing');
    expect(refusal(torchZip(rebuild(4, 1, 8), { '0': four })).message).toContain('storage 0 is missing or shorter');
    expect(refusal(torchZip(pk('(X\x04\x00\x00\x00fileK\x00tQ'))).message).toContain('persistent id is not a storage tuple');
  });

  it('not a zip (the legacy format), a compressed entry, no data.pkl, a truncated pickle', () => {
    expect(refusal(pk('\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19.')).message).toContain('legacy non-zip format');
    const zip = storedZip([['a/data.pkl', pk('\x80\x02N.')]]);
    expect(readTorchCheckpoint(zip)).toBeNull();
    const deflated = Buffer.from(zip);
    deflated.writeUInt16LE(8, zip.length - 22 - 56 + 10); // central directory entry's method
    expect(refusal(deflated).message).toContain('compressed (method 8)');
    expect(refusal(storedZip([['a/other', pk('x')]])).message).toContain('one <archive>/data.pkl');
    expect(refusal(torchZip(pk('X\xff\x00\x00\x00ab'))).message).toContain('truncated at BINUNICODE');
  });
});
