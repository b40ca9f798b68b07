/**
 * The original's step 8 (`FeatureExtractor.extract_events/beats/bars`):
 * typed, column-major builders that produce batches for the Parquet writer, plus one-call writers
 * for `datasets/<song_id>/<name>.parquet`.
 */
import { join } from 'node:path';

import { InvalidArgumentError } from '../errors.js';
import type { NoteAlignment } from '../music/align.js';
import type { BarFeatureColumns } from '../music/barFeatures.js';
import type { BarBoundary } from '../music/segmentation.js';
import type { ColumnBatch } from './columns.js';
import type { ParquetWriteResult } from './parquet.js';
import { N_CHROMA, N_MFCC } from './schema.js';

/** Notes of one stem as parsed from its MIDI (pretty_midi's fields), column-major. */
export interface NoteColumns {
  pitch: ArrayLike<number>;
  velocity: ArrayLike<number>;
  startS: ArrayLike<number>;
  endS: ArrayLike<number>;
  /** end − start; computed when absent (the original's extract_events). */
  durS?: ArrayLike<number>;
  instrumentIndex: ArrayLike<number> | number;
  instrumentName: readonly string[] | string;
  program: ArrayLike<number> | number;
  isDrum: ArrayLike<boolean> | boolean;
}

/** The events of one stem: its notes, their alignment, and the song/stem labels. */
export interface StemEvents {
  songId: string;
  stem: string;
  notes: NoteColumns;
  alignment: NoteAlignment;
}

function requireLength(name: string, values: ArrayLike<unknown> | number | string | boolean, length: number): void {
  if (typeof values === 'object' && values.length !== length) {
    throw new InvalidArgumentError(`${name} has ${values.length} entries, expected ${length}`, { op: 'eventsBatch' });
  }
}

/** One events batch (rows in note order) for one stem. */
export function eventsBatch(events: StemEvents): ColumnBatch {
  const { notes, alignment } = events;
  const length = notes.startS.length;
  for (const [name, values] of Object.entries(notes)) requireLength(`notes.${name}`, values as ArrayLike<unknown>, length);
  for (const [name, values] of Object.entries(alignment)) requireLength(`alignment.${name}`, values as ArrayLike<unknown>, length);
  let durS = notes.durS;
  if (durS === undefined) {
    const computed = new Float64Array(length);
    for (let i = 0; i < length; i++) computed[i] = notes.endS[i]! - notes.startS[i]!;
    durS = computed;
  }
  return {
    length,
    columns: {
      pitch: notes.pitch,
      velocity: notes.velocity,
      start_s: notes.startS,
      end_s: notes.endS,
      dur_s: durS,
      instrument_index: notes.instrumentIndex,
      instrument_name: notes.instrumentName,
      program: notes.program,
      is_drum: notes.isDrum,
      beat_index: alignment.beatIndex,
      bar_index: alignment.barIndex,
      beat_in_bar: alignment.beatInBar,
      start_beat_float: alignment.startBeatFloat,
      end_beat_float: alignment.endBeatFloat,
      song_id: events.songId,
      stem: events.stem,
    },
  };
}

/**
 * beats rows: for each stem in order, one row per detected beat of the single mix grid, with
 * beat_index restarting at 0 (the original duplicates the grid per stem; kept for compatibility).
 */
export function beatsBatch(songId: string, stems: readonly string[], beatTimes: ArrayLike<number>, tempoBpm: number): ColumnBatch {
  const perStem = beatTimes.length;
  const length = perStem * stems.length;
  const stemColumn: string[] = new Array<string>(length);
  const beatIndex = new Int32Array(length);
  const timeS = new Float64Array(length);
  for (let s = 0; s < stems.length; s++) {
    for (let i = 0; i < perStem; i++) {
      const row = s * perStem + i;
      stemColumn[row] = stems[s]!;
      beatIndex[row] = i;
      timeS[row] = beatTimes[i]!;
    }
  }
  return { length, columns: { song_id: songId, stem: stemColumn, beat_index: beatIndex, time_s: timeS, tempo_bpm: tempoBpm } };
}

/** Python's string ordering (code points), which differs from UTF-16 order only above U+FFFF. */
function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0;
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx < cy ? -1 : 1;
  }
}

interface BarGroup {
  stem: string;
  barIndex: number;
  count: number;
  velocitySum: number;
  pitchMin: number;
  pitchMax: number;
  startS: number;
  endS: number;
}

/**
 * bars rows: note statistics grouped by (stem, bar_index), sorted by stem then bar_index — only
 * bars holding ≥ 1 note, negative indices included, as the original writes them.
 */
export function barsBatch(songId: string, stems: readonly StemEvents[]): ColumnBatch {
  const groups = new Map<string, BarGroup>();
  for (const { stem, notes, alignment } of stems) {
    const n = notes.startS.length;
    for (let i = 0; i < n; i++) {
      const barIndex = alignment.barIndex[i]!;
      const key = `${barIndex}\u0000${stem}`;
      const pitch = notes.pitch[i]!;
      const start = notes.startS[i]!;
      const end = notes.endS[i]!;
      let g = groups.get(key);
      if (!g) {
        g = { stem, barIndex, count: 0, velocitySum: 0, pitchMin: pitch, pitchMax: pitch, startS: start, endS: end };
        groups.set(key, g);
      }
      g.count++;
      g.velocitySum += notes.velocity[i]!;
      if (pitch < g.pitchMin) g.pitchMin = pitch;
      if (pitch > g.pitchMax) g.pitchMax = pitch;
      if (start < g.startS) g.startS = start;
      if (end > g.endS) g.endS = end;
    }
  }
  const rows = [...groups.values()].sort((a, b) => compareCodePoints(a.stem, b.stem) || a.barIndex - b.barIndex);
  const length = rows.length;
  const col = <T>(f: (g: BarGroup) => T) => rows.map(f);
  return {
    length,
    columns: {
      song_id: songId,
      stem: col((g) => g.stem),
      bar_index: Int32Array.from(rows, (g) => g.barIndex),
      num_notes: Int32Array.from(rows, (g) => g.count),
      mean_velocity: Float64Array.from(rows, (g) => g.velocitySum / g.count),
      pitch_min: Int32Array.from(rows, (g) => g.pitchMin),
      pitch_max: Int32Array.from(rows, (g) => g.pitchMax),
      start_s: Float64Array.from(rows, (g) => g.startS),
      end_s: Float64Array.from(rows, (g) => g.endS),
    },
  };
}

export type { BarFeatureColumns };

export interface StemBarFeatures {
  songId: string;
  stem: string;
  tempoBpm: number;
  features: BarFeatureColumns;
  /** Chunk WAV path per bar, or "" when none was written (never null). A string fills all rows. */
  chunkPath: readonly string[] | string;
  /** 'stem' or 'analysis_fallback'. */
  audioSource: 'stem' | 'analysis_fallback';
}

/** One bar_features batch for one stem; duration_s = end_s − start_s of the boundary. */
export function barFeaturesBatch(input: StemBarFeatures): ColumnBatch {
  const f = input.features;
  const length = f.barIndex.length;
  const duration = new Float64Array(length);
  for (let i = 0; i < length; i++) duration[i] = f.endS[i]! - f.startS[i]!;
  return {
    length,
    columns: {
      rms: f.rms,
      zcr: f.zcr,
      energy: f.energy,
      spectral_centroid_mean: f.spectralCentroidMean,
      spectral_centroid_std: f.spectralCentroidStd,
      spectral_rolloff_mean: f.spectralRolloffMean,
      spectral_rolloff_std: f.spectralRolloffStd,
      spectral_bandwidth_mean: f.spectralBandwidthMean,
      mfcc_mean: { values: f.mfccMean, width: N_MFCC },
      mfcc_std: { values: f.mfccStd, width: N_MFCC },
      chroma_mean: { values: f.chromaMean, width: N_CHROMA },
      song_id: input.songId,
      stem: input.stem,
      bar_index: f.barIndex,
      start_s: f.startS,
      end_s: f.endS,
      duration_s: duration,
      tempo_bpm: input.tempoBpm,
      chunk_path: input.chunkPath,
      audio_source: input.audioSource,
    },
  };
}

/**
 * bar_grid rows (our additive dataset): one row per bar boundary. A bar is `extrapolated` when it
 * starts before the first detected beat or ends after the last one.
 */
export function barGridBatch(songId: string, bars: readonly BarBoundary[], beatTimes: ArrayLike<number>, beatsPerBar: number, tempoBpm: number): ColumnBatch {
  const length = bars.length;
  const first = beatTimes.length > 0 ? beatTimes[0]! : Infinity;
  const last = beatTimes.length > 0 ? beatTimes[beatTimes.length - 1]! : -Infinity;
  const extrapolated = new Uint8Array(length);
  bars.forEach((b, i) => {
    extrapolated[i] = b.startS < first || b.endS > last ? 1 : 0;
  });
  return {
    length,
    columns: {
      song_id: songId,
      bar_index: Int32Array.from(bars, (b) => b.barIndex),
      start_s: Float64Array.from(bars, (b) => b.startS),
      end_s: Float64Array.from(bars, (b) => b.endS),
      duration_s: Float64Array.from(bars, (b) => b.endS - b.startS),
      // Per bar when bars come from detected downbeats (they may differ), else the meter's.
      beats_per_bar: bars.some((b) => b.beatsPerBar !== undefined) ? Float64Array.from(bars, (b) => b.beatsPerBar ?? beatsPerBar) : beatsPerBar,
      tempo_bpm: tempoBpm,
      extrapolated,
    },
  };
}

/** Paths of the datasets under `datasets/<song_id>/`. */
export function datasetPaths(datasetsDir: string) {
  return {
    events: join(datasetsDir, 'events.parquet'),
    beats: join(datasetsDir, 'beats.parquet'),
    bars: join(datasetsDir, 'bars.parquet'),
    bar_features: join(datasetsDir, 'bar_features.parquet'),
    bar_grid: join(datasetsDir, 'bar_grid.parquet'),
  } as const;
}

export interface SongDatasetsResult {
  events?: ParquetWriteResult;
  beats?: ParquetWriteResult;
  bars?: ParquetWriteResult;
  bar_features?: ParquetWriteResult;
  bar_grid?: ParquetWriteResult;
}
