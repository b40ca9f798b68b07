// Server-grade behaviour of the pipeline and the CLI: degradation is never silent, resume trusts
// only verified outputs, killed runs leave nothing behind, one writer per song, coherent config,
// and the original's argparse conventions. Each case failed before its fix.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, processBatch, writeWav } from '../../lib/index.js';
import { manifestProblem, writeSongManifest } from '../../lib/pipeline/manifest.js';
import { PipelineConfig } from '../../lib/pipeline/config.js';
import { runFingerprint } from '../../lib/pipeline/fingerprint.js';
import { toWriteError } from '../../lib/util/atomic.js';
import { clickTrack } from '../helpers/clicks.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
// Fast and model-free unless a case needs a model: librosa rhythm, no separation.
const FAST = ['--no-demucs', '--beat-tracker', 'librosa'];

function runCli(args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', env });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const summaryOf = (out: string, id: string) => JSON.parse(readFileSync(join(out, 'analysis', id, 'combined.json'), 'utf8')) as Record<string, any>;

describe('server-grade pipeline and CLI', () => {
  const dir = useTempDir('didactic-server-grade-');
  const song = join(dir, 'song.wav');
  const long = join(dir, 'long.wav');
  const noModel = { ...process.env, DIDACTIC_BASIC_PITCH_MODEL: join(dir, 'missing-model.onnx') };

  beforeAll(async () => {
    await writeWav(song, clickTrack({ sampleRate: 22050, seconds: 6, bpm: 120 }), { sampleRate: 22050 });
    await writeWav(long, clickTrack({ sampleRate: 44100, seconds: 60, bpm: 120, channels: 2 }), { sampleRate: 44100, channels: 2 });
  });

  describe('degradation is never silent', () => {
    it('a missing Basic Pitch model completes the song marked degraded, in the log, --json and combined.json', () => {
      const out = join(dir, 'degraded');
      const r = runCli(['--wav', song, '--song-id', 's', '--out', out, ...FAST, '--json'], noModel);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/Processing completed with degradation \(transcription of 'full_mix' skipped/);
      expect(r.stderr).not.toMatch(/Processing completed successfully/);
      const json = JSON.parse(r.stdout) as Record<string, any>;
      expect(json.degraded_count).toBe(1);
      expect(json.degraded[0].reasons[0]).toMatch(/transcription of 'full_mix' skipped/);
      const summary = summaryOf(out, 's');
      expect(summary.data_quality.degraded).toBe(true);
      expect(summary.data_quality.degraded_reasons).toHaveLength(1);
    });

    it('--strict turns degradation into failure: exit 1, the code in --json, nothing written', () => {
      const out = join(dir, 'strict');
      const r = runCli(['--wav', song, '--song-id', 's', '--out', out, ...FAST, '--strict', '--json'], noModel);
      expect(r.status).toBe(1);
      const json = JSON.parse(r.stdout) as Record<string, any>;
      expect(json.failed[0]).toMatchObject({ song_id: 's', code: 'DE_DEGRADED' });
      expect(existsSync(join(out, 'analysis', 's'))).toBe(false);
    });

    it('--resume re-runs a degraded song, and a batch summary counts degraded songs', () => {
      const out = join(dir, 'resume-degraded');
      expect(runCli(['--wav', song, '--song-id', 's', '--out', out, ...FAST], noModel).status).toBe(0);
      const again = runCli(['--wav', song, '--song-id', 's', '--out', out, ...FAST, '--resume'], noModel);
      expect(again.stderr).toMatch(/Processing again \(--resume\): the previous run was degraded/);
      const batch = runCli(['--wav', song, long, '--out', join(dir, 'batch-degraded'), ...FAST, '--no-chunk-wavs', '--jobs', '2'], noModel);
      expect(batch.status).toBe(0);
      expect(batch.stderr).toMatch(/degraded=2/);
      // Two songs at once: each song's lines name it.
      expect(batch.stderr).toMatch(/\[song\] Detected tempo/);
      expect(batch.stderr).toMatch(/\[long\] Detected tempo/);
    });
  });

  describe('truncated input', () => {
    it('a WAV cut short decodes what is present, warns and is reported; --strict fails it', () => {
      const cut = join(dir, 'cut.wav');
      const bytes = readFileSync(song);
      writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
      const out = join(dir, 'truncated');
      const r = runCli(['--wav', cut, '--song-id', 't', '--out', out, ...FAST, '--no-transcription', '--json']);
      expect(r.status).toBe(0);
      expect(r.stderr).toMatch(/is truncated: decoded the \d+ of \d+ frames present/);
      const summary = summaryOf(out, 't');
      expect(summary.data_quality.truncated_input.expected_frames).toBe(6 * 22050);
      expect(summary.data_quality.truncated_input.actual_frames).toBeLessThan(6 * 22050);
      expect(summary.data_quality.degraded_reasons).toContain('the input file is truncated: decoded what is present');
      expect(summary.duration_s).toBeGreaterThan(3.5);
      const strict = runCli(['--wav', cut, '--song-id', 't2', '--out', out, ...FAST, '--no-transcription', '--strict', '--json']);
      expect(strict.status).toBe(1);
      expect(JSON.parse(strict.stdout).failed[0].code).toBe('DE_CORRUPT_AUDIO');
    });
  });

  describe('resume trusts only complete outputs', () => {
    it('skips a verified song (logged in single-file mode) and redoes one with a deleted chunk or a garbage Parquet file', () => {
      const out = join(dir, 'resume');
      const args = ['--wav', song, '--song-id', 's', '--out', out, ...FAST, '--no-transcription'];
      expect(runCli(args).status).toBe(0);
      expect(existsSync(join(out, 'analysis', 's', 'manifest.json'))).toBe(true);
      // A run killed after writing its manifest but before letting go of its lock left the lock
      // file: the skipped song clears it (a dead pid on this host), as a processed song would.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
      mkdirSync(join(out, '.didactic-staging'), { recursive: true });
      writeFileSync(join(out, '.didactic-staging', 's.lock'), JSON.stringify({ pid: dead, host: hostname(), since: new Date().toISOString() }));
      const skipped = runCli([...args, '--resume']);
      expect(skipped.stderr).toMatch(/↷ Skipped \(complete outputs from an earlier run, manifest verified\)/);
      expect(skipped.stderr).toMatch(/Removed the leftovers of a killed run: s\.lock/);
      expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
      unlinkSync(join(out, 'chunks', 's', 'full_mix', 'bar_0001.wav'));
      expect(runCli([...args, '--resume']).stderr).toMatch(/Processing again \(--resume\): chunks\/s\/full_mix\/bar_0001\.wav is missing/);
      expect(existsSync(join(out, 'chunks', 's', 'full_mix', 'bar_0001.wav'))).toBe(true);
      const parquet = join(out, 'datasets', 's', 'beats.parquet');
      const bytes = readFileSync(parquet);
      bytes[bytes.length - 40] = bytes[bytes.length - 40]! ^ 0xff;
      writeFileSync(parquet, bytes);
      expect(runCli([...args, '--resume']).stderr).toMatch(/Processing again \(--resume\): datasets\/s\/beats\.parquet has changed/);
    });

    it('manifestProblem names what changed', async () => {
      const out = join(dir, 'manifest');
      const settings = {
        songId: 'm',
        inputWav: song,
        outDir: out,
        useDemucsSeparation: false,
        useBasicPitchTranscription: false,
        beatTracker: 'librosa',
      } as const;
      await new AudioPipeline(settings).run();
      const config = new PipelineConfig(settings);
      const fingerprint = await runFingerprint(config);
      expect(await manifestProblem(config, fingerprint)).toBeNull();
      // The run hashed its input copy and chunks while it went on (SongStaging.prehash); a digest
      // whose size no longer matches the file is not trusted, the file is hashed again.
      const input = join(out, 'input', 'm', basename(song));
      await writeSongManifest(config, fingerprint, false, new Map([[input, Promise.resolve({ bytes: 1, sha256: '0'.repeat(64) })]]));
      expect(await manifestProblem(config, fingerprint)).toBeNull();
      expect(await manifestProblem(config.with({ hopLength: 256 }), await runFingerprint(config.with({ hopLength: 256 })))).toBe(
        'made from another input or config',
      );
      writeFileSync(join(out, 'reports', 'm', 'extra.txt'), 'not ours'); // files the manifest does not list are ignored
      expect(await manifestProblem(config, fingerprint)).toBeNull();
      writeFileSync(join(out, 'datasets', 'm', 'bar_grid.parquet'), 'garbage');
      expect(await manifestProblem(config, fingerprint)).toMatch(/bar_grid\.parquet has \d+ bytes/);
    });
  });

  describe('crash safety', () => {
    it('after SIGKILL at 10 random moments, the next run leaves no staging folder and complete, valid outputs', async () => {
      const out = join(dir, 'killed');
      const args = [cli, '--wav', long, '--song-id', 'k', '--out', out, ...FAST, '--no-transcription', '-q'];
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const killedAt: number[] = [];
      for (let attempt = 0; killedAt.length < 10 && attempt < 30; attempt++) {
        const child = spawn(process.execPath, args, { stdio: 'ignore' });
        const exited = new Promise((r) => child.once('exit', r));
        const delay = 100 + Math.floor(random() * 900);
        await new Promise((r) => setTimeout(r, delay));
        // A run that already finished is not killed (its outputs are complete anyway).
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          killedAt.push(delay);
        }
        await exited;
      }
      expect(killedAt).toHaveLength(10);
      const r = runCli(['--wav', long, '--song-id', 'k', '--out', out, ...FAST, '--no-transcription', '--resume']);
      expect(r.status).toBe(0);
      expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
      const config = new PipelineConfig({
        songId: 'k',
        inputWav: long,
        outDir: out,
        useDemucsSeparation: false,
        useBasicPitchTranscription: false,
        beatTracker: 'librosa',
      });
      expect(await manifestProblem(config, await runFingerprint(config))).toBeNull();
      expect(summaryOf(out, 'k').num_bars).toBeGreaterThan(25);
    }, 120_000);
  });

  describe('one writer per song', () => {
    it('a second writer of the same song fails with DE_LOCKED while the holder lives; a dead holder’s lock is taken over', async () => {
      const out = join(dir, 'locked');
      const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
      mkdirSync(join(out, '.didactic-staging'), { recursive: true });
      const lock = join(out, '.didactic-staging', 'l.lock');
      writeFileSync(lock, JSON.stringify({ pid: holder.pid, host: hostname(), since: new Date().toISOString() }));
      const second = runCli(['--wav', song, '--song-id', 'l', '--out', out, ...FAST, '--no-transcription', '--json']);
      expect(second.status).toBe(1);
      expect(JSON.parse(second.stdout).failed[0].code).toBe('DE_LOCKED');
      expect(second.stderr).toContain(`is being written by process ${holder.pid}`);
      expect(existsSync(join(out, 'analysis', 'l'))).toBe(false);
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
      const third = runCli(['--wav', song, '--song-id', 'l', '--out', out, ...FAST, '--no-transcription']);
      expect(third.status).toBe(0);
      expect(existsSync(lock)).toBe(false);
      expect(existsSync(join(out, '.didactic-staging'))).toBe(false);
    });

    it('two real processes on the same song: the second fails or waits its turn, never both writing', async () => {
      const out = join(dir, 'racing');
      const args = [cli, '--wav', long, '--song-id', 'r', '--out', out, ...FAST, '--no-transcription', '--json'];
      const run = () =>
        new Promise<{ status: number | null; stdout: string }>((resolve) => {
          const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'ignore'] });
          let stdout = '';
          child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
          child.once('exit', (status) => resolve({ status, stdout }));
        });
      const results = await Promise.all([run(), run()]);
      const codes = results.map((r) => (r.status === 0 ? 'ok' : JSON.parse(r.stdout).failed[0].code));
      // Either they overlapped (one DE_LOCKED) or one finished before the other took the lock.
      expect(codes.filter((c) => c === 'ok').length).toBeGreaterThanOrEqual(1);
      expect(codes.every((c) => c === 'ok' || c === 'DE_LOCKED')).toBe(true);
      expect(summaryOf(out, 'r').duration_s).toBeCloseTo(60, 1);
    }, 60_000);

    it('a batch refuses two files that would write the same song id, naming both (usage error)', async () => {
      mkdirSync(join(dir, 'd1'), { recursive: true });
      mkdirSync(join(dir, 'd2'), { recursive: true });
      copyFileSync(song, join(dir, 'd1', 'song.wav'));
      copyFileSync(song, join(dir, 'd2', 'song.wav'));
      const r = runCli(['--wav', join(dir, 'd1', 'song.wav'), join(dir, 'd2', 'song.wav'), '--out', join(dir, 'dup'), ...FAST]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`'${join(dir, 'd1', 'song.wav')}' and '${join(dir, 'd2', 'song.wav')}' would both write song 'song'`);
      expect(existsSync(join(dir, 'dup'))).toBe(false);
      await expect(processBatch([join(dir, 'd1', 'song.wav'), join(dir, 'd2', 'song.wav')], join(dir, 'dup'))).rejects.toMatchObject({
        code: 'DE_INVALID_ARGUMENT',
      });
    });
  });

  describe('config coherence', () => {
    it('omitted timeout flags keep the 3600 s / 1800 s defaults; `none` means no timeout; --config {} changes nothing', () => {
      const out = join(dir, 'timeouts');
      runCli(['--wav', song, '--song-id', 'a', '--out', out, ...FAST, '--no-transcription']);
      expect(summaryOf(out, 'a').config).toMatchObject({ demucs_timeout_s: 3600.0, basic_pitch_timeout_s: 1800.0 });
      writeFileSync(join(dir, 'empty.json'), '{}');
      runCli(['--wav', song, '--song-id', 'b', '--out', out, ...FAST, '--no-transcription', '--config', join(dir, 'empty.json')]);
      expect(summaryOf(out, 'b').config).toEqual(summaryOf(out, 'a').config);
      runCli(['--wav', song, '--song-id', 'c', '--out', out, ...FAST, '--no-transcription', '--demucs-timeout', 'none', '--basic-pitch-timeout', '90']);
      expect(summaryOf(out, 'c').config).toMatchObject({ demucs_timeout_s: null, basic_pitch_timeout_s: 90.0 });
    });

    it('out_dir and song_id in a config file work (flags win); song_id is refused in batch mode', () => {
      const file = join(dir, 'ids.json');
      writeFileSync(file, JSON.stringify({ out_dir: join(dir, 'from-config'), song_id: 'configured' }));
      expect(runCli(['--wav', song, ...FAST, '--no-transcription', '--config', file]).status).toBe(0);
      expect(existsSync(join(dir, 'from-config', 'analysis', 'configured', 'combined.json'))).toBe(true);
      const batch = runCli(['--wav', song, long, ...FAST, '--config', file]);
      expect(batch.status).toBe(2);
      expect(batch.stderr).toMatch(/song_id, which batch mode cannot use/);
    });
  });

  describe("the original's argparse conventions", () => {
    it('unambiguous abbreviations work; ambiguous ones are usage errors', () => {
      const out = join(dir, 'abbrev');
      const r = runCli(['--wav', song, '--song', 'ab', '--out', out, '--no-demu', '--beat-tr', 'librosa', '--no-trans']);
      expect(r.status).toBe(0);
      expect(summaryOf(out, 'ab').config).toMatchObject({ use_demucs_separation: false, use_basic_pitch_transcription: false });
      const ambiguous = runCli(['--wav', song, '--song-id', 'x', '--out', out, '--no-']);
      expect(ambiguous.status).toBe(2);
      expect(ambiguous.stderr).toMatch(/ambiguous option: --no- could match/);
    });

    it('--progress with --no-progress is a usage error of one line and a hint, not the whole help', () => {
      const r = runCli(['--wav', song, '--song-id', 'x', '--progress', '--no-progress']);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([
        'error: argument --no-progress: not allowed with argument --progress [DE_INVALID_ARGUMENT]',
        "(run 'didactic-engine --help' for usage)",
      ]);
      const unknown = runCli(['--wav', song, '--bogus']);
      expect(unknown.status).toBe(2);
      expect(unknown.stderr.trim().split('\n').length).toBeLessThanOrEqual(2);
      expect(unknown.stderr).not.toContain('Options:');
    });

    it('--wav given twice: the last wins; several files after one --wav stay a batch', () => {
      const out = join(dir, 'lastwav');
      const r = runCli(['--wav', join(dir, 'missing.wav'), '--wav', song, '--song-id', 'w', '--out', out, ...FAST, '--no-transcription']);
      expect(r.status).toBe(0);
      expect(existsSync(join(out, 'input', 'w', 'song.wav'))).toBe(true);
    });

    it('an expected input error is one line with its code and no stack unless --verbose', () => {
      const bad = join(dir, 'bad.wav');
      writeFileSync(bad, 'not audio at all');
      const r = runCli(['--wav', bad, '--song-id', 'bad', '--out', join(dir, 'bad-out'), ...FAST, '--json']);
      expect(r.status).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(JSON.parse(r.stdout).failed[0].code).toMatch(/^DE_/);
    });
  });

  describe('small things', () => {
    it('transcribe -o into a folder whose parent is missing fails clearly and creates nothing', () => {
      const target = join(dir, 'nowhere', 'deeper', 'x.mid');
      const r = runCli(['transcribe', song, '-o', target]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(/cannot be created: its parent .*nowhere does not exist \[DE_FILE_NOT_FOUND\]/);
      expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    });

    it('a full disk is DE_DISK_FULL, not a raw ENOSPC', async () => {
      const enospc = Object.assign(new Error('ENOSPC: no space left on device, copyfile'), { code: 'ENOSPC' });
      const err = toWriteError(enospc, join(dir, 'x'), 'copyInput');
      expect(err).toMatchObject({ code: 'DE_DISK_FULL' });
      expect((err as Error).message).toMatch(/the disk is full/);
    });
  });
});
