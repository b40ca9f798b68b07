/**
 * Bounds of the model runtimes, mirrored from the native code that enforces them again
 * (native/src/ml/model_binding.cc for thread counts, native/src/beat/dbn.h for meters);
 * test/unit/limits.test.ts holds the two sides equal.
 */

/** Most intra-op (and inter-op) threads one ONNX Runtime session accepts. */
export const MAX_INTRA_OP_THREADS = 256;

/** Most beats per bar the learned rhythm tracker's bar-pointer model decodes. */
export const MAX_BEATS_PER_BAR = 12;
