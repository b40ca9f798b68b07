/**
 * Live parity with librosa on longer, varied signals (skipped without the reference venv):
 * the signals are synthesised here, librosa 0.11.0 analyses the same float32 samples in a
 * child process, and beats, tempo, tuning and the song-level statistics are compared. This
 * widens the committed fixture set (test/parity/analysis.test.ts) to thousands of beats
 * without storing the audio. Tolerances as in analysis.test.ts; beats: >= 98 % identical.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { analyze } from '../../lib/entries/analysis.js';
import { venvPython } from '../helpers/python.js';
import { seededRandom } from '../helpers/signals.js';
import { requires, venv } from '../helpers/requires.js';

interface Spec {
  name: string;
  sr: number;
  seconds: number;
  bpm: (t: number) => number;
  swing?: number;
  chordsDetune?: number;
  seed: number;
}

/** Drums (kick, snare, hats with optional swing) over detuned triads, bpm as a function of time. */
function song(spec: Spec): Float32Array {
  const { sr, seconds } = spec;
  const n = Math.round(sr * seconds);
  const y = new Float64Array(n);
  const rnd = seededRandom(spec.seed);
  const roots = [57, 62, 64, 55, 60, 65];
  let t = 0.2;
  let k = 0;
  while (t < seconds - 0.3) {
    const beat = 60 / spec.bpm(t);
    const s0 = Math.round(t * sr);
    // chord per 4 beats
    if (k % 4 === 0) {
      const root = roots[(k / 4) % roots.length]!;
      const len = Math.min(n - s0, Math.round(4 * beat * sr));
      for (const iv of [0, 4, 7]) {
        const f = 440 * 2 ** ((root + iv + (spec.chordsDetune ?? 0) - 69) / 12);
        for (let i = 0; i < len; i++) y[s0 + i]! += 0.05 * Math.sin((2 * Math.PI * f * i) / sr);
      }
    }
    // kick on 1 and 3, snare on 2 and 4
    const kickLen = Math.round(0.12 * sr);
    for (let i = 0; i < kickLen && s0 + i < n; i++) {
      const env = Math.exp(-i / (0.03 * sr));
      if (k % 2 === 0) y[s0 + i]! += 0.7 * env * Math.sin(2 * Math.PI * (50 + 60 * Math.exp(-i / (0.01 * sr))) * (i / sr));
      else y[s0 + i]! += 0.35 * env * (rnd() - 0.5);
    }
    // hats on the off-beat (swung)
    const off = Math.round((t + beat * (0.5 + (spec.swing ?? 0))) * sr);
    for (let i = 0; i < Math.round(0.03 * sr) && off + i < n; i++) y[off + i]! += 0.15 * Math.exp(-i / (0.004 * sr)) * (rnd() - 0.5);
    t += beat;
    k++;
  }
  let peak = 0;
  for (const v of y) peak = Math.max(peak, Math.abs(v));
  return Float32Array.from(y, (v) => (0.9 * v) / peak);
}

/** Irregular bursts at random times over coloured noise: no clear tempo, so the DP's choices are
 *  as sensitive to rounding as they get. */
function irregular(sr: number, seconds: number, seed: number): Float32Array {
  const n = Math.round(sr * seconds);
  const rnd = seededRandom(seed);
  const y = new Float32Array(n);
  let lp = 0;
  for (let i = 0; i < n; i++) {
    lp = 0.97 * lp + 0.03 * (rnd() - 0.5);
    y[i] = 0.2 * lp;
  }
  let t = 0.1;
  while (t < seconds - 0.1) {
    const s0 = Math.round(t * sr);
    const amp = 0.2 + 0.6 * rnd();
    for (let i = 0; i < Math.round(0.05 * sr) && s0 + i < n; i++) y[s0 + i]! += amp * Math.exp(-i / (0.01 * sr)) * (rnd() - 0.5);
    t += 0.08 + 0.6 * rnd();
  }
  return y;
}

const specs: Spec[] = [
  { name: 'song 96 BPM @22.05k', sr: 22050, seconds: 45, bpm: () => 96, seed: 1 },
  { name: 'song 124 BPM swing @22.05k', sr: 22050, seconds: 45, bpm: () => 124, swing: 0.16, seed: 2 },
  { name: 'song 142 BPM detuned @44.1k', sr: 44100, seconds: 40, bpm: () => 142, chordsDetune: -0.23, seed: 3 },
  { name: 'song 78 BPM @44.1k', sr: 44100, seconds: 40, bpm: () => 78, seed: 4 },
  { name: 'song 170 BPM @22.05k', sr: 22050, seconds: 45, bpm: () => 170, seed: 5 },
  { name: 'ramp 90 -> 150 BPM @22.05k', sr: 22050, seconds: 60, bpm: (t) => 90 + t, seed: 6 },
  { name: 'song 110 BPM @44.1k', sr: 44100, seconds: 60, bpm: () => 110, chordsDetune: 0.37, seed: 7 },
  { name: 'irregular bursts A @22.05k', sr: 22050, seconds: 40, bpm: () => 0, seed: 8 },
  { name: 'irregular bursts B @44.1k', sr: 44100, seconds: 30, bpm: () => 0, seed: 9 },
  { name: 'irregular bursts C @22.05k', sr: 22050, seconds: 60, bpm: () => 0, seed: 10 },
];

const PY = `
import sys, json, numpy as np, librosa
path, sr = sys.argv[1], int(sys.argv[2])
y = np.fromfile(path, dtype='<f4')
tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
S = np.abs(librosa.stft(y)) ** 2
out = {
  'tempo': float(np.atleast_1d(tempo)[0]),
  'beats': [int(b) for b in beats],
  'tuning': float(librosa.estimate_tuning(S=S, sr=sr, bins_per_octave=12)),
  'chroma_mean': [float(v) for v in librosa.feature.chroma_stft(y=y, sr=sr).mean(axis=1)],
  'mfcc_mean': [float(v) for v in librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13).mean(axis=1)],
  'centroid_mean': float(librosa.feature.spectral_centroid(y=y, sr=sr).mean()),
  'rolloff_mean': float(librosa.feature.spectral_rolloff(y=y, sr=sr).mean()),
  'zcr_mean': float(librosa.feature.zero_crossing_rate(y).mean()),
  'rms_mean': float(librosa.feature.rms(y=y).mean()),
}
print(json.dumps(out))
`;

describe('live parity with librosa on longer signals', requires(venv('librosa', 'numpy')), () => {
  const dir = mkdtempSync(join(tmpdir(), 'didactic-live-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const totals = { reference: 0, matched: 0 };

  // The first librosa process of a fresh machine compiles librosa's numba kernels into its cache
  // (most of a minute on a loaded 2-core machine, beside the Demucs parity test): pay that here,
  // with a hook's budget, so each comparison below times only itself.
  beforeAll(() => {
    const path = join(dir, 'warm.f32');
    const y = song({ name: 'warm-up', sr: 22050, seconds: 5, bpm: () => 120, seed: 99 });
    writeFileSync(path, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
    execFileSync(venvPython, ['-c', PY, path, '22050'], { encoding: 'utf8' });
  }, 600_000);

  for (const spec of specs) {
    it(spec.name, async () => {
      const y = spec.name.startsWith('irregular') ? irregular(spec.sr, spec.seconds, spec.seed) : song(spec);
      const path = join(dir, 'y.f32');
      writeFileSync(path, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
      const ref = JSON.parse(execFileSync(venvPython, ['-c', PY, path, String(spec.sr)], { encoding: 'utf8' })) as {
        tempo: number;
        beats: number[];
        tuning: number;
        chroma_mean: number[];
        mfcc_mean: number[];
        centroid_mean: number;
        rolloff_mean: number;
        zcr_mean: number;
        rms_mean: number;
      };
      const r = await analyze(y, spec.sr);
      expect(r.tempoBpm).toBeCloseTo(ref.tempo, 9);
      expect(r.tuning).toBeCloseTo(ref.tuning, 9);
      const set = new Set(ref.beats);
      totals.reference += ref.beats.length;
      totals.matched += Array.from(r.beatFrames).filter((b) => set.has(b)).length;
      for (let c = 0; c < 12; c++) expect(Math.abs(r.stats.chromaMean[c]! - ref.chroma_mean[c]!)).toBeLessThan(1e-3);
      const mfccScale = Math.max(...ref.mfcc_mean.map(Math.abs));
      for (let c = 0; c < 13; c++) expect(Math.abs(r.stats.mfcc[c]!.mean - ref.mfcc_mean[c]!)).toBeLessThan(1e-3 * mfccScale);
      for (const [ours, theirs] of [
        [r.stats.spectralCentroid.mean, ref.centroid_mean],
        [r.stats.spectralRolloff.mean, ref.rolloff_mean],
        [r.stats.zcr.mean, ref.zcr_mean],
        [r.stats.rms.mean, ref.rms_mean],
      ] as const) {
        expect(Math.abs(ours - theirs)).toBeLessThanOrEqual(1e-3 * Math.abs(theirs));
      }
    }, 120_000);
  }

  it('beat frames identical on >= 98 % of librosa beats across the live set', () => {
    console.log(`live beats: ${totals.matched}/${totals.reference} identical`);
    expect(totals.reference).toBeGreaterThan(300);
    expect(totals.matched / totals.reference).toBeGreaterThanOrEqual(0.98);
  });
});
