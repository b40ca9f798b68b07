// A song whose planned memory exceeds the budget is refused with DE_RESOURCE_LIMIT before step 1:
// nothing is copied, decoded or written, and a batch goes on past it. The long inputs are sparse
// files (a WAV header declaring hours over a hole), so no test holds gigabytes.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { probeAudio } from '../../lib/audio/probe.js';
import { processBatch, writeWav } from '../../lib/index.js';
import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { PipelineConfig } from '../../lib/pipeline/config.js';
import { planSongMemory, songMemoryBudgetBytes } from '../../lib/pipeline/memory.js';
import { clickTrack } from '../helpers/clicks.js';
import { need, onPath, requires } from '../helpers/requires.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const MiB = 1024 * 1024;
const SIX_HOURS = 6 * 3600;
const NO_MODELS = ['--no-demucs', '--no-transcription', '--beat-tracker', 'librosa'];

function runCli(args: string[]) {
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A 16-bit PCM WAV whose header declares `seconds` of silence, written as a sparse file. */
function sparseWav(path: string, seconds: number, sampleRate = 44100, channels = 2): void {
  const data = seconds * sampleRate * channels * 2;
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data, 40);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, header);
    ftruncateSync(fd, 44 + data);
  } finally {
    closeSync(fd);
  }
}

const cfgOf = (over: Record<string, unknown>) => new PipelineConfig({ songId: 's', inputWav: 'x.wav', outDir: 'o', ...over }, { warn: null });

describe('memory budget: long inputs are refused before step 1', () => {
  const dir = useTempDir();
  const long = join(dir, 'long.wav');
  const click = join(dir, 'click.wav');

  beforeAll(async () => {
    sparseWav(long, SIX_HOURS);
    await writeWav(click, clickTrack({ sampleRate: 22050, seconds: 8, bpm: 120, beatsPerBar: 4 }), { sampleRate: 22050 });
  });

  it('the probe reads the 6-hour header without decoding it', async () => {
    const p = await probeAudio(long);
    expect(p).toMatchObject({ sampleRate: 44100, channels: 2, frames: SIX_HOURS * 44100, exact: true, container: 'WAV' });
    expect(p.duration).toBe(SIX_HOURS);
  });

  it('the probe reports unreadable inputs with the decoder codes', async () => {
    const notAudio = join(dir, 'not-audio.wav');
    writeFileSync(notAudio, 'this is not audio\n'.repeat(10));
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, '');
    await expect(probeAudio(join(dir, 'missing.wav'))).rejects.toMatchObject({ code: 'DE_FILE_NOT_FOUND' });
    await expect(probeAudio(notAudio)).rejects.toMatchObject({ code: 'DE_UNSUPPORTED_FORMAT' });
    await expect(probeAudio(empty)).rejects.toMatchObject({ code: 'DE_EMPTY_FILE' });
    await expect(probeAudio(dir)).rejects.toMatchObject({ code: 'DE_IS_DIRECTORY' });
  });

  // The case with default settings: every machine under ~120 GiB refuses it by default.
  const defaultPlan = planSongMemory({ frames: SIX_HOURS * 44100, sampleRate: 44100, channels: 2 }, cfgOf({})).peakBytes;
  const overBudget = requires(need(defaultPlan > songMemoryBudgetBytes(null), 'this machine can afford a 6-hour WAV under the default budget'));
  it('default settings: the 6-hour WAV fails with DE_RESOURCE_LIMIT, exit 1, no output folder', overBudget, () => {
    const out = join(dir, 'out-default');
    const r = runCli(['--wav', long, '--song-id', 'long', '--out', out, '--json']);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as { failed: { song_id: string; code: string; error: string }[] };
    expect(json.failed).toHaveLength(1);
    expect(json.failed[0]!.code).toBe('DE_RESOURCE_LIMIT');
    expect(json.failed[0]!.error).toMatch(
      /6 h 0 min of audio \(44100 Hz, 2 ch\) would need about \d+ MiB \(step 5, separateStems\), over the memory budget of \d+ MiB/,
    );
    expect(json.failed[0]!.error).toContain('--memory-budget');
    // Refused before step 1: not even the output root was made.
    expect(existsSync(out)).toBe(false);
  });

  it('a batch goes on past the refused song; only the song that fits leaves outputs', () => {
    const out = join(dir, 'out-batch');
    const r = runCli(['--wav', long, click, '--out', out, '--memory-budget', '4096', '--no-chunk-wavs', '--json', ...NO_MODELS]);
    expect(r.status).toBe(1);
    const json = JSON.parse(r.stdout) as { success_count: number; failure_count: number; failed: { song_id: string; code: string }[] };
    expect(json.success_count).toBe(1);
    expect(json.failure_count).toBe(1);
    expect(json.failed[0]).toMatchObject({ song_id: 'long', code: 'DE_RESOURCE_LIMIT' });
    expect(existsSync(join(out, 'analysis', 'click', 'combined.json'))).toBe(true);
    for (const kind of readdirSync(out)) expect(readdirSync(join(out, kind))).not.toContain('long');
  });

  it('a short input over a small --memory-budget is refused the same way; without the flag it runs', () => {
    const out = join(dir, 'out-small');
    const refused = runCli(['--wav', click, '--song-id', 'click', '--out', out, '--memory-budget', '64', '--json', ...NO_MODELS]);
    expect(refused.status).toBe(1);
    const json = JSON.parse(refused.stdout) as { failed: { code: string; error: string }[] };
    expect(json.failed[0]!.code).toBe('DE_RESOURCE_LIMIT');
    expect(json.failed[0]!.error).toContain('over the memory budget of 64 MiB');
    expect(existsSync(out)).toBe(false);
    const ok = runCli(['--wav', click, '--song-id', 'click', '--out', out, '--no-chunk-wavs', '--json', ...NO_MODELS]);
    expect(ok.status).toBe(0);
  });

  it('a config file sets memory_budget_mb; the library API reports the code too', async () => {
    const cfgFile = join(dir, 'budget.json');
    writeFileSync(cfgFile, JSON.stringify({ memory_budget_mb: 1024 }));
    const r = runCli(['--wav', long, '--song-id', 'long', '--out', join(dir, 'out-cfg'), '--config', cfgFile, '--json', ...NO_MODELS]);
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).failed[0].error).toContain('budget of 1024 MiB');

    const out = join(dir, 'out-api');
    const res = await processBatch([long], out, { config: { memoryBudgetMb: 2048, useDemucsSeparation: false, useBasicPitchTranscription: false } });
    expect(res.failures).toEqual([expect.objectContaining({ song_id: 'long', code: 'DE_RESOURCE_LIMIT' })]);
    expect(existsSync(out)).toBe(false);
  });

  const sox = requires(onPath('sox', 'apt-get install sox'));
  it('a FLAC whose header gives no length is checked again after decoding (step 2), and leaves nothing', sox, async () => {
    // 60 s of clicks as FLAC, then STREAMINFO's total-samples field zeroed ("unknown").
    const wav = join(dir, 'minute.wav');
    const flac = join(dir, 'minute.flac');
    await writeWav(wav, clickTrack({ sampleRate: 44100, seconds: 60, bpm: 120, beatsPerBar: 4 }), { sampleRate: 44100 });
    expect(spawnSync('sox', [wav, flac]).status).toBe(0);
    const bytes = readFileSync(flac);
    expect(bytes.toString('latin1', 0, 4)).toBe('fLaC');
    const bits = bytes.readBigUInt64BE(18);
    bytes.writeBigUInt64BE(bits & ~((1n << 36n) - 1n), 18);
    writeFileSync(flac, bytes);
    expect((await probeAudio(flac)).frames).toBeNull();

    const config = { useDemucsSeparation: false, useBasicPitchTranscription: false, beatTracker: 'librosa' as const };
    // The plan processBatch runs the song under (on a multi-core machine its steps overlap, which the memory plan counts).
    const run = planConcurrency({ jobs: 1 });
    const planned = planSongMemory({ frames: 60 * 44100, sampleRate: 44100, channels: 1 }, cfgOf(config), run.stemConcurrency, run.songConcurrency).peakBytes;
    const out = join(dir, 'out-flac');
    const refused = await processBatch([flac], out, { config: { ...config, memoryBudgetMb: Math.floor(planned / MiB) - 1 } });
    expect(refused.failures).toEqual([expect.objectContaining({ song_id: 'minute', code: 'DE_RESOURCE_LIMIT' })]);
    expect(refused.failures[0]!.error).toContain('1 min 0 s of audio');
    // Step 1 had copied the input into staging; the failed song's staging was discarded.
    for (const kind of existsSync(out) ? readdirSync(out) : []) expect(readdirSync(join(out, kind))).not.toContain('minute');
    const ok = await processBatch([flac], out, { config: { ...config, memoryBudgetMb: Math.ceil(planned / MiB) } });
    expect(ok.failure_count).toBe(0);
  });
});
