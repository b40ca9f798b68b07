/**
 * Heavy native calls return at once and do their work on a libuv worker thread: the event loop
 * turns (a setImmediate callback runs) while each call is pending. Asserted as an order of events,
 * not as a wall-clock bound (stall figures: bench/event-loop.mjs).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { decodeAudio, resample, writeWav } from '../../lib/index.js';
import { loopTurnsDuring } from '../helpers/eventLoop.js';
import { useTempDir } from '../helpers/tmp.js';

describe('heavy native work runs off the event loop', () => {
  const dir = useTempDir();

  it('while a 10-minute file decodes and resamples', async () => {
    const sampleRate = 44100;
    const frames = sampleRate * 600;
    const x = new Float32Array(frames * 2);
    for (let i = 0; i < x.length; i++) x[i] = 0.3 * Math.sin(i * 0.001) + 0.1 * Math.sin(i * 0.37);
    const path = join(dir, 'ten-minutes.wav');
    await writeWav(path, x, { sampleRate, channels: 2 });

    const decoded = await loopTurnsDuring(() => decodeAudio(path, { mono: true }));
    expect(decoded.result.frames).toBe(frames);
    expect(decoded.turnedWhilePending).toBe(true);
    const resampled = await loopTurnsDuring(() => resample(decoded.result.samples, { inRate: sampleRate, outRate: 22050 }));
    expect(resampled.result.length).toBe(Math.ceil(frames / 2));
    expect(resampled.turnedWhilePending).toBe(true);
  });
});
