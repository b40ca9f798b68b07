import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { buildDemucsStandIn } from '../../lib/testing.js';
import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { melodySong } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

describe('in-song parallelism gives the same results as a sequential run', () => {
  const dir = useTempDir();
  const input = join(dir, 'song.wav');
  // The real engines: Demucs on a stand-in model with the htdemucs signature (stems are fixed
  // fractions of the mix) and Basic Pitch on the converted model.
  const model = join(dir, 'standin.onnx');
  beforeAll(async () => {
    await writeWav(input, melodySong(12), { sampleRate: 44100, channels: 2 });
    writeFileSync(model, buildDemucsStandIn());
  });

  it('stems, transcription and chunk writes in parallel vs one at a time: identical datasets, chunks, MIDI and result keys', async () => {
    const run = (out: string, stemConcurrency: number, chunkWriteConcurrency: number) =>
      new AudioPipeline(
        { songId: 'song', inputWav: input, outDir: join(dir, out), demucsModel: model },
        { plan: planConcurrency({ stemConcurrency }), chunkWriteConcurrency },
      ).run();
    const seq = await run('seq', 1, 1);
    const par = await run('par', 4, 8);
    expect(seq.stems).toEqual(['bass', 'drums', 'other', 'vocals']);
    expect(Object.keys(par)).toEqual(Object.keys(seq));
    for (const name of ['events', 'beats', 'bars', 'bar_features', 'bar_grid']) {
      const a = readFileSync(join(dir, 'seq', 'datasets', 'song', `${name}.parquet`));
      const b = readFileSync(join(dir, 'par', 'datasets', 'song', `${name}.parquet`));
      // Paths differ only by the output folder; compare the files with it normalised.
      expect(b.toString('latin1').replaceAll('/par/', '/seq/')).toBe(a.toString('latin1'));
    }
    for (const stem of seq.stems as string[]) {
      const files = readdirSync(join(dir, 'seq', 'chunks', 'song', stem)).sort();
      expect(readdirSync(join(dir, 'par', 'chunks', 'song', stem)).sort()).toEqual(files);
      for (const f of files) {
        expect(readFileSync(join(dir, 'par', 'chunks', 'song', stem, f)).equals(readFileSync(join(dir, 'seq', 'chunks', 'song', stem, f)))).toBe(true);
      }
      const midi = (run: string) => readFileSync(join(dir, run, 'midi', 'song', `${stem}.mid`));
      expect(midi('par').equals(midi('seq'))).toBe(true);
      expect(seq[`midi_${stem}`]).toBeDefined();
    }
  });
});

describe('planConcurrency', () => {
  it('never plans more compute threads than cores', () => {
    for (const cores of [1, 2, 4, 8, 16]) {
      for (const jobs of [1, 2, 3, 8]) {
        const p = planConcurrency({ cores, jobs });
        if (jobs <= cores) expect(p.jobs * p.stemConcurrency * p.ortIntraOpThreads).toBeLessThanOrEqual(cores);
        expect(p.stemConcurrency).toBeLessThanOrEqual(4);
      }
    }
    expect(planConcurrency({ cores: 2, jobs: 1 })).toMatchObject({ stemConcurrency: 2, ortIntraOpThreads: 1 });
    expect(planConcurrency({ cores: 2, jobs: 2 })).toMatchObject({ stemConcurrency: 1, ortIntraOpThreads: 1 });
    expect(planConcurrency({ cores: 16, jobs: 2 })).toMatchObject({ stemConcurrency: 4, ortIntraOpThreads: 2 });
  });
  it('honours explicit values', () => {
    expect(planConcurrency({ cores: 2, jobs: 1, stemConcurrency: 4, ortIntraOpThreads: 3 })).toMatchObject({ stemConcurrency: 4, ortIntraOpThreads: 3 });
  });
});
