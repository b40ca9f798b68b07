import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { aggregateBarFeatures, barFrameRange, centredFrameTimes, fftSizeAtMost, type FrameFeatures } from '../../lib/music/barFeatures.js';

const SR = 22050;
const HOP = 512;

/** Frame features whose value equals the frame index, so means reveal which frames were used. */
function indexFrames(numFrames: number, layout: 'coefficient-major' | 'frame-major' = 'coefficient-major'): FrameFeatures {
  const idx = Float64Array.from({ length: numFrames }, (_, f) => f);
  const matrix = (rows: number) => {
    const data = new Float32Array(rows * numFrames);
    for (let r = 0; r < rows; r++) for (let f = 0; f < numFrames; f++) data[layout === 'coefficient-major' ? r * numFrames + f : f * rows + r] = f + 1000 * r;
    return { data, rows, layout };
  };
  return {
    frameTimes: centredFrameTimes(numFrames, HOP, SR),
    zcr: idx,
    spectralCentroid: idx,
    spectralRolloff: idx.map((f) => 2 * f),
    spectralBandwidth: idx,
    mfcc: matrix(13),
    chroma: matrix(12),
  };
}

describe('bar frame mapping', () => {
  it('uses frames whose centres lie in [start, end) (bar 2–4 s → frames 87…172)', () => {
    const times = centredFrameTimes(400, HOP, SR);
    expect(barFrameRange(times, 2.0, 4.0)).toEqual([87, 173]);
  });
  it('a bar shorter than a hop uses the nearest frame to its midpoint', () => {
    const times = centredFrameTimes(400, HOP, SR);
    const [f0, f1] = barFrameRange(times, 2.0005, 2.001)!;
    expect(f1 - f0).toBe(1);
    expect(Math.abs(times[f0]! - 2.00075)).toBeLessThanOrEqual(HOP / SR / 2);
  });
});

describe('aggregateBarFeatures', () => {
  const numFrames = 400; // ≈ 9.3 s
  const samples = new Float32Array(Math.round(9 * SR)).fill(0.5);

  it('aggregates the right frames and float64 energy', async () => {
    const out = await aggregateBarFeatures({
      samples,
      sampleRate: SR,
      frames: indexFrames(numFrames),
      bars: [
        { barIndex: 0, startS: 2, endS: 4 },
        { barIndex: 1, startS: 4, endS: 6 },
      ],
    });
    expect(Array.from(out.barIndex)).toEqual([0, 1]);
    // frames 87..172 → mean 129.5, population std of 86 consecutive integers
    expect(out.zcr[0]).toBeCloseTo(129.5, 12);
    const std86 = Math.sqrt((86 * 86 - 1) / 12);
    expect(out.spectralCentroidStd[0]).toBeCloseTo(std86, 10);
    expect(out.spectralRolloffMean[0]).toBeCloseTo(259, 12);
    expect(out.spectralRolloffStd[0]).toBeCloseTo(2 * std86, 10);
    expect(out.mfccMean[0]).toBeCloseTo(129.5, 12);
    expect(out.mfccMean[12]).toBeCloseTo(129.5 + 12000, 9);
    expect(out.mfccStd[5]).toBeCloseTo(std86, 9);
    expect(out.chromaMean[13]).toBeCloseTo(out.zcr[1]! + 1000, 9); // bar 1, chroma bin 1
    expect(out.energy[0]).toBe(0.25 * 2 * SR);
    expect(out.rms[0]).toBe(0.5);
  });

  it('accepts frame-major matrices with the same result', async () => {
    const bars = [{ barIndex: 3, startS: 1.1, endS: 2.9 }];
    const a = await aggregateBarFeatures({ samples, sampleRate: SR, frames: indexFrames(numFrames), bars });
    const b = await aggregateBarFeatures({ samples, sampleRate: SR, frames: indexFrames(numFrames, 'frame-major'), bars });
    expect(Array.from(b.mfccMean)).toEqual(Array.from(a.mfccMean));
    expect(Array.from(b.chromaMean)).toEqual(Array.from(a.chromaMean));
  });

  it('keeps quiet bars late in long audio exact (float32 running sums lost them)', async () => {
    const long = new Float32Array(10 * 60 * SR);
    for (let i = 0; i < long.length; i++) long[i] = i % 2 ? 0.1 : -0.1;
    const quietStart = long.length - 4 * SR;
    for (let i = quietStart; i < long.length; i++) long[i] = i % 2 ? 0.01 : -0.01;
    const frames = indexFrames(Math.floor(long.length / HOP) + 1);
    const out = await aggregateBarFeatures({ samples: long, sampleRate: SR, frames, bars: [{ barIndex: 299, startS: 598, endS: 600 }] });
    expect(out.rms[0]).toBeCloseTo(0.01, 6);
  });

  it('skips bars without samples and validates shapes', async () => {
    const out = await aggregateBarFeatures({
      samples: samples.subarray(0, SR),
      sampleRate: SR,
      frames: indexFrames(numFrames),
      bars: [{ barIndex: 0, startS: 2, endS: 3 }],
    });
    expect(out.barIndex.length).toBe(0);
    const bad = { ...indexFrames(10), zcr: new Float64Array(9) };
    await expect(aggregateBarFeatures({ samples, sampleRate: SR, frames: bad, bars: [] })).rejects.toThrow(InvalidArgumentError);
    const badMatrix = { ...indexFrames(10), mfcc: { data: new Float32Array(5), rows: 13, layout: 'frame-major' as const } };
    await expect(aggregateBarFeatures({ samples, sampleRate: SR, frames: badMatrix, bars: [] })).rejects.toThrow(/13 × 10/);
  });
});

describe('fftSizeAtMost', () => {
  it('keeps sizes the FFT core accepts and shrinks a length with a large prime factor', () => {
    expect(fftSizeAtMost(2048)).toBe(2048);
    expect(fftSizeAtMost(1500)).toBe(1500);
    expect(fftSizeAtMost(1103)).toBe(1102); // 1103 is prime; 1102 = 2 · 19 · 29
    expect(fftSizeAtMost(2039)).toBe(2037); // 2039 prime, 2038 = 2 · 1019, 2037 = 3 · 7 · 97
    expect(fftSizeAtMost(2)).toBe(2);
  });
});
