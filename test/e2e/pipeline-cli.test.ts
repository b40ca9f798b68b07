import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { decodeAudio, writeWav } from '../../lib/index.js';
import { readParquetInfo, readParquetTable } from '../../lib/datasets/parquet.js';
import { BAR_FEATURES_SCHEMA, BEATS_SCHEMA } from '../../lib/datasets/schema.js';
import { clickTrack } from '../helpers/clicks.js';
import { COMBINED_JSON_KEYS } from '../helpers/python.js';
import { filesUnder, useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function runCli(args: string[], cwd = root) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

// The original's rhythm (librosa's beat_track, bars counted from the first beat): these cases pin
// its behaviour; the learned tracker's are in pipeline-rhythm.test.ts.
const LIBROSA = ['--beat-tracker', 'librosa', '--no-detect-meter'];

describe('didactic-engine on generated click tracks (no models)', () => {
  const dir = useTempDir();
  const out = join(dir, 'out');
  const click120 = join(dir, 'click120.wav');
  const click90 = join(dir, 'click90.wav');

  beforeAll(async () => {
    await writeWav(click120, clickTrack({ sampleRate: 44100, seconds: 16, bpm: 120, beatsPerBar: 4, channels: 2 }), {
      sampleRate: 44100,
      channels: 2,
    });
    await writeWav(click90, clickTrack({ sampleRate: 22050, seconds: 16, bpm: 90, beatsPerBar: 3 }), { sampleRate: 22050 });
  });

  it('120 BPM 4/4: tempo, beats, bars, every output file and schema', async () => {
    const r = runCli(['--wav', click120, '--song-id', 'click120', '--out', out, '--no-demucs', '--no-transcription', '--json', ...LIBROSA]);
    expect(r.stderr).toContain('Pipeline completed successfully for click120');
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'click120', 'combined.json'), 'utf8')) as Record<string, unknown>;
    // librosa's tempo lives on a lag grid: at 22050 Hz / hop 512 the lags around 120 BPM give 117.45 and 123.05.
    expect(summary.tempo_bpm as number).toBeGreaterThan(115);
    expect(summary.tempo_bpm as number).toBeLessThan(125);
    const beats = summary.num_beats as number;
    expect(beats).toBeGreaterThanOrEqual(29);
    expect(beats).toBeLessThanOrEqual(33);
    expect(summary.num_bars as number).toBeGreaterThanOrEqual(7);
    expect(summary.num_bars as number).toBeLessThanOrEqual(9);
    expect(summary.stems).toEqual(['full_mix']);
    expect(Object.keys(summary).slice(0, COMBINED_JSON_KEYS.length)).toEqual(COMBINED_JSON_KEYS);
    expect(Object.keys(summary.step_timings as object)).toHaveLength(10);

    // The original's layout: all eight kinds of folder, the input copy keeping its name.
    for (const kind of ['stems', 'preprocessed', 'chunks', 'midi', 'analysis', 'reports', 'datasets', 'input']) {
      expect(existsSync(join(out, kind, 'click120')), kind).toBe(true);
    }
    expect(readFileSync(join(out, 'input', 'click120', 'click120.wav')).equals(readFileSync(click120))).toBe(true);
    const pre = await decodeAudio(join(out, 'preprocessed', 'click120', 'click120.wav'));
    expect(pre).toMatchObject({ sampleRate: 44100, channels: 1, sampleFormat: 'PCM_16' });

    // Datasets: beats (one row per stem × beat) and bar_features; no notes → no events/bars.
    const beatsInfo = await readParquetInfo(join(out, 'datasets', 'click120', 'beats.parquet'));
    expect(beatsInfo.columns.map((c) => c.path)).toEqual(BEATS_SCHEMA.columns.map((c) => c.name));
    expect(beatsInfo.columns.every((c) => c.compression === 'SNAPPY')).toBe(true);
    const beatsTable = await readParquetTable(join(out, 'datasets', 'click120', 'beats.parquet'));
    expect(beatsTable.numRows).toBe(beats);
    const bf = await readParquetTable(join(out, 'datasets', 'click120', 'bar_features.parquet'));
    expect(bf.schema.fields.map((f) => f.name)).toEqual(BAR_FEATURES_SCHEMA.columns.map((c) => c.name));
    expect(bf.numRows).toBe(summary.num_bars);
    expect(existsSync(join(out, 'datasets', 'click120', 'events.parquet'))).toBe(false);

    // Chunks: mono at analysis_sr, one per bar_features row, named bar_NNNN.wav.
    const chunks = filesUnder(join(out, 'chunks', 'click120', 'full_mix')).sort();
    expect(chunks.length).toBe(summary.num_bars);
    expect(chunks[0]).toMatch(/bar_0000\.wav$/);
    const chunk = await decodeAudio(chunks[0]!);
    expect(chunk).toMatchObject({ sampleRate: 22050, channels: 1 });
    expect(chunk.duration).toBeGreaterThan(1.8);
    expect(chunk.duration).toBeLessThan(2.3);
    const chunkPaths = bf.getChild('chunk_path')!.toArray() as string[];
    expect(chunkPaths.every((p) => p.endsWith('.wav') && existsSync(p))).toBe(true);

    // Nothing of the staging area is left behind.
    expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
    const json = JSON.parse(r.stdout) as { success_count: number };
    expect(json.success_count).toBe(1);
  });

  it('90 BPM 3/4 with --no-chunk-wavs: bars of three beats, empty chunk paths', async () => {
    const r = runCli([
      '--wav',
      click90,
      '--song-id',
      'click90',
      '--out',
      out,
      '--no-demucs',
      '--no-transcription',
      '--ts-num',
      '3',
      '--no-chunk-wavs',
      ...LIBROSA,
    ]);
    expect(r.status).toBe(0);
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'click90', 'combined.json'), 'utf8')) as Record<string, number>;
    // 90 BPM on the lag grid at 22050 Hz / hop 512 is 89.10 BPM (lag 29).
    expect(summary.tempo_bpm).toBeGreaterThan(86);
    expect(summary.tempo_bpm).toBeLessThan(94);
    expect(summary.num_beats).toBeGreaterThanOrEqual(21);
    expect(summary.num_beats).toBeLessThanOrEqual(25);
    // Beats from the first detected one, three per bar, the grid extended to the end.
    expect(summary.num_bars).toBeGreaterThanOrEqual(7);
    expect(summary.num_bars).toBeLessThanOrEqual(9);
    const bf = await readParquetTable(join(out, 'datasets', 'click90', 'bar_features.parquet'));
    const durations = Array.from(bf.getChild('duration_s')!.toArray() as Float64Array);
    // Every full bar lasts three beats of 90 BPM (2 s); the last may be clamped to the end.
    for (const d of durations.slice(0, -1)) expect(Math.abs(d - 2)).toBeLessThan(0.1);
    expect((bf.getChild('chunk_path')!.toArray() as string[]).every((p) => p === '')).toBe(true);
    expect(filesUnder(join(out, 'chunks', 'click90')).filter((f) => f.endsWith('.wav'))).toEqual([]);
  });

  it('batch: goes on past a bad file, reports it and exits 1; --resume skips finished songs', () => {
    const bad = join(dir, 'bad.wav');
    writeFileSync(bad, 'this is not audio\n'.repeat(10));
    const batchOut = join(dir, 'batch');
    const r = runCli(['--wav', click120, bad, click90, '--out', batchOut, '--no-demucs', '--no-transcription', '--no-chunk-wavs', '--jobs', '2', '--json']);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as { success_count: number; failure_count: number; failed: { song_id: string; error: string }[] };
    expect(json.success_count).toBe(2);
    expect(json.failure_count).toBe(1);
    expect(json.failed[0]!.song_id).toBe('bad');
    expect(json.failed[0]!.error).toMatch(/not a recognised audio format/);
    expect(r.stderr).toContain('Failed files:');
    // The bad song left nothing behind.
    expect(existsSync(join(batchOut, 'analysis', 'bad'))).toBe(false);
    expect(existsSync(join(batchOut, 'input', 'bad'))).toBe(false);

    const again = runCli(['--wav', click120, click90, '--out', batchOut, '--no-demucs', '--no-transcription', '--no-chunk-wavs', '--resume', '--json']);
    expect(again.status).toBe(0);
    const resumed = JSON.parse(again.stdout) as { skipped: unknown[]; successful: unknown[] };
    expect(resumed.skipped).toHaveLength(2);
    expect(resumed.successful).toHaveLength(0);
  });

  it('exit codes: missing input (1), single file without --song-id (1), bad choice (2), --version (0)', () => {
    expect(runCli(['--wav', join(dir, 'nope.wav'), '--song-id', 'x']).status).toBe(1);
    const noId = runCli(['--wav', click90]);
    expect(noId.status).toBe(1);
    expect(noId.stderr).toContain('--song-id is required when processing a single file');
    expect(runCli(['--wav', click90, '--song-id', 'x', '--basic-pitch-backend', 'pytorch']).status).toBe(2);
    expect(runCli([]).status).toBe(2);
    const v = runCli(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toMatch(/^didactic-engine \d+\.\d+\.\d+$/);
  });

  it('rejects a song id that would escape the output folder, writing nothing', () => {
    const escapeDir = join(dir, 'escape');
    mkdirSync(escapeDir);
    const r = runCli(['--wav', click90, '--song-id', '../evil', '--out', join(escapeDir, 'out'), '--no-demucs', '--no-transcription']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/song_id must be a single folder name/);
    expect(readdirSync(escapeDir)).toEqual([]);
  });
});
