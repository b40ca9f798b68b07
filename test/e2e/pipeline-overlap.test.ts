// A song's independent steps overlap when the plan leaves it more than one slot
// (plan.songConcurrency): step 3's file write, step 4 (the rhythm) and the full mix's spectral
// analysis. The order is read from the run's own events (step starts from onProgress, step ends and
// the spectral analysis from the log), never from a timing threshold.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { readParquetTable } from '../../lib/datasets/parquet.js';
import { AudioPipeline, writeWav } from '../../lib/index.js';
import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { planSongMemory } from '../../lib/pipeline/memory.js';
import type { Logger } from '../../lib/util/logger.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { filesUnder, useTempDir } from '../helpers/tmp.js';

const noModels = { useDemucsSeparation: false, useBasicPitchTranscription: false };

/** The run's events in the order they happened: `start N`, `end N`, `spectral start`, `spectral end`. */
function recorder() {
  const timeline: string[] = [];
  const note = (message: string) => {
    const end = /^Step (\d+): .* completed in /.exec(message);
    if (end) timeline.push(`end ${end[1]}`);
    if (message.startsWith('Spectral analysis of the full mix (for step 7)')) timeline.push('spectral start');
    if (message === 'Spectral analysis of the full mix done') timeline.push('spectral end');
  };
  const logger: Logger = { debug: note, info: note, warn: note, error: note };
  const onProgress = (e: { kind: string; index?: number }) => {
    if (e.kind === 'step') timeline.push(`start ${e.index}`);
  };
  return { timeline, logger, onProgress };
}

describe('a song overlaps its independent steps within the plan', () => {
  const dir = useTempDir();
  const input = join(dir, 'song.wav');
  beforeAll(async () => {
    await writeWav(input, exampleSong(44100, 20), { sampleRate: 44100, channels: 2 });
  });

  const run = async (out: string, songConcurrency: number, config: Record<string, unknown> = {}) => {
    const r = recorder();
    const plan = planConcurrency({ cores: 4, jobs: 1, songConcurrency });
    const pipeline = new AudioPipeline(
      { songId: 'song', inputWav: input, outDir: join(dir, out), ...noModels, ...config },
      { plan, logger: r.logger, onProgress: r.onProgress },
    );
    const result = await pipeline.run();
    return { result, timeline: r.timeline, at: (event: string) => r.timeline.indexOf(event) };
  };

  it('one slot: every step starts after the one before it ends, in the original order', async () => {
    const { timeline } = await run('seq', 1);
    expect(timeline).toEqual(Array.from({ length: 11 }, (_, i) => [`start ${i + 1}`, `end ${i + 1}`]).flat());
  });

  it('two slots: the rhythm (step 4) runs while step 3 writes its file; the spectral analysis takes the slot step 3 frees', async () => {
    const { at } = await run('two', 2);
    expect(at('start 4')).toBeLessThan(at('end 3'));
    expect(at('start 4')).toBeGreaterThan(at('start 3'));
    // Two slots: the spectral analysis waits for one of the two to finish.
    expect(at('spectral start')).toBeGreaterThan(Math.min(at('end 3'), at('end 4')));
    expect(at('spectral end')).toBeGreaterThan(0);
    // What reads the rhythm waits for all of them.
    for (const before of ['end 3', 'end 4', 'spectral end']) expect(at('start 5')).toBeGreaterThan(at(before));
  });

  it('three slots: the preprocessed write, the rhythm and the spectral analysis all overlap, with the outputs of a sequential run', async () => {
    const { timeline, at, result } = await run('par3', 3);
    expect(at('start 4')).toBeLessThan(at('end 3'));
    expect(at('spectral start')).toBeLessThan(at('end 3'));
    expect(at('spectral start')).toBeLessThan(at('end 4'));
    for (const before of ['end 3', 'end 4', 'spectral end']) expect(at('start 5')).toBeGreaterThan(at(before));
    // Steps 5 to 11 in order.
    expect(timeline.slice(at('start 5'))).toEqual(Array.from({ length: 7 }, (_, i) => [`start ${i + 5}`, `end ${i + 5}`]).flat());

    const seq = await run('seq3', 1);
    expect(Object.keys(result)).toEqual(Object.keys(seq.result));
    const relativeFiles = (root: string): string[] => filesUnder(root).map((f) => relative(root, f));
    const files = relativeFiles(join(dir, 'seq3'));
    expect(relativeFiles(join(dir, 'par3'))).toEqual(files);
    for (const file of files) {
      const a = readFileSync(join(dir, 'seq3', file));
      const b = readFileSync(join(dir, 'par3', file));
      if (file.endsWith('combined.json')) {
        const [ja, jb] = [a, b].map((bytes) => JSON.parse(bytes.toString('utf8')) as Record<string, Record<string, unknown>>);
        // Timings and resource figures are the run's own; their keys and every other value are not.
        expect(Object.keys(jb.step_timings!)).toEqual(Object.keys(ja.step_timings!));
        expect(Object.keys(jb.step_metrics!)).toEqual(Object.keys(ja.step_metrics!));
        for (const j of [ja, jb]) for (const key of ['step_timings', 'step_metrics']) delete j[key];
        expect(JSON.stringify(jb).replaceAll('/par3/', '/seq3/')).toBe(JSON.stringify(ja));
      } else if (file.endsWith('.parquet')) {
        // The output folder's name appears in chunk paths, and compressed bytes need not match when
        // a string differs (Snappy's matches depend on the text): compare schema and rows.
        const [ta, tb] = await Promise.all([readParquetTable(join(dir, 'seq3', file)), readParquetTable(join(dir, 'par3', file))]);
        expect(String(tb.schema)).toBe(String(ta.schema));
        const rows = (t: typeof ta) => JSON.stringify(t.toArray(), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
        expect(rows(tb).replaceAll('/par3/', '/seq3/')).toBe(rows(ta));
      } else if (file.endsWith('manifest.json') || file.endsWith('report.html')) {
        // The output folder's name (as long as the other's) appears in chunk paths; the manifest lists combined.json's hash.
        if (!file.endsWith('manifest.json')) expect(b.toString('latin1').replaceAll('/par3/', '/seq3/')).toBe(a.toString('latin1'));
      } else {
        expect(b.equals(a), file).toBe(true);
      }
    }
  });

  it('step 3 failing its write while step 4 runs fails the song with the error of a sequential run, and leaves nothing', async () => {
    // The staged preprocessed file's path is made a folder just before the write: at step 3's
    // start in order, at step 4's start (the write still pending) when overlapped.
    const failWrite = async (name: string, songConcurrency: number, atStep: number) => {
      const out = join(dir, name);
      const onProgress = (e: { kind: string; index?: number }) => {
        if (e.kind !== 'step' || e.index !== atStep) return;
        const staging = join(out, '.didactic-staging');
        for (const song of readdirSync(staging, { withFileTypes: true })
          .filter((d) => d.isDirectory())
          .map((d) => d.name))
          mkdirSync(join(staging, song, 'preprocessed', 'song.wav'), { recursive: true });
      };
      const r = recorder();
      const pipeline = new AudioPipeline(
        { songId: 'song', inputWav: input, outDir: out, ...noModels },
        {
          plan: planConcurrency({ cores: 4, jobs: 1, songConcurrency }),
          logger: r.logger,
          onProgress: (e) => {
            r.onProgress(e);
            onProgress(e);
          },
        },
      );
      const err = (await pipeline.run().catch((e: unknown) => e)) as { code?: string };
      expect(existsSync(join(out, 'preprocessed', 'song'))).toBe(false);
      expect(existsSync(join(out, 'analysis', 'song'))).toBe(false);
      expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
      return { code: err.code, timeline: r.timeline };
    };
    const seq = await failWrite('fail-seq', 1, 3);
    const par = await failWrite('fail-par', 3, 4);
    expect(seq.code).toMatch(/^DE_/);
    expect(par.code).toBe(seq.code);
    expect(seq.timeline).not.toContain('start 4');
    // Overlapped, step 4 had started and was settled before the song failed; nothing after it ran.
    expect(par.timeline).toContain('start 4');
    expect(par.timeline).not.toContain('start 5');
  });

  it('cancelled while the overlapped steps run: DE_ABORTED, every started part settled, nothing left behind', async () => {
    const out = join(dir, 'cancel');
    const controller = new AbortController();
    const pipeline = new AudioPipeline(
      { songId: 'cancelled', inputWav: input, outDir: out, ...noModels },
      {
        plan: planConcurrency({ cores: 4, jobs: 1, songConcurrency: 3 }),
        onProgress: (e) => e.kind === 'step' && e.index === 4 && controller.abort(),
      },
    );
    await expect(pipeline.run({ signal: controller.signal })).rejects.toMatchObject({ code: 'DE_ABORTED' });
    expect(existsSync(join(out, 'preprocessed', 'cancelled'))).toBe(false);
    expect(existsSync(join(out, 'analysis', 'cancelled'))).toBe(false);
    expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
  });
});

describe('planConcurrency: slots for a song’s independent steps', () => {
  it('one on a single core or when the songs fill the cores, up to three from the song’s share, as asked when given', () => {
    expect(planConcurrency({ cores: 1 }).songConcurrency).toBe(1);
    expect(planConcurrency({ cores: 2, jobs: 2 }).songConcurrency).toBe(1);
    expect(planConcurrency({ cores: 2, jobs: 1 }).songConcurrency).toBe(2);
    expect(planConcurrency({ cores: 16, jobs: 2 }).songConcurrency).toBe(3);
    expect(planConcurrency({ cores: 2, songConcurrency: 1 }).songConcurrency).toBe(1);
    for (const cores of [1, 2, 4, 8, 16]) {
      for (const jobs of [1, 2, 3, 8]) {
        const p = planConcurrency({ cores, jobs });
        if (jobs <= cores) expect(p.jobs * p.songConcurrency).toBeLessThanOrEqual(cores);
        // Each overlapped part may hold a libuv pool thread, and file I/O keeps one more.
        expect(p.uvThreadpoolSize).toBeGreaterThanOrEqual(p.jobs * p.songConcurrency + 2);
      }
    }
  });

  it('the memory plan counts what runs beside the rhythm once the steps overlap', () => {
    const shape = { frames: 44100 * 600, sampleRate: 44100, channels: 2 };
    const cfg = {
      analysisSr: 22050,
      hopLength: 512,
      usePydubPreprocess: true,
      preprocessTargetSr: 44100,
      preprocessNormalize: true,
      useDemucsSeparation: false,
      useBasicPitchTranscription: false,
      writeBarChunks: true,
      writeBarChunkWavs: true,
      preserveChunkAudio: false,
      beatTracker: 'beatnet' as const,
    };
    const step4 = (songConcurrency: number) => planSongMemory(shape, cfg, 1, songConcurrency).steps.find((s) => s.step === 4)!.bytes;
    expect(step4(2)).toBeGreaterThan(step4(1));
    expect(step4(3)).toBeGreaterThan(step4(2));
  });
});
