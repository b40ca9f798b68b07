export * from './abc.js';
export * from './combined.js';
export * from './markdown.js';
export * from './midi.js';
export * from './pyformat.js';
