/**
 * Parity with PyTorch: our engine vs demucs.apply.apply_model (demucs 4.0.1) on the same
 * random-init htdemucs weights and the same mix, shifts 0. Needs .venv-torch (scripts/reference/
 * requirements-torch.txt) and the exported model:
 *   .venv-torch/bin/python scripts/export-htdemucs.py --random-init --seed 0 \
 *     -o /tmp/didactic-demucs/htdemucs-random.onnx --save-torch /tmp/didactic-demucs/htdemucs-random.pt
 * ($DIDACTIC_DEMUCS_RANDOM overrides the path prefix). Skipped when either is absent.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { createSeparator } from '../../lib/models/demucs/index.js';
import { file, requires } from '../helpers/requires.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const python = join(root, '.venv-torch', 'bin', 'python');
const prefix = process.env.DIDACTIC_DEMUCS_RANDOM ?? '/tmp/didactic-demucs/htdemucs-random';
const onnxPath = `${prefix}.onnx`;
const torchPath = `${prefix}.pt`;
const needs = requires(
  file(python, 'the PyTorch Demucs reference venv is missing (.venv-torch with torch and demucs 4.0.1) — see docs/models.md (Demucs parity)'),
  file(onnxPath, `no random-init htdemucs export at ${onnxPath} (DIDACTIC_DEMUCS_RANDOM) — see docs/models.md (Exporting the models)`),
  file(torchPath, `no random-init htdemucs checkpoint at ${torchPath} (DIDACTIC_DEMUCS_RANDOM) — see docs/models.md (Exporting the models)`),
);

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

describe('demucs parity with PyTorch apply_model (random-init htdemucs)', needs, () => {
  it('max abs difference <= 1e-4 over 20 s (3 segments, short last one), shifts 0', { timeout: 600_000 }, async () => {
    const dir = useTempDir('demucs-parity-');
    const summary = JSON.parse(
      execFileSync(python, [join(root, 'scripts/reference/demucs_parity.py'), '--torch', torchPath, '--seconds', '20', '--out', dir], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n')
        .pop()!,
    ) as { frames: number; sources: string[] };
    const mix = readF32(join(dir, 'mix.f32'));
    const ref = readF32(join(dir, 'stems.f32'));
    const sep = await createSeparator(onnxPath);
    expect(sep.info.sources).toEqual(summary.sources);
    const r = await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 });
    expect(r.frames).toBe(summary.frames);
    let maxDiff = 0;
    let peak = 0;
    r.stems.forEach((stem, k) => {
      const want = ref.subarray(k * 2 * r.frames, (k + 1) * 2 * r.frames);
      for (let i = 0; i < want.length; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(stem.samples[i]! - want[i]!));
        peak = Math.max(peak, Math.abs(want[i]!));
      }
    });
    console.log(`demucs parity: max abs diff ${maxDiff.toExponential(3)} (reference peak ${peak.toFixed(3)})`);
    expect(peak).toBeGreaterThan(1e-3);
    expect(maxDiff).toBeLessThanOrEqual(1e-4);
  });
});
