/**
 * The one models folder: Demucs model names resolve to `<dir>/<name>.onnx` in it and the
 * converted Basic Pitch model is cached under `<dir>/basic-pitch/`.
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** $DIDACTIC_MODELS_DIR, else $XDG_CACHE_HOME/didactic-engine/models, else ~/.cache/didactic-engine/models. */
export function modelsDir(): string {
  if (process.env.DIDACTIC_MODELS_DIR) return resolve(process.env.DIDACTIC_MODELS_DIR);
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'didactic-engine', 'models');
}

/** Where a Demucs model name or path points (`<modelsDir>/<name>.onnx`, or the path as is), whether or not the file exists. */
export function demucsModelPath(model: string, dir?: string): string {
  const looksLikePath = model.includes('/') || model.includes('\\') || model.endsWith('.onnx') || isAbsolute(model);
  return looksLikePath ? resolve(model) : join(dir ?? modelsDir(), `${model}.onnx`);
}
