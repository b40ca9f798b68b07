export * from './schema.js';
export * from './arrow.js';
export * from './parquet.js';
export * from './tables.js';
