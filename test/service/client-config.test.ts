/**
 * What a client may configure, against real `didactic-engine serve` processes: no config field
 * that names a server file or folder (absolute, `../`, or any path at all), model fields only as
 * names of installed models or of the operator's allowlist (`--allow-model`), and every value
 * inside the engine's bounds, all refused with 400 DE_INVALID_CONFIG at submit, before anything is
 * queued and without saying whether a server path exists.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { camelToSnake, CONFIG_PATH_FIELDS } from '../../lib/pipeline/config.js';
import { useTempDir } from '../helpers/tmp.js';
import { getJson, startServe, stopAll, submit, writeClip, type Server } from './harness.js';

const tmp = useTempDir('didactic-client-config-');
const models = join(tmp, 'models');
const inputRoot = join(tmp, 'inputs');
/** A cheap run for the submissions that are accepted (they are queued and run). */
const CHEAP = { use_demucs_separation: false, use_basic_pitch_transcription: false, beat_tracker: 'librosa', html_report: false };
let clip: Uint8Array;
let server: Server;
let allowlisted: Server;

beforeAll(async () => {
  clip = await writeClip(join(inputRoot, 'clip.wav'), 2);
  mkdirSync(models, { recursive: true });
  writeFileSync(join(models, 'mymodel.onnx'), 'not opened: separation is off in these jobs');
  // A server file that exists, beside one that does not: the answers must not differ.
  writeFileSync(join(tmp, 'secret.onnx'), 'secret');
  const env = { DIDACTIC_MODELS_DIR: models };
  [server, allowlisted] = await Promise.all([
    startServe(['--data-dir', join(tmp, 'data'), '--input-root', inputRoot, '--jobs', '1'], env),
    startServe(['--data-dir', join(tmp, 'data2'), '--jobs', '1', '--allow-model', 'htdemucs_6s', '--allow-model', 'htdemucs_ft'], env),
  ]);
}, 60_000);

afterAll(stopAll);

async function submitConfig(url: string, config: Record<string, unknown>, id?: string) {
  return submit(url, clip, { config: JSON.stringify({ ...CHEAP, ...config }), ...(id ? { id } : {}) });
}

const errorOf = (body: Record<string, unknown>) => body.error as { code: string; message: string };

describe('client config (embedded serve)', () => {
  it('refuses a model path, absolute or relative, the same whether the file exists or not', async () => {
    const paths = [
      '/etc/shadow',
      '../../etc/shadow',
      '../models/mymodel',
      'mymodel.onnx',
      join(models, 'mymodel.onnx'),
      join(tmp, 'secret.onnx'),
      join(tmp, 'missing.onnx'),
      'C:\\Windows\\win.ini',
      '..',
      '',
    ];
    const messages = new Set<string>();
    for (const [i, path] of paths.entries()) {
      const r = await submitConfig(server.url, { demucs_model: path }, `path-${i}`);
      expect(r.status, path).toBe(400);
      const error = errorOf(r.body);
      expect(error.code, path).toBe('DE_INVALID_CONFIG');
      expect(error.message, path).not.toContain(tmp);
      messages.add(error.message);
      // Nothing was queued.
      expect((await getJson(`${server.url}/v1/jobs/path-${i}`)).status).toBe(404);
    }
    // One answer for every path: it cannot tell a client which server files exist.
    expect([...messages]).toEqual(['demucs_model must be the name of a model this server offers, not a path']);
  });

  it('refuses every path field of the config, in both submission forms', async () => {
    const fields = Object.keys(CONFIG_PATH_FIELDS).map(camelToSnake);
    expect(fields).toEqual(expect.arrayContaining(['input_wav', 'out_dir', 'demucs_model']));
    for (const field of fields) {
      for (const value of ['/etc/passwd', '../../x']) {
        const r = await submitConfig(server.url, { [field]: value });
        expect(r.status, `${field}=${value}`).toBe(400);
        expect(errorOf(r.body).code).toBe('DE_INVALID_CONFIG');
        const json = await fetch(`${server.url}/v1/jobs`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ path: 'clip.wav', config: { ...CHEAP, [field]: value } }),
        });
        expect(json.status, `path submission ${field}=${value}`).toBe(400);
        expect(((await json.json()) as { error: { code: string } }).error.code).toBe('DE_INVALID_CONFIG');
      }
    }
  });

  it('takes an installed model name and the default, and refuses a name that is not installed', async () => {
    expect((await submitConfig(server.url, { demucs_model: 'mymodel' })).status).toBe(202);
    expect((await submitConfig(server.url, { demucs_model: 'htdemucs' })).status).toBe(202);
    const missing = await submitConfig(server.url, { demucs_model: 'other_model' });
    expect(missing.status).toBe(400);
    expect(errorOf(missing.body)).toEqual({
      code: 'DE_INVALID_CONFIG',
      message: "demucs_model 'other_model' is not installed on this server (installed: mymodel)",
    });
  });

  it('with --allow-model, takes only the allowlisted names', async () => {
    expect((await submitConfig(allowlisted.url, { demucs_model: 'htdemucs_6s' })).status).toBe(202);
    const installed = await submitConfig(allowlisted.url, { demucs_model: 'mymodel' });
    expect(installed.status).toBe(400);
    expect(errorOf(installed.body)).toEqual({
      code: 'DE_INVALID_CONFIG',
      message: "demucs_model 'mymodel' is not offered by this server (offered: htdemucs_6s, htdemucs_ft)",
    });
    expect((await submitConfig(allowlisted.url, { demucs_model: '/etc/shadow' })).status).toBe(400);
  });

  it('refuses values outside the engine’s bounds at submit', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ analysis_sr: 2_000_000 }, /^analysis_sr must be within 1000\.\.768000 Hz/],
      [{ analysis_sr: 1 }, /^analysis_sr must be within/],
      [{ hop_length: 1_000_000_000 }, /^hop_length must be at most 1048576/],
      [{ time_signature_num: 1000, beat_tracker: 'beatnet' }, /^time_signature_num must give at most 12 beats per bar/],
      [{ demucs_timeout_s: 1e10 }, /^demucs_timeout_s must be at most/],
      [{ preprocess_target_sr: 999 }, /^preprocess_target_sr must be within/],
      [{ demucs_device: 'mps' }, /^demucs_device must be/],
    ];
    for (const [i, [config, message]] of cases.entries()) {
      const r = await submitConfig(server.url, config, `bound-${i}`);
      expect(r.status, JSON.stringify(config)).toBe(400);
      expect(errorOf(r.body).code).toBe('DE_INVALID_CONFIG');
      expect(errorOf(r.body).message).toMatch(message);
      expect((await getJson(`${server.url}/v1/jobs/bound-${i}`)).status).toBe(404);
    }
  });
});
