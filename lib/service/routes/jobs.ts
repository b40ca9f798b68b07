/**
 * The jobs routes: submit, list, status, progress streams (one job, or all of a client's jobs),
 * output files and cancel. Every route needs a token (see auth.ts) and shows a client only its own
 * jobs: another client's job answers 404, as a job that does not exist.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { DidacticError } from '../../errors.js';
import { canSee } from '../auth.js';
import { API_CSP, contentDisposition, filePolicy, MEDIA_CSP, parseRange, reportPolicy } from '../files.js';
import type { JobStatus } from '../jobs.js';
import type { PathRedactor } from '../redact.js';
import {
  CancelSchema,
  ErrorBodySchema,
  EventsQuerySchema,
  JobFileParamsSchema,
  JobListQuerySchema,
  JobListSchema,
  JobParamsSchema,
  JobStatusSchema,
  SubmittedSchema,
} from '../schemas.js';
import type { JobStorage } from '../storage.js';
import { acceptMultipart, acceptPath, checkBackpressure, type SubmissionDeps } from '../submissions.js';

/** What the jobs routes need. */
export interface JobsRoutesOptions extends SubmissionDeps {
  storage: JobStorage;
  /** Whether the server has tokens (without them every client sees every job). */
  tokensRequired: boolean;
  /** Client-bound text without server paths. */
  redactor: PathRedactor;
  /** The open event streams, ended on shutdown before the server closes. */
  openStreams: Set<FastifyReply>;
}

const BINARY = z.string().meta({ format: 'binary' });
const EVENT_STREAM = { description: 'text/event-stream of `status` events', content: { 'text/event-stream': { schema: z.string() } } };

const errors = { 400: ErrorBodySchema, 401: ErrorBodySchema, 404: ErrorBodySchema, 429: ErrorBodySchema, 503: ErrorBodySchema };

/** The status document as a client sees it: no server paths in its messages. */
export function clientStatus(status: JobStatus, redactor: PathRedactor): JobStatus {
  const out: JobStatus = { ...status };
  if (status.error) out.error = { code: status.error.code, message: redactor.redact(status.error.message) };
  if (status.result) out.result = { ...status.result, degraded_reasons: status.result.degraded_reasons.map((r) => redactor.redact(r)) };
  return out;
}

/** Open event streams one client may hold (each holds a connection and a subscription). */
export const MAX_STREAMS_PER_CLIENT = 32;
/** Open event streams the server holds in all. */
export const MAX_STREAMS = 2000;

/** Headers of an event stream (written by hand: a hijacked reply skips the onSend hook). */
function eventStreamHead(reply: FastifyReply): void {
  reply.raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-content-type-options': 'nosniff',
    'content-security-policy': API_CSP,
  });
}

/** Registers the jobs routes (an encapsulated plugin). */
export async function jobsRoutes(fastify: FastifyInstance, options: JobsRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { queue, storage, redactor, openStreams } = options;
  const visible = (req: FastifyRequest, status: JobStatus | null): status is JobStatus =>
    status !== null && canSee(req.identity, status.owner, options.tokensRequired);
  const ownerFilter = (req: FastifyRequest): string | undefined => (options.tokensRequired && !req.identity?.admin ? (req.identity?.name ?? '') : undefined);

  async function statusOrThrow(req: FastifyRequest, id: string): Promise<JobStatus> {
    const status = await queue.status(id);
    if (!visible(req, status)) throw new DidacticError('DE_JOB_NOT_FOUND', `No job '${id}'`);
    return status;
  }

  const streamsByClient = new Map<string, number>();

  /** Streams `event: status` documents until `end()`; returns the writer and the end function. */
  function openEventStream(req: FastifyRequest, reply: FastifyReply, onEnd: () => void) {
    const client = req.identity ? `id:${req.identity.name}` : `ip:${req.ip}`;
    const held = streamsByClient.get(client) ?? 0;
    if (held >= MAX_STREAMS_PER_CLIENT || openStreams.size >= MAX_STREAMS) {
      reply.header('retry-after', '5');
      throw new DidacticError('DE_RATE_LIMITED', `Too many open event streams (at most ${MAX_STREAMS_PER_CLIENT} per client): use GET /v1/events for all jobs`);
    }
    streamsByClient.set(client, held + 1);
    reply.hijack();
    eventStreamHead(reply);
    const res = reply.raw;
    openStreams.add(reply);
    let ended = false;
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    const end = () => {
      if (ended) return;
      ended = true;
      clearInterval(heartbeat);
      const left = (streamsByClient.get(client) ?? 1) - 1;
      if (left > 0) streamsByClient.set(client, left);
      else streamsByClient.delete(client);
      onEnd();
      openStreams.delete(reply);
      res.end();
    };
    req.raw.on('close', end);
    const send = (status: JobStatus) => {
      if (!ended) res.write(`event: status\ndata: ${JSON.stringify(JobStatusSchema.parse(clientStatus(status, redactor)))}\n\n`);
    };
    return { send, end, ended: () => ended };
  }

  app.post(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Submit a song',
        description:
          'multipart/form-data with the file in the part `audio` (optional text parts `config` (JSON object of the pipeline config keys), `song_id`, `id`), ' +
          'or JSON `{ "path": … }` naming a file under the server\'s input root. A known `id` of the same client is not queued again (200, duplicate: true).',
        consumes: ['multipart/form-data', 'application/json'],
        response: { 200: SubmittedSchema, 202: SubmittedSchema, 403: ErrorBodySchema, 413: ErrorBodySchema, 415: ErrorBodySchema, ...errors },
      },
    },
    async (req, reply) => {
      await checkBackpressure(options, reply);
      const [status, body] = req.isMultipart() ? await acceptMultipart(options, req.identity, req) : await acceptPath(options, req.identity, req.body);
      return reply.code(status).send(body);
    },
  );

  app.get(
    '/v1/jobs',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Recent jobs of this client, newest first',
        querystring: JobListQuerySchema,
        response: { 200: JobListSchema, ...errors },
      },
    },
    async (req) => ({ jobs: (await queue.list(req.query.limit, ownerFilter(req))).map((s) => clientStatus(s, redactor)) }),
  );

  app.get(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'A job’s state, progress, and result or error',
        params: JobParamsSchema,
        response: { 200: JobStatusSchema, ...errors },
      },
    },
    async (req) => clientStatus(await statusOrThrow(req, req.params.id), redactor),
  );

  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Progress of all of this client’s jobs as server-sent events',
        description:
          'text/event-stream: one `status` event (a job status document) for each of the `limit` most recent jobs now, oldest first, then one on every change of any of the client’s jobs. One stream serves a whole page (browsers allow six connections per host).',
        querystring: EventsQuerySchema,
        response: { 200: EVENT_STREAM, ...errors },
      },
    },
    async (req, reply) => {
      const owner = ownerFilter(req);
      let unsubscribe = () => {};
      const stream = openEventStream(req, reply, () => unsubscribe());
      // Subscribe first, then read: a change in between is delivered, not lost.
      unsubscribe = queue.subscribeAll((status) => {
        if (visible(req, status)) stream.send(status);
      });
      const recent = await queue.list(req.query.limit, owner).catch(() => []);
      for (const status of recent.reverse()) stream.send(status);
    },
  );

  app.get(
    '/v1/jobs/:id/events',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Progress of one job as server-sent events',
        description: 'text/event-stream: one `status` event (a job status document) now and on every change; the stream ends after completed or failed.',
        params: JobParamsSchema,
        response: { 200: EVENT_STREAM, ...errors },
      },
    },
    async (req, reply) => {
      const id = req.params.id;
      await statusOrThrow(req, id);
      let unsubscribe = () => {};
      const stream = openEventStream(req, reply, () => unsubscribe());
      const send = (status: JobStatus) => {
        stream.send(status);
        if (status.state === 'completed' || status.state === 'failed') stream.end();
      };
      unsubscribe = queue.subscribe(id, send);
      const now = await queue.status(id);
      if (now) send(now);
      else stream.end();
    },
  );

  // Untyped on purpose: the body is a stream, which the zod type provider's reply types do not admit.
  fastify.get<{ Params: z.infer<typeof JobFileParamsSchema> }>(
    '/v1/jobs/:id/files/*',
    {
      schema: {
        tags: ['jobs'],
        summary: 'One output file of a job (paths as listed in result.files)',
        description:
          'Audio and the song’s report are served inline, everything else as an attachment. A single `Range` is honoured (206; 416 when outside the file).',
        params: JobFileParamsSchema,
        response: {
          200: { description: 'the file', content: { 'application/octet-stream': { schema: BINARY } } },
          206: { description: 'the requested byte range', content: { 'application/octet-stream': { schema: BINARY } } },
          403: ErrorBodySchema,
          416: ErrorBodySchema,
          ...errors,
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params;
      await statusOrThrow(req, id);
      const relPath = req.params['*'];
      const file = await storage.openFile(id, relPath);
      const policy = filePolicy(relPath);
      reply.header('content-type', policy.contentType);
      reply.header('content-disposition', contentDisposition(policy.disposition, basename(relPath)));
      reply.header('accept-ranges', 'bytes');
      if (policy.report) reply.header('content-security-policy', await reportPolicy(file.path));
      else if (policy.disposition === 'inline') reply.header('content-security-policy', MEDIA_CSP);
      const range = parseRange(typeof req.headers.range === 'string' ? req.headers.range : undefined, file.size);
      if (range === 'unsatisfiable') {
        reply.header('content-range', `bytes */${file.size}`);
        throw new DidacticError('DE_RANGE_NOT_SATISFIABLE', `The range '${req.headers.range}' is outside the file (${file.size} bytes)`);
      }
      if (range === null) {
        reply.header('content-length', String(file.size));
        return reply.send(file.stream());
      }
      reply.code(206);
      reply.header('content-range', `bytes ${range.start}-${range.end}/${file.size}`);
      reply.header('content-length', String(range.end - range.start + 1));
      return reply.send(createReadStream(file.path, { start: range.start, end: range.end }));
    },
  );

  app.delete(
    '/v1/jobs/:id',
    {
      schema: {
        tags: ['jobs'],
        summary: 'Cancel or delete a job',
        description:
          'Queued: removed with its folder. Running: aborted (nothing half-written; it ends failed with DE_ABORTED). Finished: record and files deleted.',
        params: JobParamsSchema,
        response: { 200: CancelSchema, 202: CancelSchema, ...errors },
      },
    },
    async (req, reply) => {
      await statusOrThrow(req, req.params.id);
      const outcome = await queue.cancel(req.params.id);
      if (outcome === null) throw new DidacticError('DE_JOB_NOT_FOUND', `No job '${req.params.id}'`);
      return reply.code(outcome === 'aborting' ? 202 : 200).send({ id: req.params.id, outcome });
    },
  );
}
