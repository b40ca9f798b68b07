// close() frees native model memory: many open → run → close cycles keep RSS bounded even though
// every closed object stays reachable (so the garbage collector cannot be what frees them).
// Run: node --expose-gc test/leak/model-handles.leak.mjs [sessions] [separators] [--no-close]
// (--no-close skips close() to show that the check catches unfreed sessions.)
// Needs the compiled package (dist/) and the addon. Exits 1 when RSS keeps growing.
import { buildDemucsStandIn, createSeparator } from '../../dist/models/demucs/index.js';
import { buildModel } from '../../dist/models/onnxBuilder.js';
import { createSession } from '../../dist/models/session.js';

const args = process.argv.slice(2).filter((a) => a !== '--no-close');
const closeEach = !process.argv.includes('--no-close');
const sessions = Number(args[0] ?? 200);
const separators = Number(args[1] ?? 40);

// y = x · W with W [512, 512]: 1 MiB of weights, which ONNX Runtime holds per session (plus the
// model bytes), so an unfreed session would add ≥ 1 MiB per cycle.
const N = 512;
const weights = new Float32Array(N * N);
for (let i = 0; i < weights.length; i++) weights[i] = ((i * 7919) % 1000) / 1000 - 0.5;
const model = buildModel({
  inputs: [{ name: 'x', shape: ['batch', N] }],
  outputs: [{ name: 'y', shape: ['batch', N] }],
  initializers: [{ name: 'W', dims: [N, N], data: weights }],
  nodes: [{ op: 'MatMul', inputs: ['x', 'W'], outputs: ['y'] }],
});
const x = new Float32Array(N).fill(0.5);
// A 1 s segment keeps each separation cheap (this runs beside other test files).
const standIn = buildDemucsStandIn({ segment: 44100 });
const audio = new Float32Array(44100 * 2);
for (let i = 0; i < audio.length; i++) audio[i] = 0.3 * Math.sin(i * 0.02);

const gc = globalThis.gc ?? (() => {});
const mb = () => process.memoryUsage().rss / 2 ** 20;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kept = []; // closed objects stay reachable on purpose
let failed = false;

async function measure(label, iterations, cycle) {
  const samples = [];
  const every = Math.max(1, Math.floor(iterations / 10));
  for (let i = 0; i < iterations; i++) {
    await cycle(i);
    if (i % every === every - 1) {
      gc();
      samples.push(mb());
    }
  }
  // malloc arenas settle over the first cycles; compare that plateau with the end.
  const baseline = median(samples.slice(1, 4));
  const final = median(samples.slice(-3));
  const growth = final - baseline;
  console.log(
    `leak: ${label}: ${iterations} open+run+close; RSS plateau ${baseline.toFixed(1)} MB, final ${final.toFixed(1)} MB, ` +
      `growth ${growth.toFixed(1)} MB; samples: ${samples.map((s) => s.toFixed(0)).join(' ')}`,
  );
  if (!(growth <= 64)) {
    console.error(`leak: ${label}: RSS grew by more than 64 MB`);
    failed = true;
  }
}

await measure('sessions', sessions, async () => {
  const session = await createSession(model);
  const out = await session.run({ x: { data: x, dims: [1, N] } });
  if (out.y.data.length !== N) throw new Error('unexpected output');
  if (closeEach) await session.close();
  kept.push(session);
});

await measure('separators', separators, async () => {
  const separator = await createSeparator(standIn);
  const r = await separator.separate({ samples: audio, sampleRate: 44100, channels: 2 });
  if (r.stems.length !== 4) throw new Error('unexpected stems');
  if (closeEach) await separator.close();
  kept.push(separator);
});

console.log(`leak: kept ${kept.length} ${closeEach ? 'closed' : 'open'} objects reachable`);
if (failed) process.exitCode = 1;
