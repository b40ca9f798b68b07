/**
 * The four datasets' schemas exactly as the original writes them (pandas → pyarrow): column names and order, physical types, every column nullable (OPTIONAL) though no
 * nulls are written, list columns as list<double> with the element field named `element`.
 */

export type ColumnKind = 'int64' | 'float64' | 'bool' | 'utf8' | 'list<float64>';

/** One Parquet column: its name and physical type (and, for list columns, the items per row). */
export interface ColumnSpec {
  readonly name: string;
  readonly kind: ColumnKind;
  /** For list columns: the fixed number of items per row (13 MFCCs, 12 chroma bins). */
  readonly listSize?: number;
}

/** A dataset's file name and its columns in order; changing either is a breaking change (CHANGELOG.md, version policy). */
export interface DatasetSchema {
  /** File name without extension: `<name>.parquet`. */
  readonly name: string;
  readonly columns: readonly ColumnSpec[];
}

const col = (name: string, kind: ColumnKind, listSize?: number): ColumnSpec => (listSize === undefined ? { name, kind } : { name, kind, listSize });

/** events.parquet — one row per aligned note. */
export const EVENTS_SCHEMA: DatasetSchema = {
  name: 'events',
  columns: [
    col('pitch', 'int64'),
    col('velocity', 'int64'),
    col('start_s', 'float64'),
    col('end_s', 'float64'),
    col('dur_s', 'float64'),
    col('instrument_index', 'int64'),
    col('instrument_name', 'utf8'),
    col('program', 'int64'),
    col('is_drum', 'bool'),
    col('beat_index', 'int64'),
    col('bar_index', 'int64'),
    col('beat_in_bar', 'float64'),
    col('start_beat_float', 'float64'),
    col('end_beat_float', 'float64'),
    col('song_id', 'utf8'),
    col('stem', 'utf8'),
  ],
};

/** beats.parquet — one row per (stem, detected beat). */
export const BEATS_SCHEMA: DatasetSchema = {
  name: 'beats',
  columns: [col('song_id', 'utf8'), col('stem', 'utf8'), col('beat_index', 'int64'), col('time_s', 'float64'), col('tempo_bpm', 'float64')],
};

/** bars.parquet — note statistics per (stem, bar_index) with ≥ 1 note. */
export const BARS_SCHEMA: DatasetSchema = {
  name: 'bars',
  columns: [
    col('song_id', 'utf8'),
    col('stem', 'utf8'),
    col('bar_index', 'int64'),
    col('num_notes', 'int64'),
    col('mean_velocity', 'float64'),
    col('pitch_min', 'int64'),
    col('pitch_max', 'int64'),
    col('start_s', 'float64'),
    col('end_s', 'float64'),
  ],
};

export const N_MFCC = 13;
export const N_CHROMA = 12;

/** bar_features.parquet — one row per (stem, processed bar), columns in the original's precompute-path order. */
export const BAR_FEATURES_SCHEMA: DatasetSchema = {
  name: 'bar_features',
  columns: [
    col('rms', 'float64'),
    col('zcr', 'float64'),
    col('energy', 'float64'),
    col('spectral_centroid_mean', 'float64'),
    col('spectral_centroid_std', 'float64'),
    col('spectral_rolloff_mean', 'float64'),
    col('spectral_rolloff_std', 'float64'),
    col('spectral_bandwidth_mean', 'float64'),
    col('mfcc_mean', 'list<float64>', N_MFCC),
    col('mfcc_std', 'list<float64>', N_MFCC),
    col('chroma_mean', 'list<float64>', N_CHROMA),
    col('song_id', 'utf8'),
    col('stem', 'utf8'),
    col('bar_index', 'int64'),
    col('start_s', 'float64'),
    col('end_s', 'float64'),
    col('duration_s', 'float64'),
    col('tempo_bpm', 'float64'),
    col('chunk_path', 'utf8'),
    col('audio_source', 'utf8'),
  ],
};

/**
 * bar_grid.parquet — ours, additive (the original keeps its bar grid only in memory): the audio bar grid itself, one row per bar
 * boundary, which the original only exposed through bar_features rows and `num_bars`.
 * `extrapolated` is true for bars that reach past the detected beats (grid extended at a constant
 * interval, or a pickup bar before the first beat).
 */
export const BAR_GRID_SCHEMA: DatasetSchema = {
  name: 'bar_grid',
  columns: [
    col('song_id', 'utf8'),
    col('bar_index', 'int64'),
    col('start_s', 'float64'),
    col('end_s', 'float64'),
    col('duration_s', 'float64'),
    col('beats_per_bar', 'float64'),
    col('tempo_bpm', 'float64'),
    col('extrapolated', 'bool'),
  ],
};

/** The five datasets the pipeline writes (events, beats, bars, bar_features, bar_grid) by name. */
export const DATASET_SCHEMAS = {
  events: EVENTS_SCHEMA,
  beats: BEATS_SCHEMA,
  bars: BARS_SCHEMA,
  bar_features: BAR_FEATURES_SCHEMA,
  bar_grid: BAR_GRID_SCHEMA,
} as const;

/** A dataset name: a key of DATASET_SCHEMAS. */
export type DatasetName = keyof typeof DATASET_SCHEMAS;
