/**
 * All-or-nothing song outputs: a run writes into a private staging folder under the output root
 * and, only when every step has succeeded, swaps each `<kind>/<song_id>` folder into place. A
 * failed or cancelled run leaves the previous complete outputs (or nothing) and no partial files.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm, rmdir } from 'node:fs/promises';
import { join } from 'node:path';

import { codeOfErrno, WriteError } from '../errors.js';
import { OUTPUT_DIRECTORY_KINDS } from './config.js';
import { type FileDigest, fileDigest } from './manifest.js';

export const STAGING_DIR_NAME = '.didactic-staging';

export type OutputKind = (typeof OUTPUT_DIRECTORY_KINDS)[number][1];

/** A folder under the output root that cannot be made, as a coded error. */
export function outputFolderError(err: unknown, outDir: string): WriteError {
  const e = err as NodeJS.ErrnoException;
  const code = codeOfErrno(e.code, 'DE_WRITE_FAILED');
  return new WriteError(code, `Cannot create output folder under ${outDir}: ${e.code ?? ''} ${e.message}`.trim(), {
    cause: err,
    details: { errno: e.code },
  });
}

export class SongStaging {
  readonly root: string;
  readonly #digests = new Map<string, Promise<FileDigest | null>>();

  constructor(
    readonly outDir: string,
    readonly songId: string,
  ) {
    this.root = join(outDir, STAGING_DIR_NAME, `${songId}.${process.pid}.${randomBytes(4).toString('hex')}`);
  }

  /** Where the run writes a file of `kind` now. */
  stage(kind: OutputKind, ...rest: string[]): string {
    return join(this.root, kind, ...rest);
  }

  /** Where that file will live once the run is committed (what results and JSON report). */
  final(kind: OutputKind, ...rest: string[]): string {
    return join(this.outDir, kind, this.songId, ...rest);
  }

  /** Maps a staged path to its final path. */
  finalFor(stagedPath: string): string {
    const prefix = this.root + '/';
    if (!stagedPath.startsWith(prefix)) return stagedPath;
    const [kind, ...rest] = stagedPath.slice(prefix.length).split('/');
    return this.final(kind as OutputKind, ...rest);
  }

  /**
   * Starts hashing a staged file that no later step rewrites (the input copy, the preprocessed
   * audio, the chunks), while the run goes on: the manifest, written after the commit, takes the
   * digest instead of reading every output again at the end (a 3-minute song's 56 MB took
   * ~0.1 s there). A failed hash is redone by the manifest.
   */
  prehash(stagedPath: string): void {
    this.#digests.set(
      this.finalFor(stagedPath),
      fileDigest(stagedPath).catch(() => null),
    );
  }

  /** The digests prehash started, by final path. */
  get digests(): ReadonlyMap<string, Promise<FileDigest | null>> {
    return this.#digests;
  }

  async create(): Promise<void> {
    try {
      for (const [, kind] of OUTPUT_DIRECTORY_KINDS) await mkdir(this.stage(kind), { recursive: true });
    } catch (err) {
      throw outputFolderError(err, this.outDir);
    }
  }

  /**
   * Moves every staged kind folder into place, replacing the previous run's folder (renamed aside
   * first, removed after), so stale files from an earlier run never mix with this run's.
   */
  async commit(): Promise<void> {
    const trash = join(this.root, '.previous');
    await mkdir(trash, { recursive: true });
    for (const [, kind] of OUTPUT_DIRECTORY_KINDS) {
      const target = this.final(kind);
      await mkdir(join(this.outDir, kind), { recursive: true });
      try {
        await rename(target, join(trash, kind));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
      await rename(this.stage(kind), target);
    }
    await this.discard();
  }

  async discard(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
    // Leave the shared staging parent only if other runs are using it.
    await rmdir(join(this.outDir, STAGING_DIR_NAME)).catch(() => {});
  }
}
