import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { decodeAudio, WriteError, writeWav } from '../../lib/index.js';
import { interleave, sine } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

describe('writeWav', () => {
  const dir = useTempDir();

  it.each([
    ['PCM_16', 2 ** -15],
    ['PCM_24', 2 ** -23],
    ['FLOAT', 0],
  ] as const)('round-trips %s within its quantisation step', async (subtype, step) => {
    const x = interleave(sine(16000, 0.5, 440, 0.8), sine(16000, 0.5, 1000, 0.3));
    const path = join(dir, `rt-${subtype}.wav`);
    const result = await writeWav(path, x, { sampleRate: 16000, channels: 2, subtype });
    expect(result).toMatchObject({ frames: 8000, clippedSamples: 0 });
    const back = await decodeAudio(path);
    expect(back).toMatchObject({ sampleRate: 16000, channels: 2, frames: 8000, container: 'WAV', sampleFormat: subtype });
    let maxErr = 0;
    for (let i = 0; i < x.length; i++) maxErr = Math.max(maxErr, Math.abs(back.samples[i]! - x[i]!));
    // libsndfile (like python-soundfile) writes with scale 2^(b-1)-1 and reads with 2^(b-1):
    // half a step of rounding plus up to one step of scale mismatch at full scale.
    expect(maxErr).toBeLessThanOrEqual(1.5 * step);
    expect(result.bytes).toBe(readFileSync(path).length);
  });

  it('clips PCM outside [-1, 1] and reports how many samples it clipped', async () => {
    const x = new Float32Array([0, 0.5, 1.5, -2, 1, -1, 3, 0.999]);
    const path = join(dir, 'clip.wav');
    const result = await writeWav(path, x, { sampleRate: 8000 });
    expect(result.clippedSamples).toBe(3);
    const back = await decodeAudio(path);
    expect(back.samples[2]).toBeCloseTo(32767 / 32768, 6);
    expect(back.samples[3]).toBeCloseTo(-32767 / 32768, 6);
  });

  it('keeps float samples outside [-1, 1] unclipped in FLOAT files', async () => {
    const x = new Float32Array([1.5, -2]);
    const path = join(dir, 'float-hot.wav');
    expect((await writeWav(path, x, { sampleRate: 8000, subtype: 'FLOAT' })).clippedSamples).toBe(0);
    expect(Array.from((await decodeAudio(path)).samples)).toEqual([1.5, -2]);
  });

  it('writes atomically: a failed write leaves neither the file nor a temp file', async () => {
    const x = new Float32Array(100).fill(0.1);
    x[50] = Number.NaN;
    const path = join(dir, 'nan.wav');
    await expect(writeWav(path, x, { sampleRate: 8000 })).rejects.toMatchObject({ code: 'DE_NON_FINITE_SAMPLES' });
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('fails with a typed error when the folder does not exist', async () => {
    const err = await writeWav(join(dir, 'no', 'such', 'dir.wav'), new Float32Array(10), { sampleRate: 8000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'DE_FILE_NOT_FOUND' });
  });

  it('replaces an existing file in one step', async () => {
    const path = join(dir, 'replace.wav');
    await writeWav(path, new Float32Array(1000).fill(0.2), { sampleRate: 8000 });
    await writeWav(path, new Float32Array(10).fill(0.4), { sampleRate: 8000 });
    expect((await decodeAudio(path)).frames).toBe(10);
  });

  it('validates its options', async () => {
    await expect(writeWav(join(dir, 'x.wav'), new Float32Array(3), { sampleRate: 8000, channels: 2 })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
    await expect(writeWav(join(dir, 'x.wav'), new Float32Array(2), { sampleRate: 0 })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
  });
});
