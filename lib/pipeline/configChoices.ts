/**
 * The choice lists of PipelineConfig's enumerated fields, on their own (no zod) so that the CLI can
 * offer them in `--help` without loading the config's validation (config.ts re-exports them).
 */

/** `basic_pitch_backend` values (the original's; every one runs the same ONNX model here). */
export const BASIC_PITCH_BACKENDS = ['tf', 'onnx', 'tflite', 'coreml'] as const;

/** `beat_tracker` values: 'auto' is Beat This! when installed, else BeatNet. */
export const BEAT_TRACKERS = ['auto', 'beatnet', 'beat-this', 'librosa'] as const;
/** One of BEAT_TRACKERS. */
export type BeatTracker = (typeof BEAT_TRACKERS)[number];
/** `beat_this_postprocess` values: 'auto' is 'dbn' with `detect_meter`, else 'minimal'. */
export const BEAT_THIS_POSTPROCESS_MODES = ['auto', 'minimal', 'dbn'] as const;
/** One of BEAT_THIS_POSTPROCESS_MODES. */
export type BeatThisPostprocessMode = (typeof BEAT_THIS_POSTPROCESS_MODES)[number];
/** One of BASIC_PITCH_BACKENDS. */
export type BasicPitchBackend = (typeof BASIC_PITCH_BACKENDS)[number];
