/**
 * Atomic file writes: the content goes to a temporary file in the destination's own folder, is
 * flushed to disk, and is renamed over the destination. A reader therefore sees either the old
 * file or the complete new one, never a truncated file, and a failure leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

import { codeOfErrno, DidacticError, type ErrorCode, WriteError } from '../errors.js';

export interface AtomicWriteOptions {
  /** File mode of the new file (before umask). Default 0o644. */
  mode?: number;
  /** fsync the file (and, best effort, its folder) before and after the rename. Default true. */
  durable?: boolean;
  /** Operation name carried on errors. */
  op?: string;
}

/** A temp path next to `path` (same folder, so the final rename never crosses filesystems). */
export function tempPathFor(path: string): string {
  const token = `${process.pid}.${randomBytes(6).toString('hex')}`;
  return join(dirname(path), `.${basename(path)}.${token}.tmp`);
}

/** Writes `data` to `path` atomically. Errors become WriteError (see toWriteError for the codes). */
export async function writeFileAtomic(path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  await withAtomicFile(
    path,
    async (tempPath) => {
      const handle = await open(tempPath, 'wx', options.mode ?? 0o644);
      try {
        await handle.writeFile(data);
        if (options.durable ?? true) await handle.sync();
      } finally {
        await handle.close();
      }
    },
    { ...options, fileAlreadySynced: true },
  );
}

/**
 * Runs `produce(tempPath)` (which must create the temp file, e.g. a native writer that takes a
 * path) and renames the result onto `path`. The temp file is removed if `produce` or the rename
 * fails.
 */
export async function withAtomicFile<T>(
  path: string,
  produce: (tempPath: string) => Promise<T>,
  options: AtomicWriteOptions & { fileAlreadySynced?: boolean } = {},
): Promise<T> {
  const op = options.op ?? 'writeFileAtomic';
  const tempPath = tempPathFor(path);
  const durable = options.durable ?? true;
  try {
    const result = await produce(tempPath);
    if (durable && !options.fileAlreadySynced) await fsyncPath(tempPath, 'r');
    await rename(tempPath, path);
    if (durable) await fsyncDirectoryBestEffort(dirname(path));
    return result;
  } catch (err) {
    await rm(tempPath, { force: true }).catch(() => undefined);
    throw toWriteError(err, path, op);
  }
}

async function fsyncPath(path: string, flags: string): Promise<void> {
  const handle = await open(path, flags);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Makes the rename itself durable. Some platforms (Windows) cannot open folders: ignore that. */
async function fsyncDirectoryBestEffort(dir: string): Promise<void> {
  try {
    await fsyncPath(dir, 'r');
  } catch {
    // Not supported on this platform or filesystem; the rename is still atomic.
  }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  DE_DISK_FULL: ' (the disk is full)',
  DE_PERMISSION_DENIED: ' (permission denied)',
  DE_FILE_NOT_FOUND: ' (its folder does not exist)',
};

/**
 * A failed write as a coded error, through the errno table the native writer uses too
 * (`ERRNO_CODES`): a full disk is DE_DISK_FULL, a refused one DE_PERMISSION_DENIED, a missing
 * folder DE_FILE_NOT_FOUND, anything else DE_WRITE_FAILED.
 */
export function toWriteError(err: unknown, path: string, op: string): DidacticError {
  if (err instanceof DidacticError) return err;
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const reason = err instanceof Error ? err.message : String(err);
  const code = codeOfErrno(errno, 'DE_WRITE_FAILED');
  return new WriteError(code, `Could not write ${path}${HINTS[code] ?? ''}: ${reason}`, {
    cause: err,
    op,
    details: { path, errno },
  });
}
