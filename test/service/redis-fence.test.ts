/**
 * The commit fence in Redis mode, with real processes: a worker that stops itself right before
 * its commit (the test hook DIDACTIC_TEST_STOP_BEFORE_COMMIT) loses its lock, another worker takes
 * the job over and completes it, and when the first one continues (SIGCONT) it commits nothing:
 * the job's outputs, its job.json and its status stay the second worker's. And a worker killed
 * right after the fence let it commit leaves the commit to the next worker, which finishes it
 * with the first worker's outputs instead of running the song again.
 */
import { existsSync, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { need, requires } from '../helpers/requires.js';
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

// A stopped worker's state is read from /proc.
const needs = requires(redisServer, need(process.platform === 'linux', 'the commit fence test reads /proc — run on Linux'));

const tmp = useTempDir('didactic-service-fence-');
const dataDir = join(tmp, 'data');
let redis: RedisServer;
let server: Server;
const workers: Proc[] = [];
const config = JSON.stringify(FAST_CONFIG);
const workerArgs = () => ['--redis', redis.url, '--data-dir', dataDir, '--lock-duration', '2', '--stalled-interval', '1'];

/** The process state letter of /proc/<pid>/stat (T: stopped). */
function procState(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!;
}

async function until(what: string, check: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('Redis mode: the commit fence', needs, () => {
  beforeAll(async () => {
    redis = await startRedis(join(tmp, 'redis'));
    server = await startServe(['--redis', redis.url, '--data-dir', dataDir]);
  }, 60_000);

  afterAll(stopAll);

  it('a worker that resumes in its commit after losing its lock commits nothing', async () => {
    const clip = await writeClip(join(tmp, 'clip.wav'), 3);
    const first = await startWorker(workerArgs(), { DIDACTIC_TEST_STOP_BEFORE_COMMIT: '1' });
    workers.push(first);
    const firstPid = first.child.pid!;
    expect((await submit(server.url, clip, { id: 'fenced', config })).status).toBe(202);
    // The first worker ran the whole song into its attempt folder and stopped right before its commit.
    await until('the first worker to stop before its commit', () => procState(firstPid) === 'T');
    const attempts = join(dataDir, 'jobs', 'fenced', 'attempts');
    const firstAttempt = readdirSync(attempts).find((a) => a.includes(`-${firstPid}-`));
    expect(firstAttempt).toBeDefined();
    expect(existsSync(join(dataDir, 'jobs', 'fenced', 'out'))).toBe(false);

    // Its lock (2 s) expires; the second worker's stalled check takes the job over and completes it.
    const second = await startWorker(workerArgs());
    workers.push(second);
    const secondPid = second.child.pid!;
    const done = await waitForJob(server.url, 'fenced', finished, 90_000);
    expect(done.state).toBe('completed');
    expect(done.attempts).toBe(2);
    const out = join(dataDir, 'jobs', 'fenced', 'out');
    const committed = realpathSync(out);
    expect(committed).toMatch(new RegExp(`/attempts/2-[^/]*-${secondPid}-[0-9a-f]+/out$`));
    const recordBefore = readFileSync(join(dataDir, 'jobs', 'fenced', 'job.json'), 'utf8');
    const combinedBefore = readFileSync(join(out, 'analysis', 'clip', 'combined.json'), 'utf8');

    // The first worker continues in its commit: the fence refuses it.
    first.child.kill('SIGCONT');
    await until('the first worker to be fenced out', () => /lost the job's lock before its commit/.test(first.output()), 30_000);
    await sleep(1500);
    expect(procState(firstPid)).not.toBe('T');
    expect(realpathSync(out)).toBe(committed);
    expect(readFileSync(join(dataDir, 'jobs', 'fenced', 'job.json'), 'utf8')).toBe(recordBefore);
    expect(readFileSync(join(out, 'analysis', 'clip', 'combined.json'), 'utf8')).toBe(combinedBefore);
    const record = JSON.parse(recordBefore);
    expect(record).toMatchObject({ state: 'completed', attempts: 2 });
    // The first attempt's folder is gone; only the committed one is left.
    expect(readdirSync(attempts)).toEqual([committed.split('/').at(-2)]);
    const after = (await getJson(`${server.url}/v1/jobs/fenced`)).body;
    expect(after).toMatchObject({ state: 'completed', attempts: 2 });
    expect(after.result.files).toEqual(done.result.files);
    expect(after.result.files).toEqual(expect.arrayContaining(['analysis/clip/combined.json', 'datasets/clip/bars.parquet', 'midi/clip/clip.mid']));
    // The first worker neither failed the job nor recorded anything for it.
    expect(first.output()).not.toMatch(/Job fenced attempt \d+ failed/);
    const file = await fetch(`${server.url}/v1/jobs/fenced/files/analysis/clip/combined.json`);
    expect(file.status).toBe(200);
    expect(await file.text()).toBe(combinedBefore);
  }, 150_000);

  it('a worker killed after the fence let it commit: the next worker finishes its commit', async () => {
    for (const w of workers.splice(0)) await stop(w, 'SIGKILL');
    const clip = await writeClip(join(tmp, 'clip2.wav'), 3);
    const first = await startWorker(workerArgs(), { DIDACTIC_TEST_STOP_BEFORE_COMMIT: 'after-fence' });
    const firstPid = first.child.pid!;
    expect((await submit(server.url, clip, { id: 'rolled', config }, {}, 'clip2.wav')).status).toBe(202);
    await until('the first worker to stop after the fence', () => procState(firstPid) === 'T');
    const attempts = join(dataDir, 'jobs', 'rolled', 'attempts');
    const firstAttempt = readdirSync(attempts).find((a) => a.includes(`-${firstPid}-`))!;
    expect(firstAttempt).toBeDefined();
    // The commit is decided in Redis; the folder is not switched yet.
    const client = new Redis(redis.url);
    try {
      expect(await client.hget('bull:didactic-jobs:rolled', 'didacticCommit')).toBe(firstAttempt);
    } finally {
      client.disconnect();
    }
    expect(existsSync(join(dataDir, 'jobs', 'rolled', 'out'))).toBe(false);
    await stop(first, 'SIGKILL');

    const second = await startWorker(workerArgs());
    workers.push(second);
    const done = await waitForJob(server.url, 'rolled', finished, 90_000);
    expect(done).toMatchObject({ state: 'completed', attempts: 2 });
    // The second worker made the first one's commit and ran no song of its own.
    expect(realpathSync(join(dataDir, 'jobs', 'rolled', 'out'))).toBe(join(realpathSync(attempts), firstAttempt, 'out'));
    expect(readdirSync(attempts)).toEqual([firstAttempt]);
    expect(second.output()).toMatch(new RegExp(`Job rolled: attempt ${firstAttempt} committed before its worker stopped`));
    expect(done.result.files).toEqual(expect.arrayContaining(['analysis/clip2/combined.json', 'datasets/clip2/bars.parquet', 'midi/clip2/clip2.mid']));
    expect(JSON.parse(readFileSync(join(dataDir, 'jobs', 'rolled', 'job.json'), 'utf8'))).toMatchObject({ state: 'completed', attempts: 2 });
  }, 150_000);
});
