/**
 * The CLI loads only what a command uses. Each command runs in a fresh process with
 * scripts/record-modules.mjs, which logs every module each thread loads: the main job must not load
 * the service (fastify, bullmq, ioredis) or the browser driver (puppeteer-core), nor, on its main
 * thread, what only other commands or options need (the ONNX graph builder, JSON logs, progress
 * bars) or what runs on the Parquet thread (parquet-wasm, flatbuffers for its Arrow IPC input), and
 * apache-arrow on no thread (the Parquet thread writes the IPC itself). A module graph, not a timing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/index.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const hook = join(root, 'scripts', 'record-modules.mjs');

interface Loaded {
  thread: number;
  kind: 'esm' | 'cjs';
  url: string;
  parent: string | null;
}

/** Runs the CLI with the module recorder; returns its exit status and every module it loaded. */
function runRecorded(dir: string, args: string[]): { status: number | null; stderr: string; loaded: Loaded[] } {
  const log = join(dir, 'modules.jsonl');
  rmSync(log, { force: true });
  const r = spawnSync(process.execPath, ['--import', hook, cli, ...args], {
    encoding: 'utf8',
    env: { ...process.env, DIDACTIC_RECORD_MODULES: log },
  });
  const loaded = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Loaded);
  return { status: r.status, stderr: r.stderr, loaded };
}

/** npm packages among the loaded modules, per thread (0 = the main thread). */
function packages(loaded: Loaded[], thread?: number): Set<string> {
  const names = new Set<string>();
  for (const m of loaded) {
    if (thread !== undefined && m.thread !== thread) continue;
    const name = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(m.url)?.[1];
    if (name) names.add(name);
  }
  return names;
}

const NEVER = ['fastify', 'bullmq', 'ioredis', 'puppeteer-core'];
const NOT_ON_MAIN_THREAD = ['parquet-wasm', 'flatbuffers', 'onnx-proto', 'protobufjs', 'pino', 'cli-progress'];

describe('what the CLI loads', () => {
  const dir = useTempDir();
  const song = join(dir, 'one.wav');
  beforeAll(async () => {
    await writeWav(song, exampleSong(44100, 1), { sampleRate: 44100, channels: 2 });
  });

  it('--version loads neither the pipeline nor the models, nor the config validation (zod)', () => {
    const r = runRecorded(dir, ['--version']);
    expect(r.status).toBe(0);
    const all = packages(r.loaded);
    for (const name of [...NEVER, ...NOT_ON_MAIN_THREAD, 'apache-arrow', 'zod']) expect(all.has(name), name).toBe(false);
    expect(r.loaded.some((m) => m.url.endsWith('/dist/pipeline/batch.js'))).toBe(false);
    expect(r.loaded.some((m) => m.url.endsWith('.node'))).toBe(false);
  });

  it('the main job on a 1-second song loads no service, no browser driver and keeps the encoder off the main thread', () => {
    const out = join(dir, 'out');
    const r = runRecorded(dir, ['--wav', song, '--song-id', 'one', '--out', out, '--no-demucs', '--no-transcription', '-q']);
    // -q keeps warnings (a 1-second song's rhythm is rightly of low confidence), never errors.
    expect(r.stderr).not.toMatch(/ERROR|Error:/);
    expect(r.status).toBe(0);
    expect(existsSync(join(out, 'datasets', 'one', 'beats.parquet'))).toBe(true);
    // The recorder saw the job: the pipeline, the addon, and parquet-wasm on a worker thread.
    expect(r.loaded.some((m) => m.thread === 0 && m.url.endsWith('/dist/pipeline/batch.js'))).toBe(true);
    expect(r.loaded.some((m) => m.thread === 0 && m.url.endsWith('.node'))).toBe(true);
    expect(packages(r.loaded).has('parquet-wasm')).toBe(true);
    const all = packages(r.loaded);
    // apache-arrow (about 150 modules) is for reading files back, which the main job does not do.
    for (const name of [...NEVER, 'apache-arrow']) expect(all.has(name), name).toBe(false);
    const main = packages(r.loaded, 0);
    for (const name of NOT_ON_MAIN_THREAD) expect(main.has(name), name).toBe(false);
  });
});
