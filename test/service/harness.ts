/**
 * Real processes for the service tests: `didactic-engine serve` and `worker` from the built dist/,
 * and Debian's redis-server on a free loopback port. Everything started here is stopped in
 * `stopAll()` (call it in afterAll), also when a test fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeWav } from '../../lib/audio/write.js';
import { onPath } from '../helpers/requires.js';
import { melodySong } from '../helpers/signals.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(root, 'dist', 'cli', 'main.js');

/** The Redis-mode tests' need: a Debian redis-server on PATH (started on a free loopback port). */
export const redisServer = onPath('redis-server', 'apt-get install redis-server');

const started = new Set<ChildProcess>();

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

export interface Proc {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

function track(child: ChildProcess): Proc {
  started.add(child);
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      started.delete(child);
      resolve(code ?? signal ?? -1);
    }),
  );
  return { child, output: () => text, exited };
}

async function waitForOutput(proc: Proc, pattern: RegExp, timeoutMs = 20_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = pattern.exec(proc.output());
    if (m) return m;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`process exited before printing ${pattern}:\n${proc.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${proc.output()}`);
    await sleep(50);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Server extends Proc {
  url: string;
}

/** Starts `serve --port 0` and waits for its "listening on" line. */
export async function startServe(args: string[], env: Record<string, string> = {}): Promise<Server> {
  const proc = track(
    spawn(process.execPath, [CLI, 'serve', '--port', '0', '--log-level', 'WARNING', ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  const m = await waitForOutput(proc, /listening on (http:\/\/\S+)/);
  return { ...proc, url: m[1]! };
}

export async function startWorker(args: string[], env: Record<string, string> = {}): Promise<Proc> {
  const proc = track(
    spawn(process.execPath, [CLI, 'worker', '--log-level', 'WARNING', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  await waitForOutput(proc, /processing jobs from/);
  return proc;
}

export interface RedisServer extends Proc {
  url: string;
  port: number;
  dir: string;
}

/**
 * redis-server with the persistence the service needs to lose no job across a restart: an
 * append-only file fsynced every write (appendfsync always) and no eviction.
 */
export async function startRedis(dir: string, port?: number): Promise<RedisServer> {
  mkdirSync(dir, { recursive: true });
  const p = port ?? (await freePort());
  const proc = track(
    spawn(
      'redis-server',
      [
        '--port',
        String(p),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  await waitForOutput(proc, /Ready to accept connections/);
  return { ...proc, url: `redis://127.0.0.1:${p}`, port: p, dir };
}

export async function stop(proc: Proc, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 30_000): Promise<number | string> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  try {
    return await proc.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** Kills everything this file started (SIGKILL: tests that want a drain stop processes themselves). */
export async function stopAll(): Promise<void> {
  const all = [...started];
  for (const child of all) child.kill('SIGKILL');
  await sleep(100);
}

/** A short real clip: a melody (so transcription finds notes), written as 16-bit WAV. */
export async function writeClip(path: string, seconds: number): Promise<Uint8Array> {
  mkdirSync(dirname(path), { recursive: true });
  await writeWav(path, melodySong(seconds), { sampleRate: 44100, channels: 2 });
  const { readFileSync } = await import('node:fs');
  return readFileSync(path);
}

export function writeText(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

/** The service config the tests use: no Demucs (its model is not installed in CI), the rest as default. */
export const FAST_CONFIG = { use_demucs_separation: false };

export async function submit(
  url: string,
  audio: Uint8Array,
  fields: Record<string, string> = {},
  headers: Record<string, string> = {},
  fileName = 'clip.wav',
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.set(k, v);
  form.set('audio', new Blob([audio]), fileName);
  const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form, headers });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

export async function getJson(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { headers });
  const text = await res.text();
  return { status: res.status, body: text.length ? JSON.parse(text) : null };
}

/** Polls a job until `until(status)` holds. */
export async function waitForJob(url: string, id: string, until: (s: any) => boolean, timeoutMs = 60_000, headers: Record<string, string> = {}): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any = null;
  while (Date.now() < deadline) {
    const r = await getJson(`${url}/v1/jobs/${id}`, headers);
    last = r.body;
    if (r.status === 200 && until(r.body)) return r.body;
    await sleep(100);
  }
  throw new Error(`job ${id} did not reach the expected state; last: ${JSON.stringify(last)}`);
}

export const finished = (s: any) => s.state === 'completed' || s.state === 'failed';
