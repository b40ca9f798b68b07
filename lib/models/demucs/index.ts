/**
 * Demucs (htdemucs) stem separation on ONNX Runtime. The graph holds the network; the mix
 * normalisation, 7.8 s segmenting with Demucs' triangular cross-fade, the STFT/iSTFT and the
 * overlap-add run in C++ (native/src/ml/demucs.cc). Contract: docs/models.md, "Demucs (htdemucs)".
 */
import { existsSync, statSync } from 'node:fs';

import { z } from 'zod';

import type { NativeDemucsHandle, NativeDemucsInfo, NativeDemucsInput } from '../../../binding.js';
import { fromNative, InvalidArgumentError, ModelError } from '../../errors.js';
import { callNative } from '../../native/call.js';
import { loadBinding } from '../../native/load.js';
import { parseOptions } from '../../util/validate.js';
import { ModelLifecycle } from '../handle.js';
import { audioInputArg } from '../input.js';
import { MAX_INTRA_OP_THREADS } from '../limits.js';
import { demucsModelPath } from '../paths.js';
import { missingModelHint } from '../registry.js';
import { ensureOrtRuntime } from '../runtime.js';
import { ExecutionProviderSchema } from '../session.js';

export { buildDemucsStandIn, HTDEMUCS_SEGMENT, HTDEMUCS_SOURCES } from './standIn.js';

/** htdemucs' output order, used when the model carries no "sources" metadata. */
export const DEMUCS_DEFAULT_SOURCES = ['drums', 'bass', 'other', 'vocals'] as const;
export const DEMUCS_SAMPLE_RATE = 44100;

/** Zod schema of how a Demucs separator is opened: models folder, device or providers, ONNX Runtime threads, memory pattern. */
export const SeparatorOptionsSchema = z.strictObject({
  /** Folder in which a model *name* resolves to `<name>.onnx`; default the models folder ($DIDACTIC_MODELS_DIR, else ~/.cache/didactic-engine/models). */
  modelsDir: z.string().min(1).optional(),
  /** 'cuda' requests the CUDA provider first; without it ONNX Runtime falls back to CPU with a warning. */
  device: z.enum(['cpu', 'cuda']).default('cpu'),
  providers: z.array(ExecutionProviderSchema).min(1).optional(),
  intraOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  interOpThreads: z.number().int().min(1).max(MAX_INTRA_OP_THREADS).default(1),
  /**
   * ONNX Runtime's memory-pattern planner. Off by default: on htdemucs it holds ~700 MiB more per
   * session run for a few percent of speed (docs/models.md).
   */
  memoryPattern: z.boolean().default(false),
});
/** Options of createSeparator (see SeparatorOptionsSchema). */
export type SeparatorOptions = z.input<typeof SeparatorOptionsSchema>;

/** Zod schema of one separation's options: shifts, seed, overlap (0..0.95), batch, segment length in seconds, progress callback. */
export const SeparateOptionsSchema = z.strictObject({
  /** Random time shifts averaged (Demucs' `--shifts`); 0 = deterministic, no shift. */
  shifts: z.number().int().min(0).max(20).default(0),
  /** Seed of the shift offsets (same seed, same output). */
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
  /** Segment overlap (Demucs' `--overlap`). */
  overlap: z.number().min(0).max(0.95).default(0.25),
  transitionPower: z.number().min(1).max(16).default(1),
  /** Segments per session run (only with a dynamic batch dimension). */
  batch: z.number().int().min(1).max(64).default(1),
  /** Shorter segments than the model's 7.8 s (Demucs' `--segment`); default the model's. */
  segmentSeconds: z.number().positive().optional(),
  signal: z.instanceof(AbortSignal).optional(),
  /** Called after each segment run with (done, total). */
  onProgress: z.custom<(done: number, total: number) => void>((v) => typeof v === 'function').optional(),
});
/** Options of one separation (see SeparateOptionsSchema). */
export type SeparateOptions = z.input<typeof SeparateOptionsSchema>;

/** In-memory audio: interleaved frames at any rate, 1 or more channels. */
export interface AudioInput {
  samples: Float32Array;
  sampleRate: number;
  channels: number;
}

/** One separated source: its name (drums, bass, other, vocals for htdemucs) and interleaved stereo samples at 44,100 Hz. */
export interface Stem {
  name: string;
  /** Interleaved stereo at 44.1 kHz, as many frames as the (resampled) input. */
  samples: Float32Array;
}

/** A separation: the stems (stereo, 44,100 Hz, `frames` frames each) and the source's sample rate (Hz) and channels. */
export interface SeparationResult {
  /** In the model's source order (htdemucs: drums, bass, other, vocals). */
  stems: Stem[];
  sampleRate: 44100;
  channels: 2;
  frames: number;
  sourceSampleRate: number;
  sourceChannels: number;
}

/** What an opened separator runs: source names, sample rate (Hz), segment length (samples), providers and warnings. */
export interface SeparatorInfo {
  sources: string[];
  sampleRate: number;
  /** Samples per model segment. */
  segment: number;
  providers: string[];
  warnings: string[];
  modelPath?: string;
}

/**
 * A model name ("htdemucs") resolves to `<modelsDir>/<name>.onnx` (modelsDir: option, else the
 * models folder of lib/models/paths.ts); anything that looks like a path (a separator or an .onnx suffix) is used as is.
 */
export function resolveDemucsModel(model: string, modelsDir?: string): string {
  const path = demucsModelPath(model, modelsDir);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw new ModelError('DE_MODEL_NOT_FOUND', `separate: Demucs model file not found (${path}); ${missingModelHint(model)}`, { op: 'separate' });
  }
  return path;
}

/** Where a model name or path points (resolveDemucsModel's rule), whether or not the file exists. */
export { demucsModelPath };

/**
 * An opened model, reusable across songs; separations may run concurrently. `close()` (or
 * `await using`) waits for separations in flight, then frees the native session; later calls
 * reject with DE_CLOSED.
 */
export class Separator {
  readonly #handle: NativeDemucsHandle;
  readonly #lifecycle: ModelLifecycle;
  readonly info: SeparatorInfo;

  constructor(handle: NativeDemucsHandle, info: NativeDemucsInfo, modelPath?: string) {
    this.#handle = handle;
    this.#lifecycle = new ModelLifecycle(handle);
    this.info = {
      sources: info.sources,
      sampleRate: info.sampleRate,
      segment: info.segment,
      providers: info.providers,
      warnings: info.warnings,
      ...(modelPath ? { modelPath } : {}),
    };
  }

  /** Whether close() was called. */
  get closed(): boolean {
    return this.#lifecycle.closed;
  }

  /** Waits for separations in flight, then frees the native session. Closing twice is harmless. */
  close(): Promise<void> {
    return this.#lifecycle.close('close');
  }

  /** close() for `await using`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Separates a file (decoded natively) or in-memory audio into stems. */
  async separate(input: string | AudioInput, options?: SeparateOptions): Promise<SeparationResult> {
    const context = new Error();
    const opts = parseOptions('separate', SeparateOptionsSchema, options);
    const nativeInput: NativeDemucsInput = audioInputArg('separate', input);
    return callNative('separate', context, opts.signal, async (binding, token) => {
      const result = await binding.demucsSeparate(
        this.#handle,
        nativeInput,
        {
          overlap: opts.overlap,
          transitionPower: opts.transitionPower,
          shifts: opts.shifts,
          seed: opts.seed,
          batch: opts.batch,
          segmentSeconds: opts.segmentSeconds ?? 0,
        },
        token,
        opts.onProgress,
      );
      return {
        stems: result.stems.map((samples, i) => ({ name: this.info.sources[i] ?? `source${i}`, samples })),
        sampleRate: DEMUCS_SAMPLE_RATE,
        channels: 2,
        frames: result.frames,
        sourceSampleRate: result.sourceSampleRate,
        sourceChannels: result.sourceChannels,
      };
    });
  }
}

/**
 * Opens a model (name, path or ONNX bytes) once for many songs.
 * @throws ModelError DE_MODEL_NOT_FOUND, DE_MODEL_INVALID; NativeError DE_NATIVE_RUNTIME_MISSING.
 */
export async function createSeparator(model: string | Uint8Array, options?: SeparatorOptions): Promise<Separator> {
  const context = new Error();
  const opts = parseOptions('createSeparator', SeparatorOptionsSchema, options);
  let source: string | Uint8Array;
  let modelPath: string | undefined;
  if (typeof model === 'string') {
    modelPath = resolveDemucsModel(model, opts.modelsDir);
    source = modelPath;
  } else if (model instanceof Uint8Array) {
    source = model;
  } else {
    throw new InvalidArgumentError('createSeparator: model must be a name, a path or ONNX bytes', { op: 'createSeparator' });
  }
  const providers = opts.providers ?? (opts.device === 'cuda' ? (['cuda', 'cpu'] as const) : (['cpu'] as const));
  await ensureOrtRuntime();
  try {
    const opened = await loadBinding().demucsOpen(source, {
      intraOpThreads: opts.intraOpThreads,
      interOpThreads: opts.interOpThreads,
      providers: [...providers],
      memoryPattern: opts.memoryPattern,
    });
    for (const warning of opened.info.warnings) process.emitWarning(warning, { code: 'DE_PROVIDER_FALLBACK' });
    return new Separator(opened.handle, opened.info, modelPath);
  } catch (err) {
    const error = fromNative(err, context, 'createSeparator');
    if (modelPath && !error.message.includes(modelPath)) {
      // The native checks describe what is wrong; say which file it is.
      const message = `${error.message} (model file ${modelPath})`;
      error.stack = error.stack?.replace(error.message, message);
      error.message = message;
    }
    throw error;
  }
}

/**
 * One-shot: opens the model, separates one song. Reuse `createSeparator` for many songs.
 * @throws the errors of createSeparator; ModelError DE_INFERENCE_FAILED; AbortError DE_ABORTED.
 */
export async function separate(
  input: string | AudioInput,
  options: SeparateOptions & SeparatorOptions & { model: string | Uint8Array },
): Promise<SeparationResult> {
  const { model, modelsDir, device, providers, intraOpThreads, interOpThreads, memoryPattern, ...rest } = options;
  const separator = await createSeparator(model, { modelsDir, device, providers, intraOpThreads, interOpThreads, memoryPattern });
  try {
    return await separator.separate(input, rest);
  } finally {
    await separator.close();
  }
}
