/**
 * Live parity of non-default options with librosa 0.11.0 (skipped without the reference venv):
 * odd and small n_fft (the pipeline shrinks n_fft to short stems), uncentred frames, magnitude
 * mel without normalisation, fmin/fmax, 24-bin chroma, other windows. Tolerances as in
 * analysis.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { framesOff, maxAbs, maxDiff } from '../helpers/compare.js';
import { features, stft, type FeatureOptions } from '../../lib/entries/analysis.js';
import { venvPython } from '../helpers/python.js';
import { seededRandom } from '../helpers/signals.js';
import { requires, venv } from '../helpers/requires.js';

const sr = 22050;

function signal(n: number, seed: number): Float32Array {
  const rnd = seededRandom(seed);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    y[i] = 0.3 * Math.sin(2 * Math.PI * 311 * t) + 0.2 * Math.sin(2 * Math.PI * 1245 * t) + 0.05 * (rnd() - 0.5);
    if (i % 5000 < 300) y[i]! += 0.4 * (rnd() - 0.5);
  }
  return y;
}

interface Case {
  name: string;
  n: number;
  ours: FeatureOptions;
  py: string; // keyword arguments for the librosa calls
}

const cases: Case[] = [
  { name: 'odd nFft 1501, hop 375', n: 30000, ours: { nFft: 1501, hopLength: 375 }, py: 'n_fft=1501, hop_length=375' },
  { name: 'nFft 1024, hop 256 (per-chunk path)', n: 6000, ours: { nFft: 1024, hopLength: 256 }, py: 'n_fft=1024, hop_length=256' },
  { name: 'tiny nFft 64, hop 16', n: 900, ours: { nFft: 64, hopLength: 16 }, py: 'n_fft=64, hop_length=16' },
  { name: 'uncentred', n: 20000, ours: { center: false }, py: 'center=False' },
  { name: 'hamming window, winLength 1500', n: 20000, ours: { window: 'hamming', winLength: 1500 }, py: "window='hamming', win_length=1500" },
  { name: 'reflect padding', n: 15000, ours: { padMode: 'reflect' }, py: "pad_mode='reflect'" },
  {
    name: 'nFft 4096, hop 1024, blackman',
    n: 40000,
    ours: { nFft: 4096, hopLength: 1024, window: 'blackman' },
    py: "n_fft=4096, hop_length=1024, window='blackman'",
  },
];

const PY = `
import sys, json, numpy as np, librosa
path, kw = sys.argv[1], eval('dict(' + sys.argv[2] + ')')
y = np.fromfile(path, dtype='<f4')
sr = 22050
zkw = {k: v for k, v in kw.items() if k in ('hop_length', 'center')}
if 'n_fft' in kw: zkw['frame_length'] = kw['n_fft']
out = {
  'stft': np.abs(librosa.stft(y, **kw)).ravel().tolist(),
  'mel_db': librosa.power_to_db(librosa.feature.melspectrogram(y=y, sr=sr, **kw)).ravel().tolist(),
  'mel_mag': librosa.feature.melspectrogram(y=y, sr=sr, power=1.0, norm=None, fmin=80.0, fmax=6000.0, n_mels=40, **kw).ravel().tolist(),
  'mfcc': librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13, **kw).ravel().tolist(),
  'chroma': librosa.feature.chroma_stft(y=y, sr=sr, **kw).ravel().tolist(),
  'chroma24': librosa.feature.chroma_stft(y=y, sr=sr, n_chroma=24, **kw).ravel().tolist(),
  'centroid': librosa.feature.spectral_centroid(y=y, sr=sr, **kw).ravel().tolist(),
  'bandwidth': librosa.feature.spectral_bandwidth(y=y, sr=sr, **kw).ravel().tolist(),
  'rolloff': librosa.feature.spectral_rolloff(y=y, sr=sr, **kw).ravel().tolist(),
  'zcr': librosa.feature.zero_crossing_rate(y, **zkw).ravel().tolist(),
  'rms': librosa.feature.rms(y=y, **zkw).ravel().tolist(),
}
print(json.dumps(out))
`;

describe('option parity with librosa', requires(venv('librosa', 'numpy')), () => {
  const dir = mkdtempSync(join(tmpdir(), 'didactic-opts-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of cases) {
    it(c.name, async () => {
      const y = signal(c.n, c.n);
      const path = join(dir, 'y.f32');
      writeFileSync(path, Buffer.from(y.buffer, y.byteOffset, y.byteLength));
      const ref = JSON.parse(execFileSync(venvPython, ['-c', PY, path, c.py], { encoding: 'utf8', maxBuffer: 1 << 28 })) as Record<string, number[]>;
      const s = await stft(y, { ...c.ours, output: 'magnitude' } as never);
      expect(maxDiff(s.data, ref.stft!) / maxAbs(ref.stft!)).toBeLessThanOrEqual(1e-4);
      const f = await features(y, sr, ['melDb', 'mfcc', 'chroma', 'spectralCentroid', 'spectralBandwidth', 'spectralRolloff', 'zcr', 'rms'], {
        ...c.ours,
        nMfcc: 13,
      });
      expect(maxDiff(f.melDb!.data, ref.mel_db!)).toBeLessThanOrEqual(0.005);
      expect(maxDiff(f.mfcc!.data, ref.mfcc!) / maxAbs(ref.mfcc!)).toBeLessThanOrEqual(1e-3);
      expect(maxDiff(f.chroma!.data, ref.chroma!)).toBeLessThanOrEqual(1e-3);
      expect(framesOff(f.spectralCentroid!, ref.centroid!, 1e-3, 1e-6)).toBe(0);
      expect(framesOff(f.spectralBandwidth!, ref.bandwidth!, 1e-3, 1e-6)).toBe(0);
      expect(framesOff(f.spectralRolloff!, ref.rolloff!, 1e-3, 1e-6)).toBeLessThanOrEqual(Math.floor(ref.rolloff!.length / 100));
      expect(maxDiff(f.zcr!, ref.zcr!)).toBeLessThanOrEqual(1e-6);
      expect(framesOff(f.rms!, ref.rms!, 1e-3, 1e-7)).toBe(0);
      const m = await features(y, sr, ['melPower'], { ...c.ours, power: 1, melNorm: null, fmin: 80, fmax: 6000, nMels: 40 });
      expect(maxDiff(m.melPower!.data, ref.mel_mag!) / maxAbs(ref.mel_mag!)).toBeLessThanOrEqual(1e-4);
      const c24 = await features(y, sr, ['chroma'], { ...c.ours, nChroma: 24 });
      expect(maxDiff(c24.chroma!.data, ref.chroma24!)).toBeLessThanOrEqual(1e-3);
    }, 60_000);
  }
});
