/**
 * Parity of the analysis core with librosa 0.11.0 (fixtures: scripts/reference/make_analysis_fixtures.py).
 *
 * Tolerances (all stated against the librosa reference r, ours o):
 *  - STFT magnitude: max |o - r| <= 1e-4 * max |r| (relative to the spectrogram's largest magnitude)
 *  - mel dB: max |o - r| <= 0.005 dB
 *  - MFCC: max |o - r| <= 1e-3 * max |r| (relative to the matrix's largest coefficient)
 *  - chroma (max-normalised, in [0, 1]): max |o - r| <= 1e-3
 *  - centroid, bandwidth, rms: per frame |o - r| <= 1e-3 * |r| + 1e-6 (Hz / amplitude)
 *  - roll-off: per frame |o - r| <= 1e-3 * |r| + 1e-6, except that at most 1 % of frames may sit one
 *    FFT bin away (a float32 cumulative sum landing within rounding of the 85 % threshold)
 *  - zero-crossing rate: |o - r| <= 1e-6 (it is a count / frameLength)
 *  - onset envelope: max |o - r| <= 1e-3 * max |r|
 *  - tempo: identical (the same lag of the 60 * sr / (hop * k) grid); tuning: identical
 *  - beats: identical frames on at least 98 % of all reference beats across the fixture set
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { framesOff, maxAbs, maxDiff } from '../helpers/compare.js';
import { loopTurnsDuring } from '../helpers/eventLoop.js';

import {
  analyze,
  beatTrack,
  beatTrackFromEnvelope,
  chroma,
  features,
  istft,
  mfcc,
  onsetStrength,
  stft,
  tempo,
  tempoFromEnvelope,
} from '../../lib/entries/analysis.js';

const dir = join(import.meta.dirname, '..', 'fixtures', 'analysis');

interface Arr {
  file: string;
  dtype: string;
  shape: number[];
  scale?: number;
}
interface Fixture {
  name: string;
  sr: number;
  length: number;
  input: Arr;
  tempo: number;
  beats: number[];
  tempo_only?: number;
  tempo_mean: number;
  beats_untrimmed?: number[];
  tuning: number;
  outputs: Record<string, Arr>;
  stft_reflect_params?: { n_fft: number; hop_length: number; win_length: number; window: string; pad_mode: string };
  variant_params?: { n_fft: number; hop_length: number; n_mels: number; htk: boolean; fmin: number; fmax: number; n_mfcc: number; lifter: number };
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as {
  versions: Record<string, string>;
  fixtures: Fixture[];
};

function load(a: Arr): Float32Array {
  const buf = readFileSync(join(dir, a.file));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  if (a.dtype === 'int16') {
    const i = new Int16Array(ab);
    const f = new Float32Array(i.length);
    for (let k = 0; k < i.length; k++) f[k] = (i[k] as number) * (a.scale ?? 1 / 32768);
    return f;
  }
  return new Float32Array(ab);
}

/** Measured figures, printed once at the end for the report. */
const worst: Record<string, number> = {};
function note(key: string, v: number): void {
  worst[key] = Math.max(worst[key] ?? 0, v);
}

describe(`analysis parity with librosa ${manifest.versions.librosa}`, () => {
  const beatTotals = { reference: 0, matched: 0 };

  for (const fx of manifest.fixtures) {
    describe(fx.name, () => {
      const y = load(fx.input);
      const out = (k: string) => load(fx.outputs[k] as Arr);

      it('analyze(): tempo, beats, onset envelope and every feature', async () => {
        const r = await analyze(y, fx.sr);
        expect(y.length).toBe(fx.length);
        // tempo identical on the lag grid
        expect(r.tempoBpm).toBeCloseTo(fx.tempo, 9);
        const ref = new Set(fx.beats);
        const matched = Array.from(r.beatFrames).filter((b) => ref.has(b)).length;
        beatTotals.reference += fx.beats.length;
        beatTotals.matched += matched;
        expect(r.beatTimes.length).toBe(r.beatFrames.length);
        expect(r.localTempo.length).toBe(r.beatFrames.length);
        // onset envelope (median aggregate, as beat_track)
        const env = out('onset_median');
        const envErr = maxDiff(r.onsetEnvelope, env) / Math.max(maxAbs(env), 1e-12);
        note('onset (rel to max)', envErr);
        expect(envErr).toBeLessThanOrEqual(1e-3);
        expect(r.tuning).toBeCloseTo(fx.tuning, 9);
        // features
        const ch = out('chroma');
        const chErr = maxDiff(r.features.chroma.data, ch);
        note('chroma (abs)', chErr);
        expect(chErr).toBeLessThanOrEqual(1e-3);
        const mf = out('mfcc');
        const mfErr = maxDiff(r.features.mfcc.data, mf) / maxAbs(mf);
        note('mfcc (rel to max)', mfErr);
        expect(mfErr).toBeLessThanOrEqual(1e-3);
        for (const [key, got] of [
          ['centroid', r.features.spectralCentroid],
          ['bandwidth', r.features.spectralBandwidth],
          ['rms', r.features.rms],
        ] as const) {
          const want = out(key);
          expect(framesOff(got, want, 1e-3, 1e-6)).toBe(0);
          let rel = 0;
          for (let i = 0; i < want.length; i++)
            rel = Math.max(rel, Math.abs((got[i] as number) - (want[i] as number)) / Math.max(Math.abs(want[i] as number), 1e-6));
          note(`${key} (rel per frame)`, rel);
        }
        const ro = out('rolloff');
        const bin = fx.sr / 2048;
        const off = framesOff(r.features.spectralRolloff, ro, 1e-3, 1e-6);
        note('rolloff frames off', off);
        expect(off).toBeLessThanOrEqual(Math.floor(ro.length / 100));
        expect(maxDiff(r.features.spectralRolloff, ro)).toBeLessThanOrEqual(bin * 1.0001);
        const zErr = maxDiff(r.features.zcr, out('zcr'));
        note('zcr (abs)', zErr);
        expect(zErr).toBeLessThanOrEqual(1e-6);
        // stats are finite and the original dict mirrors them
        expect(r.analysis.librosa.mfcc_stats).toHaveLength(13);
        expect(r.analysis.librosa.chroma_mean).toHaveLength(12);
        for (const s of [r.stats.spectralCentroid, r.stats.rms, r.stats.zcr, ...r.stats.mfcc]) {
          for (const v of Object.values(s)) expect(Number.isFinite(v)).toBe(true);
        }
        expect(r.analysis.tempo).toBe(r.tempoBpm);
      });

      if (fx.outputs.mel_db) {
        it('mel spectrogram in dB within 0.005 dB', async () => {
          const f = await features(y, fx.sr, ['melDb']);
          const err = maxDiff(f.melDb!.data, out('mel_db'));
          note('mel dB (abs dB)', err);
          expect(err).toBeLessThanOrEqual(0.005);
        });
      }

      if (fx.outputs.stft_mag) {
        it('STFT magnitude within 1e-4 of the largest magnitude', async () => {
          const s = await stft(y, { output: 'magnitude' });
          const want = out('stft_mag');
          expect([s.bins, s.frames]).toEqual(fx.outputs.stft_mag!.shape);
          const err = maxDiff(s.data, want) / maxAbs(want);
          note('stft magnitude (rel to max)', err);
          expect(err).toBeLessThanOrEqual(1e-4);
        });
      }

      if (fx.outputs.stft_mag_reflect && fx.stft_reflect_params) {
        it('STFT magnitude, reflect padding / hamming / winLength < nFft', async () => {
          const p = fx.stft_reflect_params!;
          const s = await stft(y, {
            output: 'magnitude',
            nFft: p.n_fft,
            hopLength: p.hop_length,
            winLength: p.win_length,
            window: p.window as 'hamming',
            padMode: p.pad_mode as 'reflect',
          });
          const want = out('stft_mag_reflect');
          expect([s.bins, s.frames]).toEqual(fx.outputs.stft_mag_reflect!.shape);
          const err = maxDiff(s.data, want) / maxAbs(want);
          note('stft magnitude (rel to max)', err);
          expect(err).toBeLessThanOrEqual(1e-4);
        });
      }

      if (fx.variant_params) {
        it('MFCC with HTK mels, fmin/fmax, lifter; chroma with a given tuning and nFft 1024', async () => {
          const v = fx.variant_params!;
          const m = await mfcc(y, fx.sr, {
            nFft: v.n_fft,
            hopLength: v.hop_length,
            nMels: v.n_mels,
            htk: v.htk,
            fmin: v.fmin,
            fmax: v.fmax,
            nMfcc: v.n_mfcc,
            lifter: v.lifter,
          });
          const want = out('mfcc_htk');
          const err = maxDiff(m.data, want) / maxAbs(want);
          note('mfcc (rel to max)', err);
          expect(err).toBeLessThanOrEqual(1e-3);
          const c = await chroma(y, fx.sr, { nFft: 1024, hopLength: 256, tuning: 0 });
          const cerr = maxDiff(c.data, out('chroma_1024'));
          note('chroma (abs)', cerr);
          expect(cerr).toBeLessThanOrEqual(1e-3);
        });
      }

      it('onset_strength (mean aggregate) and beat_track on the reference envelope', async () => {
        const env = await onsetStrength(y, fx.sr);
        const want = out('onset_mean');
        const err = maxDiff(env, want) / Math.max(maxAbs(want), 1e-12);
        note('onset (rel to max)', err);
        expect(err).toBeLessThanOrEqual(1e-3);
        // the tracker alone, fed librosa's own envelope, must reproduce its beats exactly
        if (fx.tempo_only !== undefined) {
          const t = await tempoFromEnvelope(out('onset_median'), fx.sr);
          expect(t.bpm).toBe(fx.tempo_only);
          expect(t.bpm).toBeCloseTo((60 * fx.sr) / (512 * t.lag), 9);
        }
        const b = await beatTrackFromEnvelope(out('onset_median'), fx.sr);
        expect(b.tempo).toBeCloseTo(fx.tempo, 9);
        expect(Array.from(b.beatFrames)).toEqual(fx.beats);
        if (fx.beats_untrimmed) {
          const u = await beatTrackFromEnvelope(out('onset_median'), fx.sr, { bpm: fx.tempo, trim: false });
          expect(Array.from(u.beatFrames)).toEqual(fx.beats_untrimmed);
        }
      });
    });
  }

  it('beat frames identical on >= 98 % of reference beats across the fixture set', () => {
    expect(beatTotals.reference).toBeGreaterThan(100);
    const share = beatTotals.matched / beatTotals.reference;
    console.log(`beats: ${beatTotals.matched}/${beatTotals.reference} identical; worst errors:`, worst);
    expect(share).toBeGreaterThanOrEqual(0.98);
  });
});

describe('analysis edge cases and API contracts', () => {
  const sr = 22050;

  it('digital silence: tempo 0, no beats, no NaN', async () => {
    const r = await analyze(new Float32Array(sr * 3), sr);
    expect(r.tempoBpm).toBe(0);
    expect(r.beatFrames.length).toBe(0);
    for (const a of [r.features.chroma.data, r.features.mfcc.data, r.features.spectralCentroid, r.features.rms, r.onsetEnvelope]) {
      for (const v of a) expect(Number.isFinite(v)).toBe(true);
    }
    expect(r.analysis.librosa.spectral_centroid).toEqual({ mean: 0, std: 0, min: 0, max: 0 });
  });

  it('input shorter than nFft works (one centred frame per hop)', async () => {
    const y = new Float32Array(300).map((_, i) => Math.sin(i / 5) * 0.3);
    const r = await analyze(y, sr);
    expect(r.frames).toBe(1);
    expect(r.features.mfcc.frames).toBe(1);
    expect(r.features.zcr.length).toBe(1);
  });

  it('non-finite samples reject with DE_NON_FINITE_SAMPLES', async () => {
    const y = new Float32Array(5000).fill(0.1);
    y[1234] = Number.NaN;
    await expect(analyze(y, sr)).rejects.toMatchObject({ code: 'DE_NON_FINITE_SAMPLES' });
    y[1234] = Number.POSITIVE_INFINITY;
    await expect(stft(y)).rejects.toMatchObject({ code: 'DE_NON_FINITE_SAMPLES' });
  });

  it('options are validated with zod (librosa defaults, cross-field rules)', async () => {
    const y = new Float32Array(4096);
    await expect(stft(y, { nFft: 512, winLength: 1024 })).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
    await expect(mfcc(y, sr, { nMfcc: 200, nMels: 40 })).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
    await expect(analyze(y, 0)).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
    await expect(analyze(new Int16Array(10) as unknown as Float32Array, sr)).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
    const s = await stft(y);
    expect([s.bins, s.frames, s.hopLength]).toEqual([1025, 1 + Math.floor(4096 / 512), 512]);
  });

  it('istft(stft(y)) round trip error below 1e-6 relative', async () => {
    const y = new Float32Array(44100);
    let seed = 3;
    for (let i = 0; i < y.length; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      y[i] = (seed / 2147483648 - 0.5) * 0.6;
    }
    for (const window of ['hann', 'hamming', 'blackman'] as const) {
      const s = await stft(y, { window, nFft: 1024 });
      const back = await istft(s, { window, nFft: 1024, length: y.length });
      let err = 0;
      let ref = 0;
      for (let i = 0; i < y.length; i++) {
        err += ((back[i] as number) - (y[i] as number)) ** 2;
        ref += (y[i] as number) ** 2;
      }
      expect(Math.sqrt(err / ref)).toBeLessThan(1e-6);
    }
  });

  it('threads > 1 gives bit-identical results', async () => {
    const fx = manifest.fixtures.find((f) => f.name === 'real_chromium_bsu') ?? manifest.fixtures[0]!;
    const y = load(fx.input);
    const a = await analyze(y, fx.sr);
    const b = await analyze(y, fx.sr, { threads: 2 });
    expect(b.tempoBpm).toBe(a.tempoBpm);
    expect(Array.from(b.beatFrames)).toEqual(Array.from(a.beatFrames));
    expect(b.features.chroma.data).toEqual(a.features.chroma.data);
    expect(b.features.mfcc.data).toEqual(a.features.mfcc.data);
    expect(b.onsetEnvelope).toEqual(a.onsetEnvelope);
  });

  it('tempo(y) equals librosa.feature.tempo(y=y) on every fixture (silence included)', async () => {
    for (const fx of manifest.fixtures) {
      const t = await tempo(load(fx.input), fx.sr);
      expect(t.bpm, fx.name).toBe(fx.tempo_mean);
      expect(t.bpm).toBeCloseTo((60 * fx.sr) / (512 * t.lag), 9);
    }
  });

  it('features() returns exactly the requested subset with librosa shapes', async () => {
    const y = new Float32Array(sr * 2).map((_, i) => Math.sin((2 * Math.PI * 330 * i) / sr) * 0.4);
    const f = await features(y, sr, ['melPower', 'mfcc', 'zcr'], { nMfcc: 13, nMels: 64 });
    const T = 1 + Math.floor(y.length / 512);
    expect(f.frames).toBe(T);
    expect([f.melPower!.rows, f.melPower!.frames]).toEqual([64, T]);
    expect([f.mfcc!.rows, f.mfcc!.frames]).toEqual([13, T]);
    expect(f.zcr!.length).toBe(T);
    expect(f.chroma).toBeUndefined();
    expect(f.spectralCentroid).toBeUndefined();
    await expect(features(y, sr, [])).rejects.toMatchObject({ code: 'DE_INVALID_ARGUMENT' });
  });

  it('the event loop turns while a long analysis runs in the worker', async () => {
    const y = new Float32Array(44100 * 60).map((_, i) => Math.sin(i / 7) * 0.3 + ((i * 7919) % 13) * 0.001);
    const { result, turnedWhilePending } = await loopTurnsDuring(() => analyze(y, 44100));
    expect(result.beatTimes).toBeInstanceOf(Float64Array);
    expect(turnedWhilePending).toBe(true);
  });

  it('aborting a running analysis rejects with DE_ABORTED', async () => {
    const y = new Float32Array(44100 * 300).map((_, i) => Math.sin(i / 9) * 0.3);
    const ac = new AbortController();
    const p = analyze(y, 44100, { signal: ac.signal });
    setTimeout(() => ac.abort(), 5);
    await expect(p).rejects.toMatchObject({ code: 'DE_ABORTED' });
  });

  it('an aborted signal rejects with AbortError', async () => {
    const ac = new AbortController();
    ac.abort();
    await expect(beatTrack(new Float32Array(sr), sr, { signal: ac.signal })).rejects.toMatchObject({ code: 'DE_ABORTED' });
  });
});
