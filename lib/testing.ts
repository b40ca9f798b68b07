/**
 * `didactic-engine/testing`: helpers for tests and benchmarks of code that uses this package, not
 * for production use — stand-in models with the real models' signatures, and ONNX graphs built in code.
 * @module didactic-engine/testing
 */
export { buildDemucsStandIn, HTDEMUCS_SEGMENT, HTDEMUCS_SOURCES } from './models/demucs/standIn.js';
export type { StandInOptions } from './models/demucs/standIn.js';
export { buildModel, parseModel, FLOAT, INT64 } from './models/onnxBuilder.js';
export type { ModelSpec, NodeSpec, InitializerSpec, ValueInfo } from './models/onnxBuilder.js';
