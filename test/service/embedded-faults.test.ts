/**
 * Embedded mode under faults, with real processes: a worker process killed with SIGKILL mid-song
 * (the job is retried on a fresh process and completes, nothing staged is left), and a SIGTERM
 * drain whose queued job is picked up again by the next start on the same data folder.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, finished, getJson, startServe, stop, stopAll, submit, waitForJob, writeClip } from './harness.js';

const tmp = useTempDir('didactic-service-faults-');
const config = JSON.stringify(FAST_CONFIG);

afterAll(stopAll);

describe('embedded service faults', () => {
  it('retries the song of a worker process killed with SIGKILL and completes it', async () => {
    const dataDir = join(tmp, 'kill');
    const longClip = await writeClip(join(tmp, 'long.wav'), 45);
    const server = await startServe(['--data-dir', dataDir, '--jobs', '1']);
    try {
      await submit(server.url, longClip, { id: 'victim', config }, {}, 'long.wav');
      const running = await waitForJob(server.url, 'victim', (s) => s.state === 'running' && s.progress.fraction >= 0.2 && s.progress.worker, 60_000);
      const workerPid = Number(running.progress.worker.split(':').at(-1));
      // The worker is a child of the server process, never the server itself.
      expect(workerPid).not.toBe(server.child.pid);
      expect(
        execFileSync('ps', ['-o', 'ppid=', '-p', String(workerPid)])
          .toString()
          .trim(),
      ).toBe(String(server.child.pid));
      process.kill(workerPid, 'SIGKILL');
      const done = await waitForJob(server.url, 'victim', finished, 120_000);
      expect(done.state).toBe('completed');
      expect(done.attempts).toBe(2);
      expect(done.result.files).toEqual(expect.arrayContaining(['analysis/long/combined.json', 'datasets/long/bars.parquet', 'midi/long/long.mid']));
      expect(readdirSync(join(dataDir, 'jobs', 'victim', 'out'))).not.toContain('.didactic-staging');
      expect((await getJson(`${server.url}/healthz`)).status).toBe(200);
    } finally {
      await stop(server);
    }
  });

  it('drains on SIGTERM and resumes the queued job on the next start', async () => {
    const dataDir = join(tmp, 'drain');
    const clip = await writeClip(join(tmp, 'clip.wav'), 3);
    const first = await startServe(['--data-dir', dataDir, '--jobs', '1', '--grace', '60']);
    await submit(first.url, clip, { id: 'running', config });
    await submit(first.url, clip, { id: 'waiting', config });
    await waitForJob(first.url, 'running', (s) => s.state === 'running');
    // The running song finishes within the grace period; the queued one stays queued on disk.
    expect(await stop(first, 'SIGTERM', 60_000)).toBe(0);
    const records = Object.fromEntries(['running', 'waiting'].map((id) => [id, JSON.parse(readFileSync(join(dataDir, 'jobs', id, 'job.json'), 'utf8')).state]));
    expect(records.running).toBe('completed');
    expect(['queued', 'completed']).toContain(records.waiting);
    const second = await startServe(['--data-dir', dataDir, '--jobs', '1']);
    try {
      const done = await waitForJob(second.url, 'waiting', finished, 60_000);
      expect(done.state).toBe('completed');
      expect((await getJson(`${second.url}/v1/jobs/running`)).body.state).toBe('completed');
    } finally {
      await stop(second);
    }
  });
});
