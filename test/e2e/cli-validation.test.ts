/**
 * The CLI refuses bad values before any work starts and reports failures with their codes: flag
 * values outside the engine's bounds (usage errors, exit 2), the original's own rules (exit 1),
 * config files validated before flags override them, `--json` and `--log-format json` output for
 * every kind of failure, one ERROR line per failed song, and a batch that goes on past a missing file.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/index.js';
import { clickTrack } from '../helpers/clicks.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The fastest full run: no models, the original's beat tracker, no chunk WAVs or page. */
const FAST = ['--no-demucs', '--no-transcription', '--beat-tracker', 'librosa', '--no-detect-meter', '--no-chunk-wavs', '--no-html-report'];

describe('CLI: validation at the door and failure output', () => {
  const dir = useTempDir('didactic-cli-validation-');
  const clip = join(dir, 'clip.wav');
  const clip2 = join(dir, 'clip2.wav');
  const bad = join(dir, 'bad.wav');

  beforeAll(async () => {
    const audio = clickTrack({ sampleRate: 22050, seconds: 4, bpm: 120, beatsPerBar: 4 });
    await writeWav(clip, audio, { sampleRate: 22050 });
    await writeWav(clip2, audio, { sampleRate: 22050 });
    writeFileSync(bad, 'this is not audio\n'.repeat(10));
  });

  it.each([
    ['--sr', '1', /analysis_sr must be within 1000\.\.768000 Hz, got 1\b/],
    ['--sr', '2000000', /analysis_sr must be within 1000\.\.768000 Hz, got 2000000/],
    ['--hop', '1000000000', /hop_length must be at most 1048576 samples/],
    // The learned tracker (the default) decodes at most 12 beats per bar; librosa's takes any.
    ['--ts-num', '1000', /time_signature_num must give at most 12 beats per bar/, ['--beat-tracker', 'beatnet']],
    // So does Beat This!'s DBN in a configured meter (its peak picking does not).
    [
      '--ts-num',
      '13',
      /time_signature_num must give at most 12 beats per bar with beat_tracker 'beat-this' and beat_this_postprocess 'dbn'/,
      ['--beat-tracker', 'beat-this', '--beat-this-postprocess', 'dbn'],
    ],
    ['--basic-pitch-timeout', '1e10', /basic_pitch_timeout_s must be at most 2147483\.647 seconds/],
    ['--demucs-device', 'mps', /demucs_device must be 'cpu', 'cuda' or 'cuda:N', got 'mps'/],
    ['--ort-threads', '100000', /--ort-threads.*100000.*1\.\.256/],
    ['--stem-jobs', '0', /--stem-jobs.*'0'/],
  ])('%s %s is a usage error (exit 2) before any work, with its code', (flag, value, message, extra: string[] = []) => {
    const out = join(dir, `out-${flag.slice(2)}-${value}`);
    const r = runCli(['--wav', clip, '--song-id', 'x', '--out', out, ...FAST, ...extra, flag, value]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toMatch(/\[DE_INVALID_(CONFIG|ARGUMENT)\]/);
    // Nothing decoded, nothing written.
    expect(r.stderr).not.toMatch(/Step \d/);
    expect(existsSync(out)).toBe(false);
  });

  it('a negative model timeout exits 1 with the original message, as in the original', () => {
    for (const flag of ['--demucs-timeout', '--basic-pitch-timeout']) {
      const r = runCli(['--wav', clip, '--song-id', 'x', '--out', join(dir, 'neg'), ...FAST, flag, '-1', '--json']);
      expect(r.status, r.stderr).toBe(1);
      const key = flag === '--demucs-timeout' ? 'demucs_timeout_s' : 'basic_pitch_timeout_s';
      expect(r.stderr).toContain(`${key} cannot be negative, got -1 [DE_INVALID_CONFIG]`);
      expect(JSON.parse(r.stdout)).toEqual({ error: { code: 'DE_INVALID_CONFIG', message: `${key} cannot be negative, got -1` } });
    }
    expect(existsSync(join(dir, 'neg'))).toBe(false);
  });

  it('a config file is validated before flags override it', () => {
    const config = join(dir, 'typed.json');
    writeFileSync(config, JSON.stringify({ use_demucs_separation: 'no' }));
    const r = runCli(['--wav', clip, '--song-id', 'x', '--out', join(dir, 'typed'), ...FAST, '--config', config]);
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).toContain("use_demucs_separation must be a boolean (true or false), got 'no' [DE_INVALID_CONFIG]");
    expect(existsSync(join(dir, 'typed'))).toBe(false);
  });

  it('--json prints an error document for a usage error and a config error', () => {
    const usage = runCli(['--wav', clip, '--song-id', 'x', '--basic-pitch-backend', 'pytorch', '--json']);
    expect(usage.status).toBe(2);
    const doc = JSON.parse(usage.stdout) as { error: { code: string; message: string } };
    expect(doc.error.code).toBe('DE_INVALID_ARGUMENT');
    expect(doc.error.message).toMatch(/--basic-pitch-backend/);
    expect(usage.stderr).toMatch(/^error: .*pytorch.* \[DE_INVALID_ARGUMENT\]$/m);
    expect(usage.stderr).toContain("(run 'didactic-engine --help' for usage)");

    const config = join(dir, 'den.json');
    writeFileSync(config, JSON.stringify({ time_signature_den: 3 }));
    const bad = runCli(['--wav', clip, '--song-id', 'x', '--out', join(dir, 'den'), '--config', config, '--json']);
    expect(bad.status).toBe(1);
    expect(JSON.parse(bad.stdout).error.code).toBe('DE_INVALID_CONFIG');

    const bounds = runCli(['--wav', clip, '--song-id', 'x', '--sr', '1', '--json']);
    expect(bounds.status).toBe(2);
    expect(JSON.parse(bounds.stdout).error).toEqual({ code: 'DE_INVALID_CONFIG', message: 'analysis_sr must be within 1000..768000 Hz, got 1' });
  });

  it('a missing input: exit 1, its code in --json and in the one ERROR line', () => {
    const missing = join(dir, 'nope.wav');
    const r = runCli(['--wav', missing, '--song-id', 'x', '--out', join(dir, 'missing'), ...FAST, '--json']);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as { failure_count: number; failed: { code: string; input_path: string }[] };
    expect(json.failure_count).toBe(1);
    expect(json.failed[0]).toMatchObject({ code: 'DE_FILE_NOT_FOUND', input_path: missing });
    const errors = r.stderr.split('\n').filter((l) => l.includes('[ERROR]'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('[DE_FILE_NOT_FOUND]');
    expect(existsSync(join(dir, 'missing'))).toBe(false);
  });

  it('a failed song: one ERROR line with its code in text mode; a coded record with --log-format json', () => {
    const text = runCli(['--wav', bad, '--song-id', 'bad', '--out', join(dir, 'fail'), ...FAST]);
    expect(text.status).toBe(1);
    const errors = text.stderr.split('\n').filter((l) => l.includes('[ERROR]'));
    expect(errors, text.stderr).toHaveLength(1);
    expect(errors[0]).toMatch(/\[DE_UNSUPPORTED_FORMAT\]$/);
    // No message spreads over several lines.
    expect(text.stderr.split('\n').every((l) => l === '' || /^\d{4}-\d\d-\d\d /.test(l))).toBe(true);

    const json = runCli(['--wav', bad, '--song-id', 'bad', '--out', join(dir, 'fail'), ...FAST, '--log-format', 'json']);
    expect(json.status).toBe(1);
    const records = json.stderr
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string; code?: string });
    const errorRecords = records.filter((r) => r.level >= 50);
    expect(errorRecords).toHaveLength(1);
    expect(errorRecords[0]!.code).toBe('DE_UNSUPPORTED_FORMAT');

    // A usage error with --log-format json is a JSON record too.
    const usage = runCli(['--wav', clip, '--song-id', 'x', '--sr', '1', '--log-format', 'json']);
    expect(usage.status).toBe(2);
    const record = JSON.parse(usage.stderr.trim().split('\n')[0]!) as { level: number; code: string; msg: string };
    expect(record).toMatchObject({ level: 50, code: 'DE_INVALID_CONFIG' });
  });

  it('a batch goes on past a missing file and reports it', () => {
    const missing = join(dir, 'gone.wav');
    const out = join(dir, 'batch');
    const r = runCli(['--wav', clip, missing, clip2, '--out', out, ...FAST, '--json']);
    expect(r.status, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout) as {
      total: number;
      success_count: number;
      failure_count: number;
      failed: { song_id: string; code: string }[];
    };
    expect(json).toMatchObject({ total: 3, success_count: 2, failure_count: 1 });
    expect(json.failed).toEqual([expect.objectContaining({ song_id: 'gone', code: 'DE_FILE_NOT_FOUND' })]);
    expect(existsSync(join(out, 'analysis', 'clip', 'combined.json'))).toBe(true);
    expect(existsSync(join(out, 'analysis', 'clip2', 'combined.json'))).toBe(true);
    expect(r.stderr).toMatch(/Failed files:[\s\S]*gone\.wav \(gone\): .*\[DE_FILE_NOT_FOUND\]/);
  });
});
