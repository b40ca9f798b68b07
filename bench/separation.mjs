// Benchmark: Demucs htdemucs separation, ours (C++ engine + ONNX Runtime CPU) against PyTorch's
// demucs.apply.apply_model (demucs 4.0.1), on the same random-init htdemucs weights, the same mix,
// the same thread count, shifts 0, in the same run. Each side runs in its own child process so its
// peak RSS (VmHWM / ru_maxrss) is its own. Also: a long song through our engine with the stand-in
// model (the engine's own memory: input, stems, one segment's tensors; the network costs nothing).
// Needs .venv-torch and the model (see test/parity/demucs.test.ts for the export command).
// Run: npx tsc -p tsconfig.json && node bench/separation.mjs [--seconds 60] [--threads 1,2] [--long 1200]
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakBytes, runJson } from './child.mjs';

const root = join(import.meta.dirname, '..');
const python = join(root, '.venv-torch', 'bin', 'python');
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    threads: { type: 'string', default: '1,2' },
    long: { type: 'string', default: '1200' },
    model: { type: 'string', default: process.env.DIDACTIC_DEMUCS_RANDOM ?? '/tmp/didactic-demucs/htdemucs-random' },
    child: { type: 'string' },
    input: { type: 'string' },
  },
});

if (values.child === 'ours') {
  const { createSeparator } = await import('../dist/models/demucs/index.js');
  const b = readFileSync(values.input);
  const mix = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
  const sep = await createSeparator(`${values.model}.onnx`, { intraOpThreads: Number(values.threads) });
  const t0 = performance.now();
  const r = await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, frames: r.frames, peakBytes: peakBytes() }));
  process.exit(0);
}

if (values.child === 'long') {
  const { createSeparator, buildDemucsStandIn } = await import('../dist/models/demucs/index.js');
  const frames = Number(values.seconds) * 44100;
  const mix = new Float32Array(frames * 2);
  for (let i = 0; i < mix.length; i++) mix[i] = 0.3 * Math.sin(i * 0.001) + 0.1 * Math.sin(i * 0.37);
  const before = peakBytes();
  const sep = await createSeparator(buildDemucsStandIn(), { intraOpThreads: 1 });
  const t0 = performance.now();
  const r = await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ seconds, frames: r.frames, peakBytes: peakBytes(), beforeBytes: before }));
  process.exit(0);
}

if (!existsSync(python) || !existsSync(`${values.model}.onnx`) || !existsSync(`${values.model}.pt`)) {
  console.error('bench/separation: needs .venv-torch and the random-init model (.onnx + .pt); see test/parity/demucs.test.ts');
  process.exit(1);
}
const seconds = Number(values.seconds);
const dir = mkdtempSync(join(tmpdir(), 'bench-sep-'));
const mb = (b) => (b / 2 ** 20).toFixed(0);
const rows = [];
try {
  for (const threads of values.threads.split(',').map(Number)) {
    const torch = runJson(
      python,
      [
        join(root, 'scripts/reference/demucs_parity.py'),
        '--torch',
        `${values.model}.pt`,
        '--seconds',
        String(seconds),
        '--threads',
        String(threads),
        '--out',
        dir,
      ],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    const ours = runJson(process.execPath, [
      import.meta.filename,
      '--child',
      'ours',
      '--input',
      join(dir, 'mix.f32'),
      '--model',
      values.model,
      '--threads',
      String(threads),
    ]);
    const perMin = (s) => (s * 60) / seconds;
    rows.push(
      `| htdemucs random-init, ${seconds} s mix | ${threads} | ${perMin(ours.seconds).toFixed(1)} s | ${perMin(torch.torch_apply_model_s).toFixed(1)} s | ${(torch.torch_apply_model_s / ours.seconds).toFixed(2)}× | ${mb(ours.peakBytes)} MiB | ${mb(torch.peak_rss_bytes)} MiB |`,
    );
    console.error(rows.at(-1));
  }
  if (Number(values.long) > 0) {
    const long = runJson(process.execPath, [import.meta.filename, '--child', 'long', '--seconds', values.long]);
    rows.push(
      `| stand-in model, ${(Number(values.long) / 60).toFixed(0)}-min song (engine only) | 1 | ${((long.seconds * 60) / Number(values.long)).toFixed(2)} s | — | — | ${mb(long.peakBytes)} MiB (input ${mb(Number(values.long) * 44100 * 8)} MiB, stems ${mb(Number(values.long) * 44100 * 8 * 4)} MiB) | — |`,
    );
    console.error(rows.at(-1));
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log('| input | threads | ours: s per min of audio | PyTorch apply_model: s per min | speed-up | ours peak RSS | PyTorch peak RSS |');
console.log('|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
