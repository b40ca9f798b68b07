/**
 * Default model services for a pipeline run, resolved from the config: the Demucs model file
 * named by `demucs_model` and the Basic Pitch model. When a model is missing the error says where
 * it was looked for; the pipeline then degrades as the original does.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import { DidacticError } from '../errors.js';
import type { PipelineConfig } from './config.js';
import type { StemSeparator, Transcriber } from './services.js';

/** Folders searched for model files by name: $DIDACTIC_MODELS_DIR, then the user cache. */
export function modelSearchDirs(): string[] {
  const dirs: string[] = [];
  if (process.env.DIDACTIC_MODELS_DIR) dirs.push(resolve(process.env.DIDACTIC_MODELS_DIR));
  const cacheHome = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  dirs.push(join(cacheHome, 'didactic-engine', 'models'));
  return dirs;
}

/** A model name resolves to `<dir>/<name>.onnx` in the search folders; a path is used as is. */
export function resolveModelFile(nameOrPath: string): { path: string | null; searched: string[] } {
  const looksLikePath = isAbsolute(nameOrPath) || nameOrPath.includes('/') || nameOrPath.endsWith('.onnx');
  if (looksLikePath) return { path: existsSync(nameOrPath) ? nameOrPath : null, searched: [nameOrPath] };
  const searched = modelSearchDirs().map((d) => join(d, `${nameOrPath}.onnx`));
  return { path: searched.find((p) => existsSync(p)) ?? null, searched };
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
  const key = `${path}\u0000${cfg.demucsDevice}`;
  let separator = separators.get(key);
  if (!separator) {
    separator = loadSeparator(path, cfg);
    separators.set(key, separator);
    separator.catch(() => separators.delete(key));
  }
  return separator;
}

async function loadSeparator(path: string, cfg: PipelineConfig): Promise<StemSeparator> {
  void path;
  void cfg;
  throw new DidacticError('DE_MODEL_NOT_FOUND', 'Demucs separation is not built into this version yet');
}

export async function resolveDefaultTranscriber(cfg: PipelineConfig): Promise<Transcriber | null> {
  void cfg;
  return null;
}
