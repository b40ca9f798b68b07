// The pipeline's HTML report end to end (no browser): a short run writes reports/<id>/report.html
// whose embedded data agrees with combined.json and the datasets; html_report: false writes none;
// the `report` command rebuilds the same page from disk (keeping the manifest verifying), draws without a
// waveform when the input copy is gone, and --png without a Chromium exits 3 with DE_NO_BROWSER.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { readParquetTable } from '../../lib/datasets/parquet.js';
import { parseReportHtml, type ReportData } from '../../lib/reports/html/data.js';
import { renderReportHtml } from '../../lib/reports/html/page.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { halfSecondNotes, twoStems } from '../helpers/reportSong.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const r3 = (x: number) => Math.round(x * 1000) / 1000;

describe('the pipeline writes report.html', () => {
  const dir = useTempDir('didactic-report-');
  const input = join(dir, 'song one.wav');
  const out = join(dir, 'out');
  let results: Record<string, unknown>;
  let data: ReportData;
  let summary: Record<string, any>;

  beforeAll(async () => {
    await writeWav(input, exampleSong(44100, 10, 120), { sampleRate: 44100, channels: 2 });
    results = await new AudioPipeline(
      { songId: 'song', inputWav: input, outDir: out },
      { services: { separator: twoStems, transcriber: halfSecondNotes } },
    ).run();
    data = parseReportHtml(readFileSync(join(out, 'reports', 'song', 'report.html'), 'utf8'));
    summary = JSON.parse(readFileSync(join(out, 'analysis', 'song', 'combined.json'), 'utf8'));
  }, 120_000);

  it('is named in the results, not in files_generated (the original’s list)', () => {
    expect(results.report_html).toBe(join(out, 'reports', 'song', 'report.html'));
    expect(summary.files_generated).not.toContain(results.report_html);
  });

  it('embeds data that agrees with combined.json', () => {
    expect(data.song_id).toBe('song');
    expect(data.beats).toEqual(summary.beat_times.map(r3));
    expect(data.summary.num_beats).toBe(summary.num_beats);
    expect(data.summary.num_bars).toBe(summary.num_bars);
    expect(data.bars.start).toHaveLength(summary.num_bars);
    expect(data.downbeats).toEqual(summary.rhythm.downbeat_times.map(r3));
    expect(data.summary.meter).toBe(summary.rhythm.meter);
    expect(data.summary.tempo_bpm).toBeCloseTo(summary.tempo_bpm, 2);
    expect(data.summary.stems).toEqual(summary.stems);
    expect(data.summary.notes_per_stem).toEqual(summary.num_notes_per_stem);
    expect(Object.values(data.summary.notes_per_stem).every((n) => n > 0)).toBe(true);
    expect(data.summary.degraded_reasons).toEqual(summary.data_quality.degraded_reasons);
    expect(data.tempo_curve.bpm).toHaveLength(summary.rhythm.tempo_curve_bpm.length);
    expect(data.duration_s).toBeCloseTo(summary.duration_s, 2);
  });

  it('embeds the datasets’ notes and per-bar features', async () => {
    const events = await readParquetTable(join(out, 'datasets', 'song', 'events.parquet'));
    expect(data.notes.reduce((n, s) => n + s.pitch.length, 0)).toBe(events.numRows);
    const features = await readParquetTable(join(out, 'datasets', 'song', 'bar_features.parquet'));
    expect(data.bar_features.reduce((n, s) => n + s.rms.length, 0)).toBe(features.numRows);
    expect(data.bar_features.every((f) => f.chroma.every((c) => c.length === 12))).toBe(true);
  });

  it('has a waveform of the input and plays the input copy by a relative path', () => {
    expect(data.waveform!.min.length).toBeGreaterThan(1000);
    expect(data.waveform!.duration_s).toBeCloseTo(10, 1);
    expect(data.audio).toEqual({ src: '../../input/song/song%20one.wav' });
    expect(existsSync(join(out, 'reports', 'song', '..', '..', 'input', 'song', 'song one.wav'))).toBe(true);
  });

  it('html_report: false writes no page and no key', async () => {
    const other = join(dir, 'no-html');
    const r = await new AudioPipeline({
      songId: 'song',
      inputWav: input,
      outDir: other,
      htmlReport: false,
      useDemucsSeparation: false,
      useBasicPitchTranscription: false,
    }).run();
    expect(r.report_html).toBeUndefined();
    expect(existsSync(join(other, 'reports', 'song', 'report.html'))).toBe(false);
    // The same from the command line.
    const cliOut = join(dir, 'no-html-cli');
    const run = spawnSync(
      process.execPath,
      [cli, '--wav', input, '--song-id', 'song', '--out', cliOut, '--no-demucs', '--no-transcription', '--no-html-report', '-q'],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(0);
    expect(existsSync(join(cliOut, 'analysis', 'song', 'combined.json'))).toBe(true);
    expect(existsSync(join(cliOut, 'reports', 'song', 'report.html'))).toBe(false);
  });

  it('`report` rebuilds the page from disk with the same data, and the manifest still verifies', () => {
    const page = join(out, 'reports', 'song', 'report.html');
    // The pipeline builds its page from the rows it kept while writing the datasets, the command
    // from the Parquet files: the pages must not differ beyond the waveform's peaks.
    const pipelineHtml = readFileSync(page, 'utf8');
    rmSync(page);
    const r = spawnSync(process.execPath, [cli, 'report', out, 'song', '--json'], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ report_html: page, png: null });
    const rebuilt = parseReportHtml(readFileSync(page, 'utf8'));
    // The same data, except the waveform: the command decodes the input copy at its own rate.
    expect({ ...rebuilt, waveform: null }).toEqual({ ...data, waveform: null });
    expect(rebuilt.waveform!.min.length).toBe(data.waveform!.min.length);
    expect(renderReportHtml({ ...rebuilt, waveform: data.waveform })).toBe(pipelineHtml);
    const manifest = JSON.parse(readFileSync(join(out, 'analysis', 'song', 'manifest.json'), 'utf8')) as { files: { path: string; sha256: string }[] };
    const entry = manifest.files.find((f) => f.path === 'reports/song/report.html');
    expect(entry?.sha256).toBe(createHash('sha256').update(readFileSync(page)).digest('hex'));
  });

  it('`report` without the input copy draws no waveform and says so', () => {
    rmSync(join(out, 'input', 'song'), { recursive: true });
    const r = spawnSync(process.execPath, [cli, 'report', out, 'song'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/no input copy/);
    const rebuilt = parseReportHtml(readFileSync(join(out, 'reports', 'song', 'report.html'), 'utf8'));
    expect(rebuilt.waveform).toBeNull();
    expect(rebuilt.audio).toBeNull();
    expect(rebuilt.waveform_note).toMatch(/no input copy/);
  });

  it('`report` for an unknown song fails with DE_FILE_NOT_FOUND; --png without a Chromium exits 3 with DE_NO_BROWSER', () => {
    const missing = spawnSync(process.execPath, [cli, 'report', out, 'nope'], { encoding: 'utf8' });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/\[DE_FILE_NOT_FOUND\]/);
    const png = join(dir, 'x.png');
    const r = spawnSync(process.execPath, [cli, 'report', out, 'song', '--png', png], {
      encoding: 'utf8',
      env: { ...process.env, DIDACTIC_CHROMIUM: join(dir, 'no-such-chromium') },
    });
    expect(r.status).toBe(3);
    expect(r.stderr).toMatch(/no Chromium found.*\[DE_NO_BROWSER\]/);
    expect(existsSync(png)).toBe(false);
  });
});
