import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, decodeAudio, DidacticError, writeWav } from '../../lib/index.js';
import { readParquetTable } from '../../lib/datasets/parquet.js';
import { clickTrack } from '../helpers/clicks.js';
import { useTempDir } from '../helpers/tmp.js';

const noModels = { useDemucsSeparation: false, useBasicPitchTranscription: false } as const;

describe('pipeline edge cases and faults', () => {
  const dir = useTempDir();
  const stereo48k = join(dir, 'stereo48k.wav');
  const mono48k = join(dir, 'mono48k.wav');

  beforeAll(async () => {
    await writeWav(stereo48k, clickTrack({ sampleRate: 48000, seconds: 10, bpm: 120, channels: 2 }), { sampleRate: 48000, channels: 2 });
    await writeWav(mono48k, clickTrack({ sampleRate: 48000, seconds: 10, bpm: 120 }), { sampleRate: 48000 });
  });

  it('chunks are mono at analysis_sr by default and native with preserve_chunk_audio', async () => {
    const out = join(dir, 'preserve');
    await new AudioPipeline({ songId: 'plain', inputWav: stereo48k, outDir: out, ...noModels }).run();
    await new AudioPipeline({ songId: 'kept', inputWav: stereo48k, outDir: out, preserveChunkAudio: true, ...noModels }).run();
    await new AudioPipeline({ songId: 'monokept', inputWav: mono48k, outDir: out, preserveChunkAudio: true, ...noModels }).run();
    const first = (id: string) => decodeAudio(join(out, 'chunks', id, 'full_mix', 'bar_0000.wav'));
    expect(await first('plain')).toMatchObject({ sampleRate: 22050, channels: 1 });
    expect(await first('kept')).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(await first('monokept')).toMatchObject({ sampleRate: 48000, channels: 1 });
    // Features are computed at the analysis rate either way: same numbers, no NaN.
    const a = await readParquetTable(join(out, 'datasets', 'plain', 'bar_features.parquet'));
    const b = await readParquetTable(join(out, 'datasets', 'kept', 'bar_features.parquet'));
    expect(Array.from(b.getChild('rms')!.toArray() as Float64Array)).toEqual(Array.from(a.getChild('rms')!.toArray() as Float64Array));
    expect((a.getChild('rms')!.toArray() as Float64Array).every((v) => Number.isFinite(v))).toBe(true);
  });

  it('digital silence: tempo 0, no beats, no bars, a valid summary and no NaN', async () => {
    const path = join(dir, 'silence.wav');
    await writeWav(path, new Float32Array(22050 * 4), { sampleRate: 22050 });
    const out = join(dir, 'silence-out');
    const r = await new AudioPipeline({ songId: 'silence', inputWav: path, outDir: out, ...noModels }).run();
    expect(r.analysis).toMatchObject({ tempo_bpm: 0, num_beats: 0 });
    expect(r.num_bars).toBe(0);
    const summary = readFileSync(join(out, 'analysis', 'silence', 'combined.json'), 'utf8');
    expect(summary).toContain('"tempo_bpm": 0.0');
    expect(summary).not.toMatch(/NaN|Infinity/);
    expect(existsSync(join(out, 'datasets', 'silence', 'beats.parquet'))).toBe(false);
  });

  it('audio shorter than one bar (and shorter than n_fft) still completes', async () => {
    for (const [name, seconds] of [
      ['short', 1.2],
      ['tiny', 0.05],
    ] as const) {
      const path = join(dir, `${name}.wav`);
      await writeWav(path, clickTrack({ sampleRate: 22050, seconds, bpm: 120 }), { sampleRate: 22050 });
      const r = await new AudioPipeline({ songId: name, inputWav: path, outDir: join(dir, 'short-out'), ...noModels }).run();
      expect(r.duration_s).toBeCloseTo(seconds, 3);
      // At most the bar that starts on the first downbeat and the pickup bar before it.
      expect(r.num_bars as number).toBeLessThanOrEqual(2);
    }
  });

  it('cancellation mid-run rejects with AbortError and leaves nothing behind', async () => {
    const out = join(dir, 'cancel-out');
    const controller = new AbortController();
    const pipeline = new AudioPipeline(
      { songId: 'cancelled', inputWav: stereo48k, outDir: out, ...noModels },
      { onProgress: (e) => e.kind === 'step' && e.index === 4 && controller.abort() },
    );
    await expect(pipeline.run({ signal: controller.signal })).rejects.toMatchObject({ code: 'DE_ABORTED' });
    expect(existsSync(join(out, 'analysis', 'cancelled'))).toBe(false);
    expect(existsSync(join(out, 'input', 'cancelled'))).toBe(false);
    expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
  });

  it('a failed re-run keeps the previous complete outputs', async () => {
    const out = join(dir, 'rerun');
    const input = join(dir, 'rerun.wav');
    await writeWav(input, clickTrack({ sampleRate: 22050, seconds: 6, bpm: 120 }), { sampleRate: 22050 });
    await new AudioPipeline({ songId: 'song', inputWav: input, outDir: out, ...noModels }).run();
    const before = readFileSync(join(out, 'analysis', 'song', 'combined.json'), 'utf8');
    writeFileSync(input, 'corrupted since');
    const err = await new AudioPipeline({ songId: 'song', inputWav: input, outDir: out, ...noModels }).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DidacticError);
    expect((err as DidacticError).code).toBe('DE_UNSUPPORTED_FORMAT');
    expect(readFileSync(join(out, 'analysis', 'song', 'combined.json'), 'utf8')).toBe(before);
    expect(readdirSync(join(out, 'chunks', 'song', 'full_mix')).length).toBeGreaterThan(0);
  });

  it('an output folder that cannot be created gets a clear error', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where the output folder should be');
    const err = await new AudioPipeline({ songId: 'x', inputWav: mono48k, outDir: join(blocker, 'out'), ...noModels }).run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DidacticError);
    // ENOTDIR: the one errno table (native/src/common/error.h, ERRNO_CODES) makes it DE_FILE_NOT_FOUND.
    expect((err as DidacticError).code).toBe('DE_FILE_NOT_FOUND');
    expect((err as Error).message).toMatch(/Cannot create output folder .*ENOTDIR/);
    expect(readFileSync(blocker, 'utf8')).toBe('a file where the output folder should be');
  });

  it('a 20-minute song completes with bounded memory', async () => {
    const path = join(dir, 'long.wav');
    await writeWav(path, clickTrack({ sampleRate: 22050, seconds: 1200, bpm: 120 }), { sampleRate: 22050 });
    const r = await new AudioPipeline({ songId: 'long', inputWav: path, outDir: join(dir, 'long-out'), writeBarChunkWavs: false, ...noModels }).run();
    expect(r.analysis).toMatchObject({ num_beats: expect.any(Number) });
    const beats = (r.analysis as { num_beats: number }).num_beats;
    expect(beats).toBeGreaterThan(2300);
    expect(r.num_bars as number).toBeGreaterThan(570);
    // Peak RSS of this test process: the 20-minute mono signal is 106 MB as float32.
    expect(process.resourceUsage().maxRSS / 1024).toBeLessThan(2048);
  }, 120_000);
});
