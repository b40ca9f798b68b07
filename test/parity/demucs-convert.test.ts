/**
 * demucsConvertParity: the whole Python-free install path against PyTorch. Random-init checkpoints
 * written by the reference code in exactly the official format (demucs.states.serialize_model +
 * save_with_checksum: klass, args, kwargs, float16 state) are served from a loopback mirror under
 * the official file names, fetched with `fetchModel` (refused without --unverified: not the
 * official hash; accepted with it, structure checked), converted in Node from the committed
 * weightless graph, and separated by our engine; PyTorch's demucs.apply.apply_model on the same
 * packages and mix must agree within 1e-4. Needs .venv-torch (torch, demucs 4.0.1; docs/models.md).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestOptions } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { createSeparator } from '../../lib/models/demucs/index.js';
import { fetchModel, graphsDir } from '../../lib/models/fetch.js';
import { knownModel } from '../../lib/models/registry.js';
import { type Mirror, startMirror } from '../helpers/mirrorServer.js';
import { file, requires } from '../helpers/requires.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const python = join(root, '.venv-torch', 'bin', 'python');
const torch = requires(file(python, 'the PyTorch Demucs reference venv is missing (.venv-torch with torch and demucs 4.0.1) — see docs/models.md'));
// htdemucs_ft runs four networks in PyTorch (over 8 min of CPU here): opt in with DIDACTIC_PARITY_ARCHS=htdemucs,htdemucs_6s,htdemucs_ft.
const ARCHS = (process.env.DIDACTIC_PARITY_ARCHS ?? 'htdemucs,htdemucs_6s').split(',');
const BAG_WEIGHTS: Record<string, number[][]> = { htdemucs_ft: [0, 1, 2, 3].map((i) => [0, 1, 2, 3].map((j) => (i === j ? 1 : 0))) };

/** Skips unless models/graphs/<name>.onnx (committed; made by scripts/models/demucs_graph.py) is there. */
function graph(name: string): TestOptions {
  return requires(file(join(graphsDir(), `${name}.onnx`), `models/graphs/${name}.onnx is missing — make it with scripts/models/demucs_graph.py`));
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
}

describe('Demucs checkpoints fetched and converted in Node vs PyTorch', torch, () => {
  const dir = useTempDir('demucs-convert-');
  let mirror: Mirror;
  beforeAll(async () => {
    mirror = await startMirror();
  });
  afterAll(async () => {
    await mirror?.close();
  });

  // Cheaper than the full htdemucs_ft parity (PyTorch would run four networks): a bag of four
  // identical members with the yaml's one-hot weights must give htdemucs' stems exactly.
  /** Random-init checkpoints of `arch` in the official format, written by demucs' own save code; their file names. */
  const writeCheckpoints = (arch: string, seed: number, out: string): { files: string[] } =>
    JSON.parse(
      execFileSync(python, [join(root, 'scripts/models/demucs_graph.py'), 'checkpoints', '--arch', arch, '--seed', String(seed), '-o', out], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      })
        .trim()
        .split('\n')
        .pop()!,
    ) as { files: string[] };

  it('htdemucs_ft of four identical members = htdemucs, bit for bit', { ...graph('htdemucs'), timeout: 1_800_000 }, async () => {
    const ck = join(dir, 'bag-ck');
    const made = writeCheckpoints('htdemucs', 8, ck);
    const from = join(dir, 'bag-from');
    mkdirSync(from);
    for (const f of [...knownModel('htdemucs_ft')!.files, ...knownModel('htdemucs')!.files]) symlinkSync(join(ck, made.files[0]!), join(from, f.file));
    const modelsDir = join(dir, 'bag-models');
    for (const name of ['htdemucs', 'htdemucs_ft']) await fetchModel(name, { modelsDir, from, unverified: true });
    const frames = 44100 * 8;
    const mix = Float32Array.from({ length: 2 * frames }, (_, i) => 0.3 * Math.sin(i * 0.005) + 0.1 * Math.sin(i * 0.37));
    const stems = [];
    for (const name of ['htdemucs', 'htdemucs_ft']) {
      await using sep = await createSeparator(name, { modelsDir, intraOpThreads: 2 });
      stems.push((await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 })).stems);
    }
    expect(stems[1]!.map((s) => s.name)).toEqual(['drums', 'bass', 'other', 'vocals']);
    for (const [k, stem] of stems[0]!.entries()) {
      const a = stems[1]![k]!.samples;
      expect(Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(stem.samples.buffer, stem.samples.byteOffset, stem.samples.byteLength))).toBe(
        true,
      );
    }
  });

  for (const arch of ARCHS) {
    it(`${arch}: stems within 1e-4 of apply_model over 10 s (two segments)`, { ...graph(knownModel(arch)?.graph ?? arch), timeout: 1_800_000 }, async () => {
      const ck = join(dir, `${arch}-ck`);
      const made = writeCheckpoints(arch, 7, ck);
      const model = knownModel(arch)!;
      expect(made.files.length).toBe(model.files.length);
      for (const [i, f] of model.files.entries()) mirror.files.set(f.mirrorPath, readFileSync(join(ck, made.files[i]!)));
      const modelsDir = join(dir, `${arch}-models`);

      const refused = await fetchModel(arch, { modelsDir, mirror: mirror.url }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(DidacticError);
      expect((refused as DidacticError).details).toMatchObject({ reason: 'sha256' });

      const t0 = performance.now();
      const fetched = await fetchModel(arch, { modelsDir, mirror: mirror.url, unverified: true });
      console.log(`${arch}: fetched and converted in ${((performance.now() - t0) / 1000).toFixed(1)} s (convert ${fetched.convertSeconds.toFixed(1)} s)`);
      expect(fetched.files.every((f) => f.verified === 'unverified')).toBe(true);

      const out = join(dir, `${arch}-ref`);
      const args = [
        join(root, 'scripts/reference/demucs_parity.py'),
        '--package',
        ...made.files.map((f) => join(ck, f)),
        '--seconds',
        '10',
        '--threads',
        '2',
        '--out',
        out,
      ];
      if (BAG_WEIGHTS[arch]) args.push('--bag-weights', JSON.stringify(BAG_WEIGHTS[arch]));
      const summary = JSON.parse(
        execFileSync(python, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
          .trim()
          .split('\n')
          .pop()!,
      ) as {
        frames: number;
        sources: string[];
      };
      const mix = readF32(join(out, 'mix.f32'));
      const ref = readF32(join(out, 'stems.f32'));
      await using sep = await createSeparator(arch, { modelsDir, intraOpThreads: 2 });
      expect(sep.info.sources).toEqual(summary.sources);
      const r = await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 });
      expect(r.frames).toBe(summary.frames);
      let maxDiff = 0;
      let peak = 0;
      for (const [k, stem] of r.stems.entries()) {
        const want = ref.subarray(k * 2 * r.frames, (k + 1) * 2 * r.frames);
        for (let i = 0; i < want.length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(stem.samples[i]! - want[i]!));
          peak = Math.max(peak, Math.abs(want[i]!));
        }
      }
      console.log(`${arch}: max abs diff ${maxDiff.toExponential(3)} (reference peak ${peak.toFixed(3)})`);
      expect(peak).toBeGreaterThan(1e-3);
      expect(maxDiff).toBeLessThanOrEqual(1e-4);
    });
  }
});
