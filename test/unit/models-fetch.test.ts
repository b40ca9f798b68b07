// `fetchModel` / `listModels` / `removeModel` against a loopback mirror: hash refusal, resume of a
// download cut mid-way, restart when ranges are ignored, trust on first use for Beat This, --from,
// and the models folder never holding a partial file under a final name.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { fetchModel, graphsDir, listModels, removeModel } from '../../lib/models/fetch.js';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { type Mirror, startMirror } from '../helpers/mirrorServer.js';
import { useTempDir } from '../helpers/tmp.js';

const root = useTempDir('models-fetch-');
let mirror: Mirror;
let n = 0;
const freshDir = (): string => {
  const d = join(root, `m${n++}`);
  mkdirSync(d);
  return d;
};
const SMALL = 'beat_this/small0.ckpt';
// Valid small0 checkpoints (the fetch converts them), each seed its own bytes.
const smallGraph = readFileSync(join(graphsDir(), 'beat-this-small.onnx'));
const smallCkpt = (seed: number): Buffer => lightningCheckpoint(beatThisState(smallGraph, seed), beatThisHparams(128));
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const HT = 'hybrid_transformer/955717e8-8726e21a.th';

beforeAll(async () => {
  mirror = await startMirror();
});
afterAll(async () => {
  await mirror.close();
});

/** Buffer equality without vitest's per-element deep diff (slow on 300 kB). */
const same = (a: Buffer, b: Buffer): boolean => a.equals(b);

async function rejection(p: Promise<unknown>): Promise<DidacticError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DidacticError);
  return e as DidacticError;
}

/** Everything in the models folder except the (possibly present) .partial folder. */
function finalEntries(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && !e.parentPath.includes('.partial'))
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('models fetch through a mirror', () => {
  it('refuses a Demucs checkpoint whose SHA-256 does not start with the published prefix, and keeps nothing of it', async () => {
    const dir = freshDir();
    mirror.files.set(HT, randomBytes(50_000));
    const e = await rejection(fetchModel('htdemucs', { modelsDir: dir, mirror: mirror.url }));
    expect(e.code).toBe('DE_MODEL_INVALID');
    expect(e.details).toMatchObject({ reason: 'sha256', file: '955717e8-8726e21a.th', expected: '8726e21a…' });
    expect(e.message).toContain('not the official file');
    expect(finalEntries(dir)).toEqual([]);
    // The refused download and the fetch lock are gone, and with them the .partial folder.
    expect(existsSync(join(dir, '.partial'))).toBe(false);
    expect(mirror.requests.at(-1)).toEqual({ path: HT, range: undefined });
  });

  it('resumes a download killed mid-way with an HTTP Range request; nothing is installed until it is complete', async () => {
    const dir = freshDir();
    const body = smallCkpt(1);
    mirror.files.set(SMALL, body);
    mirror.cutAfter.set(SMALL, 100_000);
    const seen = mirror.requests.length;
    const e = await rejection(fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url, retries: 0 }));
    expect(e.code).toBe('DE_UNAVAILABLE');
    expect(e.message).toContain('run the same command again to resume');
    expect(finalEntries(dir)).toEqual([]);
    const part = join(dir, '.partial', 'small0.ckpt.part');
    const kept = readFileSync(part);
    expect(kept.length).toBeGreaterThan(0);
    expect(same(kept, body.subarray(0, kept.length))).toBe(true);

    const r = await fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url, retries: 0 });
    const asked = mirror.requests.slice(seen);
    expect(asked.map((q) => q.path)).toEqual([SMALL, SMALL]);
    expect(asked[0]!.range).toBeUndefined();
    // From what reached the disk before the cut (at most the 100,000 bytes sent).
    const from = Number(/^bytes=(\d+)-$/.exec(asked[1]!.range ?? '')?.[1]);
    expect(from).toBeGreaterThan(0);
    expect(from).toBeLessThanOrEqual(100_000);
    expect(r.path).toBe(join(dir, 'beat-this-small.onnx'));
    expect(r.files[0]).toMatchObject({ sha256: sha(body), bytes: body.length, verified: 'first-use' });
    expect(finalEntries(dir)).toEqual(['beat-this-small.model.json', 'beat-this-small.onnx']);
    expect(existsSync(join(dir, '.partial'))).toBe(false);
  });

  it('retries within one fetch (resuming), and restarts when the server ignores ranges', async () => {
    const dir = freshDir();
    const body = smallCkpt(2);
    mirror.files.set(SMALL, body);
    mirror.cutAfter.set(SMALL, 70_000);
    expect((await fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url })).files[0]!.sha256).toBe(sha(body));
    expect(mirror.requests.at(-1)?.range).toMatch(/^bytes=\d+-$/);

    const dir2 = freshDir();
    mirror.ignoreRanges = true;
    try {
      mirror.cutAfter.set(SMALL, 50_000);
      expect((await fetchModel('beat-this-small', { modelsDir: dir2, mirror: mirror.url })).files[0]!.sha256).toBe(sha(body));
    } finally {
      mirror.ignoreRanges = false;
    }
  });

  it('records the SHA-256 of a model without a published hash and refuses a different one unless accepted', async () => {
    const dir = freshDir();
    mirror.files.set(SMALL, smallCkpt(3));
    const installed = readFileSync((await fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url })).path);
    mirror.files.set(SMALL, smallCkpt(4));
    const e = await rejection(fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url }));
    expect(e.code).toBe('DE_MODEL_INVALID');
    expect(e.message).toContain('--accept-new-hash');
    // The installed model is untouched by the refused fetch.
    expect(same(readFileSync(join(dir, 'beat-this-small.onnx')), installed)).toBe(true);
    const r = await fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url, acceptNewHash: true });
    expect(r.files[0]!.sha256).toBe(sha(mirror.files.get(SMALL)!));
    expect(same(readFileSync(r.path), installed)).toBe(false);
    const again = await fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url });
    expect(again.files[0]!.verified).toBe('recorded');
  });

  it('two fetches of one model in one process: one download, the second waits on the lock and reuses it', async () => {
    const dir = freshDir();
    const body = smallCkpt(7); // a valid checkpoint: the fetch converts what it downloads
    mirror.files.set(SMALL, body);
    const before = mirror.requests.length;
    mirror.chunkDelayMs = 5;
    try {
      // Either call may take the lock first (both start in one tick): one downloads, the other only waits.
      const stagesA: string[] = [];
      const stagesB: string[] = [];
      const [a, b] = await Promise.all([
        fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url, onProgress: (p) => stagesA.push(p.stage) }),
        fetchModel('beat-this-small', { modelsDir: dir, mirror: mirror.url, onProgress: (p) => stagesB.push(p.stage) }),
      ]);
      expect(mirror.requests.slice(before).filter((r) => r.path === SMALL)).toHaveLength(1);
      const [waiter, downloader] = stagesA.includes('wait') ? [stagesA, stagesB] : [stagesB, stagesA];
      expect(waiter).toEqual(['wait']);
      expect(downloader).toContain('download');
      expect(downloader).not.toContain('wait');
      expect(b.files).toEqual(a.files);
      expect(b.files[0]!.sha256).toBe(sha(body));
      expect(same(readFileSync(b.path), readFileSync(a.path))).toBe(true);
      expect(existsSync(join(dir, '.partial'))).toBe(false);
    } finally {
      mirror.chunkDelayMs = 0;
    }
  });

  it('installs from a local file or folder (--from), hash still checked; list and remove', async () => {
    const dir = freshDir();
    const src = join(root, 'offline');
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, 'small0.ckpt'), smallCkpt(5));
    writeFileSync(join(src, '955717e8-8726e21a.th'), randomBytes(5_000));
    const before = mirror.requests.length;
    const r = await fetchModel('beat-this-small', { modelsDir: dir, from: src });
    expect(r.files[0]!.source).toBe(join(src, 'small0.ckpt'));
    expect((await rejection(fetchModel('htdemucs', { modelsDir: dir, from: join(src, '955717e8-8726e21a.th') }))).details).toMatchObject({
      reason: 'sha256',
    });
    expect((await rejection(fetchModel('htdemucs_ft', { modelsDir: dir, from: src }))).code).toBe('DE_MODEL_NOT_FOUND');
    expect(mirror.requests.length).toBe(before);
    expect(existsSync(join(src, 'small0.ckpt'))).toBe(true); // --from files are never moved or deleted

    const rows = await listModels({ modelsDir: dir });
    expect(rows.map((m) => m.name)).toEqual(['htdemucs', 'htdemucs_6s', 'htdemucs_ft', 'beat-this-small', 'beat-this']);
    const small = rows.find((m) => m.name === 'beat-this-small')!;
    expect(small).toMatchObject({ installed: true, sha256: [r.files[0]!.sha256] });
    expect(small.bytes).toBeGreaterThan(8_000_000); // the filled network, 2.1M float32 parameters
    expect(small.licence).toContain('MIT');
    expect(rows[0]).toMatchObject({ installed: false, urls: ['https://dl.fbaipublicfiles.com/demucs/hybrid_transformer/955717e8-8726e21a.th'] });
    expect(await removeModel('beat-this-small', { modelsDir: dir })).toBe(true);
    expect(finalEntries(dir)).toEqual([]);
    expect(await removeModel('beat-this-small', { modelsDir: dir })).toBe(false);
    expect((await rejection(fetchModel('nope', { modelsDir: dir }))).code).toBe('DE_INVALID_ARGUMENT');
  });

  it('a missing file on the mirror is DE_UNAVAILABLE naming the URL, without retries', async () => {
    const dir = freshDir();
    mirror.files.delete(SMALL);
    const before = mirror.requests.length;
    const e = await rejection(fetchModel('beat-this-small', { modelsDir: dir, mirror: `${mirror.url}/` }));
    expect(e.code).toBe('DE_UNAVAILABLE');
    expect(e.message).toContain('HTTP 404');
    expect(mirror.requests.length).toBe(before + 1);
    expect(finalEntries(dir)).toEqual([]);
  });
});

describe('the pipeline names the command for a missing known model', () => {
  it('ModelCache.separator: DE_MODEL_NOT_FOUND naming `npx didactic-engine models fetch htdemucs_ft`', async () => {
    const { ModelCache } = await import('../../lib/pipeline/models.js');
    const { PipelineConfig } = await import('../../lib/pipeline/config.js');
    const dir = freshDir();
    const saved = process.env.DIDACTIC_MODELS_DIR;
    process.env.DIDACTIC_MODELS_DIR = dir;
    try {
      const cfg = new PipelineConfig({ songId: 's', inputWav: 'x.wav', outDir: 'out', demucsModel: 'htdemucs_ft' }, { warn: null });
      const e = await rejection(new ModelCache().separator(cfg, 1));
      expect(e.code).toBe('DE_MODEL_NOT_FOUND');
      expect(e.message).toContain('Install it with `npx didactic-engine models fetch htdemucs_ft`');
      expect(e.message).toContain(join(dir, 'htdemucs_ft.onnx'));
    } finally {
      if (saved === undefined) delete process.env.DIDACTIC_MODELS_DIR;
      else process.env.DIDACTIC_MODELS_DIR = saved;
    }
  });
});
