/**
 * `didactic-engine serve`: the HTTP API over a job queue (embedded by default, BullMQ on Redis with
 * `--redis`). Fastify 5 with zod schemas (the pipeline config's own schema for the overrides),
 * bearer tokens, a per-token rate limit, backpressure on queue depth, server-sent progress, file
 * downloads confined to a job's folder, Prometheus metrics and an OpenAPI document.
 */
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';
import { open } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, extname } from 'node:path';

import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { z } from 'zod';

import { runDoctor } from '../doctor.js';
import { ConfigError, DidacticError, type ErrorCode } from '../errors.js';
import { PipelineOverridesSchema } from '../pipeline/config.js';
import type { Logger } from '../util/logger.js';
import type { JobSpec, JobStatus } from './jobs.js';
import { ServiceMetrics } from './metrics.js';
import type { JobQueue } from './queue.js';
import { jobConfig } from './runner.js';
import {
  CancelSchema,
  ErrorBodySchema,
  HealthSchema,
  JobFileParamsSchema,
  JobListQuerySchema,
  JobListSchema,
  JobParamsSchema,
  JobStatusSchema,
  MultipartFieldsSchema,
  PathSubmissionSchema,
  ReadySchema,
  SubmittedSchema,
} from './schemas.js';
import { sniffAudioContainer } from './sniff.js';
import { resolveUnderRoot, songIdFromFileName, type JobStorage, type StoredUpload } from './storage.js';

/** What `buildApi` needs: the queue and storage, tokens and limits (bytes, jobs, requests per minute). */
export interface ApiOptions {
  queue: JobQueue;
  storage: JobStorage;
  logger: Logger;
  /** Accepted bearer tokens; empty = no auth (allowed on loopback only, see `assertBindingSafe`). */
  tokens: readonly string[];
  /** Largest upload in bytes. */
  maxUploadBytes: number;
  /** Queued jobs above which submissions get 429 with Retry-After. */
  maxQueue: number;
  /** Requests per minute per token (or per address without tokens); 0 = unlimited. */
  rateLimitPerMinute: number;
  /** Folder that `{ "path": … }` submissions are resolved in; without it they are refused. */
  inputRoot?: string;
  /** Extra routes (the web page) registered on the same server. */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

/** HTTP status of each code the API returns. */
const STATUS_BY_CODE: Record<string, number> = {
  DE_INVALID_ARGUMENT: 400,
  DE_INVALID_CONFIG: 400,
  DE_UNAUTHORIZED: 401,
  DE_UNSAFE_PATH: 403,
  DE_JOB_NOT_FOUND: 404,
  DE_FILE_NOT_FOUND: 404,
  DE_IS_DIRECTORY: 404,
  DE_UPLOAD_TOO_LARGE: 413,
  DE_UNSUPPORTED_FORMAT: 415,
  DE_RATE_LIMITED: 429,
  DE_QUEUE_FULL: 429,
  DE_UNAVAILABLE: 503,
};

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for `localhost`, `::1` and 127.0.0.0/8: addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** A server reachable from other machines must have tokens. */
export function assertBindingSafe(host: string, tokens: readonly string[]): void {
  if (!isLoopbackHost(host) && tokens.length === 0) {
    throw new DidacticError(
      'DE_INVALID_ARGUMENT',
      `Refusing to listen on ${host} without authentication: give at least one --token (or DIDACTIC_TOKENS), or bind to 127.0.0.1`,
    );
  }
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * The bearer token of a request: the Authorization header; for GET requests also `access_token`
 * in the query (EventSource cannot set headers) or the web page's `didactic_token` cookie
 * (SameSite=Strict), so its report and download links work. Changes (POST, DELETE) need the header.
 */
function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string' && header.startsWith('Bearer ')) return header.slice(7).trim();
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const query = req.query as Record<string, unknown> | undefined;
  if (typeof query?.access_token === 'string') return query.access_token;
  const cookie = /(?:^|;\s*)didactic_token=([^;]*)/.exec(req.headers.cookie ?? '');
  return cookie ? decodeURIComponent(cookie[1]!) : undefined;
}

const CONTENT_TYPES: Record<string, string> = {
  '.json': 'application/json',
  '.parquet': 'application/vnd.apache.parquet',
  '.wav': 'audio/wav',
  '.mid': 'audio/midi',
  '.md': 'text/markdown; charset=utf-8',
  '.abc': 'text/vnd.abc; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
  '.npy': 'application/octet-stream',
};

function apiError(code: ErrorCode, message: string): DidacticError {
  return new DidacticError(code, message);
}

/** The API app with its metrics. */
export interface BuiltApi {
  app: FastifyInstance;
  metrics: ServiceMetrics;
  /** Ends the open event streams (before `app.close()`, which waits for open requests). */
  closeStreams: () => void;
}

/** Builds the Fastify app (not listening). */
export async function buildApi(options: ApiOptions): Promise<BuiltApi> {
  const { queue, storage, logger } = options;
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024, return503OnClosing: true }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const metrics = new ServiceMetrics(queue);
  const tokenDigests = options.tokens.map(digest);
  const openStreams = new Set<FastifyReply>();

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'didactic-engine service',
        version: '1',
        description: 'Music to learning datasets: submit songs, watch their progress, fetch their outputs.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: options.tokens.length > 0 ? [{ bearer: [] }] : [],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(multipart, {
    limits: { fileSize: options.maxUploadBytes, files: 1, fields: 8, fieldSize: 256 * 1024, parts: 10 },
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ');
      return reply.code(400).send({ error: { code: 'DE_INVALID_ARGUMENT', message: `Invalid request: ${message}` } });
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.statusCode === 429) return reply.code(429).send({ error: { code: 'DE_RATE_LIMITED', message: e.message ?? 'Too many requests' } });
    if (e.code === 'FST_REQ_FILE_TOO_LARGE') {
      return reply.code(413).send({ error: { code: 'DE_UPLOAD_TOO_LARGE', message: `The upload is larger than ${options.maxUploadBytes} bytes` } });
    }
    if (err instanceof DidacticError) {
      const status = STATUS_BY_CODE[err.code] ?? 500;
      if (status >= 500) logger.error(`${req.method} ${req.url}: ${err.code}: ${err.message}`);
      return reply.code(status).send({ error: { code: err.code, message: err.message } });
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ error: { code: 'DE_INVALID_ARGUMENT', message: e.message ?? 'Bad request' } });
    }
    logger.error(`${req.method} ${req.url}: ${(err as Error)?.stack ?? String(err)}`);
    return reply.code(500).send({ error: { code: 'DE_INTERNAL', message: 'Internal error (see the server log)' } });
  });

  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: { code: 'DE_FILE_NOT_FOUND', message: `No route ${req.method} ${req.url.split('?')[0]}` } }),
  );

  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  // Authentication for the API and the metrics (health, readiness and the OpenAPI document stay open).
  const isProtected = (url: string) => url.startsWith('/v1/') || url === '/v1' || url.startsWith('/metrics');
  app.addHook('onRequest', async (req, reply) => {
    if (tokenDigests.length === 0 || !isProtected(req.url)) return;
    const token = presentedToken(req);
    const d = token === undefined ? null : digest(token);
    if (d === null || !tokenDigests.some((t) => timingSafeEqual(t, d))) {
      reply.header('www-authenticate', 'Bearer');
      return reply.code(401).send({ error: { code: 'DE_UNAUTHORIZED', message: 'A valid bearer token is required' } });
    }
  });

  if (options.rateLimitPerMinute > 0) {
    await app.register(rateLimit, {
      global: true,
      // Only the API counts; health, readiness, metrics and the page are not limited.
      allowList: (req) => !req.url.startsWith('/v1/'),
      max: options.rateLimitPerMinute,
      timeWindow: 60_000,
      keyGenerator: (req) => {
        const token = presentedToken(req);
        return token ? `token:${digest(token).toString('hex').slice(0, 16)}` : `ip:${req.ip}`;
      },
      errorResponseBuilder: (_req, context) => ({
        statusCode: 429,
        message: `Rate limit of ${context.max} requests per minute reached; retry in ${Math.ceil(context.ttl / 1000)} s`,
      }),
    });
  }
  const tags = (t: string) => [t];
  const errorResponses = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 429: ErrorBodySchema };

  async function statusOrThrow(id: string): Promise<JobStatus> {
    const status = await queue.status(id);
    if (!status) throw apiError('DE_JOB_NOT_FOUND', `No job '${id}'`);
    return status;
  }

  async function backpressure(reply: FastifyReply): Promise<void> {
    const counts = await queue.counts();
    if (counts.queued >= options.maxQueue) {
      // A rough wait: the queue drains at about one job per running worker per few seconds.
      const retryAfter = Math.min(120, Math.max(1, Math.ceil(counts.queued / Math.max(1, counts.running))));
      reply.header('retry-after', String(retryAfter));
      throw apiError('DE_QUEUE_FULL', `The queue holds ${counts.queued} jobs (limit ${options.maxQueue}); retry after ${retryAfter} s`);
    }
  }

  /** Validates, claims the id, queues. Returns [status code, body]. */
  async function accept(
    fields: { config?: Record<string, unknown>; song_id?: string; id?: string },
    input: { upload: StoredUpload } | { path: string },
  ): Promise<[number, z.infer<typeof SubmittedSchema>]> {
    const id = fields.id ?? randomUUID();
    const statusUrl = `/v1/jobs/${id}`;
    const discard = async () => {
      if ('upload' in input) await storage.discardUpload(input.upload);
    };
    try {
      const sourceName = 'upload' in input ? input.upload.fileName : basename(input.path);
      const songId = fields.song_id ?? songIdFromFileName(sourceName);
      const spec: JobSpec = {
        id,
        songId,
        inputPath: 'upload' in input ? input.upload.tempPath : input.path,
        config: fields.config ?? {},
        submittedAt: new Date().toISOString(),
      };
      // The config's value rules (and the song id's path safety) before anything is queued.
      jobConfig(spec, storage.outputDir(id));
      if (!(await storage.claim(id))) {
        await discard();
        return [200, { id, status_url: statusUrl, duplicate: true }];
      }
      try {
        if ('upload' in input) spec.inputPath = await storage.adoptUpload(id, input.upload);
        await queue.submit(spec);
      } catch (err) {
        await storage.remove(id);
        throw err instanceof DidacticError ? err : apiError('DE_UNAVAILABLE', `Could not queue the job: ${(err as Error).message}`);
      }
      metrics.submitted.inc({ mode: queue.mode });
      return [202, { id, status_url: statusUrl, duplicate: false }];
    } catch (err) {
      await discard();
      if (err instanceof ConfigError) throw apiError('DE_INVALID_CONFIG', err.message);
      throw err;
    }
  }

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: tags('jobs'),
        summary: 'Submit a song',
        description:
          'multipart/form-data with the file in the part `audio` (optional text parts `config` (JSON object of the pipeline config keys), `song_id`, `id`), ' +
          'or JSON `{ "path": … }` naming a file under the server\'s input root. A known `id` is not queued again (200, duplicate: true).',
        consumes: ['multipart/form-data', 'application/json'],
        response: {
          200: SubmittedSchema,
          202: SubmittedSchema,
          403: ErrorBodySchema,
          413: ErrorBodySchema,
          415: ErrorBodySchema,
          503: ErrorBodySchema,
          ...errorResponses,
        },
      },
    },
    async (req, reply) => {
      await backpressure(reply);
      if (req.isMultipart()) {
        const [status, body] = await acceptMultipart(req);
        return reply.code(status).send(body);
      }
      const parsed = PathSubmissionSchema.safeParse(req.body);
      if (!parsed.success) throw apiError('DE_INVALID_ARGUMENT', `Invalid submission: ${z.prettifyError(parsed.error)}`);
      if (!options.inputRoot) throw apiError('DE_UNSAFE_PATH', 'This server takes no path submissions (start it with --input-root)');
      const path = await resolveUnderRoot(options.inputRoot, parsed.data.path);
      const head = Buffer.alloc(64);
      const handle = await open(path, 'r');
      let n: number;
      try {
        ({ bytesRead: n } = await handle.read(head, 0, 64, 0));
      } finally {
        await handle.close();
      }
      if (sniffAudioContainer(head.subarray(0, n)) === null) throw apiError('DE_UNSUPPORTED_FORMAT', `'${parsed.data.path}' does not look like audio`);
      const [status, body] = await accept(parsed.data, { path });
      return reply.code(status).send(body);
    },
  );

  async function acceptMultipart(req: FastifyRequest): Promise<[number, z.infer<typeof SubmittedSchema>]> {
    const raw: Record<string, unknown> = {};
    let upload: StoredUpload | null = null;
    try {
      for await (const part of req.parts()) {
        if (part.type === 'file') {
          if (part.fieldname !== 'audio' || upload !== null) {
            part.file.resume();
            throw apiError('DE_INVALID_ARGUMENT', `Unexpected file part '${part.fieldname}': send one file in the part 'audio'`);
          }
          upload = await storage.receiveUpload(part.file, part.filename, () => part.file.truncated);
        } else {
          raw[part.fieldname] = part.value;
        }
      }
    } catch (err) {
      if (upload) await storage.discardUpload(upload);
      const code = (err as { code?: string }).code;
      if (code === 'FST_REQ_FILE_TOO_LARGE')
        throw apiError('DE_UPLOAD_TOO_LARGE', `The upload is larger than ${options.maxUploadBytes} bytes (--max-upload-mb)`);
      if (code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT' || code === 'FST_FIELDS_LIMIT')
        throw apiError('DE_INVALID_ARGUMENT', (err as Error).message);
      throw err;
    }
    if (!upload) throw apiError('DE_INVALID_ARGUMENT', "The multipart body has no file in the part 'audio'");
    const current: StoredUpload = upload;
    try {
      if (typeof raw.config === 'string') {
        try {
          raw.config = JSON.parse(raw.config);
        } catch {
          throw apiError('DE_INVALID_CONFIG', 'The config part is not valid JSON');
        }
      }
      const fields = MultipartFieldsSchema.safeParse(raw);
      if (!fields.success) {
        const configIssue = fields.error.issues.some((i) => i.path[0] === 'config');
        throw apiError(configIssue ? 'DE_INVALID_CONFIG' : 'DE_INVALID_ARGUMENT', `Invalid submission: ${z.prettifyError(fields.error)}`);
      }
      const container = sniffAudioContainer(current.head);
      if (container === null) {
        throw apiError('DE_UNSUPPORTED_FORMAT', `The upload '${current.fileName}' does not look like audio (WAV, AIFF, FLAC, Ogg, CAF, AU, W64 or MP3)`);
      }
      return await accept(fields.data, { upload: current });
    } catch (err) {
      await storage.discardUpload(current);
      throw err;
    }
  }

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: tags('jobs'),
        summary: 'Recent jobs, newest first',
        querystring: JobListQuerySchema,
        response: { 200: JobListSchema, ...errorResponses },
      },
    },
    async (req) => ({ jobs: await queue.list(req.query.limit) }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: tags('jobs'),
        summary: 'A job’s state, progress, and result or error',
        params: JobParamsSchema,
        response: { 200: JobStatusSchema, ...errorResponses },
      },
    },
    async (req) => statusOrThrow(req.params.id),
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        tags: tags('jobs'),
        summary: 'Progress as server-sent events',
        description: 'text/event-stream: one `status` event (a job status document) now and on every change; the stream ends after completed or failed.',
        params: JobParamsSchema,
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      await statusOrThrow(id);
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      openStreams.add(reply);
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        openStreams.delete(reply);
        res.end();
      };
      const send = (status: JobStatus) => {
        if (ended) return;
        res.write(`event: status\ndata: ${JSON.stringify(status)}\n\n`);
        if (status.state === 'completed' || status.state === 'failed') end();
      };
      // Subscribe first, then read: a change in between is delivered, not lost.
      const unsubscribe = queue.subscribe(id, send);
      const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
      req.raw.on('close', end);
      const now = await queue.status(id);
      if (now) send(now);
      else end();
    },
  );

  app.get(
    '/v1/jobs/:id/files/*',
    { schema: { tags: tags('jobs'), summary: 'One output file of a job (paths as listed in result.files)', params: JobFileParamsSchema } },
    async (req, reply) => {
      const { id } = req.params;
      if (!(await storage.exists(id))) throw apiError('DE_JOB_NOT_FOUND', `No job '${id}'`);
      const file = await storage.openFile(id, req.params['*']);
      reply.header('content-type', CONTENT_TYPES[extname(file.path).toLowerCase()] ?? 'application/octet-stream');
      reply.header('content-length', String(file.size));
      return reply.send(file.stream());
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        tags: tags('jobs'),
        summary: 'Cancel or delete a job',
        description:
          'Queued: removed with its folder. Running: aborted (nothing half-written; it ends failed with DE_ABORTED). Finished: record and files deleted.',
        params: JobParamsSchema,
        response: { 200: CancelSchema, 202: CancelSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const outcome = await queue.cancel(req.params.id);
      if (outcome === null) throw apiError('DE_JOB_NOT_FOUND', `No job '${req.params.id}'`);
      return reply.code(outcome === 'aborting' ? 202 : 200).send({ id: req.params.id, outcome });
    },
  );

  app.get('/healthz', { schema: { tags: tags('operations'), summary: 'The process is alive', response: { 200: HealthSchema } } }, async () => ({ ok: true }));

  // The doctor's core checks are costly (they open an ONNX session): run at most once a minute.
  let doctorCache: { at: number; checks: Array<{ name: string; ok: boolean; details: string }> } | null = null;
  const coreChecks = async () => {
    if (doctorCache && Date.now() - doctorCache.at < 60_000) return doctorCache.checks;
    const report = await runDoctor();
    const checks = report.checks.filter((c) => c.required).map((c) => ({ name: c.name, ok: c.ok, details: c.details }));
    doctorCache = { at: Date.now(), checks };
    return checks;
  };
  app.get(
    '/readyz',
    {
      schema: {
        tags: tags('operations'),
        summary: 'The doctor’s core checks pass and the queue is reachable',
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_req, reply) => {
      const [checks, q] = await Promise.all([coreChecks(), queue.ready()]);
      const all = [...checks, { name: 'queue', ok: q.ok, details: q.details }];
      const ok = all.every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ ok, checks: all });
    },
  );

  app.get('/metrics', { schema: { tags: tags('operations'), summary: 'Prometheus metrics' } }, async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    const doc = app.swagger() as { paths?: Record<string, Record<string, Record<string, unknown>>> };
    // The submission body has two forms that Fastify does not validate by schema (multipart is
    // streamed): describe both from the same zod schemas.
    const post = doc.paths?.['/v1/jobs']?.post;
    if (post) {
      const overrides = z.toJSONSchema(PipelineOverridesSchema, { io: 'input', unrepresentable: 'any' });
      post.requestBody = {
        required: true,
        content: {
          'multipart/form-data': {
            schema: {
              type: 'object',
              required: ['audio'],
              properties: {
                audio: { type: 'string', format: 'binary' },
                config: { type: 'string', description: 'JSON object of pipeline config keys', contentMediaType: 'application/json', contentSchema: overrides },
                song_id: { type: 'string' },
                id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$' },
              },
            },
          },
          'application/json': { schema: z.toJSONSchema(PathSubmissionSchema, { io: 'input', unrepresentable: 'any' }) },
        },
      };
    }
    return doc;
  });

  if (options.extraRoutes) await options.extraRoutes(app);

  return {
    app,
    metrics,
    closeStreams: () => {
      for (const reply of openStreams) reply.raw.end();
      openStreams.clear();
    },
  };
}
