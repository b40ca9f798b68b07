import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';

import { decodeAudio, resample, writeWav } from '../../lib/index.js';
import { useTempDir } from '../helpers/tmp.js';

describe('the event loop keeps ticking during heavy native work', () => {
  const dir = useTempDir();

  it('while a 10-minute file decodes and resamples', async () => {
    const sampleRate = 44100;
    const frames = sampleRate * 600;
    const x = new Float32Array(frames * 2);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(i * 0.001) + 0.1 * Math.sin(i * 0.37);
    const path = join(dir, 'ten-minutes.wav');
    await writeWav(path, x, { sampleRate, channels: 2 });

    const histogram = monitorEventLoopDelay({ resolution: 5 });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 2);
    histogram.enable();
    const started = performance.now();
    const decoded = await decodeAudio(path, { mono: true });
    const ticksAfterDecode = ticks;
    const resampled = await resample(decoded.samples, { inRate: sampleRate, outRate: 22050 });
    const elapsed = performance.now() - started;
    histogram.disable();
    clearInterval(timer);

    expect(decoded.frames).toBe(frames);
    expect(resampled.length).toBe(Math.ceil(frames / 2));
    // The timer fired throughout: roughly one tick per 2 ms of wall time, never a long stall.
    expect(ticksAfterDecode).toBeGreaterThan(0);
    expect(ticks).toBeGreaterThan(elapsed / 2 / 10);
    expect(histogram.max / 1e6).toBeLessThan(150); // ms
  });
});
