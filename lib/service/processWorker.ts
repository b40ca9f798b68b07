/**
 * A worker process of the embedded queue (forked by EmbeddedQueue): runs one song at a time with
 * models kept open between songs, and reports over the IPC channel. A crash here costs one
 * attempt of one job, never the API process.
 */
import type { RunPlan } from '../pipeline/concurrency.js';
import { ModelCache } from '../pipeline/models.js';
import { jsonLogger, prefixedLogger, silentLogger, type Logger } from '../util/logger.js';
import { failureOf, throttledProgress, type JobSpec } from './jobs.js';
import type { ChildMessage, ParentMessage } from './embedded.js';
import { runJob } from './runner.js';
import { LocalJobStorage } from './storage.js';

const send = (message: ChildMessage) => process.send?.(message);

let deps: { storage: LocalJobStorage; models: ModelCache; plan: RunPlan; logger: Logger } | null = null;
const running = new Map<string, AbortController>();

process.on('message', (message: ParentMessage) => {
  if (message.type === 'init') {
    const storage = new LocalJobStorage(message.dataDir);
    const logger = message.logLevel ? jsonLogger({ level: message.logLevel, name: `didactic-engine-worker-${process.pid}` }) : silentLogger;
    deps = { storage, models: new ModelCache(), plan: message.plan, logger };
    send({ type: 'ready', pid: process.pid });
  } else if (message.type === 'run') {
    void run(message.spec);
  } else if (message.type === 'cancel') {
    running.get(message.id)?.abort(new Error(message.reason));
  } else if (message.type === 'shutdown') {
    void shutdown();
  }
});

// The parent is gone (killed): nothing to report to, so stop.
process.on('disconnect', () => {
  for (const controller of running.values()) controller.abort(new Error('the service stopped'));
  setTimeout(() => process.exit(0), 2000).unref();
});

async function run(spec: JobSpec): Promise<void> {
  if (!deps) throw new Error('worker not initialised');
  const controller = new AbortController();
  running.set(spec.id, controller);
  try {
    const logger = prefixedLogger(deps.logger, `[job ${spec.id}] `);
    const outcome = await runJob(
      spec,
      { storage: deps.storage, models: deps.models, plan: deps.plan, logger },
      {
        signal: controller.signal,
        onProgress: throttledProgress((progress) => send({ type: 'progress', id: spec.id, progress })),
      },
    );
    send({ type: 'done', id: spec.id, outcome });
  } catch (err) {
    send({ type: 'failed', id: spec.id, failure: failureOf(err) });
  } finally {
    running.delete(spec.id);
  }
}

async function shutdown(): Promise<void> {
  for (const controller of running.values()) controller.abort(new Error('the service is stopping'));
  await deps?.models.close();
  process.exit(0);
}
