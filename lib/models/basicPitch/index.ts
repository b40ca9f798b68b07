/**
 * Basic Pitch (ICASSP 2022) transcription on ONNX Runtime. Windowing, batched inference, unwrapping
 * and basic-pitch 0.4.0's note creation run in C++ (native/src/ml/basic_pitch.cc). Contract and
 * defaults: docs/models.md, "Basic Pitch".
 */
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

import { z } from 'zod';

import type { NativeBasicPitchHandle, NativeBasicPitchNoteOptions, NativeBasicPitchNotes } from '../../../binding.js';
import { InvalidArgumentError, ModelError } from '../../errors.js';
import { callNative } from '../../native/call.js';
import { packageRoot } from '../../native/load.js';
import { encodeStemMidi, type MidiNote, type StemMidiOptions, writeStemMidi } from '../../music/midi.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { parseOptions } from '../../util/validate.js';
import { ModelLifecycle } from '../handle.js';
import { audioInputArg } from '../input.js';
import { MAX_INTRA_OP_THREADS } from '../limits.js';
import { modelsDir } from '../paths.js';
import { ensureOrtRuntime } from '../runtime.js';
import { ExecutionProviderSchema } from '../session.js';
import { convertTfjsGraph } from './convert.js';

export { convertTfjsGraph } from './convert.js';

export const BASIC_PITCH_SAMPLE_RATE = 22050;
export const BASIC_PITCH_FFT_HOP = 256;
export const BASIC_PITCH_CONTOUR_BINS_PER_SEMITONE = 3;

/** basic-pitch's minimum_note_length (ms) → frames: round(ms / 1000 * 22050 / 256) (numpy half-to-even). */
export function minNoteLengthFrames(ms: number): number {
  const x = (ms / 1000) * (BASIC_PITCH_SAMPLE_RATE / BASIC_PITCH_FFT_HOP);
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Note-creation parameters with basic-pitch 0.4.0 `predict()` defaults. */
export const NoteOptionsSchema = z.strictObject({
  onsetThreshold: z.number().min(0).max(1).default(0.5),
  frameThreshold: z.number().min(0).max(1).default(0.3),
  /** Milliseconds (basic-pitch's `minimum_note_length`), converted to frames as basic-pitch does. */
  minimumNoteLengthMs: z.number().min(0).default(127.7),
  inferOnsets: z.boolean().default(true),
  minimumFrequency: z.number().positive().nullable().default(null),
  maximumFrequency: z.number().positive().nullable().default(null),
  melodiaTrick: z.boolean().default(true),
  /** Frames below the frame threshold tolerated inside a note (hard-wired 11 in basic-pitch). */
  energyTolerance: z.number().int().min(1).default(11),
  includePitchBends: z.boolean().default(true),
});
/** Note-creation options (see NoteOptionsSchema; thresholds 0..1, lengths in milliseconds, frequencies in Hz). */
export type NoteOptions = z.input<typeof NoteOptionsSchema>;

/** Zod schema of a transcription call's options: the note options plus batch size, tail trim, posteriors and abort signal. */
export const TranscribeOptionsSchema = NoteOptionsSchema.extend({
  /** Windows (43,844 samples) per session run. */
  batch: z.number().int().min(1).max(256).default(4),
  /**
   * Tail trim: 'main' keeps int(N/36164·142) frames (basic-pitch main, PR #179; what its fixtures hold);
   * 'v0.4.0' keeps floor(N·86/22050) (PyPI 0.4.0 and npm; drops ≈0.7 % of the end).
   */
  trim: z.enum(['main', 'v0.4.0']).default('main'),
  /** Return the raw posteriors (note, onset, contour). */
  posteriors: z.boolean().default(false),
  signal: z.instanceof(AbortSignal).optional(),
});
/** Options of one transcription (see TranscribeOptionsSchema). */
export type TranscribeOptions = z.input<typeof TranscribeOptionsSchema>;

/** Zod schema of how a Basic Pitch transcriber is opened: model path, device or providers, ONNX Runtime threads. */
export const TranscriberOptionsSchema = z.strictObject({
  /** Path of an ONNX model with nmp.onnx's signature (e.g. the official nmp.onnx); default: the npm package's graph, converted once and cached. */
  model: z.string().min(1).optional(),
  device: z.enum(['cpu', 'cuda']).default('cpu'),
  providers: z.array(ExecutionProviderSchema).min(1).optional(),
  intraOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  interOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
});
/** Options of createTranscriber (see TranscriberOptionsSchema). */
export type TranscriberOptions = z.input<typeof TranscriberOptionsSchema>;

/** One transcribed note: start and end in seconds and model frames (86.13 frames/s), MIDI pitch, amplitude 0..1, optional pitch bends. */
export interface NoteEvent {
  /** Seconds (basic-pitch's model_frames_to_time). */
  startTime: number;
  endTime: number;
  startFrame: number;
  endFrame: number;
  /** MIDI note number 21…108. */
  pitch: number;
  /** Mean note posterior over the note (0–1); MIDI velocity = round(127·amplitude). */
  amplitude: number;
  /** One value per frame in 1/3 semitones (contour bins), when pitch bends are on. */
  pitchBends?: number[];
}

/** Basic Pitch's raw frame posteriors (0..1): note and onset (frames x 88 keys) and contour (frames x 264 third-semitone bins). */
export interface Posteriors {
  frames: number;
  /** frames × 88, time-major. */
  note: Float32Array;
  onset: Float32Array;
  /** frames × 264. */
  contour: Float32Array;
}

/** A transcription: the notes, model frames, the source's sample rate (Hz) and channels, timings in milliseconds, optional posteriors. */
export interface TranscriptionResult {
  notes: NoteEvent[];
  frames: number;
  sourceSampleRate: number;
  sourceChannels: number;
  timing: { prepareMs: number; inferenceMs: number; notesMs: number };
  posteriors?: Posteriors;
}

export interface AudioInput {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/** The cache folder: the models folder (lib/models/paths.ts). */
export function modelCacheDir(): string {
  return modelsDir();
}

/** Where the default (converted) model is cached: <cache>/basic-pitch/nmp-tfjs-1.0.1.onnx. */
export function defaultModelPath(): string {
  return join(modelCacheDir(), 'basic-pitch', 'nmp-tfjs-1.0.1.onnx');
}

/**
 * model.json of the `@spotify/basic-pitch` weights: the copy the install script fetched into
 * <package>/weights/ (scripts/weights.mjs), else an installed `@spotify/basic-pitch` package.
 */
export function tfjsModelPath(): string {
  const fetched = join(packageRoot, 'weights', 'basic-pitch-1.0.1', 'model.json');
  if (existsSync(fetched)) return fetched;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@spotify/basic-pitch/package.json')), 'model', 'model.json');
}

/**
 * The default Basic Pitch model's path: converted once from the npm package's TF.js graph and
 * cached (written atomically, so concurrent first runs are safe); later calls only check that the
 * file exists.
 */
export async function ensureBasicPitchModel(): Promise<string> {
  const path = defaultModelPath();
  if (existsSync(path) && statSync(path).size > 0) return path;
  let source: string;
  try {
    source = tfjsModelPath();
  } catch {
    throw new ModelError(
      'DE_MODEL_NOT_FOUND',
      'ensureBasicPitchModel: the Basic Pitch weights are missing (the install fetches them into weights/; `npm rebuild didactic-engine` retries); pass the path of an nmp.onnx',
      {
        op: 'ensureBasicPitchModel',
      },
    );
  }
  const bytes = convertTfjsGraph(source);
  mkdirSync(dirname(path), { recursive: true });
  await writeFileAtomic(path, bytes, { op: 'ensureBasicPitchModel' });
  return path;
}

function nativeNoteOptions(o: z.output<typeof NoteOptionsSchema>): NativeBasicPitchNoteOptions {
  return {
    onsetThreshold: o.onsetThreshold,
    frameThreshold: o.frameThreshold,
    minNoteLengthFrames: minNoteLengthFrames(o.minimumNoteLengthMs),
    inferOnsets: o.inferOnsets,
    melodiaTrick: o.melodiaTrick,
    energyTolerance: o.energyTolerance,
    includePitchBends: o.includePitchBends,
    ...(o.minimumFrequency !== null ? { minFrequency: o.minimumFrequency } : {}),
    ...(o.maximumFrequency !== null ? { maxFrequency: o.maximumFrequency } : {}),
  };
}

function notesFromNative(n: NativeBasicPitchNotes): NoteEvent[] {
  const out: NoteEvent[] = [];
  for (let i = 0; i < n.pitch.length; i++) {
    const ev: NoteEvent = {
      startTime: n.startTime[i]!,
      endTime: n.endTime[i]!,
      startFrame: n.startFrame[i]!,
      endFrame: n.endFrame[i]!,
      pitch: n.pitch[i]!,
      amplitude: n.amplitude[i]!,
    };
    if (n.hasBends) ev.pitchBends = Array.from(n.bends.subarray(n.bendOffsets[i]!, n.bendOffsets[i + 1]!));
    out.push(ev);
  }
  return out;
}

/** Note creation alone (basic-pitch 0.4.0 `model_output_to_notes`) on given posteriors. */
export async function notesFromPosteriors(posteriors: Posteriors, options?: NoteOptions): Promise<NoteEvent[]> {
  const context = new Error();
  const opts = parseOptions('notesFromPosteriors', NoteOptionsSchema, options);
  return callNative('notesFromPosteriors', context, undefined, async (binding) =>
    notesFromNative(await binding.basicPitchNotes(posteriors, nativeNoteOptions(opts))),
  );
}

/**
 * An opened model, reusable across stems and songs; transcriptions may run concurrently.
 * `close()` (or `await using`) waits for transcriptions in flight, then frees the native session;
 * later calls reject with DE_CLOSED.
 */
export class Transcriber {
  readonly #handle: NativeBasicPitchHandle;
  readonly #lifecycle: ModelLifecycle;
  readonly modelPath: string;
  readonly providers: string[];
  readonly warnings: string[];

  constructor(handle: NativeBasicPitchHandle, modelPath: string, info: { providers: string[]; warnings: string[] }) {
    this.#handle = handle;
    this.#lifecycle = new ModelLifecycle(handle);
    this.modelPath = modelPath;
    this.providers = info.providers;
    this.warnings = info.warnings;
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Waits for transcriptions in flight, then frees the native session. Closing twice is harmless. */
  close(): Promise<void> {
    return this.#lifecycle.close('close');
  }

  /** close() for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Transcribes a file (decoded natively) or in-memory audio (any rate/channels; mixed to mono, soxr HQ to 22,050 Hz). */
  async transcribe(input: string | AudioInput, options?: TranscribeOptions): Promise<TranscriptionResult> {
    const context = new Error();
    const opts = parseOptions('transcribe', TranscribeOptionsSchema, options);
    const nativeInput = audioInputArg('transcribe', input);
    return callNative('transcribe', context, opts.signal, async (binding, token) => {
      const r = await binding.basicPitchTranscribe(
        this.#handle,
        nativeInput,
        { ...nativeNoteOptions(opts), batch: opts.batch, legacyTrim: opts.trim === 'v0.4.0', posteriors: opts.posteriors },
        token,
      );
      const result: TranscriptionResult = {
        notes: notesFromNative(r.notes),
        frames: r.frames,
        sourceSampleRate: r.sourceSampleRate,
        sourceChannels: r.sourceChannels,
        timing: r.timing,
      };
      if (opts.posteriors && r.note && r.onset && r.contour) {
        result.posteriors = { frames: r.frames, note: r.note, onset: r.onset, contour: r.contour };
      }
      return result;
    });
  }
}

/**
 * Opens a Basic Pitch model once (default: the cached model) for many transcriptions.
 * @throws ModelError DE_MODEL_NOT_FOUND, DE_MODEL_INVALID; NativeError DE_NATIVE_RUNTIME_MISSING.
 */
export async function createTranscriber(options?: TranscriberOptions): Promise<Transcriber> {
  const context = new Error();
  const opts = parseOptions('createTranscriber', TranscriberOptionsSchema, options);
  const path = opts.model !== undefined ? resolve(opts.model) : await ensureBasicPitchModel();
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ModelError(
      'DE_MODEL_NOT_FOUND',
      `createTranscriber: Basic Pitch model file not found (${path}); pass the path of an nmp.onnx ` +
        "(input 'serving_default_input_2:0' [batch, 43844, 1]; outputs 'StatefulPartitionedCall:0' contour, ':1' note, ':2' onset)",
      { op: 'createTranscriber' },
    );
  }
  const providers = opts.providers ?? (opts.device === 'cuda' ? (['cuda', 'cpu'] as const) : (['cpu'] as const));
  await ensureOrtRuntime();
  return callNative('createTranscriber', context, undefined, async (binding) => {
    const opened = await binding.basicPitchOpen(path, {
      intraOpThreads: opts.intraOpThreads,
      interOpThreads: opts.interOpThreads,
      providers: [...providers],
      label: path,
    });
    for (const warning of opened.info.warnings) process.emitWarning(warning, { code: 'DE_PROVIDER_FALLBACK' });
    return new Transcriber(opened.handle, path, opened.info);
  });
}

/**
 * One-shot transcription; reuse `createTranscriber` for many stems.
 * @throws the errors of createTranscriber and decodeAudio; ModelError DE_INFERENCE_FAILED; AbortError DE_ABORTED.
 */
export async function transcribe(input: string | AudioInput, options: TranscribeOptions & TranscriberOptions = {}): Promise<TranscriptionResult> {
  const { model, device, providers, intraOpThreads, interOpThreads, ...rest } = options;
  const t = await createTranscriber({ model, device, providers, intraOpThreads, interOpThreads });
  try {
    return await t.transcribe(input, rest);
  } finally {
    await t.close();
  }
}

/**
 * Notes → lib/reports/midi.ts notes with basic-pitch's MIDI rules: velocity round(127·amplitude),
 * bends at linspace(start, end, n) in semitones (bin/3); unless `multiplePitchBends`, bends are dropped
 * from every note overlapping another in time (drop_overlapping_pitch_bends).
 */
export function notesToMidiNotes(notes: readonly NoteEvent[], multiplePitchBends = false): MidiNote[] {
  const keepBends = notes.map((n) => !!n.pitchBends && n.pitchBends.length > 0);
  if (!multiplePitchBends) {
    const order = notes.map((_, i) => i).sort((a, b) => notes[a]!.startTime - notes[b]!.startTime || notes[a]!.endTime - notes[b]!.endTime);
    for (let x = 0; x < order.length - 1; x++) {
      const i = order[x]!;
      for (let y = x + 1; y < order.length; y++) {
        const j = order[y]!;
        if (notes[j]!.startTime >= notes[i]!.endTime) break;
        keepBends[i] = false;
        keepBends[j] = false;
      }
    }
  }
  return notes.map((n, i) => {
    const m: MidiNote = { pitch: n.pitch, velocity: Math.round(127 * n.amplitude), startS: n.startTime, endS: n.endTime };
    if (keepBends[i] && n.pitchBends) {
      const k = n.pitchBends.length;
      m.pitchBends = n.pitchBends.map((b, idx) => ({
        timeS: k === 1 ? n.startTime : n.startTime + ((n.endTime - n.startTime) * idx) / (k - 1),
        semitones: b / BASIC_PITCH_CONTOUR_BINS_PER_SEMITONE,
      }));
    }
    return m;
  });
}

/** Standard MIDI File bytes of the notes at a tempo (lib/reports/midi.ts; 960 ticks/beat by default). */
export function notesToMidi(notes: readonly NoteEvent[], tempoBpm = 120, options: StemMidiOptions & { multiplePitchBends?: boolean } = {}): Uint8Array {
  const { multiplePitchBends, ...midi } = options;
  return encodeStemMidi(notesToMidiNotes(notes, multiplePitchBends), tempoBpm, midi).bytes;
}

/** Transcribes and writes a MIDI file; returns the transcription. */
export async function transcribeToMidi(
  input: string | AudioInput,
  outPath: string,
  options: TranscribeOptions & TranscriberOptions & { tempoBpm?: number; transcriber?: Transcriber } = {},
): Promise<TranscriptionResult> {
  const { tempoBpm, transcriber, ...rest } = options;
  let result: TranscriptionResult;
  if (transcriber) {
    const { model: _m, device: _d, providers: _p, intraOpThreads: _i, interOpThreads: _o, ...t } = rest;
    result = await transcriber.transcribe(input, t);
  } else {
    result = await transcribe(input, rest);
  }
  await writeStemMidi(notesToMidiNotes(result.notes), tempoBpm ?? 120, outPath);
  return result;
}

/** The original's `basic_pitch_backend` values. */
export const BASIC_PITCH_BACKENDS = ['tf', 'onnx', 'tflite', 'coreml'] as const;

/**
 * Maps the original's `basic_pitch_backend` to what runs: always 'onnx' (ONNX Runtime in-process).
 * 'tf', 'tflite' and 'coreml' are the same ICASSP 2022 weights in other containers, so they map to
 * 'onnx' with a note (outputs agree within float tolerance, docs/compatibility.md "Transcription");
 * anything else is rejected with a clear message.
 */
export function resolveBasicPitchBackend(value: string): { backend: 'onnx'; note?: string } {
  if (value === 'onnx') return { backend: 'onnx' };
  if ((BASIC_PITCH_BACKENDS as readonly string[]).includes(value)) {
    return {
      backend: 'onnx',
      note: `basic_pitch_backend '${value}' runs as 'onnx': the same ICASSP 2022 model on ONNX Runtime (no TensorFlow/TFLite/CoreML in this engine)`,
    };
  }
  throw new InvalidArgumentError(`basic_pitch_backend must be one of ${BASIC_PITCH_BACKENDS.map((b) => `'${b}'`).join(', ')}, got '${value}'`, {
    op: 'resolveBasicPitchBackend',
  });
}

/** NumPy .npy (format 1.0, little-endian float32, C order) bytes of a frames × bins matrix. */
export function npyBytes(data: Float32Array, rows: number, cols: number): Uint8Array {
  if (rows * cols !== data.length) throw new InvalidArgumentError(`npyBytes: ${data.length} values are not ${rows} × ${cols}`, { op: 'npyBytes' });
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows}, ${cols}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** Writes the raw posteriors as `<prefix>note.npy`, `<prefix>onset.npy`, `<prefix>contour.npy` (atomic). */
export async function writePosteriorsNpy(posteriors: Posteriors, dir: string, prefix = ''): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files: [string, Float32Array, number][] = [
    ['note', posteriors.note, 88],
    ['onset', posteriors.onset, 88],
    ['contour', posteriors.contour, 264],
  ];
  const paths: string[] = [];
  for (const [name, data, cols] of files) {
    const path = join(dir, `${prefix}${name}.npy`);
    await writeFileAtomic(path, npyBytes(data, posteriors.frames, cols), { op: 'writePosteriorsNpy' });
    paths.push(path);
  }
  return paths;
}
