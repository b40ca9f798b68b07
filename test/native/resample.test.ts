import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { resample, resampledLength } from '../../lib/index.js';
import { maxAbsDiff, sine } from '../helpers/signals.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'resample');
const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as {
  input: string;
  cases: { file: string; inRate: number; outRate: number; frames: number }[];
};
function readF32(name: string): Float32Array {
  const buf = readFileSync(join(fixtures, name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

describe('resample', () => {
  const input = readF32(manifest.input);

  it.each(manifest.cases.map((c) => [c.outRate, c] as const))('soxr HQ 44100 -> %i Hz matches python-soxr within 1e-5', async (_rate, c) => {
    const want = readF32(c.file);
    const got = await resample(input, { inRate: c.inRate, outRate: c.outRate });
    expect(got.length).toBe(want.length);
    expect(got.length).toBe(resampledLength(input.length, c.inRate, c.outRate));
    expect(maxAbsDiff(got, want)).toBeLessThan(1e-5);
  });

  it.each(['soxr_hq', 'soxr_vhq', 'soxr_mq', 'sinc_best', 'sinc_medium', 'sinc_fastest'] as const)(
    '%s gives exactly ceil(n * out / in) frames and preserves a tone',
    async (engine) => {
      const x = sine(44100, 0.5, 1000, 0.5);
      const y = await resample(x, { inRate: 44100, outRate: 22050, engine });
      expect(y.length).toBe(Math.ceil((x.length * 22050) / 44100));
      const ideal = sine(22050, 0.5, 1000, 0.5);
      // Away from the edges every engine reproduces the tone closely.
      const mid = (a: Float32Array) => a.subarray(2000, a.length - 2000);
      expect(maxAbsDiff(mid(y), mid(ideal))).toBeLessThan(engine === 'sinc_fastest' ? 5e-3 : 2e-3);
    },
  );

  it('resamples interleaved multichannel audio channel by channel', async () => {
    const left = sine(48000, 0.2, 300, 0.5);
    const right = sine(48000, 0.2, 700, 0.25);
    const inter = new Float32Array(left.length * 2);
    for (let i = 0; i < left.length; i++) {
      inter[2 * i] = left[i]!;
      inter[2 * i + 1] = right[i]!;
    }
    const both = await resample(inter, { inRate: 48000, outRate: 16000, channels: 2 });
    const l = await resample(left, { inRate: 48000, outRate: 16000 });
    const r = await resample(right, { inRate: 48000, outRate: 16000 });
    expect(both.length).toBe(2 * l.length);
    for (let i = 0; i < l.length; i++) {
      expect(both[2 * i]).toBeCloseTo(l[i]!, 6);
      expect(both[2 * i + 1]).toBeCloseTo(r[i]!, 6);
    }
  });

  it('handles odd lengths, equal rates and empty input', async () => {
    expect((await resample(new Float32Array(7), { inRate: 44100, outRate: 22050 })).length).toBe(4);
    const same = sine(8000, 0.01, 100);
    expect(Array.from(await resample(same, { inRate: 8000, outRate: 8000 }))).toEqual(Array.from(same));
    expect((await resample(new Float32Array(0), { inRate: 44100, outRate: 22050 })).length).toBe(0);
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(resample(new Float32Array(44100), { inRate: 44100, outRate: 22050, signal: controller.signal })).rejects.toMatchObject({
      name: 'AbortError',
      code: 'DE_ABORTED',
    });
  });

  it('rejects bad rates with a typed error', async () => {
    await expect(resample(new Float32Array(10), { inRate: -1, outRate: 22050 })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
  });
});
