/**
 * Bounded memory for long-running servers: the embedded queue keeps only the newest finished
 * records in memory and reads older ones from their job.json; Redis mode lets Redis drop finished
 * jobs after --retention-days and answers from the job.json the worker wrote.
 */
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { EmbeddedQueue } from '../../lib/service/embedded.js';
import { LocalJobStorage } from '../../lib/service/storage.js';
import { silentLogger } from '../../lib/util/logger.js';
import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, finished, getJson, redisServer, sleep, startRedis, startServe, startWorker, stopAll, submit, waitForJob, writeClip } from './harness.js';
import { requires } from '../helpers/requires.js';

const tmp = useTempDir('didactic-service-retention-');
afterAll(stopAll);

describe('bounded job records', () => {
  it('embedded: keeps the newest finished records in memory, reads older ones from disk', async () => {
    const clipPath = join(tmp, 'clip.wav');
    await writeClip(clipPath, 2);
    const storage = new LocalJobStorage(join(tmp, 'embedded'));
    await storage.init();
    const queue = new EmbeddedQueue({ storage, dataDir: storage.location, plan: planConcurrency({ jobs: 1 }), logger: silentLogger, finishedInMemory: 1 });
    await queue.start();
    try {
      const ids = ['old-1', 'old-2', 'new-3'];
      for (const id of ids) {
        expect(await storage.claim(id)).toBe(true);
        await queue.submit({ id, songId: 'clip', inputPath: clipPath, config: FAST_CONFIG, submittedAt: new Date().toISOString() });
      }
      for (let i = 0; i < 300 && (await queue.counts()).completed < 3; i++) await sleep(100);
      expect(await queue.counts()).toEqual({ queued: 0, running: 0, completed: 3, failed: 0 });
      // Only the newest finished record is held; the others still answer, from their job.json.
      expect((await queue.list(10)).map((s) => s.id)).toEqual(['new-3']);
      const old = await queue.status('old-1');
      expect(old?.state).toBe('completed');
      expect(old?.result?.files).toContain('analysis/clip/combined.json');
      expect(await queue.cancel('old-1')).toBe('deleted');
      expect(await queue.status('old-1')).toBeNull();
      expect((await queue.counts()).completed).toBe(2);
    } finally {
      await queue.close(0);
    }
  }, 120_000);

  it('Redis: a job past --retention-days is answered from its job.json', { ...requires(redisServer), timeout: 120_000 }, async () => {
    const clip = await writeClip(join(tmp, 'r.wav'), 2);
    const redis = await startRedis(join(tmp, 'redis'));
    const dataDir = join(tmp, 'redis-data');
    // One second of retention: BullMQ drops old finished jobs when later ones finish.
    const server = await startServe(['--redis', redis.url, '--data-dir', dataDir, '--retention-days', String(1 / 86400)]);
    await startWorker(['--redis', redis.url, '--data-dir', dataDir]);
    const config = JSON.stringify(FAST_CONFIG);
    await submit(server.url, clip, { id: 'kept-1', config });
    const first = await waitForJob(server.url, 'kept-1', finished, 60_000);
    expect(first.state).toBe('completed');
    await sleep(2500);
    await submit(server.url, clip, { id: 'kept-2', config });
    expect((await waitForJob(server.url, 'kept-2', finished, 60_000)).state).toBe('completed');
    const client = new Redis(redis.url);
    try {
      for (let i = 0; i < 50 && (await client.exists('bull:didactic-jobs:kept-1')) === 1; i++) await sleep(100);
      expect(await client.exists('bull:didactic-jobs:kept-1')).toBe(0);
    } finally {
      client.disconnect();
    }
    const later = await getJson(`${server.url}/v1/jobs/kept-1`);
    expect(later.status).toBe(200);
    expect(later.body.state).toBe('completed');
    expect(later.body.result.files).toEqual(first.result.files);
  });
});
