// Benchmark: Beat This! (log-mel front end + transformer on ONNX Runtime in 1500-frame chunks +
// postprocessor, one native call) against BeatNet (LOG_SPECT + CRNN + DBN) on the same 22,050 Hz
// audio, per minute of audio, with ONNX Runtime on one intra-op thread and on every core. Each
// (tracker, threads) runs in its own Node process, so its peak RSS (getrusage maxrss, after the
// model is opened and a song tracked) is its own; CPU seconds are the process's user + system time
// over the track call (all threads). Beat This! runs with both postprocessors ('minimal' and 'dbn';
// they share the front end and network). The Beat This! model is the installed one (`models fetch
// beat-this`), or one or more `--model <onnx>`; timings do not depend on the weights, so a
// converted random-init checkpoint measures the same.
// Run: npm run build:ts && node bench/beat-this.mjs [--model M.onnx ...] [--seconds 180] [--repeats 2] [--threads 1,2]
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { song } from './bench-song.mjs';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    seconds: { type: 'string', default: '180' },
    repeats: { type: 'string', default: '2' },
    threads: { type: 'string', default: `1,${cpus().length}` },
    child: { type: 'string' },
  },
});
const SR = 22050;
const seconds = Number(values.seconds);

if (values.child) {
  // One measurement: {tracker, threads, model?} -> JSON on stdout.
  const spec = JSON.parse(values.child);
  const { BeatThisTracker, RhythmTracker } = await import('../dist/index.js');
  const x = song(seconds, SR);
  const session = { intraOpThreads: spec.threads, interOpThreads: 1 };
  const tracker = spec.tracker === 'beatnet' ? await RhythmTracker.open(session) : await BeatThisTracker.open({ model: spec.model, ...session });
  const runs = [];
  for (let i = 0; i < Number(values.repeats); i++) {
    for (const postprocess of spec.tracker === 'beatnet' ? [null] : ['minimal', 'dbn']) {
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      const r = postprocess ? await tracker.track(x, SR, { postprocess }) : await tracker.track(x, SR);
      const u = process.cpuUsage(u0);
      runs.push({
        postprocess,
        wall: (performance.now() - t0) / 1000,
        cpu: (u.user + u.system) / 1e6,
        features: r.timings.features,
        model: r.timings.model,
        decode: r.timings.decode,
        chunks: r.chunks ?? null,
      });
    }
  }
  await tracker.close();
  console.log(JSON.stringify({ runs, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
  process.exit(0);
}

const { installedBeatThisModel } = await import('../dist/index.js');
const models = values.model ?? [installedBeatThisModel()].filter(Boolean);
if (!models.length) {
  console.error('bench/beat-this: no Beat This! model; run `didactic-engine models fetch beat-this` or pass --model');
  process.exit(1);
}
const perMinute = (s) => (s / seconds) * 60;
const child = (spec) =>
  JSON.parse(
    execFileSync(
      process.execPath,
      [fileURLToPath(import.meta.url), '--child', JSON.stringify(spec), '--seconds', values.seconds, '--repeats', values.repeats],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      },
    ),
  );
const best = (runs, key) => Math.min(...runs.map((r) => r[key]));
const threads = values.threads.split(',').map(Number);
console.log(
  `CPU: ${cpus()[0]?.model ?? '?'} (${cpus().length} logical), load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at start; ${seconds} s of audio, best of ${values.repeats}; seconds per minute of audio (CPU = user + system, all threads)`,
);
for (const t of threads) {
  // Alternating trackers within one thread setting keeps them under comparable load.
  const bn = child({ tracker: 'beatnet', threads: t });
  const rows = [
    `beatnet            ${t} thr: CPU ${perMinute(best(bn.runs, 'cpu')).toFixed(2)}  wall ${perMinute(best(bn.runs, 'wall')).toFixed(2)}  (features ${perMinute(best(bn.runs, 'features')).toFixed(3)}, network ${perMinute(best(bn.runs, 'model')).toFixed(3)}, decode ${perMinute(best(bn.runs, 'decode')).toFixed(3)})  peak RSS ${bn.maxRssMiB.toFixed(0)} MiB`,
  ];
  for (const model of models) {
    const bt = child({ tracker: 'beat-this', threads: t, model });
    for (const pp of ['minimal', 'dbn']) {
      const rs = bt.runs.filter((r) => r.postprocess === pp);
      rows.push(
        `${(basename(model, '.onnx') + ' ' + pp).padEnd(18)} ${t} thr: CPU ${perMinute(best(rs, 'cpu')).toFixed(2)}  wall ${perMinute(best(rs, 'wall')).toFixed(2)}  (features ${perMinute(best(rs, 'features')).toFixed(3)}, network ${perMinute(best(rs, 'model')).toFixed(2)}, decode ${perMinute(best(rs, 'decode')).toFixed(3)}; ${rs[0].chunks} chunks)  peak RSS ${bt.maxRssMiB.toFixed(0)} MiB`,
      );
    }
  }
  for (const r of rows) console.log(r);
}
console.log(
  `load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')} at end`,
);
