// Benchmark: Basic Pitch transcription, ours (C++ windowing + ONNX Runtime + C++ note creation) against
// Python basic-pitch 0.4.0 predict() with its ONNX backend, on the same nmp.onnx, the same audio
// (vocadito_10.wav tiled to 30 s / 3 min / 10 min, 44.1 kHz 16-bit), the same intra-op threads, in the
// same run. Each side runs in its own child process so the peak RSS is its own. End to end = decode +
// resample + inference + note creation (both sides, file in → note events out).
// Needs ../shared/basic-pitch and .venv with basic-pitch 0.4.0 (scripts/reference/requirements-models.txt).
// Run: npx tsc -p tsconfig.json && node bench/transcription.mjs [--lengths 30,180,600] [--threads 2] [--long 1200]
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakBytes, runJson } from './child.mjs';

const root = join(import.meta.dirname, '..');
const shared = join(root, '..', 'shared', 'basic-pitch');
const python = join(root, '.venv', 'bin', 'python');
const script = join(root, 'scripts', 'reference', 'bp_bench.py');
const { values } = parseArgs({
  options: {
    lengths: { type: 'string', default: '30,180,600' },
    threads: { type: 'string', default: '2' },
    long: { type: 'string', default: '1200' },
    child: { type: 'string' },
    input: { type: 'string' },
  },
});

if (values.child === 'ours') {
  const { createTranscriber } = await import('../dist/models/basicPitch/index.js');
  const t = await createTranscriber({ model: join(shared, 'nmp.onnx'), intraOpThreads: Number(values.threads) });
  const t0 = performance.now();
  const r = await t.transcribe(values.input, { trim: 'v0.4.0' });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, timing: r.timing, notes: r.notes.length, frames: r.frames, peakBytes: peakBytes() }));
  process.exit(0);
}

if (!existsSync(python) || !existsSync(join(shared, 'nmp.onnx'))) {
  console.error('bench/transcription: needs ../shared/basic-pitch and .venv with basic-pitch 0.4.0 (scripts/reference/requirements-models.txt)');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'bench-bp-'));
const mb = (b) => (b / 2 ** 20).toFixed(0);
const rows = [];
try {
  const lengths = values.lengths.split(',').map(Number);
  if (Number(values.long) > 0) lengths.push(Number(values.long));
  for (const seconds of lengths) {
    const wav = join(dir, `audio-${seconds}.wav`);
    execFileSync(python, [script, 'make', join(shared, 'vocadito_10.wav'), String(seconds), wav]);
    const ours = runJson(process.execPath, [import.meta.filename, '--child', 'ours', '--input', wav, '--threads', values.threads]);
    const skipPython = seconds === Number(values.long) && !values.lengths.split(',').map(Number).includes(seconds);
    const py = skipPython ? null : runJson(python, [script, 'run', wav, join(shared, 'nmp.onnx'), values.threads], { stdio: ['ignore', 'pipe', 'ignore'] });
    const row = {
      seconds,
      ours: {
        total: ours.seconds,
        notes: ours.timing.notesMs / 1000,
        inference: ours.timing.inferenceMs / 1000,
        peak: ours.peakBytes,
        n: ours.notes,
        frames: ours.frames,
      },
      py: py && { total: py.seconds, notes: py.notesSeconds, inference: py.inferenceSeconds, peak: py.peakBytes, n: py.notes, frames: py.frames },
    };
    rows.push(row);
    console.error(JSON.stringify(row));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n${values.threads} intra-op thread(s), vocadito_10.wav tiled, nmp.onnx, CPU\n`);
console.log(
  '| audio | ours end to end | basic-pitch end to end | ratio | ours note creation | basic-pitch note creation | ratio | ours peak RSS | basic-pitch peak RSS | notes (ours / bp) |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const len = r.seconds >= 60 ? `${r.seconds / 60} min` : `${r.seconds} s`;
  if (!r.py) {
    console.log(
      `| ${len} (ours only) | ${r.ours.total.toFixed(2)} s | – | – | ${(r.ours.notes * 1000).toFixed(1)} ms | – | – | ${mb(r.ours.peak)} MiB | – | ${r.ours.n} |`,
    );
    continue;
  }
  console.log(
    `| ${len} | ${r.ours.total.toFixed(2)} s | ${r.py.total.toFixed(2)} s | ${(r.py.total / r.ours.total).toFixed(2)}× | ` +
      `${(r.ours.notes * 1000).toFixed(1)} ms | ${(r.py.notes * 1000).toFixed(1)} ms | ${(r.py.notes / r.ours.notes).toFixed(0)}× | ` +
      `${mb(r.ours.peak)} MiB | ${mb(r.py.peak)} MiB | ${r.ours.n} / ${r.py.n} |`,
  );
}
