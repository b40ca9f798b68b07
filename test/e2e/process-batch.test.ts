import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { sine } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

// The original's process_batch tests, on 1-second sines with chunks off.
describe('AudioPipeline.processBatch (the original’s contract)', () => {
  const dir = useTempDir();
  const files = [0, 1, 2].map((i) => join(dir, `sine_${i}.wav`));
  const config = { writeBarChunks: false, useDemucsSeparation: false, useBasicPitchTranscription: false };
  beforeAll(async () => {
    for (const [i, f] of files.entries()) await writeWav(f, sine(22050, 1, 220 * (i + 1)), { sampleRate: 22050 });
  });

  it('processes every file and returns the original’s keys', async () => {
    const r = await AudioPipeline.processBatch(files, join(dir, 'out1'), { config });
    expect(Object.keys(r)).toEqual(expect.arrayContaining(['successful', 'failed', 'total', 'success_count', 'failure_count']));
    expect(r).toMatchObject({ total: 3, success_count: 3, failure_count: 0 });
    expect(r.successful.map(([id]) => id)).toEqual(['sine_0', 'sine_1', 'sine_2']);
    expect(r.successful[0]![2].song_id).toBe('sine_0');
  });

  it('uses custom song ids for the output folders', async () => {
    const out = join(dir, 'out2');
    const r = await AudioPipeline.processBatch(files.slice(0, 2), out, { songIds: ['song_alpha', 'song_beta'], config });
    expect(r.successful.map(([id]) => id)).toEqual(['song_alpha', 'song_beta']);
    for (const id of ['song_alpha', 'song_beta']) {
      for (const kind of ['input', 'preprocessed', 'analysis']) expect(existsSync(join(out, kind, id))).toBe(true);
    }
  });

  it('records a missing file as a failure and goes on', async () => {
    const missing = join(dir, 'missing.wav');
    const r = await AudioPipeline.processBatch([files[0]!, missing], join(dir, 'out3'), { config });
    expect(r).toMatchObject({ total: 2, success_count: 1, failure_count: 1 });
    const [id, path, error] = r.failed[0]!;
    expect(id).toBe('missing');
    expect(path).toContain('missing.wav');
    expect(error).toMatch(/not found/);
  });

  it('rejects mismatched song ids and an empty list with the original’s messages', async () => {
    await expect(AudioPipeline.processBatch(files.slice(0, 2), dir, { songIds: ['one'] })).rejects.toThrow(/must match/);
    await expect(AudioPipeline.processBatch([], dir)).rejects.toThrow(/cannot be empty/);
  });

  it('step timings cover all eleven steps, each ≥ 0', async () => {
    const p = new AudioPipeline({ songId: 't', inputWav: files[0]!, outDir: join(dir, 'out4'), ...config });
    await p.run();
    expect(Object.keys(p.stepTimings)).toHaveLength(11);
    expect(Object.values(p.stepTimings).every((t) => t >= 0)).toBe(true);
  });
});
