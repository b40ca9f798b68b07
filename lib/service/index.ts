/** @module didactic-engine/service */
/**
 * `didactic-engine/service`: the HTTP service as a library, for servers that embed it (a separate
 * entry point, so `import 'didactic-engine'` does not load Fastify or BullMQ). Its packages are
 * optional peer dependencies: install them first (`npm install fastify@5 @fastify/multipart@10
 * @fastify/swagger@9 fastify-type-provider-zod@7 bullmq@6 ioredis@6`), else importing this entry
 * fails with Node's ERR_MODULE_NOT_FOUND.
 */
export { startService, defaultServicePlan, type ServiceOptions, type RunningService } from './service.js';
export { buildApi, assertBindingSafe, isLoopbackHost, type ApiOptions, type BuiltApi } from './server.js';
export { ServiceMetrics } from './metrics.js';
export { EmbeddedQueue, type EmbeddedQueueOptions } from './embedded.js';
export { RedisQueue, startRedisWorker, QUEUE_NAME, type RedisQueueOptions, type RedisWorkerOptions, type RedisWorkerHandle } from './redis.js';
export type { JobQueue, CancelOutcome, QueueReadiness } from './queue.js';
export { LocalJobStorage, resolveUnderRoot, type JobStorage, type StoredUpload, type StoredFile } from './storage.js';
export { runJob, jobConfig, type JobRunDeps } from './runner.js';
export { checkClientConfig, installedModels, isModelName, type ClientConfigPolicy } from './clientConfig.js';
export {
  JOB_STATES,
  JOB_ID_PATTERN,
  isRetryableJobCode,
  type JobState,
  type JobSpec,
  type JobStatus,
  type JobProgress,
  type JobOutcome,
  type JobFailure,
} from './jobs.js';
export { sniffAudioContainer } from './sniff.js';
export { servicePageHtml } from './web.js';
