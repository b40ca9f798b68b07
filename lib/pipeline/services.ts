/**
 * What the pipeline needs from the model-backed steps. Separation and transcription are services
 * so a server can share one loaded model between many runs; when none is available the pipeline
 * degrades as the original does (single `full_mix` stem, no notes) and says why.
 */

/** One pitch bend reading, in semitones, at a time in seconds. */
export interface PitchBendPoint {
  timeS: number;
  semitones: number;
}

/** A transcribed note, times in seconds on the stem's (= input's) timeline. */
export interface TranscribedNote {
  startS: number;
  endS: number;
  /** MIDI note number. */
  pitch: number;
  /** 0–127. */
  velocity: number;
  pitchBends?: readonly PitchBendPoint[];
}

export interface TranscribeRequest {
  /** Float samples, interleaved when `channels` > 1 (a transcriber mixes them to mono itself). */
  samples: Float32Array;
  sampleRate: number;
  /** Default 1. */
  channels?: number;
  /**
   * When set, the transcriber also hands over its raw frame posteriors (note, onset, contour;
   * frames × 88/88/264, row-major) before it returns the notes.
   */
  onPosteriors?: (posteriors: { frames: number; note: Float32Array; onset: Float32Array; contour: Float32Array }) => Promise<void>;
  signal: AbortSignal;
}

/** A note transcriber the pipeline can use instead of Basic Pitch (PipelineServices.transcriber). */
export interface NoteTranscriber {
  /** For logs and combined.json (e.g. "basic-pitch nmp (onnx)"). */
  readonly description: string;
  /** Something the run should log once (e.g. how a configured backend was mapped). */
  readonly notice?: string;
  /** Transcribes one stem's mono audio into notes (times in seconds). */
  transcribe(request: TranscribeRequest): Promise<TranscribedNote[]>;
}

export interface SeparateRequest {
  /** Interleaved samples at `sampleRate` with `channels` channels (the decoded input). */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
  signal: AbortSignal;
}

/** One stem returned by a StemSeparator: name and interleaved samples at `sampleRate` Hz with `channels` channels. */
export interface SeparatedStem {
  name: string;
  /** Interleaved samples. */
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/** A source separator the pipeline can use instead of Demucs (PipelineServices.separator). */
export interface StemSeparator {
  /** The model's name, used as the stems sub-folder as Demucs does (`stems/<id>/<model>/…`). */
  readonly modelName: string;
  /** For logs and combined.json; defaults to the model name. */
  readonly description?: string;
  /** Set when opening the model had to fall back (e.g. CUDA requested, CPU used). */
  readonly warnings?: readonly string[];
  /** Separates the decoded input into stems. */
  separate(request: SeparateRequest): Promise<SeparatedStem[]>;
}

/**
 * How the pipeline obtains its services for a run. `undefined` means "resolve from the config"
 * (the default); `null` means "not available" and triggers the graceful fallback.
 */
export interface PipelineServices {
  separator?: StemSeparator | null;
  transcriber?: NoteTranscriber | null;
}
