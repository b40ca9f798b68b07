import { readFile } from 'node:fs/promises';

/**
 * Who holds a lock file (the song lock, the model fetch lock): the process and host that wrote it,
 * and whether that process is still alive, so a lock left by a killed process can be taken over.
 */

/** The content of a lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  since: string;
}

/** True when a process with this pid exists on this host. */
export function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The owner written in a lock file; null when it is missing, being written or not a lock. */
export async function readOwner(path: string): Promise<LockOwner | null> {
  try {
    const parsed = JSON.parse(await readFile(path, 'utf8')) as LockOwner;
    return typeof parsed.pid === 'number' && typeof parsed.host === 'string' ? parsed : null;
  } catch {
    return null;
  }
}
