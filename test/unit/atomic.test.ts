import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { WriteError } from '../../lib/errors.js';
import { tempPathFor, withAtomicFile, writeFileAtomic } from '../../lib/util/atomic.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'de-atomic-'));

describe('writeFileAtomic', () => {
  it('writes text and bytes, replacing an existing file whole', async () => {
    const dir = tmp();
    const path = join(dir, 'a.txt');
    writeFileSync(path, 'old and much longer content');
    await writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect([...readFileSync(path)]).toEqual([1, 2, 3]);
    expect(readdirSync(dir)).toEqual(['a.txt']);
  });

  it('puts the temp file in the destination folder, hidden and unique', () => {
    const a = tempPathFor('/x/y/out.parquet');
    const b = tempPathFor('/x/y/out.parquet');
    expect(a).toMatch(/^\/x\/y\/\.out\.parquet\.\d+\.[0-9a-f]{12}\.tmp$/);
    expect(a).not.toBe(b);
  });

  it('fails with WriteError (DE_FILE_NOT_FOUND, as the native writer) naming the path when the folder is missing', async () => {
    const path = join(tmp(), 'missing', 'a.txt');
    const err = await writeFileAtomic(path, 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).code).toBe('DE_FILE_NOT_FOUND');
    expect((err as WriteError).message).toContain(path);
    expect((err as WriteError).details).toMatchObject({ path, errno: 'ENOENT' });
  });
});

describe('withAtomicFile', () => {
  it('renames what the producer wrote and returns its result', async () => {
    const dir = tmp();
    const path = join(dir, 'w.bin');
    const result = await withAtomicFile(path, async (temp) => {
      expect(temp.startsWith(join(dir, '.w.bin.'))).toBe(true);
      await writeFile(temp, 'payload');
      return 42;
    });
    expect(result).toBe(42);
    expect(readFileSync(path, 'utf8')).toBe('payload');
    expect(readdirSync(dir)).toEqual(['w.bin']);
  });

  it('removes the temp file and keeps the old file when the producer fails', async () => {
    const dir = tmp();
    const path = join(dir, 'w.bin');
    writeFileSync(path, 'old');
    await expect(
      withAtomicFile(path, async (temp) => {
        await writeFile(temp, 'half');
        throw new Error('encoder crashed');
      }),
    ).rejects.toThrow(/encoder crashed/);
    expect(readFileSync(path, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['w.bin']);
  });

  it('reports a producer that wrote nothing as a write failure, leaving no file', async () => {
    const dir = tmp();
    const path = join(dir, 'none.bin');
    await expect(withAtomicFile(path, async () => undefined)).rejects.toThrow(WriteError);
    expect(existsSync(path)).toBe(false);
  });
});
