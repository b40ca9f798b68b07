/**
 * What a client may configure through the API: every pipeline config field except paths. A field
 * that names a file or folder of the server (CONFIG_PATH_FIELDS: the input, the output folder) is
 * refused; a model field takes only a model *name*, one installed in the server's models folder or,
 * when the operator gives an allowlist (`serve --allow-model`), one of those. Refusals are
 * DE_INVALID_CONFIG (HTTP 400) at submit, and their messages never depend on whether a server path
 * exists: a path is refused as a path, before anything looks at the disk.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

import { DidacticError } from '../errors.js';
import { modelsDir } from '../models/paths.js';
import { CONFIG_PATH_FIELDS, camelToSnake, PipelineConfig, snakeToCamel } from '../pipeline/config.js';

/** How the server decides which model names clients may choose. */
export interface ClientConfigPolicy {
  /** Model names clients may choose (`serve --allow-model`, repeatable); absent or empty: the models installed in `modelsDir`. */
  allowedModels?: readonly string[];
  /** The models folder whose `<name>.onnx` files are the installed models (default: $DIDACTIC_MODELS_DIR or the cache folder, lib/models/paths.ts). */
  modelsDir?: string;
}

/** A model name: one plain file-name component, no separator, no `.onnx` suffix (which would make it a path). */
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** True when `name` is a model name rather than something the resolver would read as a path. */
export function isModelName(name: string): boolean {
  return MODEL_NAME.test(name) && !name.toLowerCase().endsWith('.onnx');
}

/** The model names installed in `dir`: its `<name>.onnx` files, sorted. */
export function installedModels(dir: string = modelsDir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries
    .filter((f) => f.toLowerCase().endsWith('.onnx') && isModelName(f.slice(0, -5)))
    .filter((f) => {
      try {
        return statSync(join(dir, f)).isFile();
      } catch {
        return false;
      }
    })
    .map((f) => f.slice(0, -5))
    .sort();
}

let defaults: PipelineConfig | undefined;
/** The value a field has when a client leaves it out (the server's own choice, always acceptable). */
function defaultOf(camel: string): unknown {
  defaults ??= new PipelineConfig({ songId: 'song', inputWav: 'input', outDir: 'out' }, { warn: null });
  return (defaults as unknown as Record<string, unknown>)[camel];
}

/**
 * Checks a client's config overrides (snake_case or camelCase keys) against the policy: no path
 * field, model fields only as offered names. Call it before the config is validated and queued.
 * @throws DidacticError DE_INVALID_CONFIG naming the field.
 */
export function checkClientConfig(config: Record<string, unknown>, policy: ClientConfigPolicy = {}): void {
  for (const [key, value] of Object.entries(config)) {
    const camel = snakeToCamel(key);
    const kind = (CONFIG_PATH_FIELDS as Record<string, string>)[camel];
    if (kind === undefined) continue;
    const field = camelToSnake(camel);
    if (kind !== 'model') {
      throw new DidacticError('DE_INVALID_CONFIG', `${field} names a server ${kind}: the service sets it, a client cannot`);
    }
    if (typeof value !== 'string' || !isModelName(value)) {
      throw new DidacticError('DE_INVALID_CONFIG', `${field} must be the name of a model this server offers, not a path`);
    }
    if (value === defaultOf(camel)) continue;
    const allowed = policy.allowedModels ?? [];
    if (allowed.length > 0) {
      if (!allowed.includes(value)) {
        throw new DidacticError('DE_INVALID_CONFIG', `${field} '${value}' is not offered by this server (offered: ${allowed.join(', ')})`);
      }
      continue;
    }
    const installed = installedModels(policy.modelsDir);
    if (!installed.includes(value)) {
      throw new DidacticError(
        'DE_INVALID_CONFIG',
        `${field} '${value}' is not installed on this server (installed: ${installed.length > 0 ? installed.join(', ') : 'none'})`,
      );
    }
  }
}
