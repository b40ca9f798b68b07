// Two `didactic-engine models fetch` processes on one models folder: concurrent fetches of the same
// model download it once (the second waits on the fetch lock and reuses the result), and a fetch
// killed mid-download (SIGKILL: its lock and partial file stay) is taken over by the next one,
// which resumes the download with an HTTP Range request. The models folder never holds a partial
// file under a final name.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { graphsDir } from '../../lib/models/fetch.js';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { type Mirror, startMirror } from '../helpers/mirrorServer.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const dir = useTempDir('cli-models-lock-');
const PATH = 'beat_this/small0.ckpt';
// A valid small0 checkpoint (8 MiB): the fetch converts what it downloads.
const checkpoint = lightningCheckpoint(beatThisState(readFileSync(join(graphsDir(), 'beat-this-small.onnx')), 3), beatThisHparams(128));
const sha = createHash('sha256').update(checkpoint).digest('hex');
let mirror: Mirror;
const children = new Set<ChildProcess>();

interface Run {
  child: ChildProcess;
  done: Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

function fetchProcess(models: string): Run {
  const child = spawn(process.execPath, [cli, 'models', 'fetch', 'beat-this-small', '--json', '--models-dir', models, '--mirror', mirror.url], {
    env: { ...process.env, DIDACTIC_MODELS_MIRROR: '' },
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d));
  child.stderr!.on('data', (d: Buffer) => (stderr += d));
  const done = new Promise<{ status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (status, signal) => {
      children.delete(child);
      resolve({ status, signal, stdout, stderr });
    }),
  );
  return { child, done };
}

async function until(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Files of the models folder outside `.partial/`. */
function finalEntries(models: string): string[] {
  return readdirSync(models, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.parentPath.includes('.partial'))
    .map((e) => join(e.parentPath, e.name).slice(models.length + 1))
    .sort();
}

const partSize = (models: string): number => {
  const p = join(models, '.partial', 'small0.ckpt.part');
  return existsSync(p) ? statSync(p).size : 0;
};

beforeAll(async () => {
  mirror = await startMirror();
  mirror.files.set(PATH, checkpoint);
  // 8 MiB in 4 KiB pieces 5 ms apart: over 10 s of download, long enough for a second process to start
  // (slowly, on a loaded machine) while the first still holds the lock, or to kill the first.
  mirror.chunkDelayMs = 5;
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await mirror.close();
});

describe('models fetch lock', () => {
  it('two concurrent fetches of one model: one download, the second waits and reuses it', { timeout: 120_000 }, async () => {
    const models = join(dir, 'concurrent');
    mkdirSync(models);
    mirror.requests.length = 0;
    const first = fetchProcess(models);
    await until('the first download to start', () => partSize(models) > 0);
    const second = fetchProcess(models);
    const [a, b] = await Promise.all([first.done, second.done]);
    expect(a.status, a.stderr).toBe(0);
    expect(b.status, b.stderr).toBe(0);
    // One request for the file: the second process did not download it again.
    expect(mirror.requests.filter((r) => r.path === PATH)).toHaveLength(1);
    expect(b.stderr).toMatch(/wait beat-this-small \(being fetched by process \d+\)/);
    const [ra] = JSON.parse(a.stdout) as Array<{ files: Array<{ sha256: string }>; downloadSeconds: number }>;
    const [rb] = JSON.parse(b.stdout) as Array<{ files: Array<{ sha256: string }>; downloadSeconds: number }>;
    expect(ra!.files[0]!.sha256).toBe(sha);
    expect(rb!.files[0]!.sha256).toBe(sha);
    expect(rb!.downloadSeconds).toBe(0);
    expect(existsSync(join(models, 'beat-this-small.onnx'))).toBe(true);
    expect(finalEntries(models)).toEqual(['beat-this-small.model.json', 'beat-this-small.onnx']);
    expect(existsSync(join(models, '.partial'))).toBe(false);
  });

  it('a fetch killed mid-download leaves no final file; the next takes over its lock and resumes with Range', { timeout: 120_000 }, async () => {
    const models = join(dir, 'killed');
    mkdirSync(models);
    mirror.requests.length = 0;
    const first = fetchProcess(models);
    await until('the download to be under way', () => partSize(models) >= 64 * 1024);
    first.child.kill('SIGKILL');
    const killed = await first.done;
    expect(killed.signal).toBe('SIGKILL');
    // The dead process's lock and partial download are there; nothing under a final name.
    expect(existsSync(join(models, '.partial', 'beat-this-small.lock'))).toBe(true);
    const have = partSize(models);
    expect(have).toBeGreaterThan(0);
    expect(have).toBeLessThan(checkpoint.length);
    expect(finalEntries(models)).toEqual([]);

    const again = await fetchProcess(models).done;
    expect(again.status, again.stderr).toBe(0);
    const requests = mirror.requests.filter((r) => r.path === PATH);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.range).toBe(`bytes=${have}-`);
    expect(existsSync(join(models, 'beat-this-small.onnx'))).toBe(true);
    expect((JSON.parse(again.stdout) as Array<{ files: Array<{ sha256: string }> }>)[0]!.files[0]!.sha256).toBe(sha);
    expect(finalEntries(models)).toEqual(['beat-this-small.model.json', 'beat-this-small.onnx']);
    expect(existsSync(join(models, '.partial'))).toBe(false);
  });
});
