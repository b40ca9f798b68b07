/**
 * The models a pipeline run uses, owned by whoever runs songs (the CLI, a batch, a server): each
 * model is opened once per cache and shared by every song and stem that asks for it, and freed
 * by `close()`. When a model is missing, the error says where it was looked for and the pipeline
 * degrades as the original does.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';

import { BeatThisTracker, installedBeatThisModel } from '../models/beatThis.js';
import { RhythmTracker } from '../models/rhythm.js';
import { DidacticError } from '../errors.js';
// Basic Pitch and Demucs are imported when first opened: a run without transcription or separation never loads them.
import { demucsModelPath } from '../models/paths.js';
import { missingModelHint } from '../models/registry.js';
import type { PipelineConfig } from './config.js';
import type { StemSeparator, NoteTranscriber } from './services.js';

/** A model name resolves to `<models folder>/<name>.onnx`; a path is used as is. */
export function resolveModelFile(nameOrPath: string): { path: string | null; searched: string[] } {
  const candidate = demucsModelPath(nameOrPath);
  return { path: existsSync(candidate) && statSync(candidate).isFile() ? candidate : null, searched: [candidate] };
}

function demucsDevice(cfg: PipelineConfig): 'cpu' | 'cuda' {
  const device = cfg.demucsDevice.toLowerCase();
  if (device === 'cpu') return 'cpu';
  if (device === 'cuda' || device.startsWith('cuda:')) return 'cuda';
  throw new DidacticError('DE_INVALID_ARGUMENT', `demucs_device must be 'cpu' or 'cuda' (or 'cuda:N'), got '${cfg.demucsDevice}'`);
}

interface Closable {
  close?: () => Promise<void>;
}

function capitalised(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** Opened models by key; `close()` frees them all and refuses later requests. */
export class ModelCache {
  readonly #separators = new Map<string, Promise<StemSeparator & { handle: Closable }>>();
  readonly #transcribers = new Map<string, Promise<NoteTranscriber & { handle: Closable }>>();
  readonly #rhythm = new Map<string, Promise<{ tracker: RhythmTracker; handle: Closable }>>();
  readonly #beatThis = new Map<string, Promise<{ tracker: BeatThisTracker; handle: Closable }>>();
  #closed = false;

  /** The Demucs model named by `demucs_model` on `demucs_device`, with `intraOpThreads` threads. */
  async separator(cfg: PipelineConfig, intraOpThreads: number): Promise<StemSeparator> {
    const { path, searched } = resolveModelFile(cfg.demucsModel);
    if (!path) {
      throw new DidacticError(
        'DE_MODEL_NOT_FOUND',
        `Demucs model '${cfg.demucsModel}' not found (looked for ${searched.join(', ')}). ` +
          `${capitalised(missingModelHint(cfg.demucsModel)).replace('or pass a path', 'or pass a path as demucs_model')}.`,
      );
    }
    const device = demucsDevice(cfg);
    return this.#cached(this.#separators, `${path}\u0000${device}\u0000${intraOpThreads}`, () => openSeparator(path, device, intraOpThreads));
  }

  /**
   * Basic Pitch on ONNX Runtime ($DIDACTIC_BASIC_PITCH_MODEL or the converted npm weights).
   * `basic_pitch_backend` keeps the original's values; every one of them runs the same model here.
   */
  async transcriber(cfg: PipelineConfig, intraOpThreads: number): Promise<NoteTranscriber> {
    const { resolveBasicPitchBackend } = await import('../models/basicPitch/index.js');
    const backend = resolveBasicPitchBackend(cfg.basicPitchBackend);
    const model = process.env.DIDACTIC_BASIC_PITCH_MODEL || undefined;
    const t = await this.#cached(this.#transcribers, `${model ?? 'default'}\u0000${intraOpThreads}`, () => openTranscriber(model, intraOpThreads));
    return backend.note ? { description: t.description, transcribe: t.transcribe, notice: backend.note } : t;
  }

  /** BeatNet's CRNN for the learned beat and downbeat tracker (models/beatnet in the package). */
  async rhythm(intraOpThreads: number): Promise<RhythmTracker> {
    const t = await this.#cached(this.#rhythm, String(intraOpThreads), async () => {
      const tracker = await RhythmTracker.open({ intraOpThreads });
      return { tracker, handle: { close: async () => tracker.close() } };
    });
    return t.tracker;
  }

  /** The installed Beat This! network (beat-this, else beat-this-small); DE_MODEL_NOT_FOUND naming the fetch command without one. */
  async beatThis(intraOpThreads: number): Promise<BeatThisTracker> {
    const path = installedBeatThisModel() ?? '';
    const t = await this.#cached(this.#beatThis, `${path}\u0000${intraOpThreads}`, async () => {
      const tracker = await BeatThisTracker.open({ ...(path ? { model: path } : {}), intraOpThreads });
      return { tracker, handle: { close: async () => tracker.close() } };
    });
    return t.tracker;
  }

  /** Frees every model opened through this cache (waiting for their in-flight runs). */
  async close(): Promise<void> {
    this.#closed = true;
    const opened = [...this.#separators.values(), ...this.#transcribers.values(), ...this.#rhythm.values(), ...this.#beatThis.values()];
    this.#separators.clear();
    this.#transcribers.clear();
    this.#rhythm.clear();
    this.#beatThis.clear();
    await Promise.all(
      opened.map((p) =>
        p.then(
          (m) => m.handle.close?.(),
          () => undefined,
        ),
      ),
    );
  }

  /** close() for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #cached<T>(map: Map<string, Promise<T>>, key: string, open: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new DidacticError('DE_CLOSED', 'The model cache is closed'));
    let model = map.get(key);
    if (!model) {
      model = open();
      map.set(key, model);
      model.catch(() => map.delete(key));
    }
    return model;
  }
}

async function openSeparator(path: string, device: 'cpu' | 'cuda', intraOpThreads: number): Promise<StemSeparator & { handle: Closable }> {
  const { createSeparator } = await import('../models/demucs/index.js');
  const separator = await createSeparator(path, { device, intraOpThreads });
  // Demucs names its output folder after the model (`-n htdemucs` → stems/<id>/htdemucs/…).
  const modelName = basename(path, extname(path));
  return {
    handle: separator as Closable,
    modelName,
    description: `demucs ${modelName} (onnx, ${separator.info.providers.join('+')})`,
    warnings: separator.info.warnings,
    async separate(request) {
      const result = await separator.separate(
        { samples: request.samples, sampleRate: request.sampleRate, channels: request.channels },
        { signal: request.signal },
      );
      return result.stems.map((s) => ({ name: s.name, samples: s.samples, sampleRate: result.sampleRate, channels: result.channels }));
    },
  };
}

async function openTranscriber(model: string | undefined, intraOpThreads: number): Promise<NoteTranscriber & { handle: Closable }> {
  const { createTranscriber, notesToMidiNotes } = await import('../models/basicPitch/index.js');
  const transcriber = await createTranscriber({ ...(model ? { model } : {}), intraOpThreads });
  return {
    handle: transcriber as Closable,
    description: `basic-pitch nmp (onnx, ${basename(transcriber.modelPath)})`,
    async transcribe(request) {
      const result = await transcriber.transcribe(
        { samples: request.samples, sampleRate: request.sampleRate, channels: request.channels ?? 1 },
        { signal: request.signal, posteriors: request.onPosteriors !== undefined },
      );
      if (request.onPosteriors && result.posteriors) await request.onPosteriors(result.posteriors);
      // Velocity round(127·amplitude) and bends placed as basic-pitch's own MIDI writer does.
      return notesToMidiNotes(result.notes);
    },
  };
}
