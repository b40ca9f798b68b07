/**
 * The CLI in an install without the optional peers (the service's fastify, bullmq, ... and
 * puppeteer-core). The test builds that install's layout without touching the repository's
 * node_modules: a temp project whose node_modules links every package of ours except the peers,
 * and a didactic-engine folder with a copy of dist/ (so imports resolve from the project, as in
 * an install) and links to the checkout's other files. The main job and doctor work; `serve`,
 * `worker` and `report --png` fail with DE_OPTIONAL_DEPENDENCY_MISSING naming the install command.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/index.js';
import { OPTIONAL_FEATURES } from '../../lib/util/optional.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const PEERS = new Set(Object.values(OPTIONAL_FEATURES).flatMap((f) => Object.keys(f.packages)));

/** node_modules of a project that installed didactic-engine without its optional peers. */
function installWithoutPeers(app: string): string {
  const modules = join(app, 'node_modules');
  mkdirSync(modules, { recursive: true });
  const link = (name: string) => symlinkSync(join(root, 'node_modules', name), join(modules, name));
  for (const entry of readdirSync(join(root, 'node_modules'))) {
    if (entry.startsWith('.') || entry === 'didactic-engine') continue;
    if (entry.startsWith('@')) {
      mkdirSync(join(modules, entry));
      for (const sub of readdirSync(join(root, 'node_modules', entry))) if (!PEERS.has(`${entry}/${sub}`)) link(`${entry}/${sub}`);
    } else if (!PEERS.has(entry)) {
      link(entry);
    }
  }
  // The package itself: this checkout's files without its node_modules (which has the peers);
  // dist/ copied, since Node resolves a linked file's imports from where the link points.
  const pkg = join(modules, 'didactic-engine');
  mkdirSync(pkg);
  for (const entry of readdirSync(root)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    if (entry === 'dist') cpSync(join(root, entry), join(pkg, entry), { recursive: true });
    else symlinkSync(join(root, entry), join(pkg, entry));
  }
  return join(pkg, 'dist', 'cli', 'main.js');
}

describe('an install without the optional peers', () => {
  const dir = useTempDir();
  const app = join(dir, 'app');
  let cli = '';
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [cli, ...args], {
      cwd: app,
      encoding: 'utf8',
      env: { ...process.env, DIDACTIC_MODELS_DIR: join(dir, 'models'), ...env },
      timeout: 120_000,
    });

  beforeAll(async () => {
    cli = installWithoutPeers(app);
    await writeWav(join(app, 'one.wav'), exampleSong(44100, 1), { sampleRate: 44100, channels: 2 });
  });

  it('really lacks them: the layout resolves the core packages but not fastify or puppeteer-core', () => {
    const probe = (name: string) =>
      spawnSync(process.execPath, ['-e', `require.resolve(${JSON.stringify(name)})`], { cwd: join(app, 'node_modules', 'didactic-engine', 'dist') }).status;
    expect(probe('commander')).toBe(0);
    expect(probe('fastify')).not.toBe(0);
    expect(probe('puppeteer-core')).not.toBe(0);
  });

  it('runs the main job and doctor, which names the missing features and their install commands', () => {
    const job = run(['--wav', 'one.wav', '--song-id', 'one', '--out', 'out', '--no-demucs', '--no-transcription', '-q']);
    expect(job.stderr).not.toMatch(/ERROR|Error:/);
    expect(job.status).toBe(0);
    expect(existsSync(join(app, 'out', 'datasets', 'one', 'beats.parquet'))).toBe(true);

    const doctor = run(['doctor', '--json', '--out', 'out']);
    expect(doctor.status).toBe(0);
    const checks = (JSON.parse(doctor.stdout) as { checks: Array<{ name: string; ok: boolean; required: boolean; details: string }> }).checks;
    const service = checks.find((c) => c.name === 'feature:service');
    const png = checks.find((c) => c.name === 'feature:png');
    expect(service).toMatchObject({ ok: false, required: false });
    expect(service?.details).toContain('npm install fastify@5 @fastify/multipart@10 @fastify/swagger@9 fastify-type-provider-zod@7 bullmq@6 ioredis@6');
    expect(png).toMatchObject({ ok: false, required: false });
    expect(png?.details).toContain('npm install puppeteer-core@24');
  }, 120_000);

  it('`serve`, `worker` and `report --png` exit 1 with DE_OPTIONAL_DEPENDENCY_MISSING and the install command', () => {
    const serve = run(['serve', '--port', '0', '--data-dir', 'data']);
    expect(serve.status).toBe(1);
    expect(serve.stdout).not.toMatch(/listening/);
    expect(serve.stderr).toMatch(
      /HTTP service.*install with: npm install fastify@5 @fastify\/multipart@10 @fastify\/swagger@9 fastify-type-provider-zod@7 bullmq@6 ioredis@6 \[DE_OPTIONAL_DEPENDENCY_MISSING\]/,
    );
    expect(existsSync(join(app, 'data'))).toBe(false);

    const worker = run(['worker', '--redis', 'redis://127.0.0.1:1', '--data-dir', 'data']);
    expect(worker.status).toBe(1);
    expect(worker.stderr).toMatch(/npm install fastify@5 .* ioredis@6 \[DE_OPTIONAL_DEPENDENCY_MISSING\]/);

    const png = run(['report', 'out', 'one', '--png', 'one.png']);
    expect(png.status).toBe(1);
    expect(png.stderr).toMatch(/install with: npm install puppeteer-core@24 \[DE_OPTIONAL_DEPENDENCY_MISSING\]/);
    expect(existsSync(join(app, 'one.png'))).toBe(false);
  }, 120_000);
});
