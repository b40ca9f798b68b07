import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';

import { createSession, ensureOrtRuntime, ModelError } from '../../lib/index.js';
import { linearExpected, linearModel } from '../helpers/linearModel.js';
import { useTempDir } from '../helpers/tmp.js';

// y = relu(x · W + b): hand-checkable (test/helpers/linearModel.ts).
const tinyModel = () => linearModel({ relu: true });
const expected = (x: number[]) => linearExpected(x, { relu: true });

describe('onnxruntime through the C API', () => {
  const dir = useTempDir();

  it('loads the runtime bundled in onnxruntime-node and reports its version', async () => {
    const info = await ensureOrtRuntime();
    expect(info.version).toMatch(/^1\.\d+\.\d+/);
    expect(info.apiVersion).toBeGreaterThanOrEqual(21);
    expect(info.availableProviders).toContain('CPUExecutionProvider');
  });

  it('runs a model built in code and returns the right numbers', async () => {
    const session = await createSession(tinyModel());
    expect(session.inputs).toEqual([{ name: 'x', shape: [-1, 3], type: 'float32' }]);
    expect(session.providers).toEqual(['cpu']);
    const x = [1, 2, 3, -1, 0.5, 2, 0, 0, 0];
    const out = await session.run({ x: { data: new Float32Array(x), dims: [3, 3] } });
    expect(out.y!.dims).toEqual([3, 2]);
    const want = expected(x);
    for (let i = 0; i < want.length; i++) expect(out.y!.data[i]).toBeCloseTo(want[i]!, 5);
  });

  it('runs concurrent inferences on one session', async () => {
    const session = await createSession(tinyModel(), { intraOpThreads: 1 });
    const inputs = Array.from({ length: 16 }, (_, i) => [i, -i, i / 2]);
    const results = await Promise.all(inputs.map((x) => session.run({ x: { data: new Float32Array(x), dims: [1, 3] } })));
    results.forEach((r, i) => {
      const want = expected(inputs[i]!);
      expect(Array.from(r.y!.data).map((v) => Number(v.toFixed(4)))).toEqual(want.map((v) => Number(v.toFixed(4))));
    });
  });

  it('falls back to CPU with a warning when CUDA is asked for but absent', async () => {
    const session = await createSession(tinyModel(), { providers: ['cuda', 'cpu'] });
    if (session.providers.includes('cuda')) return; // a GPU machine: nothing to fall back from
    expect(session.providers).toEqual(['cpu']);
    expect(session.warnings.join(' ')).toMatch(/CUDA/);
  });

  it('rejects a corrupt model file with a typed error naming the file', async () => {
    const path = join(dir, 'broken.onnx');
    writeFileSync(path, 'not a protobuf');
    const err = await createSession(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelError);
    expect(err).toMatchObject({ code: 'DE_MODEL_INVALID' });
    expect((err as Error).message).toContain('broken.onnx');
  });

  it('rejects inputs whose size does not match their dims', async () => {
    const session = await createSession(tinyModel());
    await expect(session.run({ x: { data: new Float32Array(4), dims: [1, 3] } })).rejects.toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
    });
  });

  it('works from a worker_threads Worker (per-environment addon state)', async () => {
    const model = join(dir, 'tiny.onnx');
    writeFileSync(model, tinyModel());
    const script = `
      const { parentPort, workerData } = require('node:worker_threads');
      const load = require('node-gyp-build');
      const binding = load(workerData.root);
      (async () => {
        await binding.ortLoad(workerData.lib);
        const s = await binding.createSession(workerData.model, { intraOpThreads: 1, interOpThreads: 1, providers: ['cpu'] });
        const out = await binding.sessionRun(s.handle, { x: { data: new Float32Array([1, 2, 3]), dims: [1, 3] } });
        await binding.modelClose(s.handle);
        parentPort.postMessage(Array.from(out.y.data));
      })().catch((e) => parentPort.postMessage({ error: String(e) }));
    `;
    const info = await ensureOrtRuntime();
    const worker = new Worker(script, {
      eval: true,
      workerData: { root: join(import.meta.dirname, '..', '..'), lib: info.libraryPath, model },
    });
    const result = await new Promise<unknown>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    const want = expected([1, 2, 3]);
    expect((result as number[]).map((v) => Number(v.toFixed(4)))).toEqual(want.map((v) => Number(v.toFixed(4))));
  });
});

describe('onnxruntime missing', () => {
  it('fails with DE_NATIVE_RUNTIME_MISSING naming the path when the library is absent', async () => {
    const { execFileSync } = await import('node:child_process');
    const root = join(import.meta.dirname, '..', '..');
    const script = `
      import('${join(root, 'dist', 'index.js')}').then(async (m) => {
        try { await m.ensureOrtRuntime(); console.log('loaded'); }
        catch (e) { console.log(JSON.stringify({ code: e.code, name: e.name, message: e.message })); }
      });`;
    const out = execFileSync(process.execPath, ['-e', script], {
      encoding: 'utf8',
      env: { ...process.env, DIDACTIC_ORT_LIBRARY: '/nonexistent/libonnxruntime.so.1' },
    });
    const err = JSON.parse(out) as { code: string; name: string; message: string };
    expect(err.code).toBe('DE_NATIVE_RUNTIME_MISSING');
    expect(err.name).toBe('NativeError');
    expect(err.message).toContain('/nonexistent/libonnxruntime.so.1');
  });
});
