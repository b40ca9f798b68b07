/**
 * The addon's level passes (lib/audio/levels.ts) against the JavaScript loops they replaced
 * (test/helpers/levelsReference.ts): equal to the bit on random and edge inputs, and off the event loop.
 */
import { describe, expect, it } from 'vitest';

import { normalizeToPeak, rangeEnergies, sampleLevels, signalOverview } from '../../lib/audio/levels.js';
import { normalizePeak, silenceWindows, trimSilence } from '../../lib/music/preprocess.js';
import { waveformPeaks } from '../../lib/reports/html/peaks.js';
import { loopTurnsDuring } from '../helpers/eventLoop.js';
import { seededRandom } from '../helpers/signals.js';
import { referenceEnergies, referenceLevels, referenceNormalize, referencePeaks, referenceWindowRms } from '../helpers/levelsReference.js';

/** Random samples over many magnitudes, with exact ±1, values past full scale and zeros of both signs. */
function randomSamples(n: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const u = r();
    if (u < 0.01) x[i] = r() < 0.5 ? 1 : -1;
    else if (u < 0.02) x[i] = (r() < 0.5 ? 1 : -1) * (1 + r());
    else if (u < 0.03) x[i] = r() < 0.5 ? 0 : -0;
    else x[i] = (2 * r() - 1) * 2 ** -Math.floor(r() * 20);
  }
  return x;
}

/** Silence, a tone, silence (with a little noise in the silence so windows sit near the threshold). */
function paddedTone(sr: number, leadS: number, toneS: number, tailS: number, seed: number): Float32Array {
  const r = seededRandom(seed);
  const lead = Math.round(sr * leadS);
  const tone = Math.round(sr * toneS);
  const out = new Float32Array(lead + tone + Math.round(sr * tailS));
  for (let i = 0; i < out.length; i++) out[i] = (r() - 0.5) * 0.02;
  for (let i = 0; i < tone; i++) out[lead + i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr);
  return out;
}

const bits = (x: ArrayLike<number>) => Array.from(x, (v) => (Number.isNaN(v) ? 'NaN' : Object.is(v, -0) ? '-0' : v));

describe('sampleLevels', () => {
  it('equals the clipped count, peak and float64 sum of squares of the JS loop', async () => {
    for (const x of [
      new Float32Array(0),
      new Float32Array([0.25]),
      new Float32Array([1, -1, 0.999999940395, -1.5]),
      randomSamples(1, 1),
      randomSamples(4097, 2),
      randomSamples(300_001, 3),
    ]) {
      expect(await sampleLevels(x)).toEqual(referenceLevels(x));
    }
  });

  it('skips NaN in the peak and counts, as the JS loop did (the sum becomes NaN)', async () => {
    const x = new Float32Array([0.5, Number.NaN, -0.75]);
    const got = await sampleLevels(x);
    expect(got).toEqual(referenceLevels(x));
    expect(got.peak).toBe(0.75);
    expect(got.sumSquares).toBeNaN();
  });

  it('rejects what is not a Float32Array', async () => {
    await expect(sampleLevels(new Float64Array(3) as unknown as Float32Array)).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });
});

describe('signalOverview: waveform peaks', () => {
  it('gives the same slices as the JS loop for every length around the point count', async () => {
    const x = randomSamples(20_011, 4);
    for (const [n, points] of [
      [0, 3000],
      [1, 3000],
      [2, 1],
      [3, 2],
      [7, 3],
      [2999, 3000],
      [3000, 3000],
      [3001, 3000],
      [6001, 3000],
      [20_011, 3000],
      [20_011, 7],
      [20_011, 20_010],
    ] as const) {
      const samples = x.subarray(0, n);
      const got = await signalOverview(samples, Math.min(points, n), null);
      const want = referencePeaks(samples, points);
      expect(bits(got.min), `n=${n} points=${points}`).toEqual(bits(want.min));
      expect(bits(got.max), `n=${n} points=${points}`).toEqual(bits(want.max));
      expect(got.windowRms).toBeNull();
    }
  });

  it('keeps the first of equal values (±0) and skips NaN, as the JS comparisons did', async () => {
    const x = new Float32Array([-0, 0, Number.NaN, 0, -0, 0.5]);
    const got = await waveformPeaks(x, 1, 2);
    const want = referencePeaks(x, 2);
    expect(bits(got.min)).toEqual(bits(want.min));
    expect(bits(got.max)).toEqual(bits(want.max));
  });
});

describe('signalOverview: silence windows', () => {
  const cases: Array<[string, Float32Array, number]> = [
    ['22.05 kHz, silence at both ends', paddedTone(22050, 1.03, 2.0, 0.517, 5), 22050],
    ['44.1 kHz, silence at both ends', paddedTone(44100, 0.25, 1.0, 0.999, 6), 44100],
    ['8 kHz, random', randomSamples(8000 * 3 + 7, 7), 8000],
    ['11025 Hz, 3 ms past a step', paddedTone(11025, 0.5, 0.5, 0.503, 8), 11025],
    ['exactly one window', randomSamples(2205, 9), 22050],
    ['one window and a sample', randomSamples(2206, 10), 22050],
    ['just under one window', randomSamples(2184, 11), 22050],
  ];

  for (const [name, x, sr] of cases) {
    it(`equals the JS window RMS: ${name}`, async () => {
      for (const [minSilenceMs, seekStepMs] of [
        [100, 10],
        [100, 30],
        [95, 10],
      ] as const) {
        const windows = silenceWindows(x.length, sr, minSilenceMs, seekStepMs);
        if (!windows) {
          expect(Math.round((1000 * x.length) / sr)).toBeLessThan(minSilenceMs);
          continue;
        }
        const got = await signalOverview(x, 3000, windows);
        expect(got.windowRms, `${minSilenceMs}/${seekStepMs}`).toEqual(Float64Array.from(referenceWindowRms(x, sr, windows.starts, minSilenceMs, seekStepMs)));
        // The peaks of the same pass are those of a pass without windows.
        const peaksOnly = await signalOverview(x, 3000, null);
        expect(bits(got.max)).toEqual(bits(peaksOnly.max));
      }
    });
  }

  it('trims at the same samples from windows measured ahead (step 2) as from its own pass', async () => {
    for (const [x, sr] of cases.map(([, x, sr]) => [x, sr] as const)) {
      const windows = silenceWindows(x.length, sr);
      const options = { silenceThreshDbfs: -40, keepSilenceMs: 80 };
      const own = await trimSilence(x, sr, options);
      if (!windows) continue;
      const windowRms = (await signalOverview(x, 0, windows)).windowRms!;
      const ahead = await trimSilence(x, sr, { ...options, windowRms });
      expect(ahead.offsetS).toBe(own.offsetS);
      expect(ahead.audio.byteOffset).toBe(own.audio.byteOffset);
      expect(ahead.audio.length).toBe(own.audio.length);
    }
    const [, song, sr] = cases[0]!;
    const trimmed = await trimSilence(song, sr, { silenceThreshDbfs: -40, keepSilenceMs: 80 });
    expect(trimmed.trimmed).toBe(true);
    expect(trimmed.offsetS).toBeGreaterThan(1.03 - 0.08 - 0.1);
  });

  it('rejects window RMS measured for other audio', async () => {
    const x = randomSamples(22050, 12);
    await expect(trimSilence(x, 22050, { silenceThreshDbfs: -40, keepSilenceMs: 80, windowRms: new Float64Array(3) })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
  });
});

describe('normalizePeak', () => {
  it('scales and clamps exactly as the JS loop did', async () => {
    for (const x of [
      new Float32Array([0.1, -0.25, 0.2]),
      new Float32Array([1, -1]),
      new Float32Array([0.5, Number.NaN, -0.5]),
      randomSamples(1, 13),
      randomSamples(100_003, 14),
    ]) {
      for (const headroom of [0.1, 0, -3]) {
        const got = await normalizePeak(x, headroom);
        const want = referenceNormalize(x, headroom);
        expect(got.gain).toBe(want.gain);
        expect(bits(got.audio)).toEqual(bits(want.audio));
      }
    }
  });

  it('leaves silence and empty audio untouched', async () => {
    for (const x of [new Float32Array(0), new Float32Array(5), new Float32Array([Number.NaN])]) {
      const got = await normalizePeak(x);
      expect(got.gain).toBe(1);
      expect(got.audio).toBe(x);
    }
    expect(await normalizeToPeak(new Float32Array(2), 0.5)).toEqual({ peak: 0, gain: 1, audio: null });
  });
});

describe('rangeEnergies', () => {
  it('equals the per-bar float64 energy loop on float32 and float64 samples', async () => {
    const x32 = randomSamples(50_000, 15);
    const x64 = Float64Array.from(x32, (v, i) => v + i * 1e-9);
    const ranges = new Float64Array([0, 0, 0, 1, 10, 4000, 3999, 50_000, 49_999, 50_000, 123, 124]);
    expect(Array.from(await rangeEnergies(x32, ranges))).toEqual(referenceEnergies(x32, ranges));
    expect(Array.from(await rangeEnergies(x64, ranges))).toEqual(referenceEnergies(x64, ranges));
    expect((await rangeEnergies(x32, new Float64Array(0))).length).toBe(0);
  });

  it('rejects ranges that are not whole sample indices', async () => {
    await expect(rangeEnergies(new Float32Array(4), new Float64Array([0, 1.5]))).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
    await expect(rangeEnergies(new Float32Array(4), new Float64Array([0]))).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });
});

describe('the level passes run off the event loop', () => {
  it('while 10 minutes of samples are measured', async () => {
    const x = new Float32Array(44100 * 600);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(i * 0.001);
    expect((await loopTurnsDuring(() => sampleLevels(x))).turnedWhilePending).toBe(true);
    const windows = silenceWindows(x.length, 44100)!;
    expect((await loopTurnsDuring(() => signalOverview(x, 3000, windows))).turnedWhilePending).toBe(true);
    expect((await loopTurnsDuring(() => normalizeToPeak(x, 0.9))).turnedWhilePending).toBe(true);
    expect((await loopTurnsDuring(() => rangeEnergies(x, new Float64Array([0, x.length])))).turnedWhilePending).toBe(true);
  });
});
