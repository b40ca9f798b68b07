/**
 * `fetchModel`, `listModels`, `removeModel`: the official checkpoints of the registry downloaded
 * (HTTP Range resume), verified (SHA-256, full or the published prefix; trust on first use where
 * none is published), converted in Node (lib/models/convert) and installed atomically into the
 * models folder. Downloads in progress live in `<models>/.partial/`; nothing ever appears under a
 * final name until it is complete and checked.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';

import { AbortError, DidacticError, InvalidArgumentError, ModelError } from '../errors.js';
import { readDemucsPackage } from './convert/checkpoint.js';
import { convertBeatThis, readBeatThisCheckpoint } from './convert/beatThis.js';
import { composeDemucsBag, convertDemucs } from './convert/demucs.js';
import { acquireFetchLock } from './fetchLock.js';
import { modelsDir as defaultModelsDir } from './paths.js';
import { type KnownModel, KNOWN_MODELS, knownModel, type ModelFile } from './registry.js';

export { KNOWN_MODELS, type KnownModel, type ModelFile } from './registry.js';

/** Progress of one fetch: the stage, the file, and bytes received of the total (null when unknown). */
export interface FetchProgress {
  /** `wait`: another fetch of the same model holds its lock (`file` names the holder). */
  stage: 'wait' | 'download' | 'verify' | 'convert' | 'install';
  file: string;
  received: number;
  total: number | null;
}

/** Options of fetchModel. */
export interface FetchModelOptions {
  /** Models folder; default $DIDACTIC_MODELS_DIR, else ~/.cache/didactic-engine/models. */
  modelsDir?: string;
  /** A checkpoint file (one-file models) or a folder holding the official file names: no download (air-gapped). */
  from?: string;
  /** Accept checkpoints that are not the official files (no hash check; the structure is still checked). */
  unverified?: boolean;
  /** Accept a SHA-256 that differs from the one recorded by an earlier fetch (models without a published hash). */
  acceptNewHash?: boolean;
  /** Base URL replacing the official hosts (`<mirror>/<mirrorPath>`); default $DIDACTIC_MODELS_MIRROR. */
  mirror?: string;
  /** Download attempts after the first, each resuming where the last stopped. Default 2. */
  retries?: number;
  /** Cancels the fetch; nothing is left in the models folder. */
  signal?: AbortSignal;
  /** Called as bytes arrive and at each stage (download, verify, convert, install). */
  onProgress?: (p: FetchProgress) => void;
}

/** One checkpoint a fetch used. */
export interface FetchedFile {
  file: string;
  sha256: string;
  bytes: number;
  /** URL downloaded from, or the local path of --from. */
  source: string;
  /** How it was verified. */
  verified: 'sha256' | 'sha256-prefix' | 'recorded' | 'first-use' | 'unverified';
}

/** What fetchModel installed. */
export interface FetchModelResult {
  name: string;
  /** The installed file (Demucs: `<models>/<name>.onnx`). */
  path: string;
  files: FetchedFile[];
  licence: string;
  /** Seconds spent downloading (or reading --from) and converting. */
  downloadSeconds: number;
  convertSeconds: number;
}

/** One row of listModels. */
export interface ModelListing {
  name: string;
  description: string;
  kind: KnownModel['kind'];
  installed: boolean;
  /** Installed size in bytes. */
  bytes: number | null;
  path: string;
  urls: string[];
  licence: string;
  /** SHA-256 of the checkpoints the installed model came from (recorded at fetch). */
  sha256: string[] | null;
}

interface Manifest {
  name: string;
  kind: KnownModel['kind'];
  files: FetchedFile[];
  licence: string;
  installed: string;
  path: string;
}

const OP = 'models fetch';

/** The committed weightless graphs (models/graphs/ at the package root; two levels above lib/models and dist/models). */
export function graphsDir(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models', 'graphs');
}

function manifestPath(dir: string, name: string): string {
  return join(dir, `${name}.model.json`);
}

function installedPath(dir: string, model: KnownModel): string {
  return join(dir, `${model.name}.onnx`);
}

function unknown(name: string): InvalidArgumentError {
  return new InvalidArgumentError(`unknown model ${JSON.stringify(name)}; known: ${KNOWN_MODELS.map((m) => m.name).join(', ')}`, {
    op: OP,
    details: { model: name },
  });
}

async function readManifest(dir: string, name: string): Promise<Manifest | null> {
  try {
    return JSON.parse(await readFile(manifestPath(dir, name), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

async function sha256Of(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash, { signal });
  return hash.digest('hex');
}

function unavailable(message: string, details: Record<string, unknown>, cause?: unknown): DidacticError {
  return new DidacticError('DE_UNAVAILABLE', `${OP}: ${message}`, { op: OP, details, ...(cause ? { cause } : {}) });
}

/**
 * Downloads `url` into `part`, resuming from its current length with an HTTP Range request (a
 * server that ignores the range restarts it). Returns when the file is complete.
 */
async function download(url: string, part: string, file: string, options: FetchModelOptions): Promise<void> {
  const attempts = 1 + (options.retries ?? 2);
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (options.signal?.aborted) throw new AbortError(`${OP}: aborted`, { op: OP });
    const have = existsSync(part) ? (await stat(part)).size : 0;
    let res: Response;
    try {
      res = await fetch(url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal: options.signal ?? null, redirect: 'follow' });
    } catch (e) {
      if (options.signal?.aborted) throw new AbortError(`${OP}: aborted`, { op: OP, cause: e });
      lastError = e;
      continue;
    }
    if (res.status === 416 && have > 0) {
      // Our partial is at least as long as the file: start over.
      await res.body?.cancel();
      await rm(part, { force: true });
      continue;
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      const e = unavailable(`${url} answered HTTP ${res.status}`, { url, status: res.status });
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw e;
      lastError = e;
      continue;
    }
    const resumed = res.status === 206 && new RegExp(`^bytes ${have}-`).test(res.headers.get('content-range') ?? '');
    if (res.status === 206 && !resumed) {
      await res.body?.cancel();
      await rm(part, { force: true });
      lastError = unavailable(`${url} answered an unexpected range`, { url });
      continue;
    }
    const start = resumed ? have : 0;
    const length = Number(res.headers.get('content-length') ?? Number.NaN);
    const total = Number.isFinite(length) ? start + length : null;
    let received = start;
    options.onProgress?.({ stage: 'download', file, received, total });
    // Each chunk is on disk before the next is read, so a cut connection keeps all it delivered.
    const out = await open(part, resumed ? 'a' : 'w');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await out.write(chunk);
        received += chunk.length;
        options.onProgress?.({ stage: 'download', file, received, total });
      }
    } catch (e) {
      if (options.signal?.aborted) throw new AbortError(`${OP}: aborted`, { op: OP, cause: e });
      lastError = e;
      continue;
    } finally {
      await out.close();
    }
    if (total !== null && received !== total) {
      lastError = new Error(`short body: ${received} of ${total} bytes`);
      continue;
    }
    return;
  }
  const why = lastError instanceof Error ? lastError.message : String(lastError);
  throw unavailable(`download of ${url} failed after ${attempts} attempt(s) (${why}); run the same command again to resume`, { url }, lastError);
}

/** Checks a checkpoint's SHA-256 against the registry (or the record of an earlier fetch). */
function verify(spec: ModelFile, sha256: string, recorded: string | undefined, options: FetchModelOptions): FetchedFile['verified'] {
  if (options.unverified) return 'unverified';
  const mismatch = (want: string): ModelError =>
    new ModelError(
      'DE_MODEL_INVALID',
      `${OP}: ${spec.file} has SHA-256 ${sha256}, expected ${want}${spec.sha256 || spec.sha256Prefix ? '' : ' (recorded by an earlier fetch; --accept-new-hash accepts the new one)'}; ` +
        'not the official file (--unverified installs a checkpoint that is not official, its structure still checked)',
      { op: OP, details: { reason: 'sha256', file: spec.file, sha256, expected: want } },
    );
  if (spec.sha256) {
    if (sha256 !== spec.sha256) throw mismatch(spec.sha256);
    return 'sha256';
  }
  if (spec.sha256Prefix) {
    if (!sha256.startsWith(spec.sha256Prefix)) throw mismatch(`${spec.sha256Prefix}…`);
    return 'sha256-prefix';
  }
  if (recorded && recorded !== sha256) {
    if (!options.acceptNewHash) throw mismatch(recorded);
    return 'first-use';
  }
  return recorded ? 'recorded' : 'first-use';
}

/** Where each checkpoint of a model comes from: a local file (--from) or a URL (mirror or official). */
async function locate(model: KnownModel, spec: ModelFile, options: FetchModelOptions): Promise<{ path?: string; url?: string }> {
  if (options.from) {
    const from = resolve(options.from);
    const st = await stat(from).catch(() => null);
    if (!st) throw new ModelError('DE_MODEL_NOT_FOUND', `${OP}: --from ${from} does not exist`, { op: OP });
    if (st.isFile()) {
      if (model.files.length !== 1) {
        throw new InvalidArgumentError(
          `${OP}: ${model.name} has ${model.files.length} checkpoints; give --from a folder holding ${model.files.map((f) => f.file).join(', ')}`,
          {
            op: OP,
          },
        );
      }
      return { path: from };
    }
    const path = join(from, spec.file);
    if (!existsSync(path)) throw new ModelError('DE_MODEL_NOT_FOUND', `${OP}: ${spec.file} is not in ${from}`, { op: OP, details: { file: spec.file } });
    return { path };
  }
  const mirror = options.mirror ?? process.env.DIDACTIC_MODELS_MIRROR;
  return { url: mirror ? `${mirror.replace(/\/+$/, '')}/${spec.mirrorPath}` : spec.url };
}

/**
 * Downloads (or reads with `from`), verifies, converts and installs a known model. Demucs models
 * and Beat This models become `<models>/<name>.onnx` (the weightless graph filled from the checkpoint).
 * Errors: DE_MODEL_INVALID (hash or structure), DE_UNAVAILABLE (download), DE_MODEL_NOT_FOUND
 * (a --from file missing), DE_INVALID_ARGUMENT (unknown name), DE_ABORTED.
 */
export async function fetchModel(name: string, options: FetchModelOptions = {}): Promise<FetchModelResult> {
  const model = knownModel(name);
  if (!model) throw unknown(name);
  const dir = resolve(options.modelsDir ?? defaultModelsDir());
  const partialDir = join(dir, '.partial');
  const before = await readManifest(dir, name);
  const lock = await acquireFetchLock(partialDir, name, {
    ...(options.signal ? { signal: options.signal } : {}),
    onWait: (holder) => options.onProgress?.({ stage: 'wait', file: `${name} (being fetched by process ${holder.pid})`, received: 0, total: null }),
  });
  try {
    const previous = await readManifest(dir, name);
    // Another fetch of this model installed it while we waited: reuse its result.
    if (lock.waited && previous && previous.installed !== before?.installed && existsSync(previous.path)) {
      return { name, path: previous.path, files: previous.files, licence: previous.licence, downloadSeconds: 0, convertSeconds: 0 };
    }
    return await fetchLocked(model, dir, partialDir, previous, options);
  } finally {
    await lock.release();
  }
}

async function fetchLocked(
  model: KnownModel,
  dir: string,
  partialDir: string,
  previous: Manifest | null,
  options: FetchModelOptions,
): Promise<FetchModelResult> {
  const name = model.name;
  const files: FetchedFile[] = [];
  const paths: string[] = [];
  const t0 = performance.now();
  for (const spec of model.files) {
    const where = await locate(model, spec, options);
    let path = where.path;
    if (!path) {
      path = join(partialDir, `${spec.file}.part`);
      await download(where.url!, path, spec.file, options);
    }
    const bytes = (await stat(path)).size;
    options.onProgress?.({ stage: 'verify', file: spec.file, received: bytes, total: bytes });
    const sha256 = await sha256Of(path, options.signal);
    const recorded = previous?.files.find((f) => f.file === spec.file)?.sha256;
    try {
      files.push({ file: spec.file, sha256, bytes, source: where.url ?? path, verified: verify(spec, sha256, recorded, options) });
    } catch (e) {
      // A wrong file is not resumed: the next fetch starts afresh.
      if (!where.path) await rm(path, { force: true });
      throw e;
    }
    paths.push(path);
  }
  const downloadSeconds = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const target = installedPath(dir, model);
  await mkdir(dirname(target), { recursive: true });
  const temp = join(partialDir, `${name}.${process.pid}.${Date.now()}.tmp`);
  try {
    options.onProgress?.({ stage: 'convert', file: `${name}.onnx`, received: 0, total: null });
    const graphName = model.graph ?? name;
    let graph: Uint8Array = await readFile(join(graphsDir(), `${graphName}.onnx`)).catch((e: unknown) => {
      throw new ModelError('DE_MODEL_NOT_FOUND', `${OP}: the weightless graph ${graphName} is missing from this installation (${graphsDir()})`, {
        op: OP,
        cause: e,
      });
    });
    if (model.kind === 'demucs') {
      if (model.bagWeights) graph = composeDemucsBag(graph, model.bagWeights, { op: `${OP} ${name}`, name });
      const packages = [];
      for (const [i, p] of paths.entries()) packages.push(readDemucsPackage(await readFile(p), `${OP} ${model.files[i]!.file}`));
      await writeFile(temp, convertDemucs(graph, packages, { op: `${OP} ${name}` }));
    } else {
      const ckpt = readBeatThisCheckpoint(await readFile(paths[0]!), `${OP} ${model.files[0]!.file}`);
      await writeFile(temp, convertBeatThis(graph, ckpt, { op: `${OP} ${name}` }));
    }
    options.onProgress?.({ stage: 'install', file: target, received: 0, total: null });
    await rename(temp, target);
    const manifest: Manifest = { name, kind: model.kind, files, licence: model.licence, installed: new Date().toISOString(), path: target };
    await writeFile(`${temp}.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(`${temp}.json`, manifestPath(dir, name));
  } finally {
    await rm(temp, { force: true });
    await rm(`${temp}.json`, { force: true });
  }
  // Downloads are done with once installed (a failed conversion keeps them: nothing to fetch again).
  for (const p of paths) if (p.startsWith(partialDir)) await rm(p, { force: true });
  return { name, path: target, files, licence: model.licence, downloadSeconds, convertSeconds: (performance.now() - t1) / 1000 };
}

/** Every known model with whether it is installed in the models folder, its size, sources and licence. */
export async function listModels(options: { modelsDir?: string } = {}): Promise<ModelListing[]> {
  const dir = resolve(options.modelsDir ?? defaultModelsDir());
  const rows: ModelListing[] = [];
  for (const model of KNOWN_MODELS) {
    const path = installedPath(dir, model);
    const st = await stat(path).catch(() => null);
    const manifest = st ? await readManifest(dir, model.name) : null;
    rows.push({
      name: model.name,
      description: model.description,
      kind: model.kind,
      installed: Boolean(st?.isFile()),
      bytes: st?.isFile() ? st.size : null,
      path,
      urls: model.files.map((f) => f.url),
      licence: model.licence,
      sha256: manifest ? manifest.files.map((f) => f.sha256) : null,
    });
  }
  return rows;
}

/** Removes an installed model (its file and record); returns whether anything was removed. */
export async function removeModel(name: string, options: { modelsDir?: string } = {}): Promise<boolean> {
  const model = knownModel(name);
  if (!model) throw unknown(name);
  const dir = resolve(options.modelsDir ?? defaultModelsDir());
  const path = installedPath(dir, model);
  const had = existsSync(path) || existsSync(manifestPath(dir, name));
  await rm(path, { force: true });
  await rm(manifestPath(dir, name), { force: true });
  return had;
}
