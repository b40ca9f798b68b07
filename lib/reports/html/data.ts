/**
 * What the HTML report draws, as one plain JSON object (`ReportData`). The page embeds it as
 * `<script type="application/json" id="report-data">`, so tools and tests read exactly what is
 * drawn. It is built from a combined.json-shaped summary plus the song's Parquet datasets; the
 * pipeline passes the summary it is about to write, the `report` command the one on disk.
 */
import { existsSync } from 'node:fs';

import type { Table } from 'apache-arrow';

import { InvalidArgumentError } from '../../errors.js';
import { readParquetTable } from '../../datasets/parquet.js';
import { datasetPaths } from '../../datasets/tables.js';
import type { WaveformPeaks } from './peaks.js';
import type { ReportBarFeatures, ReportData, ReportNotes } from './types.js';

export type { ReportBarFeatures, ReportData, ReportNotes } from './types.js';

/** Version of the embedded data's shape (additive changes keep it). */
export const REPORT_DATA_FORMAT = 1;

/** The combined.json keys the report reads (all optional beyond the original's). */
export interface ReportSummaryInput {
  song_id: string;
  duration_s: number;
  tempo_bpm: number;
  num_beats?: number;
  num_bars?: number;
  stems?: string[];
  num_notes_per_stem?: Record<string, number>;
  beat_times?: number[];
  rhythm?: {
    tracker?: string;
    meter?: string;
    confidence?: number;
    low_confidence?: boolean;
    downbeat_times?: number[];
    tempo_curve_bpm?: number[];
  };
  config?: { time_signature_num?: number; time_signature_den?: number };
  data_quality?: { degraded_reasons?: string[] };
}

/** The datasets the report reads; a missing file is an empty table. */
export interface ReportDatasets {
  notes: ReportNotes[];
  bars: ReportData['bars'];
  barFeatures: ReportBarFeatures[];
}

const round = (x: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
/** Four significant digits (RMS spans decades). */
const sig4 = (x: number): number => (x === 0 || !Number.isFinite(x) ? 0 : Number(x.toPrecision(4)));

function numbers(table: Table, name: string): number[] {
  const column = table.getChild(name);
  if (!column) return [];
  return Array.from(column.toArray() as ArrayLike<number | bigint>, (v) => Number(v));
}

function strings(table: Table, name: string): string[] {
  const column = table.getChild(name);
  if (!column) return [];
  const out: string[] = [];
  for (let i = 0; i < column.length; i++) out.push(String(column.get(i)));
  return out;
}

/** Row indices grouped by the `stem` column, in first-appearance order (the datasets' stem order). */
function byStem(stems: string[]): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  stems.forEach((stem, i) => {
    let g = groups.get(stem);
    if (!g) groups.set(stem, (g = []));
    g.push(i);
  });
  return groups;
}

/** Reads events, bar_grid and bar_features of `datasets/<song_id>/` (or a staging folder). */
export async function readReportDatasets(datasetsDir: string): Promise<ReportDatasets> {
  const paths = datasetPaths(datasetsDir);
  const load = async (path: string): Promise<Table | null> => (existsSync(path) ? readParquetTable(path) : null);
  const [events, grid, features] = await Promise.all([load(paths.events), load(paths.bar_grid), load(paths.bar_features)]);

  const notes: ReportNotes[] = [];
  if (events) {
    const pitch = numbers(events, 'pitch');
    const velocity = numbers(events, 'velocity');
    const start = numbers(events, 'start_s');
    const end = numbers(events, 'end_s');
    for (const [stem, rows] of byStem(strings(events, 'stem'))) {
      notes.push({
        stem,
        pitch: rows.map((i) => pitch[i]!),
        velocity: rows.map((i) => velocity[i]!),
        start: rows.map((i) => round(start[i]!)),
        end: rows.map((i) => round(end[i]!)),
      });
    }
  }

  const bars: ReportData['bars'] = { index: [], start: [], end: [] };
  if (grid) {
    bars.index = numbers(grid, 'bar_index');
    bars.start = numbers(grid, 'start_s').map((x) => round(x));
    bars.end = numbers(grid, 'end_s').map((x) => round(x));
  }

  const barFeatures: ReportBarFeatures[] = [];
  if (features) {
    const index = numbers(features, 'bar_index');
    const start = numbers(features, 'start_s');
    const end = numbers(features, 'end_s');
    const rms = numbers(features, 'rms');
    const chromaColumn = features.getChild('chroma_mean');
    for (const [stem, rows] of byStem(strings(features, 'stem'))) {
      barFeatures.push({
        stem,
        bar_index: rows.map((i) => index[i]!),
        start: rows.map((i) => round(start[i]!)),
        end: rows.map((i) => round(end[i]!)),
        rms: rows.map((i) => sig4(rms[i]!)),
        chroma: rows.map((i) => {
          const row = chromaColumn?.get(i) as { toArray(): ArrayLike<number> } | null | undefined;
          return row ? Array.from(row.toArray(), (v) => round(v)) : [];
        }),
      });
    }
  }
  return { notes, bars, barFeatures };
}

/** Per-beat tempo from beat times (60 / inter-beat interval), for summaries without a curve. */
function tempoFromBeats(beats: readonly number[]): { time: number[]; bpm: number[] } {
  const time: number[] = [];
  const bpm: number[] = [];
  for (let i = 1; i < beats.length; i++) {
    const dt = beats[i]! - beats[i - 1]!;
    if (dt > 0) {
      time.push(beats[i]!);
      bpm.push(round(60 / dt, 2));
    }
  }
  return { time, bpm };
}

/** What `buildReportData` is given: the song's results, rhythm, bars, notes and waveform peaks. */
export interface ReportDataInput {
  summary: ReportSummaryInput;
  datasets: ReportDatasets;
  waveform: WaveformPeaks | null;
  /** Why there is no waveform (shown in the page) when `waveform` is null. */
  waveformNote?: string;
  /** The audio file relative to the report's folder ('/'-separated, URL-encoded), or null. */
  audioSrc: string | null;
}

/** The report's data from a summary, the datasets and the audio's peaks. */
export function buildReportData(input: ReportDataInput): ReportData {
  const { summary: s, datasets, waveform } = input;
  const beats = (s.beat_times ?? []).map((x) => round(x));
  const downbeats = (s.rhythm?.downbeat_times ?? []).map((x) => round(x));
  let tempo = tempoFromBeats(beats);
  const curve = s.rhythm?.tempo_curve_bpm;
  if (curve && curve.length > 0) {
    // One value per beat: pair them with the beats they belong to.
    const n = Math.min(curve.length, beats.length);
    const time: number[] = [];
    const bpm: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!Number.isFinite(curve[i]!) || curve[i]! <= 0) continue;
      time.push(beats[i]!);
      bpm.push(round(curve[i]!, 2));
    }
    tempo = { time, bpm };
  }
  const notesPerStem: Record<string, number> = {};
  for (const n of datasets.notes) notesPerStem[n.stem] = n.pitch.length;
  let lastEnd = 0;
  for (const values of [datasets.bars.end, ...datasets.notes.map((n) => n.end)]) for (const v of values) if (v > lastEnd) lastEnd = v;
  const durationS = round(Math.max(s.duration_s || 0, waveform?.durationS ?? 0, lastEnd, beats.at(-1) ?? 0));
  const meter =
    s.rhythm?.meter ?? (s.config?.time_signature_num && s.config.time_signature_den ? `${s.config.time_signature_num}/${s.config.time_signature_den}` : null);
  const reasons = s.data_quality?.degraded_reasons ?? [];
  return {
    format: REPORT_DATA_FORMAT,
    song_id: s.song_id,
    duration_s: durationS,
    summary: {
      tempo_bpm: round(s.tempo_bpm || 0, 2),
      meter,
      tracker: s.rhythm?.tracker ?? (s.rhythm ? null : 'librosa'),
      confidence: s.rhythm?.confidence !== undefined ? round(s.rhythm.confidence) : null,
      ...(s.rhythm?.low_confidence !== undefined ? { low_confidence: s.rhythm.low_confidence } : {}),
      num_beats: beats.length,
      num_downbeats: downbeats.length,
      num_bars: s.num_bars ?? datasets.bars.start.length,
      stems: [...(s.stems ?? datasets.notes.map((n) => n.stem))],
      notes_per_stem: notesPerStem,
      degraded: reasons.length > 0,
      degraded_reasons: [...reasons],
    },
    beats,
    downbeats,
    bars: datasets.bars,
    tempo_curve: tempo,
    notes: datasets.notes,
    bar_features: datasets.barFeatures,
    waveform: waveform
      ? { duration_s: round(waveform.durationS), min: Array.from(waveform.min, (v) => round(v)), max: Array.from(waveform.max, (v) => round(v)) }
      : null,
    waveform_note: waveform ? null : (input.waveformNote ?? 'no audio was found, so the waveform is not drawn'),
    audio: input.audioSrc ? { src: input.audioSrc } : null,
  };
}

/**
 * The data as text safe inside `<script type="application/json">`: `<` (so `</script` and `<!--`
 * cannot end or confuse the element), `>`, `&` and the JS line separators become `\u` escapes,
 * which JSON.parse reads back unchanged.
 */
export function reportDataJson(data: ReportData): string {
  return JSON.stringify(data).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Reads the embedded data back out of a report page (tools, tests). */
export function parseReportHtml(html: string): ReportData {
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  if (!m) throw new InvalidArgumentError('parseReportHtml: no <script id="report-data"> in the page', { op: 'parseReportHtml' });
  return JSON.parse(m[1]!) as ReportData;
}
