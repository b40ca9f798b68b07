/**
 * Default model services for a pipeline run, resolved from the config: the Demucs model named by
 * `demucs_model` and the Basic Pitch model (converted from the npm package and cached, or
 * $DIDACTIC_BASIC_PITCH_MODEL). Each model is opened once per process and shared by every run,
 * song and stem; when one is missing the error says where it was looked for and the pipeline
 * degrades as the original does.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, extname } from 'node:path';

import { DidacticError } from '../errors.js';
import { createTranscriber, notesToMidiNotes, resolveBasicPitchBackend } from '../models/basicPitch/index.js';
import { createSeparator, demucsModelPath } from '../models/demucs/index.js';
import type { PipelineConfig } from './config.js';
import { ortIntraOpThreads, separatorIntraOpThreads } from './concurrency.js';
import type { StemSeparator, Transcriber } from './services.js';

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

const separators = new Map<string, Promise<StemSeparator>>();

export async function resolveDefaultSeparator(cfg: PipelineConfig): Promise<StemSeparator> {
  const { path, searched } = resolveModelFile(cfg.demucsModel);
  if (!path) {
    throw new DidacticError(
      'DE_MODEL_NOT_FOUND',
      `Demucs model '${cfg.demucsModel}' not found (looked for ${searched.join(', ')}). ` +
        'Export one with scripts/export-htdemucs.py and put it there, set DIDACTIC_MODELS_DIR, or pass a path as demucs_model.',
    );
  }
  const device = demucsDevice(cfg);
  const threads = separatorIntraOpThreads();
  const key = `${path}\u0000${device}\u0000${threads}`;
  let separator = separators.get(key);
  if (!separator) {
    separator = loadSeparator(path, device, threads);
    separators.set(key, separator);
    separator.catch(() => separators.delete(key));
  }
  return separator;
}

async function loadSeparator(path: string, device: 'cpu' | 'cuda', intraOpThreads: number): Promise<StemSeparator> {
  const separator = await createSeparator(path, { device, intraOpThreads });
  // Demucs names its output folder after the model (`-n htdemucs` → stems/<id>/htdemucs/…).
  const modelName = basename(path, extname(path));
  return {
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

const transcribers = new Map<string, Promise<Transcriber>>();

/**
 * Basic Pitch on ONNX Runtime. `basic_pitch_backend` keeps the original's values; every one of
 * them runs the same model here (resolveBasicPitchBackend says so in the log).
 */
export async function resolveDefaultTranscriber(
  cfg: PipelineConfig,
  options: { intraOpThreads?: number } = {},
): Promise<Transcriber | null> {
  const backend = resolveBasicPitchBackend(cfg.basicPitchBackend);
  const model = process.env.DIDACTIC_BASIC_PITCH_MODEL || undefined;
  const threads = options.intraOpThreads ?? ortIntraOpThreads();
  const key = `${model ?? 'default'}\u0000${threads}`;
  let transcriber = transcribers.get(key);
  if (!transcriber) {
    transcriber = loadTranscriber(model, threads);
    transcribers.set(key, transcriber);
    transcriber.catch(() => transcribers.delete(key));
  }
  const t = await transcriber;
  return backend.note ? { ...t, notice: backend.note } : t;
}

async function loadTranscriber(model: string | undefined, intraOpThreads: number): Promise<Transcriber> {
  const transcriber = await createTranscriber({ ...(model ? { model } : {}), intraOpThreads });
  return {
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
