/**
 * One writer per song: a run holds `<out>/.didactic-staging/<song_id>.lock` (its pid and host)
 * from before it stages anything until its outputs are committed or discarded. A second writer of
 * the same song fails at once with DE_LOCKED naming the holder. A lock or staging folder left by a
 * process of this host that no longer exists (killed with SIGKILL, a crash) is removed by the next
 * run in that output folder.
 */
import { readdir, rm, rmdir, writeFile, mkdir } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';

import { DidacticError } from '../errors.js';
import { type LockOwner, processAlive, readOwner } from '../util/lockOwner.js';

import { outputFolderError, STAGING_DIR_NAME } from './staging.js';

export class SongLock {
  private constructor(readonly path: string) {}

  static async acquire(outDir: string, songId: string): Promise<SongLock> {
    const dir = join(outDir, STAGING_DIR_NAME);
    const path = join(dir, `${songId}.lock`);
    const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
    for (let attempt = 0; attempt < 6; attempt++) {
      // Another song's run may remove the shared, momentarily empty staging folder between our
      // mkdir and our write (its release or stale cleanup): ENOENT means "make it again".
      try {
        await mkdir(dir, { recursive: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < 5) continue;
        throw outputFolderError(err, outDir);
      }
      try {
        await writeFile(path, JSON.stringify(owner), { flag: 'wx' });
        return new SongLock(path);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        if (code !== 'EEXIST') throw err;
      }
      const holder = await readOwner(path);
      if (holder && (holder.host !== owner.host || processAlive(holder.pid))) {
        throw new DidacticError(
          'DE_LOCKED',
          `Song '${songId}' in ${outDir} is being written by process ${holder.pid} on ${holder.host} (since ${holder.since}); ` +
            `wait for it to finish, or remove ${path} if that process is gone`,
          { details: { lock: path, ...holder } },
        );
      }
      // Stale (its process is gone) or unreadable: take it over.
      await rm(path, { force: true });
    }
    throw new DidacticError('DE_LOCKED', `Could not take the lock ${path}`);
  }

  async release(): Promise<void> {
    await rm(this.path, { force: true });
    // The shared staging folder goes when nothing else is in it.
    await rmdir(join(this.path, '..')).catch(() => {});
  }
}

/**
 * Removes staging folders (`<song_id>.<pid>.<hex>`) and locks whose process of this host is gone.
 * Returns the names removed.
 */
export async function removeStaleStaging(outDir: string): Promise<string[]> {
  const dir = join(outDir, STAGING_DIR_NAME);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  const host = hostname();
  for (const name of names) {
    let stale = false;
    if (name.endsWith('.lock')) {
      const owner = await readOwner(join(dir, name));
      stale = owner !== null && owner.host === host && !processAlive(owner.pid);
    } else {
      const parts = name.split('.');
      const pid = Number(parts.at(-2));
      stale = parts.length >= 3 && /^[0-9a-f]+$/.test(parts.at(-1)!) && !processAlive(pid);
    }
    if (stale) {
      await rm(join(dir, name), { recursive: true, force: true });
      removed.push(name);
    }
  }
  await rmdir(dir).catch(() => {});
  return removed;
}
