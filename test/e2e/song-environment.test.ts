// The song environment's breakers, as their owners share them: one set for all the songs of a batch
// (a separator that keeps failing is skipped fast for the later songs, as in the original), new ones
// for each AudioPipeline run unless the caller hands the same set to several runs.
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, createPipelineBreakers, processBatch, writeWav, type StemSeparator } from '../../lib/index.js';
import { sine } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

describe('song environment: circuit breakers per owner', () => {
  const dir = useTempDir();
  const files = [0, 1, 2, 3].map((i) => join(dir, `tone_${i}.wav`));
  const config = { writeBarChunks: false, useBasicPitchTranscription: false, beatTracker: 'librosa' as const };
  beforeAll(async () => {
    for (const [i, f] of files.entries()) await writeWav(f, sine(22050, 1, 220 * (i + 1)), { sampleRate: 22050 });
  });
  /** A separator that always fails, counting its calls. */
  const failingSeparator = () => {
    const s = {
      calls: 0,
      modelName: 'broken',
      async separate(): Promise<never> {
        s.calls++;
        throw new Error('separator down');
      },
    };
    return s satisfies StemSeparator;
  };

  it('a batch shares one set: after 3 failures the 4th song does not call the separator', async () => {
    const separator = failingSeparator();
    const r = await processBatch(files, join(dir, 'batch'), { config, services: { separator } });
    expect(r).toMatchObject({ total: 4, success_count: 4, failure_count: 0 });
    expect(separator.calls).toBe(3);
    const errors = r.successful.map(([, , res]) => res.stem_separation_error as string);
    expect(errors.slice(0, 3)).toEqual(['separator down', 'separator down', 'separator down']);
    expect(errors[3]).toMatch(/^Circuit 'demucs' is OPEN\. Service unavailable\. Retry in \d+\.\ds\.$/);
    expect(r.degraded.map(([id]) => id)).toEqual(['tone_0', 'tone_1', 'tone_2', 'tone_3']);
  }, 60_000);

  it('AudioPipeline runs make their own breakers unless given one set', async () => {
    const own = failingSeparator();
    for (const [i, f] of files.entries()) {
      await new AudioPipeline({ ...config, songId: `own_${i}`, inputWav: f, outDir: join(dir, 'own') }, { services: { separator: own } }).run();
    }
    expect(own.calls).toBe(4);
    const shared = failingSeparator();
    const breakers = createPipelineBreakers();
    const results = [];
    for (const [i, f] of files.entries()) {
      const pipeline = new AudioPipeline(
        { ...config, songId: `shared_${i}`, inputWav: f, outDir: join(dir, 'shared') },
        { services: { separator: shared }, breakers },
      );
      results.push(await pipeline.run());
    }
    expect(shared.calls).toBe(3);
    expect(breakers.demucs.state).toBe('open');
    expect(results[3]!.stem_separation_error).toMatch(/^Circuit 'demucs' is OPEN/);
  }, 60_000);
});
