// A full disk and a read-only folder give the same codes from both writers (issue 22, point 1): the
// native WAV writer (native/src/audio/encode.cc) and the TypeScript atomic writer (lib/util/atomic.ts)
// share one errno table. The disks are real: a 64 KiB tmpfs and a read-only tmpfs mounted in a
// private mount namespace (`unshare -m`, needs root), reached from here through /proc/<pid>/root.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/audio/write.js';
import { WriteError } from '../../lib/errors.js';
import { writeFileAtomic } from '../../lib/util/atomic.js';
import { need, requires } from '../helpers/requires.js';

const canMount = process.getuid?.() === 0 && spawnSync('unshare', ['-m', '--propagation', 'private', 'true']).status === 0;
const mountable = need(canMount, 'mounting a tmpfs needs root and unshare -m — run as root where unshare works (CI)');

describe('writing onto a full disk or into a read-only folder', requires(mountable), () => {
  const base = mkdtempSync(join(tmpdir(), 'de-write-errors-'));
  const full = join(base, 'full');
  const readOnly = join(base, 'ro');
  let holder: ChildProcess;
  // The folders as seen inside the holder's mount namespace.
  let inside: (dir: string) => string;

  beforeAll(async () => {
    for (const d of [full, readOnly]) spawnSync('mkdir', ['-p', d]);
    const script = `mount -t tmpfs -o size=64k tmpfs '${full}' && mount -t tmpfs -o ro,size=64k tmpfs '${readOnly}' && echo ready && exec sleep 120`;
    holder = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (b: Buffer) => (b.toString().includes('ready') ? resolve() : undefined));
      holder.on('exit', (code) => reject(new Error(`the mount holder exited (${code})`)));
    });
    inside = (dir) => `/proc/${holder.pid}/root${dir}`;
  });
  afterAll(() => {
    holder?.kill();
    rmSync(base, { recursive: true, force: true });
  });

  const song = new Float32Array(48000 * 2).fill(0.25); // 192 KB as 16-bit PCM: three times the disk

  it('the native WAV writer: DE_DISK_FULL (not a retryable DE_WRITE_FAILED), nothing left behind', async () => {
    const err = await writeWav(join(inside(full), 'a.wav'), song, { sampleRate: 48000, channels: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'DE_DISK_FULL', retryable: false });
    expect(readdirSync(inside(full))).toEqual([]);
  });

  it('the TypeScript atomic writer: DE_DISK_FULL, nothing left behind', async () => {
    const err = await writeFileAtomic(join(inside(full), 'b.bin'), new Uint8Array(192_000)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ code: 'DE_DISK_FULL', retryable: false });
    expect(readdirSync(inside(full))).toEqual([]);
  });

  it('both writers into a read-only folder: DE_PERMISSION_DENIED', async () => {
    const a = await writeWav(join(inside(readOnly), 'a.wav'), song.subarray(0, 64), { sampleRate: 48000, channels: 1 }).catch((e: unknown) => e);
    const b = await writeFileAtomic(join(inside(readOnly), 'b.bin'), 'x').catch((e: unknown) => e);
    expect(a).toMatchObject({ code: 'DE_PERMISSION_DENIED' });
    expect(b).toMatchObject({ code: 'DE_PERMISSION_DENIED' });
  });

  it('both writers into a missing folder: DE_FILE_NOT_FOUND', async () => {
    const a = await writeWav(join(inside(full), 'missing', 'a.wav'), song.subarray(0, 64), { sampleRate: 48000, channels: 1 }).catch((e: unknown) => e);
    const b = await writeFileAtomic(join(inside(full), 'missing', 'b.bin'), 'x').catch((e: unknown) => e);
    expect(a).toMatchObject({ code: 'DE_FILE_NOT_FOUND' });
    expect(b).toMatchObject({ code: 'DE_FILE_NOT_FOUND' });
  });
});
