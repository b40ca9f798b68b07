/**
 * The HTTP API's request and response schemas (zod): Fastify validates requests and serialises
 * responses with them, and /openapi.json is generated from them. The config overrides are the
 * pipeline config's own schema (PipelineOverridesSchema).
 */
import { z } from 'zod';

import { PipelineOverridesSchema } from '../pipeline/config.js';
import { JOB_ID_PATTERN, JOB_STATES } from './jobs.js';

export const JobIdSchema = z.string().regex(JOB_ID_PATTERN, { error: 'a job id is 1–128 letters, digits, ".", "_" or "-", starting with a letter or digit' });

export const JobParamsSchema = z.object({ id: JobIdSchema });
export const JobFileParamsSchema = z.object({ id: JobIdSchema, '*': z.string() });

export const PathSubmissionSchema = z.strictObject({
  /** A file under the server's input root (--input-root), relative to it. */
  path: z.string().min(1),
  config: PipelineOverridesSchema.optional(),
  song_id: z.string().min(1).max(200).optional(),
  id: JobIdSchema.optional(),
});

/** The text fields of a multipart submission (the file is the part named `audio`). */
export const MultipartFieldsSchema = z.strictObject({
  config: PipelineOverridesSchema.optional(),
  song_id: z.string().min(1).max(200).optional(),
  id: JobIdSchema.optional(),
});

export const SubmittedSchema = z.object({
  id: z.string(),
  status_url: z.string(),
  /** True when a job with this id already existed: it was not queued again. */
  duplicate: z.boolean(),
});

export const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

const ProgressSchema = z.object({ step: z.string(), fraction: z.number(), worker: z.string().optional() });

export const JobStatusSchema = z.object({
  id: z.string(),
  song_id: z.string(),
  state: z.enum(JOB_STATES),
  progress: ProgressSchema,
  submitted_at: z.string(),
  started_at: z.string().optional(),
  finished_at: z.string().optional(),
  attempts: z.number().int(),
  /** Queued jobs: 1 = the next to run. */
  queue_position: z.number().int().min(1).optional(),
  result: z
    .object({
      summary: z.record(z.string(), z.unknown()),
      degraded: z.boolean(),
      degraded_reasons: z.array(z.string()),
      files: z.array(z.string()),
    })
    .optional(),
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});

export const JobListSchema = z.object({ jobs: z.array(JobStatusSchema) });
export const JobListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(100) });
/** `GET /v1/events`: how many recent jobs to send at once (then every change). */
export const EventsQuerySchema = z.object({
  limit: z.coerce.number().int().min(0).max(1000).default(100),
  /** Accepted for EventSource clients that cannot set headers (prefer the header or the page's cookie). */
  access_token: z.string().optional(),
});

/** `/v1/session`: whether the server wants a token, and the identity of the one presented. */
export const SessionSchema = z.object({
  token_required: z.boolean(),
  identity: z.object({ name: z.string(), admin: z.boolean() }).nullable(),
});

export const CancelSchema = z.object({ id: z.string(), outcome: z.enum(['removed', 'aborting', 'deleted']) });

export const HealthSchema = z.object({ ok: z.boolean() });
export const ReadySchema = z.object({
  ok: z.boolean(),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), details: z.string() })),
  /** The known models installed in the models folder (`didactic-engine models list`). */
  models: z.array(
    z.object({
      name: z.string(),
      bytes: z.number().nullable(),
      /** SHA-256 of the checkpoints it was converted from, as recorded by `models fetch` (null: installed otherwise). */
      sha256: z.array(z.string()).nullable(),
    }),
  ),
});
