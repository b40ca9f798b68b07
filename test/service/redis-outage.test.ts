/**
 * Redis outages on the request path, with real processes: `serve --redis` against Debian's
 * redis-server that is paused (SIGSTOP: connections stay open, nothing answers) and then killed
 * (SIGKILL: connections refused). Every API call that needs Redis answers 503 DE_UNAVAILABLE
 * within about a second, the server log says "outage" once (no flood of ioredis errors), and
 * when Redis is back the API works again and the log says so once.
 */
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, redisServer, sleep, startRedis, startServe, stop, stopAll, submit, writeClip, type RedisServer, type Server } from './harness.js';
import { requires } from '../helpers/requires.js';

const tmp = useTempDir('didactic-service-outage-');
const dataDir = join(tmp, 'data');
let redis: RedisServer;
let server: Server;
let clip: Uint8Array;
const config = JSON.stringify(FAST_CONFIG);

/** One request with its wall time in ms. */
async function timed(url: string, init: RequestInit = {}): Promise<{ status: number; code?: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
  const body = (await res.json().catch(() => null)) as { error?: { code: string } } | null;
  return { status: res.status, code: body?.error?.code, ms: performance.now() - t0 };
}

/** The four request kinds of the issue: list, status, multipart submission, delete. */
async function everyKind(): Promise<Array<{ name: string; status: number; code?: string; ms: number }>> {
  const out: Array<{ name: string; status: number; code?: string; ms: number }> = [];
  out.push({ name: 'list', ...(await timed(`${server.url}/v1/jobs?limit=5`)) });
  out.push({ name: 'status', ...(await timed(`${server.url}/v1/jobs/known`)) });
  const form = new FormData();
  form.set('config', config);
  form.set('audio', new Blob([clip]), 'clip.wav');
  out.push({ name: 'submit', ...(await timed(`${server.url}/v1/jobs`, { method: 'POST', body: form })) });
  out.push({ name: 'delete', ...(await timed(`${server.url}/v1/jobs/known`, { method: 'DELETE' })) });
  return out;
}

const count = (text: string, pattern: RegExp) => text.match(new RegExp(pattern.source, 'g'))?.length ?? 0;

describe('Redis outage on the request path', requires(redisServer), () => {
  beforeAll(async () => {
    clip = await writeClip(join(tmp, 'clip.wav'), 2);
    redis = await startRedis(join(tmp, 'redis'));
    // No worker: the submitted job stays queued, which is all these requests need.
    server = await startServe(['--redis', redis.url, '--data-dir', dataDir, '--log-level', 'INFO']);
    expect((await submit(server.url, clip, { id: 'known', config })).status).toBe(202);
  }, 60_000);

  afterAll(stopAll);

  it('answers 503 at once while Redis is paused or dead, logs the outage once, and recovers', async () => {
    // Paused: the TCP connections stay open and nothing answers (the case that hung for 10 s).
    redis.child.kill('SIGSTOP');
    try {
      for (let round = 0; round < 2; round++) {
        for (const r of await everyKind()) {
          expect({ name: r.name, status: r.status, code: r.code }).toEqual({ name: r.name, status: 503, code: 'DE_UNAVAILABLE' });
          expect(r.ms, `${r.name} took ${Math.round(r.ms)} ms`).toBeLessThan(1500);
        }
      }
    } finally {
      redis.child.kill('SIGCONT');
    }
    // Dead: connections refused while ioredis keeps reconnecting in the background.
    await stop(redis, 'SIGKILL');
    await sleep(3000);
    for (const r of await everyKind()) {
      expect({ name: r.name, status: r.status, code: r.code }).toEqual({ name: r.name, status: 503, code: 'DE_UNAVAILABLE' });
      expect(r.ms, `${r.name} took ${Math.round(r.ms)} ms`).toBeLessThan(1500);
    }
    const during = server.output();
    expect(count(during, /Redis outage/)).toBe(1);
    expect(during).not.toMatch(/Unhandled error event/);
    expect(count(during, /ECONNREFUSED/)).toBeLessThanOrEqual(1);

    redis = await startRedis(redis.dir, redis.port);
    const deadline = Date.now() + 15_000;
    let back = await timed(`${server.url}/v1/jobs/known`);
    while (back.status !== 200 && Date.now() < deadline) {
      await sleep(200);
      back = await timed(`${server.url}/v1/jobs/known`);
    }
    expect(back.status).toBe(200);
    expect((await timed(`${server.url}/v1/jobs?limit=5`)).status).toBe(200);
    expect((await submit(server.url, clip, { id: 'after', config })).status).toBe(202);
    expect((await timed(`${server.url}/v1/jobs/after`, { method: 'DELETE' })).status).toBe(200);
    await sleep(1000);
    const all = server.output();
    expect(count(all, /Redis outage/)).toBe(1);
    expect(count(all, /Redis is back/)).toBe(1);
    expect(all).not.toMatch(/Unhandled error event/);
  }, 90_000);
});
