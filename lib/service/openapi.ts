/**
 * `GET /openapi.json`: the document @fastify/swagger builds from the route schemas, with what it
 * cannot know: the submission's two body forms (multipart is streamed, not validated by schema)
 * and the files route's wildcard under a real name.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';

import { PipelineOverridesSchema } from '../pipeline/config.js';
import { JOB_ID_PATTERN } from './jobs.js';
import { PathSubmissionSchema } from './schemas.js';

type Operation = Record<string, unknown> & { parameters?: Array<Record<string, unknown>> };
type OpenApiDocument = { paths?: Record<string, Record<string, Operation>> };

/** The files route as Fastify names it, and as the document names it. */
const FILES_ROUTE = '/v1/jobs/{id}/files/{*}';
const FILES_PATH = '/v1/jobs/{id}/files/{path}';

/** Adds the document's route (public: it describes the API and holds no data). */
export function registerOpenApi(app: FastifyInstance): void {
  let cached: OpenApiDocument | null = null;
  app.get('/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => {
    if (cached) return cached;
    const doc = structuredClone(app.swagger()) as OpenApiDocument;
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
                id: { type: 'string', pattern: JOB_ID_PATTERN.source },
              },
            },
          },
          'application/json': { schema: z.toJSONSchema(PathSubmissionSchema, { io: 'input', unrepresentable: 'any' }) },
        },
      };
    }
    const files = doc.paths?.[FILES_ROUTE];
    if (doc.paths && files) {
      delete doc.paths[FILES_ROUTE];
      for (const operation of Object.values(files)) {
        for (const p of operation.parameters ?? []) {
          if (p.in === 'path' && p.name === '*') {
            p.name = 'path';
            p.description = 'the file’s path inside the job’s outputs, as listed in result.files';
          }
        }
      }
      doc.paths[FILES_PATH] = files;
    }
    cached = doc;
    return doc;
  });
}
