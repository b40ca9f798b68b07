/**
 * `ensureModels`: each named model installed, fetching the missing ones (`serve --fetch-models`):
 * the service starts only with the models it was asked for.
 */
import { type FetchModelOptions, fetchModel, listModels } from './fetch.js';
import { knownModel, KNOWN_MODELS } from './registry.js';
import { InvalidArgumentError } from '../errors.js';

/** One model `ensureModels` made sure of. */
export interface EnsuredModel {
  name: string;
  /** `installed`: it was there already; `fetched`: this call fetched it. */
  status: 'installed' | 'fetched';
  path: string;
  bytes: number | null;
  /** SHA-256 of the checkpoints it came from, where a fetch recorded them. */
  sha256: string[] | null;
}

/**
 * Makes sure each of `names` is installed in the models folder, fetching (download, verify,
 * convert, install; lib/models/fetch.ts) those that are not, one after the other. An unknown name
 * is DE_INVALID_ARGUMENT before anything is fetched; a failed fetch throws its own coded error.
 * Concurrent callers (several servers on one models folder) share each fetch through its lock.
 */
export async function ensureModels(names: readonly string[], options: FetchModelOptions = {}): Promise<EnsuredModel[]> {
  const unknown = names.filter((n) => !knownModel(n));
  if (unknown.length > 0) {
    throw new InvalidArgumentError(
      `unknown model(s) ${unknown.map((n) => JSON.stringify(n)).join(', ')}; known: ${KNOWN_MODELS.map((m) => m.name).join(', ')}`,
      {
        op: 'models fetch',
        details: { models: unknown },
      },
    );
  }
  const listOptions = options.modelsDir ? { modelsDir: options.modelsDir } : {};
  const out: EnsuredModel[] = [];
  for (const name of new Set(names)) {
    const row = (await listModels(listOptions)).find((r) => r.name === name)!;
    if (row.installed) {
      out.push({ name, status: 'installed', path: row.path, bytes: row.bytes, sha256: row.sha256 });
      continue;
    }
    await fetchModel(name, options);
    const after = (await listModels(listOptions)).find((r) => r.name === name)!;
    out.push({ name, status: 'fetched', path: after.path, bytes: after.bytes, sha256: after.sha256 });
  }
  return out;
}
