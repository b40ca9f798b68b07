/**
 * Taking a song in: a multipart upload or a path under the input root, validated before anything is
 * queued (content sniffed, config checked with the pipeline's own rules, the id claimed), then queued.
 * Malformed bodies are the client's fault (400), never a server error.
 */
import { randomUUID } from 'node:crypto';
import { open } from 'node:fs/promises';
import { basename } from 'node:path';

import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

import { ConfigError, DidacticError } from '../errors.js';
import type { Identity } from './auth.js';
import { checkClientConfig, type ClientConfigPolicy } from './clientConfig.js';
import type { JobSpec } from './jobs.js';
import type { ServiceMetrics } from './metrics.js';
import type { JobQueue } from './queue.js';
import { jobConfig } from './runner.js';
import { MultipartFieldsSchema, PathSubmissionSchema, type SubmittedSchema } from './schemas.js';
import { sniffAudioContainer } from './sniff.js';
import { resolveUnderRoot, songIdFromFileName, type JobStorage, type StoredUpload } from './storage.js';

/** What a submission needs: the queue, storage, limits and the input root of path submissions. */
export interface SubmissionDeps {
  queue: JobQueue;
  storage: JobStorage;
  metrics: ServiceMetrics;
  maxUploadBytes: number;
  maxQueue: number;
  inputRoot?: string;
  /** Which model names clients may choose; path fields are always refused (clientConfig.ts). */
  clientConfig?: ClientConfigPolicy;
}

type Submitted = z.infer<typeof SubmittedSchema>;
type Fields = { config?: Record<string, unknown>; song_id?: string; id?: string };

/** Malformed multipart bodies as busboy and @fastify/multipart report them. */
const MALFORMED_MULTIPART = /multipart|boundary|unexpected end|malformed|part terminated|invalid content-type/i;

/** 429 with Retry-After when the queue holds `maxQueue` jobs or more. */
export async function checkBackpressure(deps: SubmissionDeps, reply: FastifyReply): Promise<void> {
  const counts = await deps.queue.counts();
  if (counts.queued >= deps.maxQueue) {
    // A rough wait: the queue drains at about one job per running worker per few seconds.
    const retryAfter = Math.min(120, Math.max(1, Math.ceil(counts.queued / Math.max(1, counts.running))));
    reply.header('retry-after', String(retryAfter));
    throw new DidacticError('DE_QUEUE_FULL', `The queue holds ${counts.queued} jobs (limit ${deps.maxQueue}); retry after ${retryAfter} s`);
  }
}

/** Validates, claims the id, queues. Returns [status code, body]. */
async function accept(
  deps: SubmissionDeps,
  owner: Identity | undefined,
  fields: Fields,
  input: { upload: StoredUpload } | { path: string },
): Promise<[number, Submitted]> {
  const { storage, queue } = deps;
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
      ...(owner ? { owner: owner.name } : {}),
    };
    // No server paths from a client; then the config's value rules (and the song id's path safety), before anything is queued.
    checkClientConfig(spec.config, deps.clientConfig);
    jobConfig(spec, storage.outputDir(id));
    if (!(await storage.claim(id))) {
      await discard();
      // The id is taken: by this client, a repeated submission; by another, nothing more is said.
      const existing = await queue.status(id);
      if (existing && (owner === undefined || owner.admin || existing.owner === owner.name)) return [200, { id, status_url: statusUrl, duplicate: true }];
      throw new DidacticError('DE_INVALID_ARGUMENT', `The job id '${id}' is taken: choose another`);
    }
    try {
      if ('upload' in input) spec.inputPath = await storage.adoptUpload(id, input.upload);
      await queue.submit(spec);
    } catch (err) {
      await storage.remove(id);
      throw err instanceof DidacticError ? err : new DidacticError('DE_UNAVAILABLE', 'Could not queue the job; retry later', { cause: err });
    }
    deps.metrics.submitted.inc({ mode: queue.mode });
    return [202, { id, status_url: statusUrl, duplicate: false }];
  } catch (err) {
    await discard();
    if (err instanceof ConfigError) throw new DidacticError('DE_INVALID_CONFIG', err.message);
    throw err;
  }
}

/** `POST /v1/jobs` with a JSON `{ path }` under the input root. */
export async function acceptPath(deps: SubmissionDeps, owner: Identity | undefined, body: unknown): Promise<[number, Submitted]> {
  const parsed = PathSubmissionSchema.safeParse(body);
  if (!parsed.success) {
    const configIssue = parsed.error.issues.some((i) => i.path[0] === 'config');
    throw new DidacticError(configIssue ? 'DE_INVALID_CONFIG' : 'DE_INVALID_ARGUMENT', `Invalid submission: ${oneLine(z.prettifyError(parsed.error))}`);
  }
  if (!deps.inputRoot) throw new DidacticError('DE_UNSAFE_PATH', 'This server takes no path submissions (start it with --input-root)');
  const path = await resolveUnderRoot(deps.inputRoot, parsed.data.path);
  const head = Buffer.alloc(64);
  const handle = await open(path, 'r');
  let n: number;
  try {
    ({ bytesRead: n } = await handle.read(head, 0, 64, 0));
  } finally {
    await handle.close();
  }
  if (sniffAudioContainer(head.subarray(0, n)) === null) throw new DidacticError('DE_UNSUPPORTED_FORMAT', `'${parsed.data.path}' does not look like audio`);
  return accept(deps, owner, parsed.data, { path });
}

/** `POST /v1/jobs` as multipart/form-data: the file in the part `audio`, optional text parts. */
export async function acceptMultipart(deps: SubmissionDeps, owner: Identity | undefined, req: FastifyRequest): Promise<[number, Submitted]> {
  const { storage } = deps;
  const raw: Record<string, unknown> = {};
  let upload: StoredUpload | null = null;
  try {
    for await (const part of req.parts()) {
      if (part.type === 'file') {
        if (part.fieldname !== 'audio' || upload !== null) {
          part.file.resume();
          throw new DidacticError('DE_INVALID_ARGUMENT', `Unexpected file part '${part.fieldname}': send one file in the part 'audio'`);
        }
        upload = await storage.receiveUpload(part.file, part.filename, () => part.file.truncated);
      } else {
        raw[part.fieldname] = part.value;
      }
    }
  } catch (err) {
    if (upload) await storage.discardUpload(upload);
    throw multipartError(err, deps.maxUploadBytes);
  }
  if (!upload) throw new DidacticError('DE_INVALID_ARGUMENT', "The multipart body has no file in the part 'audio'");
  const current: StoredUpload = upload;
  try {
    if (typeof raw.config === 'string') {
      try {
        raw.config = JSON.parse(raw.config);
      } catch {
        throw new DidacticError('DE_INVALID_CONFIG', 'The config part is not valid JSON');
      }
    }
    const fields = MultipartFieldsSchema.safeParse(raw);
    if (!fields.success) {
      const configIssue = fields.error.issues.some((i) => i.path[0] === 'config');
      throw new DidacticError(configIssue ? 'DE_INVALID_CONFIG' : 'DE_INVALID_ARGUMENT', `Invalid submission: ${oneLine(z.prettifyError(fields.error))}`);
    }
    const container = sniffAudioContainer(current.head);
    if (container === null) {
      throw new DidacticError('DE_UNSUPPORTED_FORMAT', `The upload '${current.fileName}' does not look like audio (WAV, AIFF, FLAC, Ogg, CAF, AU, W64 or MP3)`);
    }
    // The stored copy is named for what it is, whatever the client called it (never `.html`).
    current.fileName = audioFileName(current.fileName, container);
    return await accept(deps, owner, fields.data, { upload: current });
  } catch (err) {
    await storage.discardUpload(current);
    throw err;
  }
}

/** The upload's name with the extension of the container its bytes are (`evil.html` → `evil.wav`). */
export function audioFileName(name: string, container: string): string {
  const ext = container === 'aiff' ? 'aiff' : container;
  const stem = name.replace(/\.[^.]*$/, '') || 'audio';
  return `${stem}.${ext}`;
}

/** A multipart failure as the client's error with its code (never a 500). */
function multipartError(err: unknown, maxUploadBytes: number): DidacticError {
  if (err instanceof DidacticError) return err;
  const e = err as { code?: string; message?: string; statusCode?: number };
  if (e.code === 'FST_REQ_FILE_TOO_LARGE')
    return new DidacticError('DE_UPLOAD_TOO_LARGE', `The upload is larger than ${maxUploadBytes} bytes (--max-upload-mb)`);
  if (e.code === 'FST_FILES_LIMIT' || e.code === 'FST_PARTS_LIMIT' || e.code === 'FST_FIELDS_LIMIT')
    return new DidacticError('DE_INVALID_ARGUMENT', e.message ?? 'Too many parts');
  if (
    e.code === 'FST_INVALID_MULTIPART_CONTENT_TYPE' ||
    (typeof e.statusCode === 'number' && e.statusCode < 500) ||
    MALFORMED_MULTIPART.test(e.message ?? '')
  ) {
    return new DidacticError('DE_INVALID_ARGUMENT', `Malformed multipart body: ${e.message ?? 'cannot be parsed'}`, { cause: err });
  }
  // A connection cut mid-body ends the stream with a premature close: also the client's doing.
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === 'ECONNRESET' || e.code === 'ERR_STREAM_DESTROYED') {
    return new DidacticError('DE_INVALID_ARGUMENT', 'The request body ended early', { cause: err });
  }
  return err instanceof Error ? new DidacticError('DE_INTERNAL', err.message, { cause: err }) : new DidacticError('DE_INTERNAL', String(err));
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, '; ');
}
