/**
 * What the HTML report draws, as one plain JSON object (`ReportData`). The page embeds it as
 * `<script type="application/json" id="report-data">`, so tools and tests read exactly what is
 * drawn. It is built from a combined.json-shaped summary plus the song's dataset rows; the
 * pipeline passes the summary it is about to write and the rows its dataset sink wrote (collected
 * by a `ReportDatasetsBuilder`), the `report` command the summary and the Parquet files on disk.
 */
import { existsSync } from 'node:fs';

import type { Table } from 'apache-arrow';

import { InvalidArgumentError } from '../../errors.js';
import { readParquetTable } from '../../datasets/parquet.js';
import { N_CHROMA } from '../../datasets/schema.js';
import { datasetPaths, type StemBarFeatures, type StemEvents } from '../../datasets/tables.js';
import type { BarBoundary } from '../../music/segmentation.js';
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
    confidence_calibrated?: boolean;
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

/** One stem's entry of `groups` (created, in first-appearance order, when first seen). */
function entry<T>(groups: Map<string, T>, stem: string, make: () => T): T {
  let g = groups.get(stem);
  if (!g) groups.set(stem, (g = make()));
  return g;
}

/**
 * Builds `ReportDatasets` row by row, from the Parquet files (`readReportDatasets`) or from the
 * rows a run writes (the pipeline's dataset sink hands them over as it appends them), so both
 * give the same data: rows grouped by stem in first-appearance order, times rounded the same way.
 */
export class ReportDatasetsBuilder {
  readonly #notes = new Map<string, ReportNotes>();
  readonly #features = new Map<string, ReportBarFeatures>();
  readonly #bars: ReportData['bars'] = { index: [], start: [], end: [] };
  #complete = true;

  /**
   * False once adding rows failed: the rows are then partial and the page must be built from the
   * files instead. A failure here never reaches the dataset writer that reports the rows.
   */
  get complete(): boolean {
    return this.#complete;
  }

  #guard(add: () => void): void {
    if (!this.#complete) return;
    try {
      add();
    } catch {
      this.#complete = false;
    }
  }

  /** One events row (events.parquet: pitch, velocity, start_s, end_s, stem). */
  note(stem: string, pitch: number, velocity: number, startS: number, endS: number): void {
    const n = entry(this.#notes, stem, () => ({ stem, pitch: [], velocity: [], start: [], end: [] }));
    n.pitch.push(pitch);
    n.velocity.push(velocity);
    n.start.push(round(startS));
    n.end.push(round(endS));
  }

  /** One bar_features row (bar_index, start_s, end_s, rms, the 12 chroma_mean bins, stem). */
  barFeature(stem: string, barIndex: number, startS: number, endS: number, rms: number, chroma: ArrayLike<number> | null): void {
    const f = entry(this.#features, stem, () => ({ stem, bar_index: [], start: [], end: [], rms: [], chroma: [] }));
    f.bar_index.push(barIndex);
    f.start.push(round(startS));
    f.end.push(round(endS));
    f.rms.push(sig4(rms));
    f.chroma.push(chroma ? Array.from(chroma, (v) => round(v)) : []);
  }

  /** One bar_grid row. */
  bar(barIndex: number, startS: number, endS: number): void {
    this.#bars.index.push(barIndex);
    this.#bars.start.push(round(startS));
    this.#bars.end.push(round(endS));
  }

  /** A stem's events as the pipeline appends them to events.parquet. */
  addEvents(events: StemEvents): void {
    this.#guard(() => {
      const { pitch, velocity, startS, endS } = events.notes;
      for (let i = 0; i < startS.length; i++) this.note(events.stem, pitch[i]!, velocity[i]!, startS[i]!, endS[i]!);
    });
  }

  /** A stem's bar features as the pipeline appends them to bar_features.parquet. */
  addBarFeatures(input: StemBarFeatures): void {
    this.#guard(() => {
      const f = input.features;
      for (let i = 0; i < f.barIndex.length; i++) {
        const chroma = Array.from({ length: N_CHROMA }, (_, k) => f.chromaMean[i * N_CHROMA + k]!);
        this.barFeature(input.stem, f.barIndex[i]!, f.startS[i]!, f.endS[i]!, f.rms[i]!, chroma);
      }
    });
  }

  /** The bar grid as the pipeline writes it to bar_grid.parquet. */
  addBarGrid(bars: readonly BarBoundary[]): void {
    this.#guard(() => {
      for (const b of bars) this.bar(b.barIndex, b.startS, b.endS);
    });
  }

  /** What was added so far. */
  datasets(): ReportDatasets {
    return { notes: [...this.#notes.values()], bars: this.#bars, barFeatures: [...this.#features.values()] };
  }
}

/** Reads events, bar_grid and bar_features of `datasets/<song_id>/` (or a staging folder). */
export async function readReportDatasets(datasetsDir: string): Promise<ReportDatasets> {
  const paths = datasetPaths(datasetsDir);
  const load = async (path: string): Promise<Table | null> => (existsSync(path) ? readParquetTable(path) : null);
  const [events, grid, features] = await Promise.all([load(paths.events), load(paths.bar_grid), load(paths.bar_features)]);
  const out = new ReportDatasetsBuilder();
  if (events) {
    const stem = strings(events, 'stem');
    const pitch = numbers(events, 'pitch');
    const velocity = numbers(events, 'velocity');
    const start = numbers(events, 'start_s');
    const end = numbers(events, 'end_s');
    for (let i = 0; i < stem.length; i++) out.note(stem[i]!, pitch[i]!, velocity[i]!, start[i]!, end[i]!);
  }
  if (grid) {
    const index = numbers(grid, 'bar_index');
    const start = numbers(grid, 'start_s');
    const end = numbers(grid, 'end_s');
    for (let i = 0; i < index.length; i++) out.bar(index[i]!, start[i]!, end[i]!);
  }
  if (features) {
    const stem = strings(features, 'stem');
    const index = numbers(features, 'bar_index');
    const start = numbers(features, 'start_s');
    const end = numbers(features, 'end_s');
    const rms = numbers(features, 'rms');
    const chromaColumn = features.getChild('chroma_mean');
    for (let i = 0; i < stem.length; i++) {
      const row = chromaColumn?.get(i) as { toArray(): ArrayLike<number> } | null | undefined;
      out.barFeature(stem[i]!, index[i]!, start[i]!, end[i]!, rms[i]!, row ? row.toArray() : null);
    }
  }
  return out.datasets();
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
      ...(s.rhythm?.confidence_calibrated !== undefined ? { confidence_calibrated: s.rhythm.confidence_calibrated } : {}),
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
