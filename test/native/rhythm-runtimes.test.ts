// The BeatNet CRNN runs on the addon's own kernels (native/src/beat/beatnet_crnn.cc) where it can,
// else on ONNX Runtime: both must reproduce the PyTorch reference activations and give the same
// beats; 'auto' must pick the kernels only for BDA's exact network on a CPU with AVX2, FMA and F16C.
// The kernels' default float16 recurrent weights stay within a looser bound and give the same beats.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { beatnetModelPath, RhythmTracker, trackRhythm } from '../../lib/index.js';
import { buildModel, parseModel } from '../../lib/models/onnxBuilder.js';
import { RAW_BEATNET, readFixtureF32 as readF32, readFixtureInput as readInput, rhythmManifest as manifest } from '../helpers/rhythmFixtures.js';

const cpuFlags = (() => {
  try {
    return (readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '').trim().split(/\s+/);
  } catch {
    return [];
  }
})();
const kernelsRun = process.arch === 'x64' && ['avx2', 'fma', 'f16c'].every((f) => cpuFlags.includes(f));

/** Same contract as BeatNet (features [1, T, 272] -> activations [1, T, 3]), another network. */
function notBeatNet(): Uint8Array<ArrayBuffer> {
  const w = new Float32Array(272 * 3);
  for (let i = 0; i < w.length; i++) w[i] = ((i * 37) % 11) / 100 - 0.05;
  return new Uint8Array(
    buildModel({
      inputs: [{ name: 'features', shape: [1, 'T', 272] }],
      outputs: [{ name: 'activations', shape: [1, 'T', 3] }],
      initializers: [{ name: 'w', dims: [272, 3], data: w }],
      nodes: [
        { op: 'MatMul', inputs: ['features', 'w'], outputs: ['z'] },
        { op: 'Softmax', inputs: ['z'], outputs: ['activations'], attributes: { axis: -1 } },
      ],
    }),
  );
}

describe('the BeatNet CRNN on the built-in kernels and on ONNX Runtime', () => {
  const trackers: Record<'auto' | 'half' | 'onnxruntime', RhythmTracker | undefined> = {
    auto: undefined,
    half: undefined,
    onnxruntime: undefined,
  };
  beforeAll(async () => {
    // The fixtures' reference activations are variant 3's.
    trackers.auto = await RhythmTracker.open({ variant: 3, recurrentPrecision: 'float32' });
    trackers.half = await RhythmTracker.open({ variant: 3 });
    trackers.onnxruntime = await RhythmTracker.open({ variant: 3, runtime: 'onnxruntime' });
  });
  afterAll(async () => {
    await trackers.auto?.close();
    await trackers.half?.close();
    await trackers.onnxruntime?.close();
  });

  it("'auto' runs the kernels where the CPU has AVX2, FMA and F16C, else ONNX Runtime", () => {
    expect(trackers.auto!.runtime).toBe(kernelsRun ? 'builtin' : 'onnxruntime');
    expect(trackers.onnxruntime!.runtime).toBe('onnxruntime');
    expect(trackers.half!.recurrentPrecision).toBe(kernelsRun ? 'float16' : 'float32');
    expect(trackers.onnxruntime!.recurrentPrecision).toBe('float32');
  });

  it('both reproduce the PyTorch activations within 1e-4 and decode the same beat frames', async () => {
    let worst = 0;
    let between = 0;
    for (const f of manifest.fixtures) {
      const audio = readInput(f);
      const ref = readF32(f.activations.beatnet_3!.file);
      const a = await trackers.auto!.track(audio, 22050, RAW_BEATNET);
      const b = await trackers.onnxruntime!.track(audio, 22050, RAW_BEATNET);
      expect(a.activations!.length).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) {
        worst = Math.max(worst, Math.abs(a.activations![i]! - ref[i]!), Math.abs(b.activations![i]! - ref[i]!));
        between = Math.max(between, Math.abs(a.activations![i]! - b.activations![i]!));
      }
      expect(Array.from(a.beatFrames), f.name).toEqual(Array.from(b.beatFrames));
      expect(a.beatsPerBar, f.name).toBe(b.beatsPerBar);
    }
    console.log(`activations vs PyTorch: max abs ${worst.toExponential(2)}; built-in vs ONNX Runtime: ${between.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-4);
  });

  it('float16 recurrent weights (the default) stay within 3e-3 of PyTorch and decode the same beats', async () => {
    let worst = 0;
    for (const f of manifest.fixtures) {
      const audio = readInput(f);
      const ref = readF32(f.activations.beatnet_3!.file);
      const a = await trackers.half!.track(audio, 22050, RAW_BEATNET);
      const b = await trackers.auto!.track(audio, 22050, RAW_BEATNET);
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(a.activations![i]! - ref[i]!));
      expect(Array.from(a.beatFrames), f.name).toEqual(Array.from(b.beatFrames));
      expect(a.beatsPerBar, f.name).toBe(b.beatsPerBar);
    }
    console.log(`float16 recurrent weights vs PyTorch: max abs ${worst.toExponential(2)}`);
    // Measured 1.0e-3 on these fixtures (variant 3); the float32 weights give ~1e-6.
    expect(worst).toBeLessThanOrEqual(3e-3);
    if (kernelsRun) expect(worst).toBeGreaterThan(1e-5);
  });

  it('the one-shot trackRhythm opens its tracker with the runtime and recurrent precision given', async () => {
    const audio = readInput(manifest.fixtures[0]!);
    const a = await trackRhythm(audio, 22050, { variant: 3, runtime: 'onnxruntime', ...RAW_BEATNET });
    const b = await trackRhythm(audio, 22050, { variant: 3, recurrentPrecision: 'float32', ...RAW_BEATNET });
    const c = await trackRhythm(audio, 22050, { variant: 3, ...RAW_BEATNET });
    let ab = 0;
    let ac = 0;
    for (let i = 0; i < a.activations!.length; i++) {
      ab = Math.max(ab, Math.abs(a.activations![i]! - b.activations![i]!));
      ac = Math.max(ac, Math.abs(a.activations![i]! - c.activations![i]!));
    }
    expect(ab).toBeLessThanOrEqual(1e-4);
    if (kernelsRun) expect(ac).toBeGreaterThan(ab);
  });

  it('a BeatNet export whose recurrent weights overflow float16 runs in float32: ONNX Runtime under auto, the kernels only when asked', async () => {
    const model = parseModel(readFileSync(beatnetModelPath(3)));
    const lstm = model.graph!.node!.find((n) => n.opType === 'LSTM')!;
    const r = model.graph!.initializer!.find((t) => t.name === lstm.input![2])!;
    // The exporter writes raw little-endian floats; one weight past float16's 65504.
    const raw = Buffer.from(r.rawData!);
    raw.writeFloatLE(1e6, 0);
    r.rawData = raw;
    const require = createRequire(import.meta.url);
    const { onnx } = require('onnx-proto') as typeof import('onnx-proto');
    const bytes = new Uint8Array(onnx.ModelProto.encode(model).finish());
    const auto = await RhythmTracker.open({ model: bytes });
    try {
      expect(auto.runtime).toBe('onnxruntime');
      expect(auto.recurrentPrecision).toBe('float32');
    } finally {
      await auto.close();
    }
    if (!kernelsRun) return;
    await expect(RhythmTracker.open({ model: bytes, runtime: 'builtin' })).rejects.toMatchObject({
      code: 'DE_MODEL_INVALID',
      message: expect.stringMatching(/outside float16's range/),
    });
    const single = await RhythmTracker.open({ model: bytes, runtime: 'builtin', recurrentPrecision: 'float32' });
    expect(single.runtime).toBe('builtin');
    await single.close();
  });

  it('refuses a recurrent precision other than float16 or float32', async () => {
    await expect(RhythmTracker.open({ recurrentPrecision: 'bfloat16' as 'float16' })).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });

  it('another network with the same contract runs on ONNX Runtime under auto, and is refused by builtin', async () => {
    const model = notBeatNet();
    const t = await RhythmTracker.open({ model });
    try {
      expect(t.runtime).toBe('onnxruntime');
      const r = await t.track(readInput(manifest.fixtures[0]!), 22050, { returnActivations: true });
      expect(r.activations!.length % 3).toBe(0);
    } finally {
      await t.close();
    }
    await expect(RhythmTracker.open({ model, runtime: 'builtin' })).rejects.toMatchObject({
      code: 'DE_MODEL_INVALID',
      message: expect.stringMatching(/not for the built-in CRNN: other operators than BDA's/),
    });
  });

  it('bytes that are not an ONNX model are refused with DE_MODEL_INVALID by either runtime', async () => {
    const junk = new Uint8Array(64).fill(0xff);
    await expect(RhythmTracker.open({ model: junk, runtime: 'builtin' })).rejects.toMatchObject({ code: 'DE_MODEL_INVALID' });
    await expect(RhythmTracker.open({ model: junk })).rejects.toMatchObject({ code: 'DE_MODEL_INVALID' });
  });
});
