/**
 * `didactic-engine serve`: the HTTP API over a job queue (embedded by default, BullMQ on Redis with
 * `--redis`). Fastify 5 with zod schemas (the pipeline config's own schema for the overrides). The
 * app is assembled from plugins: authentication and rate limits on the matched route (auth.ts), the
 * jobs, session and operations routes (routes/), and the OpenAPI document (openapi.ts); this file
 * holds what every response shares: the error envelope and the security headers.
 */
import { isIP } from 'node:net';

import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';

import { DidacticError, ERROR_TABLE, type ErrorCode, type ErrorCodeFacts } from '../errors.js';
import type { Logger } from '../util/logger.js';
import { registerAuth, type TokenTable } from './auth.js';
import type { ClientConfigPolicy } from './clientConfig.js';
import { API_CSP } from './files.js';
import { ServiceMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import type { JobQueue } from './queue.js';
import type { PathRedactor } from './redact.js';
import { jobsRoutes } from './routes/jobs.js';
import { operationsRoutes } from './routes/operations.js';
import { sessionRoutes } from './routes/session.js';
import type { JobStorage } from './storage.js';

/** What `buildApi` needs: the queue and storage, tokens and limits (bytes, jobs, requests per minute). */
export interface ApiOptions {
  queue: JobQueue;
  storage: JobStorage;
  logger: Logger;
  /** Accepted tokens and their identities; an empty table = no auth (allowed on loopback only, see `assertBindingSafe`). */
  tokens: TokenTable;
  /** Largest upload in bytes. */
  maxUploadBytes: number;
  /** Queued jobs above which submissions get 429 with Retry-After. */
  maxQueue: number;
  /** Requests per minute per client identity (or per address without a valid token); 0 = unlimited. */
  rateLimitPerMinute: number;
  /** Requests per minute per address with a missing or wrong token before 429. */
  authFailuresPerMinute: number;
  /** Folder that `{ "path": … }` submissions are resolved in; without it they are refused. */
  inputRoot?: string;
  /** The data folder (readiness checks it). */
  dataDir: string;
  /** Client-bound messages without server paths. */
  redactor: PathRedactor;
  /** Extra routes (the web page) registered on the same server. */
  extraRoutes?: (app: FastifyInstance) => void | Promise<void>;
  /** Which model names clients may put in a job's config (default: those installed in the models folder). */
  clientConfig?: ClientConfigPolicy;
}

/** The HTTP status of an error code as the API answers it (ERROR_TABLE's `status`; 500 when it has none). */
export function httpStatusOf(code: string): number {
  return (ERROR_TABLE as Partial<Record<string, ErrorCodeFacts>>)[code]?.status ?? 500;
}

/** The code of a 4xx that Fastify itself raised (body parsing, content type, URL decoding). */
function codeOfFrameworkStatus(status: number): ErrorCode {
  if (status === 413) return 'DE_UPLOAD_TOO_LARGE';
  if (status === 415) return 'DE_UNSUPPORTED_FORMAT';
  if (status === 404) return 'DE_FILE_NOT_FOUND';
  if (status === 429) return 'DE_RATE_LIMITED';
  return 'DE_INVALID_ARGUMENT';
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

/** True for `localhost`, `::1` and 127.0.0.0/8: addresses other machines cannot reach. */
export function isLoopbackHost(host: string): boolean {
  if (LOOPBACK_NAMES.has(host)) return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** A server reachable from other machines must have tokens. */
export function assertBindingSafe(host: string, tokens: TokenTable): void {
  if (!isLoopbackHost(host) && !tokens.required) {
    throw new DidacticError(
      'DE_INVALID_ARGUMENT',
      `Refusing to listen on ${host} without authentication: give at least one --token (or DIDACTIC_TOKENS, --tokens-file), or bind to 127.0.0.1`,
    );
  }
}

/** The API app with its metrics. */
export interface BuiltApi {
  app: FastifyInstance;
  metrics: ServiceMetrics;
  /** Ends the open event streams (before `app.close()`, which waits for open requests). */
  closeStreams: () => void;
}

/** Headers every response carries (pages set their own CSP; everything else gets the API's). */
function securityHeaders(reply: FastifyReply): void {
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('cross-origin-resource-policy', 'same-origin');
  if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', API_CSP);
  if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
}

function sendError(reply: FastifyReply, status: number, code: string, message: string): FastifyReply {
  return reply.code(status).send({ error: { code, message } });
}

/** Builds the Fastify app (not listening). */
export async function buildApi(options: ApiOptions): Promise<BuiltApi> {
  const { queue, storage, logger, redactor } = options;
  const app = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
    // Fastify's own refusals (a URL that does not decode) in the API's envelope.
    frameworkErrors: (error: FastifyError, _req: FastifyRequest, reply: FastifyReply) => {
      securityHeaders(reply);
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      return sendError(reply, status, codeOfFrameworkStatus(status), 'The request URL is not valid');
    },
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  const metrics = new ServiceMetrics(queue);
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
      security: options.tokens.required ? [{ bearer: [] }] : [],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(multipart, {
    limits: { fileSize: options.maxUploadBytes, files: 1, fields: 8, fieldSize: 256 * 1024, parts: 10 },
  });

  app.setErrorHandler((err: unknown, req, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      const message = err.validation.map((v) => `${v.instancePath || '/'} ${v.message}`).join('; ');
      return sendError(reply, 400, 'DE_INVALID_ARGUMENT', `Invalid request: ${message.replace(/\s*\n\s*/g, ' ')}`);
    }
    if (err instanceof DidacticError) {
      const status = httpStatusOf(err.code);
      if (status >= 500) {
        // An outage (503) is logged once by the queue when it starts and ends, not per request.
        if (status !== 503) logger.error(`${req.method} ${req.routeOptions.url ?? 'unmatched'}: ${err.code}: ${err.message}`);
        return sendError(reply, status, err.code, status === 503 ? redactor.redact(err.message) : 'Internal error (see the server log)');
      }
      return sendError(reply, status, err.code, redactor.redact(err.message));
    }
    const e = err as { statusCode?: number; code?: string; message?: string };
    if (e.code === 'FST_REQ_FILE_TOO_LARGE') return sendError(reply, 413, 'DE_UPLOAD_TOO_LARGE', `The upload is larger than ${options.maxUploadBytes} bytes`);
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 413, 'DE_UPLOAD_TOO_LARGE', 'The request body is larger than 1 MiB');
    if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendError(reply, 415, 'DE_UNSUPPORTED_FORMAT', 'Send multipart/form-data (an upload) or application/json (a path submission)');
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return sendError(reply, e.statusCode, codeOfFrameworkStatus(e.statusCode), redactor.redact(e.message ?? 'Bad request'));
    }
    logger.error(`${req.method} ${req.routeOptions.url ?? 'unmatched'}: ${(err as Error)?.stack ?? String(err)}`);
    return sendError(reply, 500, 'DE_INTERNAL', 'Internal error (see the server log)');
  });

  // An unknown route needs a token like any other (auth.ts), then answers 404 in the envelope.
  app.setNotFoundHandler((req, reply) => sendError(reply, 404, 'DE_FILE_NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`));

  app.addHook('onSend', async (_req, reply, payload) => {
    securityHeaders(reply);
    return payload;
  });

  app.addHook('onResponse', async (req, reply) => {
    metrics.httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  registerAuth(app, { tokens: options.tokens, rateLimitPerMinute: options.rateLimitPerMinute, failedAuthPerMinute: options.authFailuresPerMinute });

  await app.register(jobsRoutes, {
    queue,
    storage,
    metrics,
    maxUploadBytes: options.maxUploadBytes,
    maxQueue: options.maxQueue,
    inputRoot: options.inputRoot,
    clientConfig: options.clientConfig,
    tokensRequired: options.tokens.required,
    redactor,
    openStreams,
  });
  await app.register(sessionRoutes, { tokens: options.tokens });
  await app.register(operationsRoutes, { queue, metrics, dataDir: options.dataDir, redactor, modelsDir: options.clientConfig?.modelsDir });
  registerOpenApi(app);

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
