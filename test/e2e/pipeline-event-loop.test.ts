/**
 * A pipeline run keeps its heavy work off the main event loop: the Parquet encode (and the
 * WebAssembly module behind it) runs on the Parquet worker thread, the audio work on native
 * workers. Asserted as where the work ran, not as wall-clock gaps (those belong to
 * bench/event-loop.mjs: a timed bound fails on a loaded machine).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { parquetEncodeThreads } from '../../lib/datasets/parquetThread.js';
import { AudioPipeline, writeWav } from '../../lib/index.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { useTempDir } from '../helpers/tmp.js';

describe('event loop during a pipeline run', () => {
  const dir = useTempDir();
  const input = join(dir, 'song.wav');
  beforeAll(async () => {
    await writeWav(input, exampleSong(44100, 30), { sampleRate: 44100, channels: 2 });
  }, 60_000);

  it('encodes every dataset on a worker thread, none on the main thread', async () => {
    const before = new Map(parquetEncodeThreads().encodedBy);
    const out = join(dir, 'out');
    const result = await new AudioPipeline({ songId: 'song', inputWav: input, outDir: out, useDemucsSeparation: false }).run();
    const { mainThreadId, encodedBy } = parquetEncodeThreads();
    const files = readdirSync(join(out, 'datasets', 'song')).filter((f) => f.endsWith('.parquet'));
    // With transcription on, all five datasets exist (events included).
    expect(files.sort()).toEqual(['bar_features.parquet', 'bar_grid.parquet', 'bars.parquet', 'beats.parquet', 'events.parquet']);
    expect(result.song_id).toBe('song');
    const encodedNow = [...encodedBy].map(([thread, n]) => [thread, n - (before.get(thread) ?? 0)] as const).filter(([, n]) => n > 0);
    expect(encodedNow.map(([, n]) => n).reduce((a, b) => a + b, 0)).toBe(files.length);
    for (const [thread] of encodedNow) expect(thread).not.toBe(mainThreadId);
  }, 120_000);
});
