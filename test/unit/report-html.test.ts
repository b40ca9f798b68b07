// The HTML report's data extraction (no browser): peaks, the counts the page is built from, the
// embedded JSON's escaping, and a page that needs no network.
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { SongDatasetSink, writeSongDatasets } from '../../lib/datasets/songSink.js';
import type { StemBarFeatures, StemEvents } from '../../lib/datasets/tables.js';
import {
  buildReportData,
  parseReportHtml,
  ReportDatasetsBuilder,
  readReportDatasets,
  reportDataJson,
  type ReportDatasets,
} from '../../lib/reports/html/data.js';
import { renderReportHtml } from '../../lib/reports/html/page.js';
import { waveformPeaks, waveformPeaksInterleaved } from '../../lib/reports/html/peaks.js';
import { relativeAudioSrc } from '../../lib/reports/html/song.js';
import { useTempDir } from '../helpers/tmp.js';
import { syntheticReportData } from '../helpers/reportSong.js';

const emptyDatasets: ReportDatasets = { notes: [], bars: { index: [], start: [], end: [] }, barFeatures: [] };

describe('waveform peaks', () => {
  it('min/max per slice, at most `points` slices, duration from the rate', async () => {
    const sr = 1000;
    const x = new Float32Array(10_000);
    for (let i = 0; i < x.length; i++) x[i] = Math.sin((2 * Math.PI * i) / 100) * (i < 5000 ? 0.5 : 1);
    const p = await waveformPeaks(x, sr, 100);
    expect(p.min.length).toBe(100);
    expect(p.max.length).toBe(100);
    expect(p.durationS).toBe(10);
    expect(p.max[0]).toBeCloseTo(0.5, 3);
    expect(p.min[99]).toBeCloseTo(-1, 3);
    for (let i = 0; i < 100; i++) expect(p.min[i]!).toBeLessThanOrEqual(p.max[i]!);
  });

  it('short audio gives one slice per sample; empty audio none; stereo is mixed', async () => {
    expect((await waveformPeaks(new Float32Array([0.1, -0.2, 0.3]), 3, 3000)).max).toEqual(new Float32Array([0.1, -0.2, 0.3]));
    expect((await waveformPeaks(new Float32Array(0), 22050)).max.length).toBe(0);
    const stereo = new Float32Array([1, -1, 0.5, 0.5]);
    expect(Array.from((await waveformPeaksInterleaved(stereo, 2, 2, 2)).max)).toEqual([0, 0.5]);
    await expect(waveformPeaks(new Float32Array(4), 0)).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });
});

describe('report data', () => {
  const dir = useTempDir();
  const empty = useTempDir();
  it('counts and tempo curve follow the summary and datasets', () => {
    const data = buildReportData({
      summary: {
        song_id: 's',
        duration_s: 4,
        tempo_bpm: 120,
        num_bars: 2,
        stems: ['full_mix'],
        beat_times: [0.5, 1, 1.5, 2.0001],
        data_quality: { degraded_reasons: ['stem separation fell back to full_mix: no model'] },
      },
      datasets: {
        notes: [{ stem: 'full_mix', pitch: [60, 62], velocity: [90, 80], start: [0.5, 1], end: [0.9, 1.4] }],
        bars: { index: [0, 1], start: [0.5, 2.5], end: [2.5, 4.5] },
        barFeatures: [],
      },
      waveform: null,
      audioSrc: '../../input/s/a%20b.wav',
    });
    expect(data.beats).toEqual([0.5, 1, 1.5, 2]);
    expect(data.summary).toMatchObject({ num_beats: 4, num_downbeats: 0, num_bars: 2, notes_per_stem: { full_mix: 2 }, degraded: true, tracker: 'librosa' });
    // Without a curve in the summary, the tempo is 60 / inter-beat interval from the second beat on.
    expect(data.tempo_curve).toEqual({ time: [1, 1.5, 2], bpm: [120, 120, 120] });
    expect(data.duration_s).toBe(4.5);
    expect(data.waveform).toBeNull();
    expect(data.waveform_note).toMatch(/no audio/);
    expect(data.audio).toEqual({ src: '../../input/s/a%20b.wav' });
  });

  it('a learned tracker’s curve is paired with its beats', () => {
    const data = buildReportData({
      summary: {
        song_id: 's',
        duration_s: 3,
        tempo_bpm: 100,
        beat_times: [0.6, 1.2, 1.8],
        rhythm: { tracker: 'beatnet', meter: '3/4', confidence: 0.71234, downbeat_times: [0.6], tempo_curve_bpm: [100, 100.5, 99.5] },
      },
      datasets: emptyDatasets,
      waveform: null,
      audioSrc: null,
    });
    expect(data.tempo_curve).toEqual({ time: [0.6, 1.2, 1.8], bpm: [100, 100.5, 99.5] });
    expect(data.summary).toMatchObject({ meter: '3/4', tracker: 'beatnet', confidence: 0.712, num_downbeats: 1 });
  });

  it('Beat This!’s uncalibrated confidence reaches the page as such, with no low-confidence verdict', () => {
    const data = buildReportData({
      summary: {
        song_id: 's',
        duration_s: 3,
        tempo_bpm: 100,
        beat_times: [0.6, 1.2, 1.8],
        rhythm: { tracker: 'beat-this', meter: '3/4', confidence: 0.41, confidence_calibrated: false, downbeat_times: [0.6], tempo_curve_bpm: [100, 100, 100] },
      },
      datasets: emptyDatasets,
      waveform: null,
      audioSrc: null,
    });
    expect(data.summary).toMatchObject({ tracker: 'beat-this', confidence: 0.41, confidence_calibrated: false });
    expect(data.summary.low_confidence).toBeUndefined();
  });

  it('reads notes, the bar grid and per-bar features from the Parquet datasets', async () => {
    const stems = ['bass', 'other'];
    await writeSongDatasets({
      datasetsDir: dir,
      songId: 's',
      stems,
      beatTimes: [0.5, 1, 1.5, 2],
      tempoBpm: 120,
      events: stems.map((stem, s) => {
        const n = 2 + s;
        const cut = (v: number[]) => v.slice(0, n);
        return {
          songId: 's',
          stem,
          notes: {
            pitch: cut([40, 41, 42]),
            velocity: cut([90, 91, 92]),
            startS: cut([0.5, 1, 1.5]),
            endS: cut([0.9, 1.4, 1.9]),
            instrumentIndex: 0,
            instrumentName: stem,
            program: 0,
            isDrum: false,
          },
          alignment: {
            beatIndex: Int32Array.from(cut([0, 1, 2])),
            barIndex: Int32Array.from(cut([0, 0, 0])),
            beatInBar: Float64Array.from(cut([0, 1, 2])),
            startBeatFloat: Float64Array.from(cut([0, 1, 2])),
            endBeatFloat: Float64Array.from(cut([0.8, 1.8, 2.8])),
          },
        };
      }),
      barFeatures: stems.map((stem) => ({
        songId: 's',
        stem,
        tempoBpm: 120,
        features: {
          barIndex: [0],
          startS: [0.5],
          endS: [2.5],
          rms: [0.1],
          zcr: [0.01],
          energy: [1],
          spectralCentroidMean: [1000],
          spectralCentroidStd: [1],
          spectralRolloffMean: [2000],
          spectralRolloffStd: [1],
          spectralBandwidthMean: [1500],
          mfccMean: Array(13).fill(0),
          mfccStd: Array(13).fill(0),
          chromaMean: Array.from({ length: 12 }, (_, k) => k / 11),
        },
        chunkPath: '',
        audioSource: 'stem' as const,
      })),
      barGrid: { bars: [{ barIndex: 0, startS: 0.5, endS: 2.5 }], beatsPerBar: 4 },
    });
    const datasets = await readReportDatasets(dir);
    expect(datasets.notes.map((n) => [n.stem, n.pitch.length])).toEqual([
      ['bass', 2],
      ['other', 3],
    ]);
    expect(datasets.bars).toEqual({ index: [0], start: [0.5], end: [2.5] });
    expect(datasets.barFeatures.map((f) => [f.stem, f.rms, f.chroma[0]!.length])).toEqual([
      ['bass', [0.1], 12],
      ['other', [0.1], 12],
    ]);
    // A folder without datasets reads as empty.
    expect(await readReportDatasets(empty)).toEqual(emptyDatasets);
  });
});

describe('report rows kept while the datasets are written', () => {
  const dir = useTempDir();
  // Awkward values: times on the rounding boundary of 3 decimals, RMS across decades, negative
  // bar indices, a stem with no notes, a stem with features only, a non-ASCII stem name.
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const stems = ['bass', 'drums', 'other', 'vocäls'];
  const events = (stem: string, n: number): StemEvents => {
    const startS = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? i * 0.5 + 0.0005 : i * 0.5 + rnd() * 0.4));
    return {
      songId: 's',
      stem,
      notes: {
        pitch: Array.from({ length: n }, () => 30 + Math.floor(rnd() * 60)),
        velocity: Array.from({ length: n }, () => 1 + Math.floor(rnd() * 126)),
        startS,
        endS: startS.map((t) => t + 0.1 + rnd()),
        instrumentIndex: 0,
        instrumentName: stem,
        program: 0,
        isDrum: false,
      },
      alignment: {
        beatIndex: Int32Array.from({ length: n }, (_, i) => i - 1),
        barIndex: Int32Array.from({ length: n }, (_, i) => Math.floor(i / 4) - 1),
        beatInBar: new Float64Array(n),
        startBeatFloat: new Float64Array(n),
        endBeatFloat: new Float64Array(n),
      },
    };
  };
  const features = (stem: string, bars: number): StemBarFeatures => {
    const col = (scale: number) => Float64Array.from({ length: bars }, () => rnd() * scale);
    const startS = Float64Array.from({ length: bars }, (_, i) => i * 2.0005);
    return {
      songId: 's',
      stem,
      tempoBpm: 120,
      features: {
        barIndex: Int32Array.from({ length: bars }, (_, i) => i),
        startS,
        endS: startS.map((t) => t + 2.0005),
        rms: Float64Array.from({ length: bars }, (_, i) => rnd() * 10 ** -(i % 5)),
        zcr: col(1),
        energy: col(1),
        spectralCentroidMean: col(4000),
        spectralCentroidStd: col(100),
        spectralRolloffMean: col(8000),
        spectralRolloffStd: col(100),
        spectralBandwidthMean: col(3000),
        mfccMean: Float64Array.from({ length: bars * 13 }, () => rnd()),
        mfccStd: Float64Array.from({ length: bars * 13 }, () => rnd()),
        chromaMean: Float32Array.from({ length: bars * 12 }, () => rnd()),
      },
      chunkPath: '',
      audioSource: 'stem',
    };
  };

  it('are the rows the `report` command reads back from the files, stem order kept when stems finish out of order', async () => {
    const builder = new ReportDatasetsBuilder();
    const sink = new SongDatasetSink(dir, 's', stems, [0.5, 1, 1.5, 2], 120, builder);
    const rows = [
      { events: events('bass', 40), features: features('bass', 30) },
      { events: events('drums', 0), features: features('drums', 30) },
      { features: features('other', 30) },
      { events: events('vocäls', 25), features: features('vocäls', 0) },
    ];
    // Stems finish in any order; the files (and the kept rows) follow the stem order.
    await Promise.all([3, 1, 0, 2].map((i) => sink.stemDone(i, rows[i]!)));
    const bars = Array.from({ length: 31 }, (_, i) => ({ barIndex: i - 1, startS: i * 2.0005 - 1.0005, endS: (i + 1) * 2.0005 - 1.0005 }));
    await sink.finish({ bars, beatsPerBar: 4 });

    const kept = builder.datasets();
    expect(kept.notes.map((n) => [n.stem, n.pitch.length])).toEqual([
      ['bass', 40],
      ['vocäls', 25],
    ]);
    expect(kept.barFeatures.map((f) => f.stem)).toEqual(['bass', 'drums', 'other']);
    expect(kept.bars.index).toHaveLength(31);
    expect(kept).toEqual(await readReportDatasets(dir));
    // And so the page's data: the same JSON text from either source.
    const summary = { song_id: 's', duration_s: 60, tempo_bpm: 120, beat_times: [0.5, 1, 1.5, 2] };
    const page = (datasets: ReportDatasets) => reportDataJson(buildReportData({ summary, datasets, waveform: null, audioSrc: null }));
    expect(page(kept)).toBe(page(await readReportDatasets(dir)));
  });

  it('a failure while keeping them never reaches the writer: the builder says it is incomplete', () => {
    const builder = new ReportDatasetsBuilder();
    builder.addEvents(events('bass', 3));
    expect(() => builder.addEvents({ songId: 's', stem: 'broken' } as unknown as StemEvents)).not.toThrow();
    builder.addBarFeatures(features('bass', 2));
    expect(builder.complete).toBe(false);
    expect(new ReportDatasetsBuilder().complete).toBe(true);
  });

  it('are empty when nothing was written', async () => {
    const builder = new ReportDatasetsBuilder();
    const sink = new SongDatasetSink(join(dir, 'none'), 's', ['bass'], [], 120, builder);
    await sink.stemDone(0, {});
    await sink.finish({ bars: [], beatsPerBar: 4 });
    expect(builder.datasets()).toEqual(emptyDatasets);
    expect(await readReportDatasets(join(dir, 'none'))).toEqual(emptyDatasets);
  });
});

describe('embedded JSON', () => {
  const hostile = 'x</script><script>alert(1)</script><!-- \u2028\u2029 & "q" \'s';

  it('escapes what could end the script element, and reads back unchanged', () => {
    const data = buildReportData({
      summary: { song_id: hostile, duration_s: 1, tempo_bpm: 0, data_quality: { degraded_reasons: [hostile] } },
      datasets: emptyDatasets,
      waveform: null,
      audioSrc: null,
    });
    const json = reportDataJson(data);
    expect(json).not.toMatch(/<|>|\u2028|\u2029/);
    expect(JSON.parse(json)).toEqual(data);
    const html = renderReportHtml(data);
    expect(parseReportHtml(html)).toEqual(data);
    // The title is escaped HTML; no injected element exists.
    expect(html).not.toContain('<script>alert(1)');
    expect(html).toContain('x&#60;/script&#62;');
  });

  it('the page is self-contained: nothing is loaded from elsewhere', () => {
    const html = renderReportHtml(syntheticReportData(30));
    expect(html).not.toMatch(/<script[^>]+src=|<link\b|<img[^>]+src="?https?:|@import|url\(\s*['"]?https?:/i);
    expect(html).toContain("default-src 'none'");
    // wavesurfer.js, its regions and timeline plugins and uPlot are inlined.
    expect(html).toMatch(/WaveSurfer/);
    expect(html).toMatch(/uPlot/);
  });

  it('audio paths are relative to the report and URL-encoded', () => {
    expect(relativeAudioSrc('/o/reports/s', '/o/input/s/my song#1.wav')).toBe('../../input/s/my%20song%231.wav');
  });

  it('a 3-minute song with four busy stems stays well under 1.5 MB', () => {
    const bytes = Buffer.byteLength(renderReportHtml(syntheticReportData(180)));
    expect(bytes).toBeLessThan(1.5 * 1024 * 1024);
  });
});
