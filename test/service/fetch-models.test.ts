/**
 * `serve --fetch-models`: a real `didactic-engine serve` fetches the models it is asked for from a
 * loopback mirror (DIDACTIC_MODELS_MIRROR) before it listens, finds installed ones installed, ends
 * with the fetch's error code when a fetch fails, and `/readyz` lists what is installed.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { graphsDir } from '../../lib/models/fetch.js';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { type Mirror, startMirror } from '../helpers/mirrorServer.js';
import { useTempDir } from '../helpers/tmp.js';
import { CLI, getJson, startServe, stop, stopAll } from './harness.js';

const tmp = useTempDir('didactic-service-fetch-models-');
let mirror: Mirror;
// A valid small0 checkpoint: the fetch converts what it downloads.
const checkpoint = lightningCheckpoint(beatThisState(readFileSync(join(graphsDir(), 'beat-this-small.onnx')), 4), beatThisHparams(128));
const sha = createHash('sha256').update(checkpoint).digest('hex');

beforeAll(async () => {
  mirror = await startMirror();
  mirror.files.set('beat_this/small0.ckpt', checkpoint);
  // Not the official htdemucs file: its hash is refused.
  mirror.files.set('hybrid_transformer/955717e8-8726e21a.th', randomBytes(30_000));
});

afterAll(async () => {
  await stopAll();
  await mirror?.close();
});

describe('serve --fetch-models', () => {
  it('fetches a missing model before listening; /readyz lists it with its size and SHA-256', { timeout: 90_000 }, async () => {
    const modelsDir = join(tmp, 'models-a');
    const env = { DIDACTIC_MODELS_MIRROR: mirror.url, DIDACTIC_MODELS_DIR: modelsDir };
    const server = await startServe(['--data-dir', join(tmp, 'data-a'), '--jobs', '1', '--fetch-models', 'beat-this-small'], env);
    // Fetched before the "listening" line the harness waited for.
    expect(server.output()).toMatch(/model beat-this-small fetched and installed \([\d.]+ MB\)[\s\S]*listening on/);
    expect(mirror.requests.filter((r) => r.path === 'beat_this/small0.ckpt')).toHaveLength(1);
    const ready = await getJson(`${server.url}/readyz`);
    const installedBytes = statSync(join(modelsDir, 'beat-this-small.onnx')).size;
    expect(ready.body.models).toEqual([{ name: 'beat-this-small', bytes: installedBytes, sha256: [sha] }]);
    await stop(server);

    // A second start finds it installed (no download), and a model put there by hand counts too.
    writeFileSync(join(modelsDir, 'htdemucs.onnx'), Buffer.alloc(1234));
    const again = await startServe(['--data-dir', join(tmp, 'data-a'), '--jobs', '1', '--fetch-models', 'htdemucs, beat-this-small'], env);
    expect(again.output()).toContain('model htdemucs already installed');
    expect(again.output()).toContain('model beat-this-small already installed');
    expect(mirror.requests.filter((r) => r.path === 'beat_this/small0.ckpt')).toHaveLength(1);
    const ready2 = await getJson(`${again.url}/readyz`);
    expect(ready2.body.models).toEqual([
      { name: 'htdemucs', bytes: 1234, sha256: null },
      { name: 'beat-this-small', bytes: installedBytes, sha256: [sha] },
    ]);
    await stop(again);
  });

  it('a failed fetch ends serve with the fetch error code before it listens, and installs nothing', { timeout: 60_000 }, async () => {
    const modelsDir = join(tmp, 'models-b');
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', join(tmp, 'data-b'), '--fetch-models', 'htdemucs'], {
      env: { ...process.env, DIDACTIC_MODELS_MIRROR: mirror.url, DIDACTIC_MODELS_DIR: modelsDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(1);
    expect(text).toContain('DE_MODEL_INVALID');
    expect(text).toContain('955717e8-8726e21a.th');
    expect(text).not.toContain('listening on');
    expect(existsSync(join(modelsDir, 'htdemucs.onnx'))).toBe(false);
  });

  it('an unknown model name is a usage error naming the known ones', { timeout: 60_000 }, async () => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', join(tmp, 'data-c'), '--fetch-models', 'htdemucs_9s'], {
      env: { ...process.env, DIDACTIC_MODELS_DIR: join(tmp, 'models-c') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    child.stderr.on('data', (d: Buffer) => (text += d.toString()));
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code).not.toBe(0);
    expect(text).toContain('DE_INVALID_ARGUMENT');
    expect(text).toContain('htdemucs_6s');
  });
});
