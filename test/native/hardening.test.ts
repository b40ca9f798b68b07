/**
 * Issue 13, point 1: nothing a caller passes may crash the process. Each hostile call runs first
 * against the raw addon in a child process (a crash there is SIGABRT/SIGSEGV, which no try/catch
 * can see, and would take the test runner down), then through the public wrappers in-process.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { beatTrackFromEnvelope, istft, onsetStrength, stft } from '../../lib/entries/analysis.js';
import { analyze, decodeAudio, DidacticError, features, resample, writeWav } from '../../lib/index.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const dir = useTempDir('didactic-harden-');

/**
 * Runs `body` (an async function body with `b`, the raw binding) in a fresh node process and
 * returns how it ended. The body returns a value or throws; the child prints the code it got.
 */
function inChild(body: string, env: Record<string, string> = {}): { status: number | null; signal: string | null; out: string } {
  const script = `
    const b = require('node-gyp-build')(${JSON.stringify(root)});
    (async () => { ${body} })().then(
      (v) => { console.log('RESOLVED ' + (v && v.length !== undefined ? v.length : Object.keys(v || {}).join(','))); },
      (e) => { console.log('REJECTED ' + e.code + ' ' + e.message); },
    );`;
  const r = spawnSync(process.execPath, ['-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { status: r.status, signal: r.signal, out: `${r.stdout}${r.stderr}` };
}

function expectCoded(r: ReturnType<typeof inChild>, code: string): void {
  if (r.status !== 0 || r.signal) console.error(r);
  expect(r.signal).toBeNull();
  expect(r.status).toBe(0);
  expect(r.out).toContain(`REJECTED ${code}`);
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<DidacticError> {
  const err = await p.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DidacticError);
  expect((err as DidacticError).code).toBe(code);
  return err as DidacticError;
}

const RESAMPLE = "{ channels: 1, inRate: 22050, outRate: 44100, engine: 'soxr_hq' }";
const STFT = "nFft: 2048, hopLength: 512, winLength: 2048, window: 'hann', center: true, padMode: 'constant'";
const BEAT = 'startBpm: 120, stdBpm: 1, acSize: 8, maxTempo: 320, tightness: 100, trim: true, bpm: 0';

describe('the raw addon turns hostile arguments into coded rejections (child process)', () => {
  it('resample to 4e8 Hz (once: 10-22 GB, then "double free" SIGABRT)', () => {
    expectCoded(
      inChild(`return b.resample(new Float32Array(110250), { channels: 1, inRate: 22050, outRate: 4e8, engine: 'soxr_hq' });`),
      'DE_INVALID_ARGUMENT',
    );
  });

  it('resample with NaN, zero, negative and fractional channel counts and rates', () => {
    for (const o of [
      "{ channels: NaN, inRate: 22050, outRate: 44100, engine: 'soxr_hq' }",
      "{ channels: 1e12, inRate: 22050, outRate: 44100, engine: 'soxr_hq' }",
      "{ channels: 1.5, inRate: 22050, outRate: 44100, engine: 'soxr_hq' }",
      "{ channels: 1, inRate: 1, outRate: 44100, engine: 'soxr_hq' }",
      "{ channels: 1, inRate: 22050, outRate: Infinity, engine: 'sinc_best' }",
    ]) {
      expectCoded(inChild(`return b.resample(new Float32Array(1000), ${o});`), 'DE_INVALID_ARGUMENT');
    }
  });

  it('resample rejects NaN and infinite samples like every other entry point', () => {
    expectCoded(inChild(`const x = new Float32Array(1000); x[500] = NaN; return b.resample(x, ${RESAMPLE});`), 'DE_NON_FINITE_SAMPLES');
    expectCoded(inChild(`const x = new Float32Array(1000); x[3] = -Infinity; return b.resample(x, ${RESAMPLE});`), 'DE_NON_FINITE_SAMPLES');
  });

  it('an output over the allocation ceiling is DE_RESOURCE_LIMIT, not an abort', () => {
    // 1 M samples up 8x = 32 MiB of output against a 16 MiB ceiling
    expectCoded(
      inChild(`return b.resample(new Float32Array(1 << 20), { channels: 1, inRate: 8000, outRate: 64000, engine: 'soxr_hq' });`, {
        DIDACTIC_MAX_BYTES: String(16 * 1024 * 1024),
      }),
      'DE_RESOURCE_LIMIT',
    );
  });

  it('analyze at 1e12 Hz, NaN hop, huge frame lengths and mel counts', () => {
    const base = `sampleRate: 22050, ${STFT}, melPower: false, melDb: false, mfcc: true, chroma: false, centroid: false, bandwidth: false, rolloff: false, zcr: false, rms: false, onset: true, beats: true, nMels: 128, fmin: 0, fmax: -1, htk: false, melNorm: -1, power: 2, ref: 1, amin: 1e-10, topDb: 80, nMfcc: 13, lifter: 0, nChroma: 12, tuning: 0, ctroct: 5, octwidth: 2, chromaNorm: Infinity, bandwidthP: 2, rollPercent: 0.85, frameLength: 2048, frameHop: 512, onsetAggregate: 'median', lag: 1, maxSize: 1, detrend: false, threads: 1, ${BEAT}`;
    for (const override of [
      'sampleRate: 1e12',
      'sampleRate: 0.5',
      'hopLength: NaN',
      'nFft: 1e9',
      'frameLength: 1e12',
      'nMels: 1e9',
      'lag: -3',
      'acSize: 1e300',
      'bpm: 1e-300',
    ]) {
      // clicks every quarter second, so the onset envelope (and so the tempo code) is not all zero
      expectCoded(
        inChild(`return b.analyze(new Float32Array(22050).map((_, i) => (i % 5512 < 200 ? Math.sin(i / 3) : 0)), { ${base}, ${override} });`),
        'DE_INVALID_ARGUMENT',
      );
    }
  });

  it('stft whose spectrogram would exceed the ceiling, istft with an absurd length', () => {
    expectCoded(
      inChild(
        `return b.stft(new Float32Array(1 << 20), { nFft: 4096, hopLength: 1, winLength: 4096, window: 'hann', center: true, padMode: 'constant', output: 'complex' });`,
      ),
      'DE_RESOURCE_LIMIT',
    );
    expectCoded(inChild(`return b.istft(new Float32Array(1025 * 4 * 2), { ${STFT}, bins: 1025, frames: 4, length: 2 ** 40 });`), 'DE_RESOURCE_LIMIT');
  });

  it('beat tracking and tempo on an envelope with absurd rates and tempi', () => {
    const env = 'new Float32Array(2000).map((_, i) => (i % 43 === 0 ? 1 : 0))';
    for (const o of [
      `sampleRate: 2e9, hopLength: 512, ${BEAT}`,
      `sampleRate: 22050, hopLength: NaN, ${BEAT}`,
      `sampleRate: 22050, hopLength: 512, ${BEAT.replace('bpm: 0', 'bpm: 1e-9')}`,
      `sampleRate: 22050, hopLength: 512, ${BEAT.replace('acSize: 8', 'acSize: 1e9')}`,
      `sampleRate: 22050, hopLength: 512, ${BEAT.replace('stdBpm: 1', 'stdBpm: NaN')}`,
    ]) {
      expectCoded(inChild(`return b.beatTrackEnvelope(${env}, { ${o} });`), 'DE_INVALID_ARGUMENT');
    }
    expectCoded(
      inChild(`return b.tempoEnvelope(${env}, { sampleRate: 22050, hopLength: 512, ${BEAT.replace('acSize: 8', 'acSize: 1e12')} });`),
      'DE_INVALID_ARGUMENT',
    );
  });

  it('writeWav at 0, NaN and 2 GHz sample rates', () => {
    for (const rate of ['0', 'NaN', '2e9', '-44100']) {
      expectCoded(
        inChild(`return b.writeWav(${JSON.stringify(join(dir, 'w.wav'))}, new Float32Array(100), { channels: 1, sampleRate: ${rate}, subtype: 'PCM_16' });`),
        'DE_INVALID_ARGUMENT',
      );
    }
  });
});

/** A 16-bit mono PCM WAV header claiming `rate`, followed by `frames` samples of a sine. */
function wavWithRate(rate: number, frames = 4000): Buffer {
  const data = Buffer.alloc(frames * 2);
  for (let i = 0; i < frames; i++) data.writeInt16LE(Math.round(8000 * Math.sin(i / 5)), i * 2);
  const h = Buffer.alloc(44);
  h.write('RIFF', 0);
  h.writeUInt32LE(36 + data.length, 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE((rate * 2) >>> 0, 28);
  h.writeUInt16LE(2, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(data.length, 40);
  return Buffer.concat([h, data]);
}

describe('the public wrappers reject the same calls with coded errors', () => {
  // clicks every quarter second: a non-zero onset envelope, so tempo and beat code runs
  const y = new Float32Array(22050).map((_, i) => (i % 5512 < 200 ? Math.sin(i / 3) : 0));

  it('resample: absurd rates, NaN samples', async () => {
    await rejectsWith(resample(new Float32Array(110250), { inRate: 22050, outRate: 4e8 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(resample(new Float32Array(100), { inRate: 1, outRate: 22050 }), 'DE_INVALID_ARGUMENT');
    const nan = new Float32Array(1000);
    nan[10] = Number.NaN;
    await rejectsWith(resample(nan, { inRate: 22050, outRate: 44100 }), 'DE_NON_FINITE_SAMPLES');
    // the bounds leave real work alone
    expect((await resample(y, { inRate: 22050, outRate: 44100 })).length).toBe(44100);
  });

  it('analysis entry points: 1e12 Hz, absurd framing and tempi', async () => {
    await rejectsWith(analyze(y, 1e12), 'DE_INVALID_ARGUMENT');
    await rejectsWith(analyze(y, 1), 'DE_INVALID_ARGUMENT');
    await rejectsWith(features(y, 22050, ['mfcc'], { hopLength: 2 ** 40 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(features(y, 22050, ['rms'], { frameLength: 1e9 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(features(y, 22050, ['mfcc'], { nMfcc: 1e6, nMels: 128 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(onsetStrength(y, 22050, { lag: 1e9 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(analyze(y, 22050, { acSize: 1e9 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(analyze(y, 22050, { bpm: 1e-300 }), 'DE_INVALID_ARGUMENT');
    // a tempogram window of 155k frames: its W^2 transform once kept a worker busy for minutes
    const t0 = Date.now();
    await rejectsWith(analyze(y, 22050, { acSize: 3600 }), 'DE_INVALID_ARGUMENT');
    expect(Date.now() - t0).toBeLessThan(5000);
    await rejectsWith(stft(y, { nFft: 2 ** 20 }), 'DE_INVALID_ARGUMENT');
    // a prime FFT size: kissfft's O(n^2) butterfly took seconds per frame
    await rejectsWith(stft(y, { nFft: 65521 }), 'DE_INVALID_ARGUMENT');
    expect((await stft(y.subarray(0, 8192), { nFft: 1501 })).bins).toBe(751);
    const spec = await stft(y.subarray(0, 4096));
    await rejectsWith(istft(spec, { length: 2 ** 50 }), 'DE_INVALID_ARGUMENT');
    const env = new Float32Array(500).map((_, i) => (i % 20 === 0 ? 1 : 0));
    await rejectsWith(beatTrackFromEnvelope(env, 1e12), 'DE_INVALID_ARGUMENT');
    await rejectsWith(beatTrackFromEnvelope(env, 22050, { hopLength: 2 ** 40 }), 'DE_INVALID_ARGUMENT');
    // still works at the defaults
    expect((await analyze(y, 22050)).frames).toBeGreaterThan(0);
  });

  it('writeWav: sample rates outside 1 kHz .. 768 kHz', async () => {
    await rejectsWith(writeWav(join(dir, 'a.wav'), new Float32Array(10), { sampleRate: 1 }), 'DE_INVALID_ARGUMENT');
    await rejectsWith(writeWav(join(dir, 'b.wav'), new Float32Array(10), { sampleRate: 2e9 }), 'DE_INVALID_ARGUMENT');
  });

  it('WAV headers claiming 1 Hz or 2 GHz are unsupported, not songs', async () => {
    for (const rate of [1, 999, 2_000_000_000]) {
      const path = join(dir, `rate-${rate}.wav`);
      writeFileSync(path, wavWithRate(rate));
      const err = await rejectsWith(decodeAudio(path), 'DE_UNSUPPORTED_FORMAT');
      expect(err.message).toContain('1000..768000');
      await rejectsWith(decodeAudio(readFileSync(path)), 'DE_UNSUPPORTED_FORMAT');
    }
    // the edges of the range decode
    for (const rate of [1000, 768_000]) {
      const path = join(dir, `rate-ok-${rate}.wav`);
      writeFileSync(path, wavWithRate(rate));
      expect((await decodeAudio(path)).sampleRate).toBe(rate);
    }
  });
});
