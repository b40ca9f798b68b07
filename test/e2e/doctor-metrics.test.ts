import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/index.js';
import { buildDemucsStandIn } from '../../lib/testing.js';
import { clickTrack } from '../helpers/clicks.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

describe('didactic-engine doctor', () => {
  const dir = useTempDir();
  it('reports the addon, audio, runtime and providers it actually exercised, and exits 0 when the core works', () => {
    const r = spawnSync(process.execPath, [cli, 'doctor', '--json', '--out', join(dir, 'out')], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; ok: boolean; required: boolean; details: string }[] };
    expect(report.ok).toBe(true);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName.addon!.details).toMatch(/libsndfile-1\.2\.0/);
    expect(byName.audio!.ok).toBe(true);
    expect(byName.onnxruntime!.details).toMatch(/onnxruntime 1\.\d+/);
    expect(byName['provider:cpu']!.ok).toBe(true);
    // CUDA is reported usable only when a session really ran on it.
    const cuda = byName['provider:cuda']!;
    expect(cuda.required).toBe(false);
    if (!cuda.ok) expect(cuda.details).toMatch(/not usable/);
    expect(byName.output!.details).toMatch(/writable, so a run can create it; [\d.]+ GiB free/);
    // The doctor checks and changes nothing: the output folder it was asked about is not created.
    expect(existsSync(join(dir, 'out'))).toBe(false);
    mkdirSync(join(dir, 'existing'));
    const existing = spawnSync(process.execPath, [cli, 'doctor', '--json', '--out', join(dir, 'existing')], { encoding: 'utf8' });
    const output = (JSON.parse(existing.stdout) as { checks: { name: string; details: string }[] }).checks.find((c) => c.name === 'output')!;
    expect(output.details).toMatch(/existing is writable; [\d.]+ GiB free/);
    expect(readdirSync(join(dir, 'existing'))).toEqual([]);
  });

  it('opens the models it reports: a Demucs model in the models folder, the Basic Pitch model to be converted there', () => {
    const models = join(dir, 'models');
    mkdirSync(models, { recursive: true });
    writeFileSync(join(models, 'standin.onnx'), buildDemucsStandIn());
    const env: NodeJS.ProcessEnv = { ...process.env, DIDACTIC_MODELS_DIR: models };
    delete env.DIDACTIC_BASIC_PITCH_MODEL;
    const r = spawnSync(process.execPath, [cli, 'doctor', '--json', '--out', join(dir, 'out'), '--demucs-model', 'standin'], { encoding: 'utf8', env });
    const byName = Object.fromEntries((JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; details: string }[] }).checks.map((c) => [c.name, c]));
    expect(byName['model:demucs']).toMatchObject({ ok: true });
    expect(byName['model:demucs']!.details).toContain('opened, sources drums, bass, other, vocals at 44100 Hz');
    expect(byName['model:basic-pitch']!.details).toContain(`not converted yet`);
    writeFileSync(join(models, 'broken.onnx'), 'junk');
    const bad = spawnSync(process.execPath, [cli, 'doctor', '--json', '--out', join(dir, 'out'), '--demucs-model', 'broken'], { encoding: 'utf8', env });
    const demucs = (JSON.parse(bad.stdout) as { checks: { name: string; ok: boolean; details: string }[] }).checks.find((c) => c.name === 'model:demucs')!;
    expect(demucs.ok).toBe(false);
    expect(bad.status).toBe(0); // models are optional: the core still works
  });

  it('exits 1 when the output folder cannot be written', () => {
    const blocker = join(dir, 'file');
    spawnSync('touch', [blocker]);
    const r = spawnSync(process.execPath, [cli, 'doctor', '--out', join(blocker, 'sub')], { encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/✗ output/);
  });
});

describe('--metrics-file', () => {
  const dir = useTempDir();
  beforeAll(async () => {
    await writeWav(join(dir, 'a.wav'), clickTrack({ seconds: 4, bpm: 120 }), { sampleRate: 22050 });
    await writeWav(join(dir, 'b.wav'), clickTrack({ seconds: 4, bpm: 100 }), { sampleRate: 22050 });
  });
  it('writes Prometheus text metrics for the batch', () => {
    const metrics = join(dir, 'metrics.prom');
    const r = spawnSync(
      process.execPath,
      [cli, '--wav', join(dir, 'a.wav'), join(dir, 'b.wav'), '--out', join(dir, 'out'), '--no-demucs', '--no-transcription', '--metrics-file', metrics, '-q'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(0);
    const text = readFileSync(metrics, 'utf8');
    expect(text).toContain('# TYPE didactic_songs_total counter');
    expect(text).toMatch(/^didactic_songs_total\{outcome="ok"\} 2$/m);
    expect(text).toMatch(/^didactic_step_seconds_total\{step="step_4_analyze_audio"\} [\d.]+$/m);
    expect(text).toMatch(/^didactic_peak_rss_bytes \d+$/m);
  });
});
