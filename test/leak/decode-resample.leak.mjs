// Native memory is freed: 1,000 decode + resample calls keep RSS bounded.
// Run: node --expose-gc test/leak/decode-resample.leak.mjs [iterations]
// Needs the compiled package (dist/) and the addon. Exits 1 when RSS keeps growing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { decodeAudio, resample, writeWav } from '../../dist/index.js';

const iterations = Number(process.argv[2] ?? 1000);
const dir = mkdtempSync(join(tmpdir(), 'didactic-leak-'));
try {
  const sampleRate = 44100;
  const x = new Float32Array(sampleRate * 2 * 2); // 2 s stereo
  for (let i = 0; i < x.length; i++) x[i] = 0.4 * Math.sin(i * 0.01);
  const path = join(dir, 'leak.wav');
  await writeWav(path, x, { sampleRate, channels: 2 });

  const gc = globalThis.gc ?? (() => {});
  const mb = () => process.memoryUsage().rss / 2 ** 20;
  let baseline = 0;
  const samples = [];
  for (let i = 0; i < iterations; i++) {
    const decoded = await decodeAudio(path, { mono: true });
    await resample(decoded.samples, { inRate: sampleRate, outRate: 22050 });
    if (i % 100 === 99) {
      gc();
      samples.push(mb());
    }
  }
  // malloc arenas settle over the first few hundred calls; compare the plateau with the end.
  // Each iteration allocates ~1 MB natively; a leak of that would add ~600 MB here.
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  baseline = median(samples.slice(2, 5));
  const final = median(samples.slice(-3));
  const growth = final - baseline;
  console.log(
    `leak: ${iterations} decode+resample calls; RSS plateau ${baseline.toFixed(1)} MB, ` +
      `final ${final.toFixed(1)} MB, growth ${growth.toFixed(1)} MB; every 100: ${samples.map((s) => s.toFixed(0)).join(' ')}`,
  );
  if (growth > 64) {
    console.error('leak: RSS grew by more than 64 MB');
    process.exitCode = 1;
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
