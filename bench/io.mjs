// Benchmark: decode + mono + resample a 3-minute 44.1 kHz stereo file to 22.05 kHz mono.
// Ours (libsndfile straight to float32, mono in the same pass, libsoxr HQ) against the Python
// original's path (soundfile.read float64 + np.mean + soxr HQ via librosa.resample's backend),
// measured in the same run. Prints both times and the ratio.
// Run: npm run build:ts && node bench/io.mjs [--seconds 180] [--repeats 5]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { decodeAudio, resample, writeWav } from '../dist/index.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string', default: '180' }, repeats: { type: 'string', default: '5' } },
});
const seconds = Number(values.seconds);
const repeats = Number(values.repeats);
const root = join(import.meta.dirname, '..');
const python = join(root, '.venv', 'bin', 'python');

const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-'));
try {
  const sr = 44100;
  const n = sr * seconds;
  const x = new Float32Array(n * 2);
  let seed = 7;
  for (let i = 0; i < n; i++) {
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed / 2 ** 32 - 0.5) * 0.05;
    x[2 * i] = 0.4 * Math.sin((2 * Math.PI * 220 * i) / sr) + noise;
    x[2 * i + 1] = 0.3 * Math.sin((2 * Math.PI * 330 * i) / sr) - noise;
  }
  const path = join(dir, 'bench.wav');
  await writeWav(path, x, { sampleRate: sr, channels: 2, subtype: 'PCM_16' });

  const ours = [];
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const audio = await decodeAudio(path, { mono: true });
    const y = await resample(audio.samples, { inRate: sr, outRate: 22050 });
    const dt = (performance.now() - t0) / 1000;
    if (y.length !== Math.ceil(n / 2)) throw new Error('unexpected length');
    if (r > 0) ours.push(dt); // first run warms the page cache and the allocator
  }

  let theirs = null;
  if (existsSync(python)) {
    const script = `
import sys, time, numpy as np, soundfile as sf, soxr
path, repeats = sys.argv[1], int(sys.argv[2])
times = []
for r in range(repeats + 1):
    t0 = time.perf_counter()
    y, sr = sf.read(path)                 # float64, as the original's WAVIngester.load
    y = np.mean(y, axis=1).astype(np.float32)
    y = soxr.resample(y, sr, 22050, quality='soxr_hq')
    dt = time.perf_counter() - t0
    if r > 0: times.append(dt)
print(' '.join(f'{t:.6f}' for t in times))
`;
    const out = execFileSync(python, ['-c', script, path, String(repeats)], { encoding: 'utf8' });
    theirs = out.trim().split(/\s+/).map(Number);
  }

  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const oursMed = median(ours);
  console.log(`decode + mono + resample, ${seconds} s of 44.1 kHz stereo PCM_16 -> 22.05 kHz mono (median of ${repeats})`);
  console.log(`  didactic-engine (libsndfile float32 + soxr HQ): ${oursMed.toFixed(4)} s`);
  if (theirs) {
    const theirsMed = median(theirs);
    console.log(`  python soundfile(float64) + np.mean + soxr HQ: ${theirsMed.toFixed(4)} s`);
    console.log(`  ratio (python / ours): ${(theirsMed / oursMed).toFixed(2)}x`);
  } else {
    console.log('  python reference not measured: .venv missing (see scripts/reference/requirements.txt)');
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
