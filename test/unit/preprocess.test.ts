import { describe, expect, it } from 'vitest';

import { detectNonsilentMs, normalizePeak, trimSilence } from '../../lib/music/preprocess.js';

function padded(sr: number, leadS: number, toneS: number, tailS: number): Float32Array {
  const out = new Float32Array(Math.round(sr * (leadS + toneS + tailS)));
  const a = Math.round(sr * leadS);
  for (let i = 0; i < Math.round(sr * toneS); i++) out[a + i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / sr);
  return out;
}

describe('trimSilence (pydub rules, in float)', () => {
  it('removes leading/trailing silence, keeps 80 ms, and reports the offset', async () => {
    const sr = 22050;
    const x = padded(sr, 1.0, 2.0, 0.5);
    const r = await trimSilence(x, sr, { silenceThreshDbfs: -40, keepSilenceMs: 80 });
    expect(r.trimmed).toBe(true);
    // The first non-silent window starts within one 10 ms step of the tone (windows are 100 ms long).
    expect(r.offsetS).toBeGreaterThan(1.0 - 0.08 - 0.1 - 1e-9);
    expect(r.offsetS).toBeLessThanOrEqual(1.0 - 0.08 + 1e-9);
    const kept = r.audio.length / sr;
    expect(kept).toBeGreaterThan(2.0 + 0.08);
    expect(kept).toBeLessThan(2.0 + 2 * 0.08 + 0.25);
  });

  it('returns all-silent audio untouched', async () => {
    const x = new Float32Array(22050);
    const r = await trimSilence(x, 22050, { silenceThreshDbfs: -40, keepSilenceMs: 80 });
    expect(r).toMatchObject({ trimmed: false, offsetS: 0 });
    expect(r.audio).toBe(x);
    expect(await detectNonsilentMs(x, 22050, -40)).toEqual([]);
  });

  it('never treats audio shorter than a window as silent', async () => {
    expect(await detectNonsilentMs(new Float32Array(1000), 22050, -40)).toEqual([[0, 45]]);
  });

  it('keeps loud audio whole', async () => {
    const x = padded(8000, 0, 1, 0);
    expect((await trimSilence(x, 8000, { silenceThreshDbfs: -40, keepSilenceMs: 80 })).trimmed).toBe(false);
  });
});

describe('normalizePeak', () => {
  it('scales the peak to 0.1 dB below full scale', async () => {
    const { audio, gain } = await normalizePeak(new Float32Array([0.1, -0.25, 0.2]));
    expect(gain).toBeCloseTo(10 ** (-0.1 / 20) / 0.25, 9);
    expect(Math.max(...audio.map(Math.abs))).toBeCloseTo(10 ** (-0.1 / 20), 6);
  });
  it('leaves silence alone', async () => {
    expect((await normalizePeak(new Float32Array(4))).gain).toBe(1);
  });
});
