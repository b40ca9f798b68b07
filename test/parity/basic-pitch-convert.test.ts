/**
 * The TF.js graph → ONNX converter against the official nmp.onnx (../shared/basic-pitch): same input,
 * max abs difference <= 1e-5 on random and silent windows. Skipped when the shared data is absent.
 * One intra-op thread: on an all-silent window the graph's NormalizedLog divides by a max that is 0
 * only when every log value is bit-identical; with several threads ORT's vectorised Log and its scalar
 * tail split the window differently, the max becomes ~1e-7 and the normalised window turns into noise
 * in *both* models (measured: 4e-3 / 6e-3 against the same model alone), so silence is compared
 * single-threaded.
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { convertTfjsGraph } from '../../lib/models/basicPitch/convert.js';
import { tfjsModelPath } from '../../lib/models/basicPitch/index.js';
import { createSession } from '../../lib/models/session.js';
import { parseModel } from '../../lib/models/onnxBuilder.js';
import { file, requires } from '../helpers/requires.js';

const root = join(import.meta.dirname, '..', '..');
const official = join(root, '..', 'shared', 'basic-pitch', 'nmp.onnx');
// The weights the install script fetched (weights/), or an installed @spotify/basic-pitch.
let tfjs = '';
try {
  tfjs = tfjsModelPath();
} catch {
  tfjs = '(no @spotify/basic-pitch weights)';
}
const needs = requires(
  file(official, "the project's shared data (../shared) is not beside this checkout — clone next to shared/ (basic-pitch/nmp.onnx)"),
  file(tfjs, 'no Basic Pitch TF.js weights (weights/ or @spotify/basic-pitch) — run `node scripts/install.mjs`'),
);

const OUT = ['StatefulPartitionedCall:0', 'StatefulPartitionedCall:1', 'StatefulPartitionedCall:2'];

describe('basic-pitch TF.js → ONNX converter', needs, () => {
  it('matches nmp.onnx within 1e-5 on random and silent windows', { timeout: 120_000 }, async () => {
    const bytes = convertTfjsGraph(tfjs);
    const ops = new Set(parseModel(bytes).graph!.node!.map((n) => n.opType));
    expect(ops.has('Conv')).toBe(true);
    const ours = await createSession(bytes, { intraOpThreads: 1 });
    const ref = await createSession(official, { intraOpThreads: 1 });
    const n = 43844;
    const input = new Float32Array(3 * n);
    let seed = 12345;
    for (let i = 0; i < 2 * n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      input[i] = ((seed / 2 ** 32) * 2 - 1) * (i < n ? 0.5 : 0.05);
    }
    // window 3 stays silent (DivNoNan's 0/0 path)
    const feeds = { 'serving_default_input_2:0': { data: input, dims: [3, n, 1] } };
    const a = await ours.run(feeds, { outputNames: OUT });
    const b = await ref.run(feeds, { outputNames: OUT });
    for (const name of OUT) {
      expect(a[name]!.dims).toEqual(b[name]!.dims);
      let worst = 0;
      for (let i = 0; i < a[name]!.data.length; i++) {
        const d = Math.abs(a[name]!.data[i]! - b[name]!.data[i]!);
        worst = Number.isNaN(d) ? Infinity : Math.max(worst, d);
      }
      const per = a[name]!.data.length / 3;
      const perWindow = [0, 1, 2].map((w) => {
        let m = 0;
        for (let i = w * per; i < (w + 1) * per; i++) m = Math.max(m, Math.abs(a[name]!.data[i]! - b[name]!.data[i]!));
        return m.toExponential(2);
      });
      console.info(`converter vs nmp.onnx ${name}: max |diff| ${worst.toExponential(2)} (per window ${perWindow.join(', ')})`);
    }
    for (const name of OUT) {
      let w = 0;
      for (let i = 0; i < a[name]!.data.length; i++) w = Math.max(w, Math.abs(a[name]!.data[i]! - b[name]!.data[i]!));
      expect(w).toBeLessThanOrEqual(1e-5);
    }
  });
});
