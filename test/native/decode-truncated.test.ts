/**
 * Issue 13, points 3 and 4. MP3 files whose header length is only an estimate decode to their real
 * end (never "truncated"); WAV/AIFF files cut short decode what is present, say so in
 * `truncated`, warn through the logger, and fail only with `strict`.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { decodeAudio, DidacticError, type Logger } from '../../lib/index.js';
import { onPath, requires } from '../helpers/requires.js';
import { useTempDir } from '../helpers/tmp.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'audio');
const dir = useTempDir('didactic-trunc-');

const mp3Tools = requires(onPath('sox', 'apt-get install sox libsox-fmt-mp3'), onPath('lame', 'apt-get install lame'));

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
}

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} };
}

describe('MP3 from lame and sox decodes to its real end (needs sox, lame, libsox-fmt-mp3)', mp3Tools, () => {
  // 4 of these 16 files (lame -t and sox at 44.1 kHz) once failed with DE_CORRUPT_AUDIO
  // "truncated (442368 of 443030 frames readable)": libsndfile took mpg123's estimate for a length.
  const cases: { name: string; rate: number; channels: number; wav: string; mp3: string; tagged: boolean }[] = [];
  for (const rate of [44100, 48000]) {
    for (const channels of [1, 2]) {
      const wav = join(dir, `src_${rate}_${channels}.wav`);
      const encoders: [string, boolean, (mp3: string) => void][] = [
        ['lame-cbr', true, (mp3) => run('lame', ['--quiet', '-b', '192', wav, mp3])],
        ['lame-vbr', true, (mp3) => run('lame', ['--quiet', '-V', '2', wav, mp3])],
        ['lame-notag', false, (mp3) => run('lame', ['--quiet', '-b', '192', '-t', wav, mp3])],
        ['sox', false, (mp3) => run('sox', [wav, mp3])],
      ];
      for (const [enc, tagged, make] of encoders) {
        const mp3 = join(dir, `${enc}_${rate}_${channels}.mp3`);
        cases.push({ name: `${enc} ${rate} Hz ${channels === 1 ? 'mono' : 'stereo'}`, rate, channels, wav, mp3, tagged });
        (cases[cases.length - 1] as { make?: () => void }).make = () => make(mp3);
      }
    }
  }
  const made = new Set<string>();
  function prepare(c: (typeof cases)[number]): void {
    if (!made.has(c.wav)) {
      run('sox', ['-n', '-r', String(c.rate), '-c', String(c.channels), '-b', '16', c.wav, 'synth', '6', 'pluck', 'C4', 'pluck', 'E4', 'tremolo', '2', '40']);
      made.add(c.wav);
    }
    (c as { make?: () => void }).make!();
  }

  it('has 16 cases', () => expect(cases.length).toBe(16));

  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    prepare(c);
    const source = await decodeAudio(c.wav);
    const audio = await decodeAudio(c.mp3);
    expect(audio.container).toBe('MP3');
    expect(audio.sampleFormat).toBe('MPEG_LAYER_III');
    expect(audio.sampleRate).toBe(c.rate);
    expect(audio.channels).toBe(c.channels);
    expect(audio.truncated).toBeNull();
    expect(audio.samples.length).toBe(audio.frames * c.channels);
    if (c.tagged) {
      // the LAME tag records delay and padding: gapless decoding gives the source's length exactly
      expect(audio.frames).toBe(source.frames);
      let err = 0;
      let ref = 0;
      for (let i = 0; i < source.samples.length; i++) {
        err += ((audio.samples[i] as number) - (source.samples[i] as number)) ** 2;
        ref += (source.samples[i] as number) ** 2;
      }
      expect(ref).toBeGreaterThan(0);
      expect(Math.sqrt(err / ref)).toBeLessThan(0.2); // aligned: an encoding error, not a shift
    } else {
      // no tag: every MPEG frame's 1152 samples, encoder delay and padding included
      expect(audio.frames).toBeGreaterThanOrEqual(source.frames);
      expect(audio.frames).toBeLessThanOrEqual(source.frames + 3 * 1152);
      expect(audio.frames % 1152).toBe(0);
    }
    const fromBuffer = await decodeAudio(readFileSync(c.mp3));
    expect(fromBuffer.frames).toBe(audio.frames);
    expect(Buffer.from(fromBuffer.samples.buffer).equals(Buffer.from(audio.samples.buffer))).toBe(true);
    // strict is about truncated WAV/AIFF: a complete MP3 passes it
    expect((await decodeAudio(c.mp3, { strict: true })).frames).toBe(audio.frames);
  });
});

describe('WAV and AIFF cut short decode what is present', () => {
  // [fixture, bytes per frame]
  const files: [string, number][] = [
    ['pcm_16.wav', 4],
    ['pcm_24.wav', 6],
    ['float.wav', 8],
    ['pcm_16.aiff', 4],
    ['pcm_s8.aiff', 2],
    ['rf64_16.wav', 4],
  ];

  it.each(files)('%s cut mid-data and mid-frame', async (file, frameBytes) => {
    const whole = readFileSync(join(fixtures, file));
    const full = await decodeAudio(whole);
    expect(full.truncated).toBeNull();
    const dataStart = whole.length - full.frames * frameBytes;
    expect(dataStart).toBeGreaterThan(0);
    for (const keep of [0.5, 0.9]) {
      for (const extra of [0, 1]) {
        // mid-data (a whole number of frames), then mid-frame (one byte into the next frame)
        const frames = Math.floor(full.frames * keep);
        const cut = whole.subarray(0, dataStart + frames * frameBytes + (frameBytes > 1 ? extra : 0));
        const path = join(dir, `cut-${keep}-${extra}-${file}`);
        writeFileSync(path, cut);
        const logger = recordingLogger();
        const audio = await decodeAudio(path, { logger });
        expect(audio.frames).toBe(frames);
        expect(audio.truncated).toEqual({ expectedFrames: full.frames, actualFrames: frames });
        // the frames present are the original's
        expect(Buffer.from(audio.samples.buffer).equals(Buffer.from(full.samples.buffer, 0, audio.samples.byteLength))).toBe(true);
        expect(logger.warnings).toHaveLength(1);
        expect(logger.warnings[0]).toContain(`${frames} of ${full.frames} frames`);
        // the same from memory
        expect((await decodeAudio(cut)).truncated).toEqual({ expectedFrames: full.frames, actualFrames: frames });
        // strict turns it into a failure
        const err = await decodeAudio(path, { strict: true }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(DidacticError);
        expect((err as DidacticError).code).toBe('DE_CORRUPT_AUDIO');
        expect((err as DidacticError).message).toContain(`truncated (${frames} of ${full.frames} frames present)`);
      }
    }
  });

  it.each(files)('%s cut right after its header (no sample present) fails', async (file, frameBytes) => {
    const whole = readFileSync(join(fixtures, file));
    const full = await decodeAudio(whole);
    const dataStart = whole.length - full.frames * frameBytes;
    const path = join(dir, `header-only-${file}`);
    writeFileSync(path, whole.subarray(0, dataStart));
    const err = await decodeAudio(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DidacticError);
    expect((err as DidacticError).code).toBe('DE_CORRUPT_AUDIO');
  });

  it('a complete file is never reported truncated, and strict leaves it alone', async () => {
    for (const [file] of files) {
      const path = join(fixtures, file);
      expect((await decodeAudio(path)).truncated).toBeNull();
      expect((await decodeAudio(path, { strict: true })).truncated).toBeNull();
    }
  });
});
