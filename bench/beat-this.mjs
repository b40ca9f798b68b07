// Benchmark: Beat This! (log-mel front end + transformer on ONNX Runtime in 1500-frame chunks +
// minimal postprocessor, one native call) against BeatNet (LOG_SPECT + CRNN + DBN) on the same
// 22,050 Hz audio, per minute of audio, single-threaded (ORT intra-op threads 1). The Beat This!
// model is the installed one (`models fetch beat-this`), or `--model <onnx>`; timings do not depend
// on the weights, so a converted random-init checkpoint measures the same.
// Run: npm run build:ts && node bench/beat-this.mjs [--model M.onnx] [--seconds 180] [--repeats 2]
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';

import { song } from './bench-song.mjs';

const { values } = parseArgs({
  options: { model: { type: 'string' }, seconds: { type: 'string', default: '180' }, repeats: { type: 'string', default: '2' } },
});
const { BeatThisTracker, RhythmTracker, installedBeatThisModel } = await import('../dist/index.js');
const SR = 22050;
const seconds = Number(values.seconds);
const x = song(seconds, SR);
const model = values.model ?? installedBeatThisModel();
if (!model) {
  console.error('bench/beat-this: no Beat This! model; run `didactic-engine models fetch beat-this` or pass --model');
  process.exit(1);
}
const perMinute = (s) => (s / seconds) * 60;
const best = (runs, key) => Math.min(...runs.map((r) => r[key]));

const bt = await BeatThisTracker.open({ model, intraOpThreads: 1, interOpThreads: 1 });
const btRuns = [];
for (let i = 0; i < Number(values.repeats); i++) {
  const t0 = performance.now();
  const r = await bt.track(x, SR);
  btRuns.push({ total: (performance.now() - t0) / 1000, features: r.timings.features, model: r.timings.model, decode: r.timings.decode, chunks: r.chunks });
}
await bt.close();
const bn = await RhythmTracker.open({ intraOpThreads: 1, interOpThreads: 1 });
const bnRuns = [];
for (let i = 0; i < Number(values.repeats); i++) {
  const t0 = performance.now();
  const r = await bn.track(x, SR);
  bnRuns.push({ total: (performance.now() - t0) / 1000, features: r.timings.features, model: r.timings.model, decode: r.timings.decode });
}
await bn.close();
const row = (name, runs) =>
  `${name.padEnd(10)} total ${perMinute(best(runs, 'total')).toFixed(2)} s/min  features ${perMinute(best(runs, 'features')).toFixed(3)}  network ${perMinute(best(runs, 'model')).toFixed(2)}  decode ${perMinute(best(runs, 'decode')).toFixed(3)}`;
console.log(`CPU: ${cpus()[0]?.model ?? '?'} (${cpus().length} logical), 1 ORT thread, ${seconds} s of audio, best of ${values.repeats}; model ${model}`);
console.log(row('beat-this', btRuns) + `  (${btRuns[0].chunks} chunks)`);
console.log(row('beatnet', bnRuns));
