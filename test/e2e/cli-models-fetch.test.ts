// `didactic-engine models list|fetch|remove` as a user runs them (dist/cli/main.js), and every
// place that meets a missing Demucs model naming the exact command that installs it.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { type Mirror, startMirror } from '../helpers/mirrorServer.js';
import { runCliAsync } from '../helpers/cliRun.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const dir = useTempDir('cli-models-');
const models = join(dir, 'models');
const env = { ...process.env, DIDACTIC_MODELS_DIR: models, DIDACTIC_MODELS_MIRROR: '' };
let mirror: Mirror;

const run = (...args: string[]) => runCliAsync(env, ...args);

beforeAll(async () => {
  mkdirSync(models, { recursive: true });
  mirror = await startMirror();
});
afterAll(async () => {
  await mirror.close();
});

describe('didactic-engine models', () => {
  it('list names every known model with its source and licence, none installed', async () => {
    const r = await run('models', 'list', '--json');
    expect(r.status).toBe(0);
    const listed = JSON.parse(r.stdout) as { modelsDir: string; models: { name: string; installed: boolean; urls: string[]; licence: string }[] };
    expect(listed.modelsDir).toBe(models);
    expect(listed.models.map((m) => [m.name, m.installed])).toEqual([
      ['htdemucs', false],
      ['htdemucs_6s', false],
      ['htdemucs_ft', false],
      ['beat-this-small', false],
      ['beat-this', false],
    ]);
    expect(listed.models[2]!.urls).toHaveLength(4);
    expect(listed.models[3]!.urls[0]).toBe('https://cloud.cp.jku.at/public.php/dav/files/7ik4RrBKTS273gp/small0.ckpt');
    const text = await run('models', 'list');
    expect(text.stdout).toContain('htdemucs         not installed');
    expect(text.stdout).toContain('licence: MIT');
  });

  it('fetch through a mirror prints the hash and licence; list shows it installed; remove removes it', async () => {
    const graph = readFileSync(join(root, 'models', 'graphs', 'beat-this-small.onnx'));
    mirror.files.set('beat_this/small0.ckpt', lightningCheckpoint(beatThisState(graph), beatThisHparams(128)));
    const r = await run('models', 'fetch', 'beat-this-small', '--mirror', mirror.url);
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/installed beat-this-small: .*beat-this-small\.onnx/);
    expect(r.stderr).toMatch(/small0\.ckpt sha256 [0-9a-f]{64} \(first-use\)/);
    expect(r.stderr).toContain('licence: MIT');
    const listed = JSON.parse((await run('models', 'list', '--json')).stdout) as { models: { name: string; installed: boolean; bytes: number }[] };
    expect(listed.models.find((m) => m.name === 'beat-this-small')).toMatchObject({ installed: true });
    expect(listed.models.find((m) => m.name === 'beat-this-small')!.bytes).toBeGreaterThan(8_000_000);
    expect((await run('models', 'remove', 'beat-this-small')).stderr).toContain('removed beat-this-small');
  });

  it('a checkpoint that is not the official file is refused with DE_MODEL_INVALID and exit 1', async () => {
    const file = join(dir, '955717e8-8726e21a.th');
    writeFileSync(file, randomBytes(1000));
    const r = await run('models', 'fetch', 'htdemucs', '--from', file);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[DE_MODEL_INVALID]');
    expect(r.stderr).toContain('not the official file');
    const unknown = await run('models', 'fetch', 'nope');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('known: htdemucs, htdemucs_6s, htdemucs_ft, beat-this-small, beat-this');
  });
});

describe('a missing Demucs model names the command that installs it', () => {
  it('doctor', async () => {
    const r = await run('doctor', '--json', '--out', join(dir, 'out'), '--demucs-model', 'htdemucs_6s');
    const demucs = (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; details: string }[] }).checks.find((c) => c.name === 'model:demucs')!;
    expect(demucs.ok).toBe(false);
    expect(demucs.details).toContain('npx didactic-engine models fetch htdemucs_6s');
  });

  it('separate', async () => {
    const wav = join(dir, 'x.wav');
    const { writeWav } = await import('../../lib/index.js');
    await writeWav(wav, new Float32Array(4410), { sampleRate: 44100 });
    const r = await run('separate', wav, '-o', join(dir, 'stems'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('[DE_MODEL_NOT_FOUND]');
    expect(r.stderr).toContain('npx didactic-engine models fetch htdemucs');
  });
});
