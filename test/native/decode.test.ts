import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { decodeAudio, DecodeError, writeWav } from '../../lib/index.js';
import { useTempDir } from '../helpers/tmp.js';
import { notRoot, requires } from '../helpers/requires.js';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'audio');
interface FixtureEntry {
  file: string;
  container: string;
  sampleFormat: string;
  sampleRate: number;
  channels: number;
  frames: number;
  head: number[];
  sum: number;
  sumAbs: number;
}
const manifest = JSON.parse(readFileSync(join(fixtures, 'manifest.json'), 'utf8')) as { files: FixtureEntry[] };

describe('decodeAudio: every container and codec of the vendored libsndfile', () => {
  it.each(manifest.files.map((f) => [f.file, f] as const))('%s decodes like python-soundfile', async (_name, f) => {
    const audio = await decodeAudio(join(fixtures, f.file));
    expect(audio.container).toBe(f.container);
    expect(audio.sampleFormat).toBe(f.sampleFormat);
    expect(audio.sampleRate).toBe(f.sampleRate);
    expect(audio.channels).toBe(f.channels);
    expect(audio.frames).toBe(f.frames);
    expect(audio.duration).toBeCloseTo(f.frames / f.sampleRate, 12);
    expect(audio.samples.length).toBe(f.frames * f.channels);
    // Same library and scaling as python-soundfile: identical samples up to float32 rounding.
    for (let i = 0; i < f.head.length; i++) expect(audio.samples[i]).toBeCloseTo(f.head[i]!, 6);
    let sum = 0;
    let sumAbs = 0;
    for (const s of audio.samples) {
      sum += s;
      sumAbs += Math.abs(s);
    }
    expect(Math.abs(sum - f.sum)).toBeLessThan(1e-6 * f.frames);
    expect(Math.abs(sumAbs - f.sumAbs) / f.sumAbs).toBeLessThan(1e-7);
  });

  it('decodes the same bytes from a Buffer as from the path', async () => {
    const path = join(fixtures, 'pcm_24.flac');
    const fromPath = await decodeAudio(path);
    const fromBuffer = await decodeAudio(readFileSync(path));
    expect(fromBuffer.frames).toBe(fromPath.frames);
    expect(fromBuffer.container).toBe('FLAC');
    expect(Buffer.from(fromBuffer.samples.buffer).equals(Buffer.from(fromPath.samples.buffer))).toBe(true);
  });

  it('down-mixes to mono as the mean of the channels', async () => {
    const path = join(fixtures, 'float.wav');
    const stereo = await decodeAudio(path);
    const mono = await decodeAudio(path, { mono: true });
    expect(mono.channels).toBe(1);
    expect(mono.sourceChannels).toBe(2);
    expect(mono.samples.length).toBe(stereo.frames);
    for (let f = 0; f < stereo.frames; f += 97) {
      expect(mono.samples[f]).toBeCloseTo((stereo.samples[2 * f]! + stereo.samples[2 * f + 1]!) / 2, 7);
    }
  });

  it('returns planar (channel-major) samples when asked', async () => {
    const path = join(fixtures, 'pcm_16.wav');
    const inter = await decodeAudio(path);
    const planar = await decodeAudio(path, { planar: true });
    expect(planar.layout).toBe('planar');
    const n = inter.frames;
    for (let f = 0; f < n; f += 101) {
      expect(planar.samples[f]).toBe(inter.samples[2 * f]);
      expect(planar.samples[n + f]).toBe(inter.samples[2 * f + 1]);
    }
  });

  it('rejects options it does not know', async () => {
    await expect(decodeAudio(join(fixtures, 'pcm_16.wav'), { mono: true, bogus: 1 } as never)).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
  });
});

describe('decodeAudio: bad input gets its own typed error', () => {
  const dir = useTempDir();

  async function decodeError(input: string | Uint8Array): Promise<DecodeError> {
    try {
      await decodeAudio(input);
    } catch (err) {
      expect(err).toBeInstanceOf(DecodeError);
      return err as DecodeError;
    }
    throw new Error('expected decodeAudio to fail');
  }

  it('missing file', async () => {
    const err = await decodeError(join(dir, 'missing.wav'));
    expect(err.code).toBe('DE_FILE_NOT_FOUND');
    expect(err.message).toContain('missing.wav');
    // The stack points at the caller, not at native internals.
    expect(err.stack).toContain('decode.test.ts');
  });

  it('a directory', async () => {
    const sub = join(dir, 'folder.wav');
    mkdirSync(sub);
    expect((await decodeError(sub)).code).toBe('DE_IS_DIRECTORY');
  });

  it('an empty file and an empty buffer', async () => {
    const empty = join(dir, 'empty.wav');
    writeFileSync(empty, '');
    expect((await decodeError(empty)).code).toBe('DE_EMPTY_FILE');
    expect((await decodeError(new Uint8Array(0))).code).toBe('DE_EMPTY_FILE');
  });

  it('a text file named .wav', async () => {
    const text = join(dir, 'notes.wav');
    writeFileSync(text, 'These are not the samples you are looking for.\n'.repeat(20));
    const err = await decodeError(text);
    expect(err.code).toBe('DE_UNSUPPORTED_FORMAT');
    expect(err.message).toContain('not a recognised audio format');
  });

  it('a truncated WAV: decoded up to the cut, or DE_CORRUPT_AUDIO when strict (decode-truncated.test.ts)', async () => {
    const whole = readFileSync(join(fixtures, 'pcm_16.wav'));
    const cut = join(dir, 'truncated.wav');
    writeFileSync(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const audio = await decodeAudio(cut);
    expect(audio.truncated?.expectedFrames).toBe(5512);
    expect(audio.truncated?.actualFrames).toBe(audio.frames);
    expect(audio.frames).toBeLessThan(5512);
    const err = (await decodeAudio(cut, { strict: true }).catch((e: unknown) => e)) as DecodeError;
    expect(err.code).toBe('DE_CORRUPT_AUDIO');
    expect(err.message).toContain('truncated');
  });

  it('a WAV cut inside its header', async () => {
    const whole = readFileSync(join(fixtures, 'pcm_16.wav'));
    const cut = join(dir, 'header-only.wav');
    writeFileSync(cut, whole.subarray(0, 30));
    expect(['DE_CORRUPT_AUDIO', 'DE_UNSUPPORTED_FORMAT']).toContain((await decodeError(cut)).code);
  });

  it('a float WAV holding NaN', async () => {
    const path = join(dir, 'nan.wav');
    const samples = new Float32Array(1000).fill(0.25);
    samples[500] = Number.NaN;
    // The writer refuses NaN, so build the float WAV from a clean one and poke the NaN in.
    await writeWav(path, new Float32Array(1000).fill(0.25), { sampleRate: 8000, subtype: 'FLOAT' });
    const bytes = readFileSync(path);
    const dataAt = bytes.indexOf('data') + 8;
    bytes.writeFloatLE(Number.NaN, dataAt + 500 * 4);
    writeFileSync(path, bytes);
    const err = await decodeError(path);
    expect(err.code).toBe('DE_NON_FINITE_SAMPLES');
    expect(err.message).toContain('frame 500');
  });

  it('an unreadable file (skipped as root: root reads anything)', requires(notRoot()), async () => {
    const path = join(dir, 'locked.wav');
    writeFileSync(path, readFileSync(join(fixtures, 'pcm_16.wav')));
    chmodSync(path, 0o000);
    expect((await decodeError(path)).code).toBe('DE_PERMISSION_DENIED');
  });
});
