// Benchmark: the learned rhythm step (BeatNet LOG_SPECT features + CRNN on ONNX Runtime + madmom's
// bar-pointer DBN over meters [2, 3, 4] + refinement) in one native call, single-threaded (ORT
// intra-op threads 1, UV_THREADPOOL_SIZE=1), beside librosa 0.11's beat_track on the same samples
// and, when the rhythm reference venv (.venv-rhythm) exists, madmom's DBNDownBeatTrackingProcessor
// on our activations. Each side runs in its own child process; peak RSS is the child's VmHWM growth.
// --runtimes: which CRNN runtimes to run, one child each (default both: the addon's own kernels,
// 'auto', and ONNX Runtime), so the ratio between them comes from one run; the open column is the
// CPU time of RhythmTracker.open (for ONNX Runtime: loading the library and creating the session).
// --baseline DIR: also run a built checkout of another commit (its dist/ and build/), alternating
// with this one in two rounds per runtime, so a before/after comes from one run on one machine.
// Run: npm run build:ts && node bench/rhythm.mjs [--durations 180,1200] [--repeats 3] [--runtimes auto,onnxruntime]
//      [--baseline ../didactic-engine-before]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { song } from './bench-song.mjs';
import { procStatusBytes as vm } from './child.mjs';

const root = join(import.meta.dirname, '..');
const python = process.env.DIDACTIC_BENCH_PYTHON || join(root, '.venv', 'bin', 'python');
const rhythmPython = join(root, '.venv-rhythm', 'bin', 'python');
const { values } = parseArgs({
  options: {
    durations: { type: 'string', default: '180,1200' },
    repeats: { type: 'string', default: '3' },
    runtimes: { type: 'string', default: 'auto,onnxruntime' },
    runtime: { type: 'string', default: 'auto' },
    child: { type: 'string' },
    input: { type: 'string' },
    act: { type: 'string' },
    package: { type: 'string' },
    baseline: { type: 'string' },
  },
});

if (values.child === 'ours') {
  const entry = values.package ? pathToFileURL(join(values.package, 'dist', 'index.js')).href : '../dist/index.js';
  const { RhythmTracker } = await import(entry);
  const buf = readFileSync(values.input);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const open0 = process.cpuUsage();
  // 'auto' is the default and not passed, so a baseline from before the runtime option (5a14dd4,
  // issue 25's starting point, always on ONNX Runtime) opens too.
  const runtime = values.runtime === 'auto' ? {} : { runtime: values.runtime };
  const tracker = await RhythmTracker.open({ intraOpThreads: 1, interOpThreads: 1, ...runtime });
  const openCpu = process.cpuUsage(open0);
  const repeats = Number(values.repeats);
  const rssBefore = vm('VmRSS');
  const times = [];
  const cpu = [];
  // Per-stage thread CPU, minimum over the repeats: on a loaded machine a stage's CPU time grows
  // with contention (caches, SMT siblings), and the minimum is the stable estimate of its cost.
  const stageMin = { features: Infinity, model: Infinity, decode: Infinity };
  let r;
  for (let i = 0; i < repeats + 1; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    // DIDACTIC_BENCH_PERCUSSIVE=off: the tracker without its percussive-onset evidence (the before of issue 24's item 2);
    // =nobackbeat: without the backbeat template only
    const percussive =
      process.env.DIDACTIC_BENCH_PERCUSSIVE === 'off'
        ? { percussiveObservation: false, percussiveGrid: false, percussiveBackbeat: false }
        : process.env.DIDACTIC_BENCH_PERCUSSIVE === 'nobackbeat'
          ? { percussiveBackbeat: false }
          : {};
    // DIDACTIC_BENCH_METERS=off: without the compound and 5/7 meter checks (the before of issue 24's item 4)
    const meters = process.env.DIDACTIC_BENCH_METERS === 'off' ? { compoundMeters: false, oddMeters: false } : {};
    r = await tracker.track(x, 22050, { returnActivations: Boolean(values.act), ...percussive, ...meters });
    const c = process.cpuUsage(c0);
    if (i > 0 || repeats === 0) {
      times.push((performance.now() - t0) / 1000);
      cpu.push((c.user + c.system) / 1e6);
      for (const k of Object.keys(stageMin)) stageMin[k] = Math.min(stageMin[k], r.timings.cpu[k]);
    }
  }
  if (values.act) writeFileSync(values.act, Buffer.from(r.activations.buffer, r.activations.byteOffset, r.activations.byteLength));
  process.stdout.write(
    JSON.stringify({
      times,
      cpu,
      peakBytes: vm('VmHWM') - rssBefore,
      timings: r.timings,
      stageMin,
      beats: r.beats.length,
      tempo: r.tempoBpm,
      meter: r.beatsPerBar,
      runtime: tracker.runtime ?? 'onnxruntime', // builds before the runtime option always used ONNX Runtime
      openCpu: (openCpu.user + openCpu.system) / 1e6,
    }),
  );
  process.exit(0);
}

const LIBROSA = `
import sys, time, json, numpy as np, librosa
x = np.fromfile(sys.argv[1], dtype='<f4'); repeats = int(sys.argv[2])
librosa.beat.beat_track(y=x[:22050 * 5], sr=22050)  # numba JIT outside the timing
times = []
for _ in range(max(repeats, 1)):
    t0 = time.perf_counter(); tempo, beats = librosa.beat.beat_track(y=x, sr=22050); times.append(time.perf_counter() - t0)
print(json.dumps({"times": times, "tempo": float(np.atleast_1d(tempo)[0]), "beats": len(beats)}))
`;
const MADMOM = `
import sys, time, json, numpy as np
from madmom.features.downbeats import DBNDownBeatTrackingProcessor
a = np.fromfile(sys.argv[1], dtype='<f4').reshape(-1, 3)[:, :2]
proc = DBNDownBeatTrackingProcessor(beats_per_bar=[2, 3, 4], fps=50)
t0 = time.perf_counter(); out = proc(a); dt = time.perf_counter() - t0
print(json.dumps({"times": [dt], "beats": len(out)}))
`;

const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-rhythm-'));
const rows = [];
try {
  for (const seconds of values.durations.split(',').map(Number)) {
    const x = song(seconds, 22050);
    const path = join(dir, 'input.f32');
    const actPath = join(dir, 'act.f32');
    writeFileSync(path, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const repeats = seconds >= 600 ? 1 : Number(values.repeats);
    const child = (runtime, pkg) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            join(import.meta.dirname, 'rhythm.mjs'),
            ...['--child', 'ours', '--input', path, '--repeats', String(repeats), '--act', actPath, '--runtime', runtime],
            ...(pkg ? ['--package', pkg] : []),
          ],
          { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } },
        ),
      );
    const runs = [];
    for (const runtime of values.runtimes.split(',')) {
      if (!values.baseline) {
        runs.push(child(runtime));
        continue;
      }
      // Two alternating rounds per side; times pooled, stage minima over both.
      const sides = { this: [], baseline: [] };
      for (let round = 0; round < 2; round++) {
        sides.baseline.push(child(runtime, resolve(values.baseline)));
        sides.this.push(child(runtime));
      }
      for (const [side, [a, b]] of Object.entries(sides)) {
        const stageMin = Object.fromEntries(Object.keys(a.stageMin).map((k) => [k, Math.min(a.stageMin[k], b.stageMin[k])]));
        const label = side === 'this' ? 'this checkout' : `baseline ${basename(resolve(values.baseline))}`;
        runs.push({
          ...b,
          times: [...a.times, ...b.times],
          cpu: [...a.cpu, ...b.cpu],
          openCpu: Math.min(a.openCpu, b.openCpu),
          stageMin,
          runtime: `${b.runtime} (${label})`,
        });
      }
    }
    const pyEnv = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' };
    const lib =
      existsSync(python) && seconds <= 600 ? JSON.parse(execFileSync(python, ['-c', LIBROSA, path, String(repeats)], { encoding: 'utf8', env: pyEnv })) : null;
    const mm =
      existsSync(rhythmPython) && seconds <= 600 ? JSON.parse(execFileSync(rhythmPython, ['-c', MADMOM, actPath], { encoding: 'utf8', env: pyEnv })) : null;
    for (const run of runs) {
      rows.push({ seconds, ours: run, lib, mm });
      process.stderr.write(`${seconds} s (${run.runtime}): ours ${med(run.times).toFixed(3)} s (${JSON.stringify(run.timings)})\n`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} logical cores), Node ${process.version}`);
const f = (v) => (v === undefined || v === null || Number.isNaN(v) ? 'n/a' : `${v.toFixed(3)} s`);
// CPU time is the process's user + system time during the call (one worker thread, ORT intra-op 1):
// on a loaded machine it stays close to the unloaded wall time while the wall time does not.
console.log(
  '| song | CRNN runtime | open (CPU) | ours: whole call (wall) | ours: CPU time | features (CPU, min) | CRNN (CPU, min) | DBN (CPU, min) | peak RSS growth | librosa beat_track (wall) | madmom DBN, same activations (wall) | ours: tempo, beats, meter |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const t = r.ours.stageMin;
  console.log(
    `| ${r.seconds} s synthetic | ${r.ours.runtime} | ${f(r.ours.openCpu)} | ${f(med(r.ours.times))} | **${f(med(r.ours.cpu))}** | ${f(t.features)} | ${f(t.model)} | ${f(t.decode)} | ${(r.ours.peakBytes / 2 ** 20).toFixed(0)} MiB | ${r.lib ? f(med(r.lib.times)) : 'n/a'} | ${r.mm ? f(r.mm.times[0]) : 'n/a'} | ${r.ours.tempo.toFixed(2)} BPM, ${r.ours.beats}, ${r.ours.meter} |`,
  );
}
