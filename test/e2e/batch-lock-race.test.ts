/**
 * Songs of one batch share `<out>/.didactic-staging`: one song's release or stale cleanup removes
 * the folder when it is empty, possibly between another song's mkdir and its lock write. Found by
 * the service benchmark (a --jobs 2 batch of short songs failed with ENOENT on most runs); every
 * song must still complete.
 */
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/audio/write.js';
import { processBatch } from '../../lib/pipeline/batch.js';
import { sine } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

const tmp = useTempDir('didactic-lock-race-');

describe('a parallel batch of short songs', () => {
  it('completes every song while the others take and release their locks', async () => {
    const files: string[] = [];
    for (let i = 0; i < 30; i++) {
      const path = join(tmp, `s${i}.wav`);
      await writeWav(path, sine(22050, 1, 220 + i * 10, 0.3), { sampleRate: 22050 });
      files.push(path);
    }
    const result = await processBatch(files, join(tmp, 'out'), {
      jobs: 3,
      config: { useDemucsSeparation: false, useBasicPitchTranscription: false, writeBarChunkWavs: false },
    });
    expect(result.failures).toEqual([]);
    expect(result.success_count).toBe(30);
  }, 120_000);
});
