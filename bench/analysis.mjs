// Benchmark: the original's song-level analysis — resample 22.05 kHz ->
// 44.1 kHz (soxr HQ) + beat_track + chroma_stft + mfcc(13) + spectral centroid / bandwidth /
// roll-off + zero-crossing rate + RMS — ours (one native pass, one STFT, single-threaded) against
// librosa doing the same calls, measured in the same run on the same samples. Prints a Markdown
// table with times, ratios and peak memory (each side measured in its own child process).
// Ours runs single-threaded (the condition) and again with `threads: 2` (one job on two
// cores). Run: npm run build:ts && node bench/analysis.mjs [--durations 30,180,600] [--repeats 3]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { song } from './bench-song.mjs';
import { procStatusBytes as vm } from './child.mjs';

const root = join(import.meta.dirname, '..');
const python = join(root, '.venv', 'bin', 'python');
const { values } = parseArgs({
  options: {
    durations: { type: 'string', default: '30,180,600' },
    repeats: { type: 'string', default: '3' },
    child: { type: 'string' },
    input: { type: 'string' },
    rate: { type: 'string' },
    threads: { type: 'string', default: '1' },
  },
});

// Child mode: time ours on one input file, report JSON {times, peakBytes}.
if (values.child === 'ours') {
  const { analyze, resample } = await import('../dist/index.js');
  const buf = readFileSync(values.input);
  const x = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const inRate = Number(values.rate);
  const repeats = Number(values.repeats);
  const times = [];
  let result;
  const rssBefore = vm('VmRSS');
  for (let r = 0; r < repeats + 1; r++) {
    const t0 = performance.now();
    const y = inRate === 44100 ? x : await resample(x, { inRate, outRate: 44100 });
    result = await analyze(y, 44100, { threads: Number(values.threads) });
    const dt = (performance.now() - t0) / 1000;
    if (r > 0 || repeats === 0) times.push(dt);
  }
  const peak = vm('VmHWM') - rssBefore;
  process.stdout.write(JSON.stringify({ times, peakBytes: peak, tempo: result.tempoBpm, beats: result.beatFrames.length }));
  process.exit(0);
}

const PY = `
import sys, time, resource, json, numpy as np, librosa
path, rate, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
x = np.fromfile(path, dtype='<f4')
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'): return int(line.split()[1]) * 1024
def run():
    y = x if rate == 44100 else librosa.resample(x, orig_sr=rate, target_sr=44100, res_type='soxr_hq')
    sr = 44100
    tempo, beats = librosa.beat.beat_track(y=y, sr=sr)
    librosa.feature.chroma_stft(y=y, sr=sr)
    librosa.feature.mfcc(y=y, sr=sr, n_mfcc=13)
    librosa.feature.spectral_centroid(y=y, sr=sr)
    librosa.feature.spectral_bandwidth(y=y, sr=sr)
    librosa.feature.spectral_rolloff(y=y, sr=sr)
    librosa.feature.zero_crossing_rate(y)
    librosa.feature.rms(y=y)
    return float(np.atleast_1d(tempo)[0]), len(beats)
# warm numba's JIT on a short signal so compilation is not timed
_x = x; x = x[: rate * 5]; run(); x = _x
before = rss()
times = []
for r in range(max(repeats, 1)):
    t0 = time.perf_counter(); tempo, nb = run(); times.append(time.perf_counter() - t0)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
print(json.dumps({"times": times, "peakBytes": peak, "tempo": tempo, "beats": nb}))
`;

const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-analysis-'));
const rows = [];
try {
  const cases = values.durations.split(',').map((s) => ({ label: `${Number(s)} s synthetic song`, seconds: Number(s), rate: 22050 }));
  // the two real recordings of the parity fixtures (short: they show fixed overheads)
  const manifest = JSON.parse(readFileSync(join(root, 'test', 'fixtures', 'analysis', 'manifest.json'), 'utf8'));
  for (const f of manifest.fixtures.filter((f) => f.name.startsWith('real_'))) {
    cases.push({ label: `${f.name} (${(f.length / f.sr).toFixed(1)} s)`, fixture: f, rate: f.sr });
  }
  for (const c of cases) {
    let x;
    if (c.fixture) {
      const buf = readFileSync(join(root, 'test', 'fixtures', 'analysis', c.fixture.input.file));
      const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
      if (c.fixture.input.dtype === 'int16') x = Float32Array.from(new Int16Array(ab), (v) => v / 32768);
      else x = new Float32Array(ab);
    } else {
      x = song(c.seconds, c.rate);
    }
    const path = join(dir, 'input.f32');
    writeFileSync(path, Buffer.from(x.buffer, x.byteOffset, x.byteLength));
    const repeats = c.seconds >= 600 ? 1 : Number(values.repeats);
    const runOurs = (threads) =>
      JSON.parse(
        execFileSync(
          process.execPath,
          [
            join(import.meta.dirname, 'analysis.mjs'),
            '--child',
            'ours',
            '--input',
            path,
            '--rate',
            String(c.rate),
            '--repeats',
            String(repeats),
            '--threads',
            String(threads),
          ],
          { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '1' } },
        ),
      );
    const ours = runOurs(1);
    const ours2 = runOurs(2);
    let theirs = null;
    if (existsSync(python)) {
      theirs = JSON.parse(
        execFileSync(python, ['-c', PY, path, String(c.rate), String(repeats)], {
          encoding: 'utf8',
          env: { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1', NUMBA_NUM_THREADS: '1' },
        }),
      );
    }
    const med = (a) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
    const o = med(ours.times);
    const p = theirs ? med(theirs.times) : NaN;
    rows.push({
      label: c.label,
      ours: o,
      ours2: med(ours2.times),
      python: p,
      ratio: p / o,
      oursMem: ours.peakBytes,
      pyMem: theirs ? theirs.peakBytes : NaN,
      agree: theirs ? `${ours.tempo.toFixed(2)}/${theirs.tempo.toFixed(2)} BPM, ${ours.beats}/${theirs.beats} beats` : '',
    });
    process.stderr.write(`${c.label}: ours ${o.toFixed(3)} s, librosa ${p.toFixed(3)} s\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const mb = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
console.log(
  '| input | ours, 1 thread | ours, threads: 2 | librosa 0.11.0 | ratio (1 thread) | ratio (2 threads) | peak memory ours / librosa | tempo, beats (ours/librosa) |',
);
console.log('|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  console.log(
    `| ${r.label} | ${r.ours.toFixed(3)} s | ${r.ours2.toFixed(3)} s | ${r.python.toFixed(3)} s | **${r.ratio.toFixed(1)}×** | ${(r.python / r.ours2).toFixed(1)}× | ${mb(r.oursMem)} / ${mb(r.pyMem)} | ${r.agree} |`,
  );
}
