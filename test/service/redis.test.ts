/**
 * Scale-out mode end to end with real processes: Debian's redis-server (append-only file, fsync on
 * every write), `serve --redis`, and two `worker`s. Faults: a worker killed with SIGKILL mid-song,
 * Redis killed and restarted mid-run, a worker stopped with SIGTERM past its grace period.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useTempDir } from '../helpers/tmp.js';
import {
  FAST_CONFIG,
  finished,
  getJson,
  redisServer,
  sleep,
  startRedis,
  startServe,
  startWorker,
  stop,
  stopAll,
  submit,
  waitForJob,
  writeClip,
  type Proc,
  type RedisServer,
  type Server,
} from './harness.js';
import { requires } from '../helpers/requires.js';

const tmp = useTempDir('didactic-service-redis-');
const dataDir = join(tmp, 'data');
let redis: RedisServer;
let server: Server;
const workers: Proc[] = [];
let clip: Uint8Array;
let longClip: Uint8Array;
const config = JSON.stringify(FAST_CONFIG);

// Short lock and stalled-check periods so that a dead worker's job is recovered within seconds.
const workerArgs = () => ['--redis', redis.url, '--data-dir', dataDir, '--lock-duration', '3', '--stalled-interval', '1'];

function pidOf(worker: string | undefined): number {
  return Number(String(worker).split(':').at(-1));
}

/** Everything the pipeline commits for a song, and nothing staged. */
function expectCompleteOutputs(jobId: string, songId: string, files: string[]): void {
  expect(files).toEqual(
    expect.arrayContaining([
      `analysis/${songId}/combined.json`,
      `analysis/${songId}/manifest.json`,
      `datasets/${songId}/bars.parquet`,
      `datasets/${songId}/events.parquet`,
      `midi/${songId}/${songId}.mid`,
    ]),
  );
  const out = join(dataDir, 'jobs', jobId, 'out');
  expect(readdirSync(out)).not.toContain('.didactic-staging');
}

describe('service on Redis (BullMQ) with two workers', requires(redisServer), () => {
  beforeAll(async () => {
    clip = await writeClip(join(tmp, 'clip.wav'), 3);
    longClip = await writeClip(join(tmp, 'long.wav'), 45);
    redis = await startRedis(join(tmp, 'redis'));
    server = await startServe(['--redis', redis.url, '--data-dir', dataDir]);
    workers.push(await startWorker(workerArgs()), await startWorker(workerArgs()));
  }, 60_000);

  afterAll(stopAll);

  it('runs each job once across the workers; a repeated id is not run again', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `batch-${i}`);
    for (const id of ids) expect((await submit(server.url, clip, { id, config })).status).toBe(202);
    expect((await submit(server.url, clip, { id: 'batch-0', config })).body.duplicate).toBe(true);
    const done = await Promise.all(ids.map((id) => waitForJob(server.url, id, finished, 90_000)));
    expect(done.map((s) => s.state)).toEqual(ids.map(() => 'completed'));
    expect(done.map((s) => s.attempts)).toEqual(ids.map(() => 1));
    for (const s of done) expectCompleteOutputs(s.id, 'clip', s.result.files);
    const ready = await getJson(`${server.url}/readyz`);
    expect(ready.body.checks.find((c: { name: string }) => c.name === 'queue').details).toMatch(/Redis reachable/);
  });

  it('fails a non-retryable error at once with its code', async () => {
    const corrupt = new Uint8Array(clip);
    corrupt.fill(0x7f, 12, 44);
    await submit(server.url, corrupt, { id: 'corrupt', config }, {}, 'corrupt.wav');
    const done = await waitForJob(server.url, 'corrupt', finished, 60_000);
    expect(done.state).toBe('failed');
    expect(done.error.code).toMatch(/^DE_(CORRUPT_AUDIO|UNSUPPORTED_FORMAT)$/);
    expect(done.attempts).toBe(1);
  });

  it('finishes the song of a worker killed with SIGKILL on the other worker, with complete outputs', async () => {
    await submit(server.url, longClip, { id: 'killed', config }, {}, 'long.wav');
    const running = await waitForJob(server.url, 'killed', (s) => s.state === 'running' && s.progress.fraction >= 0.2 && s.progress.worker, 60_000);
    const victimPid = pidOf(running.progress.worker);
    const victim = workers.find((w) => w.child.pid === victimPid);
    expect(victim).toBeDefined();
    await stop(victim!, 'SIGKILL');
    const done = await waitForJob(server.url, 'killed', finished, 120_000);
    expect(done.state).toBe('completed');
    // The killed attempt counts: the song was started twice.
    expect(done.attempts).toBe(2);
    expectCompleteOutputs('killed', 'long', done.result.files);
    workers.splice(workers.indexOf(victim!), 1);
    workers.push(await startWorker(workerArgs()));
  });

  it('loses no job when Redis is killed and restarted mid-run', async () => {
    const ids = Array.from({ length: 8 }, (_, i) => `restart-${i}`);
    for (const id of ids) await submit(server.url, clip, { id, config });
    await waitForJob(server.url, ids[0]!, (s) => s.state !== 'queued', 60_000);
    await stop(redis, 'SIGKILL');
    // During the outage the API answers at once with 503, it does not hang.
    const during = await getJson(`${server.url}/v1/jobs/${ids[0]}`);
    expect(during.status).toBe(503);
    expect(during.body.error.code).toBe('DE_UNAVAILABLE');
    await sleep(500);
    redis = await startRedis(redis.dir, redis.port);
    const done = await Promise.all(ids.map((id) => waitForJob(server.url, id, finished, 120_000)));
    expect(done.map((s) => s.state)).toEqual(ids.map(() => 'completed'));
    const listed = (await getJson(`${server.url}/v1/jobs?limit=1000`)).body.jobs.filter((j: { id: string }) => j.id.startsWith('restart-'));
    expect(listed).toHaveLength(ids.length);
    // The outage is a line or two in each log, not a stack trace per reconnection attempt.
    for (const proc of [server, ...workers]) {
      expect(proc.output()).not.toMatch(/Unhandled error event/);
      expect(proc.output().match(/Redis outage/g)?.length ?? 0).toBeLessThanOrEqual(1);
    }
  });

  it('drains on SIGTERM: an idle worker exits at once, a song past the grace period is handed back', async () => {
    // Only a worker with a short grace period is left to take the next job.
    for (const w of workers.splice(0)) expect(await stop(w, 'SIGTERM', 30_000)).toBe(0);
    const quick = await startWorker([...workerArgs(), '--grace', '0.5']);
    await submit(server.url, longClip, { id: 'handed-back', config }, {}, 'long.wav');
    await waitForJob(server.url, 'handed-back', (s) => s.state === 'running' && s.progress.fraction >= 0.2, 60_000);
    expect(await stop(quick, 'SIGTERM', 30_000)).toBe(0);
    const back = (await getJson(`${server.url}/v1/jobs/handed-back`)).body;
    expect(back.state).toBe('queued');
    workers.push(await startWorker(workerArgs()));
    const done = await waitForJob(server.url, 'handed-back', finished, 120_000);
    expect(done.state).toBe('completed');
    expectCompleteOutputs('handed-back', 'long', done.result.files);
  });

  it('a worker paused past its lock (SIGSTOP) loses the song to the other worker and commits nothing', async () => {
    workers.push(await startWorker(workerArgs()));
    await submit(server.url, longClip, { id: 'paused', config }, {}, 'long.wav');
    const running = await waitForJob(server.url, 'paused', (s) => s.state === 'running' && s.progress.fraction >= 0.2 && s.progress.worker, 60_000);
    const paused = workers.find((w) => w.child.pid === pidOf(running.progress.worker))!;
    paused.child.kill('SIGSTOP');
    // The other worker's stalled check takes the job over once the lock (3 s) has expired.
    const takenOver = await waitForJob(server.url, 'paused', (s) => s.progress.worker && pidOf(s.progress.worker) !== paused.child.pid, 60_000);
    paused.child.kill('SIGCONT');
    const done = await waitForJob(server.url, 'paused', finished, 120_000);
    expect(done.state).toBe('completed');
    expectCompleteOutputs('paused', 'long', done.result.files);
    // The paused worker noticed the lost lock and did not run the song to its end a second time.
    await sleep(3000);
    expect(paused.output()).toMatch(/lock renewal failed; aborting this attempt/);
    expect(paused.child.exitCode).toBeNull();
    expect(takenOver.state).toBe('running');
  });
});
