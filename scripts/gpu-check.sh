#!/usr/bin/env bash
# GPU readiness: on a machine with an NVIDIA GPU and ONNX Runtime's CUDA provider, runs Separation
# (the stand-in htdemucs model built in code) and Basic Pitch with device 'cuda', compares each with
# the CPU result within a tolerance and prints timings. Not part of the tests. Exits 2 with a plain
# message when there is no GPU or no CUDA provider, 1 when a GPU result differs from the CPU one.
#
# The CUDA provider: `npm install onnxruntime-node@1.30.0` (its install script fetches
# libonnxruntime_providers_{cuda,shared}.so beside libonnxruntime.so.1), plus CUDA 12 and cuDNN 9
# libraries on the loader path; or DIDACTIC_ORT_LIBRARY=/path/to/a/GPU/build/libonnxruntime.so.1.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi -L >/dev/null 2>&1; then
  echo "gpu-check: no NVIDIA GPU here (nvidia-smi missing or lists no GPU); nothing to check" >&2
  exit 2
fi
nvidia-smi -L | sed 's/^/gpu-check: /'
[[ -f dist/index.js && -f dist/reports/html/browser/report.js ]] || npm run build:ts

node --input-type=module - <<'EOF'
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as de from './dist/index.js';

const say = (m) => console.log(`gpu-check: ${m}`);
const lib = de.ortLibraryPath();
const info = await de.ensureOrtRuntime();
const cudaLib = join(dirname(lib), 'libonnxruntime_providers_cuda.so');
say(`ONNX Runtime ${info.version} from ${lib}; providers compiled in: ${info.availableProviders.join(', ')}`);
if (!info.availableProviders.includes('CUDAExecutionProvider') || !existsSync(cudaLib)) {
  console.error(
    `gpu-check: the CUDA execution provider is not available: ${cudaLib} is missing. ` +
      'Install onnxruntime-node (npm install onnxruntime-node@1.30.0, which fetches the CUDA provider) ' +
      'or point DIDACTIC_ORT_LIBRARY at a GPU build of libonnxruntime.so.1',
  );
  process.exit(2);
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
async function timed(fn) {
  const t = performance.now();
  const r = await fn();
  return [r, performance.now() - t];
}

// 20 s of stereo 44.1 kHz: a chord plus clicks, deterministic.
const sr = 44100, n = sr * 20, mix = new Float32Array(n * 2);
for (let i = 0; i < n; i++) {
  const t = i / sr;
  const v = 0.2 * (Math.sin(2 * Math.PI * 220 * t) + Math.sin(2 * Math.PI * 277.18 * t) + Math.sin(2 * Math.PI * 329.63 * t)) + (t % 0.5 < 0.005 ? 0.4 : 0);
  mix[2 * i] = v;
  mix[2 * i + 1] = 0.8 * v;
}
const audio = { samples: mix, sampleRate: sr, channels: 2 };
let failed = false;

const model = de.buildDemucsStandIn();
const results = {};
for (const device of ['cpu', 'cuda']) {
  const sep = await de.createSeparator(model, { device });
  if (device === 'cuda' && !sep.info.providers.includes('cuda')) {
    console.error(`gpu-check: separation did not get the CUDA provider: ${sep.info.warnings.join('; ')}`);
    process.exit(2);
  }
  await sep.separate(audio); // warm-up (CUDA initialisation, allocations)
  const [res, ms] = await timed(() => sep.separate(audio));
  results[device] = res;
  say(`separation (stand-in) on ${device}: ${ms.toFixed(0)} ms for 20 s of audio (${sep.info.providers.join('+')})`);
}
{
  const d = Math.max(...results.cpu.stems.map((s, i) => maxDiff(s.samples, results.cuda.stems[i].samples)));
  const ok = d <= 1e-4;
  failed ||= !ok;
  say(`separation: max |cuda - cpu| = ${d.toExponential(2)} (tolerance 1e-4) ${ok ? 'ok' : 'FAILED'}`);
}

const bp = {};
for (const device of ['cpu', 'cuda']) {
  const tr = await de.createTranscriber({ device });
  if (device === 'cuda' && !tr.providers.includes('cuda')) {
    console.error(`gpu-check: Basic Pitch did not get the CUDA provider: ${tr.warnings.join('; ')}`);
    process.exit(2);
  }
  await tr.transcribe(audio, { posteriors: true });
  const [res, ms] = await timed(() => tr.transcribe(audio, { posteriors: true }));
  bp[device] = res;
  say(`basic pitch on ${device}: ${ms.toFixed(0)} ms (inference ${res.timing.inferenceMs.toFixed(0)} ms), ${res.notes.length} notes`);
}
{
  const d = Math.max(
    maxDiff(bp.cpu.posteriors.note, bp.cuda.posteriors.note),
    maxDiff(bp.cpu.posteriors.onset, bp.cuda.posteriors.onset),
    maxDiff(bp.cpu.posteriors.contour, bp.cuda.posteriors.contour),
  );
  const ok = d <= 1e-3 && Math.abs(bp.cpu.notes.length - bp.cuda.notes.length) <= 1;
  failed ||= !ok;
  say(`basic pitch: max posterior |cuda - cpu| = ${d.toExponential(2)} (tolerance 1e-3), notes ${bp.cpu.notes.length} vs ${bp.cuda.notes.length} ${ok ? 'ok' : 'FAILED'}`);
}
process.exit(failed ? 1 : 0);
EOF
