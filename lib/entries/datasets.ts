/**
 * `didactic-engine/datasets`: the Parquet datasets the pipeline writes (`events`, `beats`, `bars`,
 * `bar_features`, `bar_grid`): their schemas, reading and checking them, and writing them.
 * @module didactic-engine/datasets
 */
export { DATASET_SCHEMAS, EVENTS_SCHEMA, BEATS_SCHEMA, BARS_SCHEMA, BAR_FEATURES_SCHEMA, BAR_GRID_SCHEMA } from '../datasets/schema.js';
export type { ColumnKind, ColumnSpec, DatasetName, DatasetSchema } from '../datasets/schema.js';
export { readParquetTable, readParquetInfo, checkParquetDataset, writeParquetDataset } from '../datasets/parquet.js';
export type { DatasetCheck, ParquetFileInfo, ParquetWriteResult } from '../datasets/parquet.js';
export { writeSongDatasets } from '../datasets/songSink.js';
