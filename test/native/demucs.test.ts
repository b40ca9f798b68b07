import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { loopTurnsDuring } from '../helpers/eventLoop.js';

import { writeWav } from '../../lib/audio/write.js';
import { AbortError, InvalidArgumentError, ModelError } from '../../lib/errors.js';
import { buildDemucsStandIn, createSeparator, resolveDemucsModel, separate, type SeparationResult } from '../../lib/models/demucs/index.js';
import { buildModel } from '../../lib/models/onnxBuilder.js';
import { useTempDir } from '../helpers/tmp.js';

const SR = 44100;
const SEGMENT = 343980;
const STRIDE = 257985; // int(0.75 * 343980)
const W = [0.4, 0.3, 0.2, 0.1];

/** A deterministic stereo test signal (interleaved) with some high-frequency content and noise. */
function stereoSignal(frames: number, seed = 1, noise = 0.05): Float32Array {
  const x = new Float32Array(frames * 2);
  let s = seed;
  const rand = (): number => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
  for (let i = 0; i < frames; i++) {
    x[2 * i] = 0.5 * Math.sin(i * 0.01) + 0.2 * Math.sin(i * 0.3) + noise * rand();
    x[2 * i + 1] = 0.3 * Math.cos(i * 0.013) + 0.1 * Math.sin(i * 1.1) + noise * rand();
  }
  return x;
}

/** Demucs adds the mix mean (of the channel average) to every stem when de-normalising. */
function mixMean(x: Float32Array): number {
  let m = 0;
  for (let i = 0; i < x.length; i += 2) m += (x[i]! + x[i + 1]!) / 2;
  return m / (x.length / 2);
}

/** Max |stem_k - (w_k (x - mean) + mean)| over frames [from, to). */
function stemError(r: SeparationResult, k: number, w: number, x: Float32Array, from = 0, to = r.frames): number {
  const mean = mixMean(x);
  const st = r.stems[k]!.samples;
  let e = 0;
  for (let i = 2 * from; i < 2 * to; i++) e = Math.max(e, Math.abs(st[i]! - (w * (x[i]! - mean) + mean)));
  return e;
}

function sumError(r: SeparationResult, x: Float32Array): number {
  const offset = (r.stems.length - 1) * mixMean(x);
  let e = 0;
  for (let i = 0; i < x.length; i++) {
    let s = 0;
    for (const st of r.stems) s += st.samples[i]!;
    e = Math.max(e, Math.abs(s - offset - x[i]!));
  }
  return e;
}

describe('demucs separation with stand-in models', () => {
  // Spectral shares summing to zero over the sources: both branches are used by every stem, and the
  // stems must sum back to the mix exactly, edges included.
  const sumModel = buildDemucsStandIn({ weights: W, spectralShare: [0.75, -1 / 3, -0.5, -1] });

  it('stems sum back to the mix within 1e-4, keep the input length, in htdemucs order', async () => {
    const frames = 20 * SR + 123; // 4 segments, a short last one
    const x = stereoSignal(frames);
    const sep = await createSeparator(sumModel);
    expect(sep.info.sources).toEqual(['drums', 'bass', 'other', 'vocals']);
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 });
    expect(r.stems.map((s) => s.name)).toEqual(['drums', 'bass', 'other', 'vocals']);
    expect(r.frames).toBe(frames);
    for (const st of r.stems) expect(st.samples.length).toBe(2 * frames);
    expect(sumError(r, x)).toBeLessThan(1e-4);
    // Each stem is its fraction of the mix away from the song's first/last 1536 samples, where
    // htdemucs' spectral branch itself cannot rebuild the signal (2 zeroed STFT frames per side).
    for (let k = 0; k < 4; k++) expect(stemError(r, k, W[k]!, x, 1536, frames - 1536)).toBeLessThan(1e-3);
  });

  it('time branch alone: every stem is exactly its fraction, through segments and overlap-add', async () => {
    const frames = 17 * SR + 7;
    const x = stereoSignal(frames, 7);
    const sep = await createSeparator(buildDemucsStandIn({ weights: W, spectralShare: 0 }));
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 });
    for (let k = 0; k < 4; k++) expect(stemError(r, k, W[k]!, x)).toBeLessThan(1e-5);
    // Shifts look at a zero-padded, shifted mix; a linear model must still give the same stems.
    const shifted = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { shifts: 2, seed: 42 });
    for (let k = 0; k < 4; k++) expect(stemError(shifted, k, W[k]!, x)).toBeLessThan(1e-5);
  });

  it('spectral branch alone: no seams at segment boundaries', async () => {
    const frames = 25 * SR;
    // No white noise here: htdemucs drops the Nyquist bin, which noise would make visible (~3e-4).
    const x = stereoSignal(frames, 3, 0);
    const sep = await createSeparator(buildDemucsStandIn({ weights: [1], spectralShare: 1, sourceNames: ['all'] }));
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 });
    expect(r.stems.map((s) => s.name)).toEqual(['all']);
    // htdemucs zeroes the 2 outer STFT frames of each segment, so a segment's first/last 1536
    // samples are not rebuilt (PyTorch's _spec/_ispec round trip shows the same error, up to 0.2 of
    // the signal); the triangular cross-fade gives them a weight below 1536/171990, which bounds
    // what can remain at a boundary. A misplaced segment or weight would leave errors of ~0.1.
    for (let off = STRIDE; off < frames; off += STRIDE) {
      for (const edge of [off, off - STRIDE + SEGMENT]) {
        if (edge <= 2048 || edge >= frames - 2048) continue;
        expect(stemError(r, 0, 1, x, edge - 2048, edge + 2048)).toBeLessThan(2e-3);
      }
    }
    expect(stemError(r, 0, 1, x, 1536, frames - 1536)).toBeLessThan(2e-3);
    // Away from any segment edge the STFT round trip is exact.
    expect(stemError(r, 0, 1, x, 60000, 200000)).toBeLessThan(1e-5);
  });

  it('shorter segments (segmentSeconds) are zero-padded into the model and still add up', async () => {
    const x = stereoSignal(10 * SR, 13);
    const sep = await createSeparator(buildDemucsStandIn({ weights: W, spectralShare: 0 }));
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { segmentSeconds: 4 });
    for (let k = 0; k < 4; k++) expect(stemError(r, k, W[k]!, x)).toBeLessThan(1e-5);
    await expect(sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { segmentSeconds: 9 })).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });

  it('shifts are deterministic for a seed', async () => {
    const x = stereoSignal(9 * SR, 5);
    const sep = await createSeparator(sumModel);
    const a = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { shifts: 2, seed: 9 });
    const b = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { shifts: 2, seed: 9 });
    expect(a.stems[0]!.samples).toEqual(b.stems[0]!.samples);
    expect(sumError(a, x)).toBeLessThan(1e-4);
  });

  it('batched segments give the same stems as one at a time', async () => {
    const x = stereoSignal(16 * SR, 11);
    const sep = await createSeparator(sumModel);
    const one = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { batch: 1 });
    const three = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { batch: 3 });
    for (let k = 0; k < 4; k++) {
      let e = 0;
      for (let i = 0; i < x.length; i++) e = Math.max(e, Math.abs(one.stems[k]!.samples[i]! - three.stems[k]!.samples[i]!));
      expect(e).toBeLessThan(1e-6);
    }
  });

  it('a graph with a fixed batch of 1 runs one segment at a time whatever `batch` asks', async () => {
    const x = stereoSignal(12 * SR, 12);
    const sep = await createSeparator(buildDemucsStandIn({ weights: W, spectralShare: [0.75, -1 / 3, -0.5, -1], batch: 1 }));
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { batch: 4 });
    expect(sumError(r, x)).toBeLessThan(1e-4);
  });

  it('6 sources named by metadata', async () => {
    const names = ['drums', 'bass', 'other', 'vocals', 'guitar', 'piano'];
    const w6 = [0.3, 0.2, 0.2, 0.1, 0.1, 0.1];
    const sep = await createSeparator(buildDemucsStandIn({ weights: w6, spectralShare: 0, sourceNames: names }));
    const x = stereoSignal(3 * SR, 2);
    const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 });
    expect(r.stems.map((s) => s.name)).toEqual(names);
    for (let k = 0; k < 6; k++) expect(stemError(r, k, w6[k]!, x)).toBeLessThan(1e-5);
  });

  it('mono 8 kHz input is resampled to 44.1 kHz and up-mixed', async () => {
    const n = 8000 * 3;
    const mono = new Float32Array(n);
    for (let i = 0; i < n; i++) mono[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 8000);
    const sep = await createSeparator(sumModel);
    const r = await sep.separate({ samples: mono, sampleRate: 8000, channels: 1 });
    expect(r.frames).toBe(Math.ceil((n * SR) / 8000));
    expect(r.sourceSampleRate).toBe(8000);
    expect(r.sourceChannels).toBe(1);
    const st = r.stems[0]!.samples;
    let diff = 0;
    let peak = 0;
    for (let i = 0; i < r.frames; i++) {
      diff = Math.max(diff, Math.abs(st[2 * i]! - st[2 * i + 1]!));
      peak = Math.max(peak, Math.abs(st[2 * i]!));
    }
    expect(diff).toBeLessThan(1e-6); // identical channels
    expect(peak).toBeGreaterThan(0.1);
  });

  it('reports progress per segment run and returns to the event loop while it runs', async () => {
    const sep = await createSeparator(buildDemucsStandIn());
    const x = stereoSignal(30 * SR, 6);
    const seen: Array<[number, number]> = [];
    const { turnedWhilePending } = await loopTurnsDuring(() =>
      sep.separate({ samples: x, sampleRate: SR, channels: 2 }, { onProgress: (d, t) => seen.push([d, t]) }),
    );
    const total = Math.ceil((30 * SR) / STRIDE);
    expect(seen.at(-1)).toEqual([total, total]);
    expect(seen.map((p) => p[0])).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(turnedWhilePending).toBe(true);
  });

  it('asks for CUDA when told and falls back to CPU with a warning', async () => {
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const sep = await createSeparator(sumModel, { device: 'cuda' });
      expect(sep.info.providers.at(-1)).toBe('cpu');
      if (!sep.info.providers.includes('cuda')) {
        expect(sep.info.warnings.length).toBeGreaterThan(0);
        await new Promise((r) => setImmediate(r));
        expect(warnings.some((w) => /cuda/i.test(w))).toBe(true);
      }
      const x = stereoSignal(SR, 2);
      const r = await sep.separate({ samples: x, sampleRate: SR, channels: 2 });
      expect(sumError(r, x)).toBeLessThan(1e-4);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('separates a file by path', async () => {
    const dir = useTempDir('demucs-');
    const x = stereoSignal(4 * SR, 4);
    const path = join(dir, 'song.wav');
    await writeWav(path, x, { sampleRate: SR, channels: 2, subtype: 'FLOAT' });
    const r = await separate(path, { model: sumModel });
    expect(r.frames).toBe(4 * SR);
    expect(sumError(r, x)).toBeLessThan(1e-4);
  });
});

describe('demucs bad input', () => {
  it('rejects a model with the wrong signature', async () => {
    const wrong = buildModel({
      inputs: [{ name: 'x', shape: [1, 2, 1000] }],
      outputs: [{ name: 'y', shape: [1, 2, 1000] }],
      nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
    });
    await expect(createSeparator(wrong)).rejects.toMatchObject({ code: 'DE_MODEL_INVALID' });
    await expect(createSeparator(wrong)).rejects.toBeInstanceOf(ModelError);
    // Right ranks, wrong frame count for the segment.
    const bad = buildDemucsStandIn({ segment: 100000 });
    const bytes = buildModel({
      inputs: [
        { name: 'mix', shape: [1, 2, 343980] },
        { name: 'x', shape: [1, 4, 2048, 300] },
      ],
      outputs: [
        { name: 'a', shape: [1, 4, 4, 2048, 300] },
        { name: 'b', shape: [1, 4, 2, 343980] },
      ],
      nodes: [
        { op: 'Unsqueeze', inputs: ['x', 'axis'], outputs: ['a0'] },
        { op: 'Expand', inputs: ['a0', 'shape5'], outputs: ['a'] },
        { op: 'Unsqueeze', inputs: ['mix', 'axis'], outputs: ['b0'] },
        { op: 'Expand', inputs: ['b0', 'shape4'], outputs: ['b'] },
      ],
      initializers: [
        { name: 'axis', dims: [1], data: new BigInt64Array([1n]) },
        { name: 'shape5', dims: [5], data: new BigInt64Array([1n, 4n, 4n, 2048n, 300n]) },
        { name: 'shape4', dims: [4], data: new BigInt64Array([1n, 4n, 2n, 343980n]) },
      ],
    });
    await expect(createSeparator(bytes)).rejects.toThrow(/spectrogram input must be \[B,4,2048,336\]/);
    // A shorter segment with its matching frame count is a valid contract.
    const short = await createSeparator(bad);
    expect(short.info.segment).toBe(100000);
  });

  it('rejects a model for another sample rate', async () => {
    const m = buildDemucsStandIn({ sampleRate: 48000 });
    await expect(createSeparator(m)).rejects.toThrow(/48000 Hz/);
    await expect(createSeparator(m)).rejects.toBeInstanceOf(ModelError);
  });

  it('rejects metadata naming the wrong number of sources', async () => {
    const m = buildDemucsStandIn({ sourceNames: ['a', 'b'] });
    await expect(createSeparator(m)).rejects.toMatchObject({ code: 'DE_MODEL_INVALID' });
  });

  it('rejects bad audio arguments before the boundary', async () => {
    const sep = await createSeparator(buildDemucsStandIn());
    await expect(sep.separate({ samples: new Float32Array(3), sampleRate: SR, channels: 2 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sep.separate({ samples: new Float32Array(4), sampleRate: 0, channels: 2 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(sep.separate({ samples: new Float32Array(2), sampleRate: SR, channels: 2 })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
    await expect(sep.separate({ samples: x0(), sampleRate: SR, channels: 2 }, { overlap: 2 })).rejects.toBeInstanceOf(InvalidArgumentError);
  });

  it('rejects non-finite samples with a typed error', async () => {
    const sep = await createSeparator(buildDemucsStandIn());
    const x = stereoSignal(SR, 1);
    x[1001] = Number.NaN;
    await expect(sep.separate({ samples: x, sampleRate: SR, channels: 2 })).rejects.toMatchObject({
      code: 'DE_NON_FINITE_SAMPLES',
    });
  });

  it('cancels mid-song with an AbortSignal', async () => {
    const sep = await createSeparator(buildDemucsStandIn());
    const x = stereoSignal(60 * SR, 8);
    const ac = new AbortController();
    let seen = 0;
    const run = sep.separate(
      { samples: x, sampleRate: SR, channels: 2 },
      {
        signal: ac.signal,
        onProgress: (done) => {
          seen = done;
          if (done === 2) ac.abort();
        },
      },
    );
    await expect(run).rejects.toBeInstanceOf(AbortError);
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThan(Math.ceil((60 * SR) / STRIDE));
  });

  it('resolves model names in the models folder and reports missing ones', async () => {
    const dir = useTempDir('demucs-models-');
    writeFileSync(join(dir, 'standin.onnx'), buildDemucsStandIn());
    expect(resolveDemucsModel('standin', dir)).toBe(join(dir, 'standin.onnx'));
    const prev = process.env.DIDACTIC_MODELS_DIR;
    process.env.DIDACTIC_MODELS_DIR = dir;
    try {
      const sep = await createSeparator('standin');
      expect(sep.info.modelPath).toBe(join(dir, 'standin.onnx'));
      expect(() => resolveDemucsModel('htdemucs_missing')).toThrow(ModelError);
    } finally {
      if (prev === undefined) delete process.env.DIDACTIC_MODELS_DIR;
      else process.env.DIDACTIC_MODELS_DIR = prev;
    }
    expect(() => resolveDemucsModel(join(dir, 'nope.onnx'))).toThrow(/not found/);
  });
});

function x0(): Float32Array {
  return stereoSignal(SR, 1);
}
