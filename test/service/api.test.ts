/**
 * The HTTP API contract in embedded mode, against a real `didactic-engine serve` process: every
 * route, its codes, auth, limits, path confinement, cancel, and a corrupt upload.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, finished, getJson, sleep, startServe, stop, stopAll, submit, waitForJob, writeClip, type Server } from './harness.js';

const tmp = useTempDir('didactic-service-api-');
let server: Server;
let clip: Uint8Array;
let longClip: Uint8Array;
const inputRoot = join(tmp, 'inputs');
const dataDir = join(tmp, 'data');

beforeAll(async () => {
  clip = await writeClip(join(inputRoot, 'clip.wav'), 4);
  // Long enough (several seconds of processing) that a cancel sent once it runs lands mid-song.
  longClip = await writeClip(join(tmp, 'long.wav'), 90);
  writeFileSync(join(tmp, 'outside.wav'), clip);
  symlinkSync(join(tmp, 'outside.wav'), join(inputRoot, 'escape.wav'));
  mkdirSync(join(inputRoot, 'folder'));
  server = await startServe(['--data-dir', dataDir, '--input-root', inputRoot, '--jobs', '1', '--max-upload-mb', '20']);
}, 60_000);

afterAll(stopAll);

describe('service API (embedded)', () => {
  it('health, readiness, OpenAPI and metrics', async () => {
    expect(await getJson(`${server.url}/healthz`)).toEqual({ status: 200, body: { ok: true } });
    // Ready once the doctor's checks pass and a worker process is up.
    let ready = await getJson(`${server.url}/readyz`);
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await sleep(200);
      ready = await getJson(`${server.url}/readyz`);
    }
    expect(ready.status).toBe(200);
    expect(ready.body.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(['addon', 'onnxruntime', 'queue']));
    const api = await getJson(`${server.url}/openapi.json`);
    expect(api.body.openapi).toBe('3.1.0');
    expect(Object.keys(api.body.paths)).toEqual(
      expect.arrayContaining([
        '/v1/jobs',
        '/v1/jobs/{id}',
        '/v1/jobs/{id}/events',
        '/v1/jobs/{id}/files/{path}',
        '/v1/events',
        '/v1/session',
        '/healthz',
        '/readyz',
        '/metrics',
      ]),
    );
    // The submission's config schema is the pipeline config's own.
    const multipart = api.body.paths['/v1/jobs'].post.requestBody.content['multipart/form-data'].schema;
    expect(Object.keys(multipart.properties.config.contentSchema.properties)).toContain('use_demucs_separation');
    const metrics = await fetch(`${server.url}/metrics`).then((r) => r.text());
    expect(metrics).toMatch(/didactic_jobs\{state="queued"\}/);
    expect(metrics).toMatch(/didactic_queue_depth/);
    expect(metrics).toMatch(/didactic_service_nodejs_eventloop_lag_seconds/);
  });

  it('runs an uploaded song to completion with progress events and downloadable outputs', async () => {
    const sub = await submit(server.url, clip, { config: JSON.stringify(FAST_CONFIG), id: 'song-1' });
    expect(sub.status).toBe(202);
    expect(sub.body).toEqual({ id: 'song-1', status_url: '/v1/jobs/song-1', duplicate: false });

    const res = await fetch(`${server.url}/v1/jobs/song-1/events`);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    const events = (await res.text())
      .split('\n\n')
      .filter((block) => block.startsWith('event: status'))
      .map((block) => JSON.parse(block.split('\ndata: ')[1]!));
    expect(events.at(-1).state).toBe('completed');
    const fractions = events.map((e) => e.progress.fraction);
    expect(fractions).toEqual([...fractions].sort((a, b) => a - b));

    const status = (await getJson(`${server.url}/v1/jobs/song-1`)).body;
    expect(status.state).toBe('completed');
    expect(status.progress).toEqual({ step: 'done', fraction: 1 });
    expect(status.result.summary.song_id).toBe('clip');
    expect(status.result.degraded).toBe(false);
    expect(status.result.files).toEqual(expect.arrayContaining(['analysis/clip/combined.json', 'datasets/clip/bars.parquet', 'midi/clip/clip.mid']));
    const combined = await getJson(`${server.url}/v1/jobs/song-1/files/analysis/clip/combined.json`);
    expect(combined.status).toBe(200);
    expect(combined.body.num_bars).toBe(status.result.summary.num_bars);
    const parquet = await fetch(`${server.url}/v1/jobs/song-1/files/datasets/clip/bars.parquet`);
    expect(parquet.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    expect(
      Buffer.from(await parquet.arrayBuffer())
        .subarray(0, 4)
        .toString(),
    ).toBe('PAR1');

    // The same id again is not queued again.
    const again = await submit(server.url, clip, { id: 'song-1' });
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
    const list = await getJson(`${server.url}/v1/jobs`);
    expect(list.body.jobs.filter((j: { id: string }) => j.id === 'song-1')).toHaveLength(1);
  });

  it('confines file downloads to the job folder', async () => {
    const escapes = ['..%2F..%2Fjob.json', '%2E%2E/job.json', 'analysis/..%2F..%2Fjob.json', '.didactic-staging/x'];
    for (const path of escapes) {
      const r = await getJson(`${server.url}/v1/jobs/song-1/files/${path}`);
      expect([403, 404], path).toContain(r.status);
      expect(r.body.error.code).toMatch(/DE_UNSAFE_PATH|DE_FILE_NOT_FOUND/);
    }
    expect((await getJson(`${server.url}/v1/jobs/song-1/files/nope.json`)).status).toBe(404);
    expect((await getJson(`${server.url}/v1/jobs/unknown-job/files/a.json`)).body.error.code).toBe('DE_JOB_NOT_FOUND');
  });

  it('rejects bad submissions with their codes and queues nothing', async () => {
    const notAudio = await submit(server.url, new TextEncoder().encode('this is not audio at all'), {}, {}, 'notes.txt');
    expect(notAudio.status).toBe(415);
    expect((notAudio.body.error as { code: string }).code).toBe('DE_UNSUPPORTED_FORMAT');

    const badConfig = await submit(server.url, clip, { config: JSON.stringify({ time_signature_den: 3 }) });
    expect(badConfig.status).toBe(400);
    expect((badConfig.body.error as { code: string }).code).toBe('DE_INVALID_CONFIG');
    const unknownKey = await submit(server.url, clip, { config: JSON.stringify({ no_such_key: 1 }) });
    expect((unknownKey.body.error as { code: string }).code).toBe('DE_INVALID_CONFIG');
    const badId = await submit(server.url, clip, { id: '../evil' });
    expect(badId.status).toBe(400);
    const badSong = await submit(server.url, clip, { song_id: '../evil' });
    expect((badSong.body.error as { code: string }).code).toBe('DE_INVALID_CONFIG');

    const big = new Uint8Array(21 * 1024 * 1024);
    big.set(clip.subarray(0, 44));
    const tooLarge = await submit(server.url, big);
    expect(tooLarge.status).toBe(413);
    expect((tooLarge.body.error as { code: string }).code).toBe('DE_UPLOAD_TOO_LARGE');

    const noFile = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      body: (() => {
        const f = new FormData();
        f.set('song_id', 'x');
        return f;
      })(),
    });
    expect(noFile.status).toBe(400);
    expect((await getJson(`${server.url}/v1/jobs/nothing-here`)).status).toBe(404);
    // Nothing was left in the data folder by the refused uploads.
    expect(readdirSync(join(dataDir, 'tmp'))).toEqual([]);
  });

  it('takes paths under the input root only', async () => {
    const post = (body: unknown) =>
      fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({
        status: r.status,
        body: (await r.json()) as any,
      }));
    const ok = await post({ path: 'clip.wav', config: FAST_CONFIG, id: 'by-path' });
    expect(ok.status).toBe(202);
    expect((await post({ path: '../outside.wav' })).body.error.code).toBe('DE_UNSAFE_PATH');
    expect((await post({ path: 'escape.wav' })).body.error.code).toBe('DE_UNSAFE_PATH');
    expect((await post({ path: '/etc/passwd' })).status).toBe(403);
    expect((await post({ path: 'folder' })).status).toBe(404);
    expect((await post({ path: 'missing.wav' })).body.error.code).toBe('DE_FILE_NOT_FOUND');
    expect((await post({ path: 'clip.wav', extra: 1 })).status).toBe(400);
    const done = await waitForJob(server.url, 'by-path', finished);
    expect(done.state).toBe('completed');
  });

  it('fails a corrupt upload in its job with the decoder code and stays healthy', async () => {
    const corrupt = new Uint8Array(clip);
    corrupt.fill(0x7f, 12, 44); // a WAV magic with a destroyed format chunk
    const sub = await submit(server.url, corrupt, { config: JSON.stringify(FAST_CONFIG), id: 'corrupt' }, {}, 'corrupt.wav');
    expect(sub.status).toBe(202);
    const done = await waitForJob(server.url, 'corrupt', finished);
    expect(done.state).toBe('failed');
    expect(done.error.code).toMatch(/^DE_(CORRUPT_AUDIO|UNSUPPORTED_FORMAT)$/);
    expect(done.attempts).toBe(1); // not retryable
    const next = await submit(server.url, clip, { config: JSON.stringify(FAST_CONFIG), id: 'after-corrupt' });
    expect((await waitForJob(server.url, String(next.body.id), finished)).state).toBe('completed');
  });

  it('cancels: a queued job is removed, a running one is aborted with nothing committed', async () => {
    const running = await submit(server.url, longClip, { config: JSON.stringify(FAST_CONFIG), id: 'long-1' });
    const queued = await submit(server.url, clip, { config: JSON.stringify(FAST_CONFIG), id: 'queued-1' });
    expect([running.status, queued.status]).toEqual([202, 202]);
    await waitForJob(server.url, 'long-1', (s) => s.state === 'running' && s.progress.fraction < 0.5);
    const removed = await fetch(`${server.url}/v1/jobs/queued-1`, { method: 'DELETE' });
    expect(removed.status).toBe(200);
    expect(await removed.json()).toEqual({ id: 'queued-1', outcome: 'removed' });
    expect((await getJson(`${server.url}/v1/jobs/queued-1`)).status).toBe(404);
    expect(existsSync(join(dataDir, 'jobs', 'queued-1'))).toBe(false);

    const aborting = await fetch(`${server.url}/v1/jobs/long-1`, { method: 'DELETE' });
    expect(aborting.status).toBe(202);
    const done = await waitForJob(server.url, 'long-1', finished);
    expect(done.state).toBe('failed');
    expect(done.error.code).toBe('DE_ABORTED');
    const out = join(dataDir, 'jobs', 'long-1', 'out');
    // Nothing half-written: no committed song folder, no staging leftovers.
    const left = existsSync(out) ? readdirSync(out) : [];
    expect(left.filter((n) => n !== 'input')).toEqual([]);
    expect(readFileSync(join(dataDir, 'jobs', 'long-1', 'job.json'), 'utf8')).toMatch(/DE_ABORTED/);
  });
});

describe('service auth and limits', () => {
  it('refuses a non-loopback address without a token', async () => {
    const refused = await startServe(['--host', '0.0.0.0', '--data-dir', join(tmp, 'data-open')]).catch((e: Error) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(String(refused)).toMatch(/without authentication.*--token/);
  });

  it('requires the bearer token (header, or access_token for event streams) and rate-limits per token', async () => {
    const guarded = await startServe(['--data-dir', join(tmp, 'data-auth'), '--token', 'secret-1', '--rate-limit', '5', '--jobs', '1'], {
      DIDACTIC_TOKENS: 'secret-2',
    });
    try {
      const none = await getJson(`${guarded.url}/v1/jobs`);
      expect(none.status).toBe(401);
      expect(none.body.error.code).toBe('DE_UNAUTHORIZED');
      expect((await getJson(`${guarded.url}/v1/jobs`, { authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await getJson(`${guarded.url}/metrics`)).status).toBe(401);
      expect((await getJson(`${guarded.url}/healthz`)).status).toBe(200);
      expect((await getJson(`${guarded.url}/v1/jobs`, { authorization: 'Bearer secret-2' })).status).toBe(200);
      expect((await getJson(`${guarded.url}/v1/jobs?access_token=secret-1`)).status).toBe(200);
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await getJson(`${guarded.url}/v1/jobs`, { authorization: 'Bearer secret-1' })).status);
      expect(statuses).toContain(429);
      const limited = await getJson(`${guarded.url}/v1/jobs`, { authorization: 'Bearer secret-1' });
      expect(limited.status).toBe(429);
      expect(limited.body.error.code).toBe('DE_RATE_LIMITED');
      // Another token has its own budget beyond the first's three requests above.
      expect((await getJson(`${guarded.url}/v1/jobs`, { authorization: 'Bearer secret-2' })).status).toBe(200);
    } finally {
      await stop(guarded);
    }
  });

  it('answers 429 with Retry-After when the queue is full', async () => {
    const small = await startServe(['--data-dir', join(tmp, 'data-full'), '--max-queue', '1', '--jobs', '1']);
    try {
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await submit(small.url, longClip, { config: JSON.stringify(FAST_CONFIG) }));
      const full = results.find((r) => r.status === 429);
      expect(full).toBeDefined();
      expect((full!.body.error as { code: string }).code).toBe('DE_QUEUE_FULL');
      expect(Number(full!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    } finally {
      await stop(small, 'SIGTERM');
    }
  });
});
