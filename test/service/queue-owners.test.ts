/**
 * What the server builds its per-client views on, in both queues: job owners (`list(limit, owner)`
 * filters before limiting, `ownerOf`), queue positions of queued jobs, and `subscribeAll` (every
 * status change of every job, with its owner). The embedded queue runs in this process (its worker
 * processes are real); Redis mode uses a real redis-server and a real `worker` process.
 */
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { EmbeddedQueue } from '../../lib/service/embedded.js';
import type { JobSpec, JobStatus } from '../../lib/service/jobs.js';
import type { JobQueue } from '../../lib/service/queue.js';
import { RedisQueue } from '../../lib/service/redis.js';
import { LocalJobStorage } from '../../lib/service/storage.js';
import { silentLogger } from '../../lib/util/logger.js';
import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, redisServer, sleep, startRedis, startWorker, stopAll, writeClip } from './harness.js';
import { requires } from '../helpers/requires.js';

const tmp = useTempDir('didactic-service-owners-');
afterAll(stopAll);

/** Jobs in submission order, one millisecond apart: [id, owner]. */
const JOBS: Array<[string, string | undefined]> = [
  ['bob-1', 'bob'],
  ['alice-1', 'alice'],
  ['alice-2', 'alice'],
  ['anon-1', undefined],
  ['alice-3', 'alice'],
  ['alice-4', 'alice'],
];

async function submitAll(queue: JobQueue, storage: LocalJobStorage, clipPath: string): Promise<void> {
  const t0 = Date.now() - 60_000;
  for (const [i, [id, owner]] of JOBS.entries()) {
    expect(await storage.claim(id)).toBe(true);
    const spec: JobSpec = { id, songId: 'clip', inputPath: clipPath, config: FAST_CONFIG, submittedAt: new Date(t0 + i).toISOString() };
    if (owner !== undefined) spec.owner = owner;
    await queue.submit(spec);
  }
}

/** The checks both queues pass while nothing runs: owners, filtering before the limit, positions. */
async function expectOwnersAndPositions(queue: JobQueue): Promise<void> {
  // Filtered before the limit: bob's one job is older than four of alice's.
  expect((await queue.list(2, 'bob')).map((s) => s.id)).toEqual(['bob-1']);
  expect((await queue.list(2, 'alice')).map((s) => s.id)).toEqual(['alice-4', 'alice-3']);
  expect((await queue.list(10, 'alice')).map((s) => s.id)).toEqual(['alice-4', 'alice-3', 'alice-2', 'alice-1']);
  expect(await queue.list(10, 'carol')).toEqual([]);
  expect((await queue.list(3)).map((s) => s.id)).toEqual(['alice-4', 'alice-3', 'anon-1']);
  expect(await queue.ownerOf('alice-2')).toBe('alice');
  expect(await queue.ownerOf('anon-1')).toBeUndefined();
  expect(await queue.ownerOf('nobody')).toBeNull();
  // First in, first out: position 1 is the oldest queued job.
  const all = await queue.list(10);
  const positions = Object.fromEntries(all.map((s) => [s.id, s.queue_position]));
  expect(positions).toEqual({ 'bob-1': 1, 'alice-1': 2, 'alice-2': 3, 'anon-1': 4, 'alice-3': 5, 'alice-4': 6 });
  expect((await queue.status('alice-3'))?.queue_position).toBe(5);
  expect((await queue.status('alice-3'))?.owner).toBe('alice');
  // Removing a queued job moves the ones behind it up, and takes it off its owner's list.
  expect(await queue.cancel('alice-1')).toBe('removed');
  expect((await queue.status('alice-3'))?.queue_position).toBe(4);
  expect((await queue.list(10, 'alice')).map((s) => s.id)).toEqual(['alice-4', 'alice-3', 'alice-2']);
}

/** Collects every status subscribeAll delivers. */
function collect(queue: JobQueue): { seen: JobStatus[]; stop: () => void } {
  const seen: JobStatus[] = [];
  const stop = queue.subscribeAll((s) => seen.push(s));
  return { seen, stop };
}

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

describe('job owners, queue positions and subscribeAll', () => {
  it('embedded queue', async () => {
    const clipPath = join(tmp, 'clip.wav');
    await writeClip(clipPath, 2);
    // Not started: no worker process takes a job, so all stay queued.
    const idleStorage = new LocalJobStorage(join(tmp, 'embedded-idle'));
    await idleStorage.init();
    const idle = new EmbeddedQueue({ storage: idleStorage, dataDir: idleStorage.location, plan: planConcurrency({ jobs: 1 }), logger: silentLogger });
    const idleEvents = collect(idle);
    await submitAll(idle, idleStorage, clipPath);
    expect(idleEvents.seen.map((s) => [s.id, s.state, s.owner])).toEqual(JOBS.map(([id, owner]) => [id, 'queued', owner]));
    expect(idleEvents.seen.map((s) => s.queue_position)).toEqual([1, 2, 3, 4, 5, 6]);
    await expectOwnersAndPositions(idle);
    idleEvents.stop();
    await idle.close(0);

    // Started: every change of every job reaches subscribeAll, with its owner.
    const storage = new LocalJobStorage(join(tmp, 'embedded-run'));
    await storage.init();
    const queue = new EmbeddedQueue({ storage, dataDir: storage.location, plan: planConcurrency({ jobs: 1 }), logger: silentLogger });
    await queue.start();
    const events = collect(queue);
    try {
      for (const [id, owner] of [
        ['run-a', 'alice'],
        ['run-b', 'bob'],
      ] as const) {
        expect(await storage.claim(id)).toBe(true);
        await queue.submit({ id, songId: 'clip', inputPath: clipPath, config: FAST_CONFIG, submittedAt: new Date().toISOString(), owner });
      }
      await waitFor('both jobs to finish', () => events.seen.filter((s) => s.state === 'completed').length === 2, 120_000);
      for (const [id, owner] of [
        ['run-a', 'alice'],
        ['run-b', 'bob'],
      ]) {
        const mine = events.seen.filter((s) => s.id === id);
        expect(mine.every((s) => s.owner === owner)).toBe(true);
        expect(mine.map((s) => s.state)).toEqual(expect.arrayContaining(['queued', 'running', 'completed']));
        expect(mine.at(-1)?.state).toBe('completed');
      }
      events.stop();
      const before = events.seen.length;
      expect(await storage.claim('run-c')).toBe(true);
      await queue.submit({ id: 'run-c', songId: 'clip', inputPath: clipPath, config: FAST_CONFIG, submittedAt: new Date().toISOString() });
      await sleep(200);
      expect(events.seen.length).toBe(before);
    } finally {
      await queue.close(0);
    }
  }, 180_000);

  it('Redis queue', { ...requires(redisServer), timeout: 240_000 }, async () => {
    const clipPath = join(tmp, 'clip-r.wav');
    await writeClip(clipPath, 2);
    const redis = await startRedis(join(tmp, 'redis'));
    const dataDir = join(tmp, 'redis-data');
    const storage = new LocalJobStorage(dataDir);
    await storage.init();
    const queue = new RedisQueue({ url: redis.url, storage, logger: silentLogger });
    await queue.start();
    const events = collect(queue);
    try {
      // No worker yet: every job stays in BullMQ's wait list.
      await submitAll(queue, storage, clipPath);
      await expectOwnersAndPositions(queue);
      // alice-1 was cancelled above: its queued event may come after the removal, and then it has no status to carry.
      const queuedIds = () => new Set(events.seen.filter((s) => s.state === 'queued').map((s) => s.id));
      await waitFor('the queued events', () => JOBS.filter(([id]) => id !== 'alice-1').every(([id]) => queuedIds().has(id)), 10_000);
      expect(events.seen.find((s) => s.id === 'alice-2')?.owner).toBe('alice');
      // A worker runs them all: subscribeAll hears each start and end, with the owner.
      await startWorker(['--redis', redis.url, '--data-dir', dataDir]);
      await waitFor('every job to finish', async () => (await queue.counts()).completed === JOBS.length - 1, 150_000);
      await waitFor('the completed events', () => events.seen.filter((s) => s.state === 'completed').length === JOBS.length - 1, 10_000);
      const bob = events.seen.filter((s) => s.id === 'bob-1');
      expect(bob.map((s) => s.state)).toEqual(expect.arrayContaining(['queued', 'running', 'completed']));
      expect(bob.every((s) => s.owner === 'bob')).toBe(true);
      expect(events.seen.filter((s) => s.id === 'anon-1').every((s) => s.owner === undefined)).toBe(true);
      // Finished jobs keep their owners and have no position.
      const done = await queue.list(10, 'alice');
      expect(done.map((s) => [s.id, s.state, s.queue_position])).toEqual([
        ['alice-4', 'completed', undefined],
        ['alice-3', 'completed', undefined],
        ['alice-2', 'completed', undefined],
      ]);
      expect(await queue.cancel('alice-2')).toBe('deleted');
      expect((await queue.list(10, 'alice')).map((s) => s.id)).toEqual(['alice-4', 'alice-3']);
      expect(await queue.ownerOf('alice-2')).toBeNull();
    } finally {
      events.stop();
      await queue.close();
    }
  });
});
