/**
 * One fetch of a model at a time per models folder: a fetch holds `<models>/.partial/<name>.lock`
 * (its pid and host) from before it downloads until it has installed or failed. A second fetch of
 * the same model (another process, or another call in this one) waits for it; the caller then
 * reuses what the first installed. A lock whose process of this host is gone (killed, crashed) is
 * taken over at once, and the download it left in `.partial/` is resumed.
 */
import { mkdir, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { AbortError, DidacticError } from '../errors.js';
import { type LockOwner, processAlive, readOwner } from '../util/lockOwner.js';

/** How often a waiting fetch looks at the lock again. */
const POLL_MS = 200;
/** An unreadable lock older than this was left by a process killed while writing it. */
const UNREADABLE_STALE_MS = 10_000;

// Locks this process holds: a second call in the same process waits too (its pid is alive).
const heldHere = new Set<string>();

/** A held fetch lock; `waited` says whether another fetch held it first. */
export interface FetchLock {
  /** True when this fetch waited for another one of the same model. */
  waited: boolean;
  release(): Promise<void>;
}

/**
 * Takes the fetch lock of `name` in `partialDir`, waiting while a live process holds it.
 * `onWait` is called once, with the holder, when the lock is busy.
 */
export async function acquireFetchLock(
  partialDir: string,
  name: string,
  options: { signal?: AbortSignal; onWait?: (holder: LockOwner) => void } = {},
): Promise<FetchLock> {
  const path = join(partialDir, `${name}.lock`);
  const owner: LockOwner = { pid: process.pid, host: hostname(), since: new Date().toISOString() };
  let waited = false;
  for (;;) {
    if (options.signal?.aborted) throw new AbortError('models fetch: aborted while waiting for another fetch', { op: 'models fetch' });
    // An ending fetch may remove the momentarily empty .partial folder between our mkdir and write.
    await mkdir(partialDir, { recursive: true });
    if (!heldHere.has(path)) {
      try {
        await writeFile(path, JSON.stringify(owner), { flag: 'wx' });
        heldHere.add(path);
        return {
          waited,
          release: async () => {
            heldHere.delete(path);
            await rm(path, { force: true });
            await rmdir(partialDir).catch(() => {}); // only when empty
          },
        };
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue;
        if (code !== 'EEXIST') {
          throw new DidacticError('DE_WRITE_FAILED', `models fetch: cannot write the lock ${path}: ${(err as Error).message}`, {
            op: 'models fetch',
            cause: err,
          });
        }
      }
      const holder = await readOwner(path);
      if (holder && holder.host === owner.host && !processAlive(holder.pid)) {
        // Stale: its fetch was killed. Take it over (its partial download is resumed).
        await rm(path, { force: true });
        continue;
      }
      if (!holder) {
        // Being written (look again shortly), or left empty by a process killed right after creating it.
        const age = await stat(path).then(
          (st) => Date.now() - st.mtimeMs,
          () => 0,
        );
        if (age > UNREADABLE_STALE_MS) {
          await rm(path, { force: true });
          continue;
        }
      } else if (!waited) options.onWait?.(holder);
    }
    waited = true;
    await sleep(POLL_MS, undefined, options.signal ? { signal: options.signal } : {}).catch(() => {});
  }
}
