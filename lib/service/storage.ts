/**
 * Where jobs live: one folder per job under a data folder (local disk or a shared volume that every
 * worker mounts at the same path). The service talks to storage only through `JobStorage`, so an
 * object store can be added later (download the input before a run, upload `out/` after it)
 * without touching the pipeline, which always reads and writes a local folder.
 *
 * Layout: `<data>/jobs/<id>/job.json` (the embedded queue's record), `upload/<file>` (an uploaded
 * input), `out/` (the pipeline's output folder: analysis/, datasets/, …); `<data>/tmp/` holds
 * uploads in flight. Redis mode runs each attempt in its own `attempts/<attempt>/out/` and commits
 * the one attempt that won the job's commit fence by pointing `out` (a symlink) at it.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { lstat, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, symlink } from 'node:fs/promises';
import { basename, extname, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { DidacticError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { STAGING_DIR_NAME } from '../pipeline/staging.js';

/** An upload received into a temporary file. */
export interface StoredUpload {
  /** A temporary file holding the bytes (moved into the job by `adoptUpload`). */
  tempPath: string;
  bytes: number;
  /** The first bytes, for content sniffing. */
  head: Buffer;
  /** The client's file name reduced to a safe single component. */
  fileName: string;
}

/** One output file, opened for streaming. */
export interface StoredFile {
  path: string;
  size: number;
  /** Opens a new read stream of the file. */
  stream: () => ReadStream;
}

/** Where jobs live: uploads, output folders and records; the service's only way to files. */
export interface JobStorage {
  /** Human-readable location, for logs and /readyz. */
  readonly location: string;
  /** Streams an upload to a temporary file; `truncated()` reports the size limit being hit. */
  receiveUpload(source: Readable, clientName: string | undefined, truncated: () => boolean): Promise<StoredUpload>;
  /** Removes an upload that was refused. */
  discardUpload(upload: StoredUpload): Promise<void>;
  /**
   * Creates the job's folder; false when a job with this id already exists (the id is taken: this
   * is what makes submissions idempotent, also across servers sharing the folder).
   */
  claim(id: string): Promise<boolean>;
  /** Whether the job's folder exists. */
  exists(id: string): Promise<boolean>;
  /** Moves an upload into a claimed job; returns the path the pipeline reads. */
  adoptUpload(id: string, upload: StoredUpload): Promise<string>;
  /** The local folder the pipeline writes this job's outputs into. */
  outputDir(id: string): string;
  /** Removes what a killed attempt left in the output folder (its staging area and lock). */
  clearLeftovers(id: string): Promise<void>;
  /**
   * Output files, relative to the output folder (or to the attempt's, see `attemptOutputDir`),
   * sorted; staging leftovers excluded.
   */
  listFiles(id: string, attempt?: string): Promise<string[]>;
  /** The private output folder of one attempt (Redis mode: attempts never share a folder). */
  attemptOutputDir(id: string, attempt: string): string;
  /**
   * Makes the attempt's outputs the job's outputs (`outputDir(id)`) with one atomic rename;
   * idempotent, so any worker can finish a commit that another one decided. Other attempts'
   * folders are removed after.
   * @throws DidacticError DE_WRITE_FAILED when the attempt's folder is gone
   */
  commitAttempt(id: string, attempt: string): Promise<void>;
  /** Removes an attempt's folder (one that lost the job, or failed). */
  discardAttempt(id: string, attempt: string): Promise<void>;
  /** One output file, confined to the job's output folder (no `..`, no symlink out). */
  openFile(id: string, relPath: string): Promise<StoredFile>;
  /** The job's record, or null. */
  readRecord<T>(id: string): Promise<T | null>;
  /** Writes the job's record atomically. */
  writeRecord(id: string, record: unknown): Promise<void>;
  /** The ids of every job. */
  listJobIds(): Promise<string[]>;
  /** Deletes the job and its files. */
  remove(id: string): Promise<void>;
}

/** Reduces a client's file name to one safe component, keeping the extension. */
export function safeFileName(name: string | undefined): string {
  const base = basename((name ?? '').replace(/\\/g, '/'));
  const cleaned = base.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  return cleaned.length > 0 ? cleaned.slice(-120) : 'audio';
}

/** A song id from a file name: its stem, made safe (the pipeline's song_id rules). */
export function songIdFromFileName(name: string): string {
  const stem = basename(name, extname(name))
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '');
  return stem.length > 0 ? stem.slice(0, 100) : 'song';
}

const HEAD_BYTES = 64;
/** Redis mode: each attempt's private output folder lives under `<job>/attempts/`. */
const ATTEMPTS_DIR_NAME = 'attempts';

/** JobStorage on a local or shared filesystem (every process sees the same folder at the same path). */
export class LocalJobStorage implements JobStorage {
  readonly location: string;
  readonly #jobs: string;
  readonly #tmp: string;

  constructor(dataDir: string) {
    this.location = resolve(dataDir);
    this.#jobs = join(this.location, 'jobs');
    this.#tmp = join(this.location, 'tmp');
  }

  /** Creates the data folder's `jobs/` and `tmp/`. */
  async init(): Promise<void> {
    await mkdir(this.#jobs, { recursive: true });
    await mkdir(this.#tmp, { recursive: true });
  }

  #dir(id: string): string {
    return join(this.#jobs, id);
  }

  async receiveUpload(source: Readable, clientName: string | undefined, truncated: () => boolean): Promise<StoredUpload> {
    const tempPath = join(this.#tmp, `${randomUUID()}.part`);
    let bytes = 0;
    const chunks: Buffer[] = [];
    let headLength = 0;
    source.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (headLength < HEAD_BYTES) {
        chunks.push(chunk.subarray(0, HEAD_BYTES - headLength));
        headLength += Math.min(chunk.length, HEAD_BYTES - headLength);
      }
    });
    try {
      await pipeline(source, createWriteStream(tempPath, { flags: 'wx' }));
    } catch (err) {
      await rm(tempPath, { force: true });
      throw err;
    }
    const upload = { tempPath, bytes, head: Buffer.concat(chunks), fileName: safeFileName(clientName) };
    if (truncated()) {
      await this.discardUpload(upload);
      throw new DidacticError('DE_UPLOAD_TOO_LARGE', 'The upload is larger than this server accepts (--max-upload-mb)');
    }
    return upload;
  }

  /** Removes an upload that was refused. */
  async discardUpload(upload: StoredUpload): Promise<void> {
    await rm(upload.tempPath, { force: true });
  }

  async claim(id: string): Promise<boolean> {
    try {
      await mkdir(this.#dir(id));
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Whether the job's folder exists. */
  async exists(id: string): Promise<boolean> {
    return stat(this.#dir(id)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  async adoptUpload(id: string, upload: StoredUpload): Promise<string> {
    const dir = join(this.#dir(id), 'upload');
    await mkdir(dir, { recursive: true });
    const path = join(dir, upload.fileName);
    await rename(upload.tempPath, path);
    return path;
  }

  outputDir(id: string): string {
    return join(this.#dir(id), 'out');
  }

  async clearLeftovers(id: string): Promise<void> {
    await rm(join(this.outputDir(id), STAGING_DIR_NAME), { recursive: true, force: true });
  }

  /** The private output folder of one attempt. */
  attemptOutputDir(id: string, attempt: string): string {
    return join(this.#dir(id), ATTEMPTS_DIR_NAME, attempt, 'out');
  }

  /**
   * Points `out` at the attempt's folder: a relative symlink made aside and renamed over `out`
   * (rename(2) replaces it atomically, so a reader sees the old or the new outputs, never a mix).
   */
  async commitAttempt(id: string, attempt: string): Promise<void> {
    const out = this.outputDir(id);
    const target = join(ATTEMPTS_DIR_NAME, attempt, 'out');
    const current = await readlink(out).catch(() => null);
    if (current !== target) {
      if (
        !(await stat(join(this.#dir(id), target)).then(
          (s) => s.isDirectory(),
          () => false,
        ))
      ) {
        throw new DidacticError('DE_WRITE_FAILED', `Job ${id}: the outputs of attempt ${attempt} are gone; they cannot be committed`);
      }
      // A real folder (written by the embedded queue on this data folder) cannot be replaced by a rename.
      const existing = await lstat(out).catch(() => null);
      if (existing?.isDirectory()) await rename(out, join(this.#dir(id), ATTEMPTS_DIR_NAME, `replaced-${randomUUID()}`));
      const aside = `${out}.${randomUUID()}.tmp`;
      await symlink(target, aside);
      try {
        await rename(aside, out);
      } catch (err) {
        await rm(aside, { force: true });
        throw err;
      }
    }
    // Every other attempt's folder is garbage now: no other attempt can commit this job.
    const attempts = await readdir(join(this.#dir(id), ATTEMPTS_DIR_NAME)).catch(() => [] as string[]);
    await Promise.all(attempts.filter((a) => a !== attempt).map((a) => rm(join(this.#dir(id), ATTEMPTS_DIR_NAME, a), { recursive: true, force: true })));
  }

  /** Removes an attempt's folder. */
  async discardAttempt(id: string, attempt: string): Promise<void> {
    await rm(join(this.#dir(id), ATTEMPTS_DIR_NAME, attempt), { recursive: true, force: true });
  }

  async listFiles(id: string, attempt?: string): Promise<string[]> {
    const root = attempt === undefined ? this.outputDir(id) : this.attemptOutputDir(id, attempt);
    const files: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const entry of entries) {
        if (entry.name === STAGING_DIR_NAME) continue;
        const full = join(dir, entry.name);
        if (entry.isDirectory()) await walk(full);
        else if (entry.isFile()) files.push(relative(root, full).split(sep).join('/'));
      }
    };
    await walk(root);
    return files.sort();
  }

  async openFile(id: string, relPath: string): Promise<StoredFile> {
    const root = this.outputDir(id);
    const parts = relPath.split('/');
    if (relPath.length === 0 || parts.some((p) => p === '' || p === '.' || p === '..' || p.includes('\\') || p.includes('\0'))) {
      throw new DidacticError('DE_UNSAFE_PATH', `'${relPath}' is not a path inside the job's outputs`);
    }
    const notFound = () => new DidacticError('DE_FILE_NOT_FOUND', `Job ${id} has no output file '${relPath}'`);
    let real: string;
    let realRoot: string;
    try {
      [real, realRoot] = await Promise.all([realpath(join(root, ...parts)), realpath(root)]);
    } catch {
      throw notFound();
    }
    // A symlink that leads out of the job's folder is refused, not followed.
    if (!real.startsWith(realRoot + sep)) throw new DidacticError('DE_UNSAFE_PATH', `'${relPath}' leads outside the job's outputs`);
    if (parts[0] === STAGING_DIR_NAME) throw notFound();
    const info = await stat(real);
    if (!info.isFile()) throw notFound();
    return { path: real, size: info.size, stream: () => createReadStream(real) };
  }

  /** The job's `job.json`, or null. */
  async readRecord<T>(id: string): Promise<T | null> {
    try {
      return JSON.parse(await readFile(join(this.#dir(id), 'job.json'), 'utf8')) as T;
    } catch {
      return null;
    }
  }

  /** Writes the job's `job.json` atomically. */
  async writeRecord(id: string, record: unknown): Promise<void> {
    await writeFileAtomic(join(this.#dir(id), 'job.json'), `${JSON.stringify(record, null, 2)}\n`);
  }

  /** The ids of every job folder. */
  async listJobIds(): Promise<string[]> {
    try {
      return (await readdir(this.#jobs, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
    } catch {
      return [];
    }
  }

  /** Deletes the job's folder. */
  async remove(id: string): Promise<void> {
    await rm(this.#dir(id), { recursive: true, force: true });
  }
}

/**
 * Resolves a client-given path against the server's input root; the result must stay inside the
 * root after following symlinks.
 */
export async function resolveUnderRoot(root: string, given: string): Promise<string> {
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(resolve(realRoot, given));
  } catch {
    throw new DidacticError('DE_FILE_NOT_FOUND', `No file '${given}' under the input root`);
  }
  if (!real.startsWith(realRoot + sep)) throw new DidacticError('DE_UNSAFE_PATH', `'${given}' is outside the input root`);
  const info = await stat(real);
  if (!info.isFile()) throw new DidacticError('DE_IS_DIRECTORY', `'${given}' is not a file`);
  return real;
}
