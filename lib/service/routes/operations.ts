/**
 * Operations routes: `/healthz` and `/readyz` (public: load balancers call them without a token;
 * they show no server paths) and `/metrics` (Prometheus; needs a token).
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';

import { runDoctor } from '../../doctor.js';
import type { ServiceMetrics } from '../metrics.js';
import type { JobQueue } from '../queue.js';
import type { PathRedactor } from '../redact.js';
import { ErrorBodySchema, HealthSchema, ReadySchema } from '../schemas.js';

/** What the operations routes need. */
export interface OperationsRoutesOptions {
  queue: JobQueue;
  metrics: ServiceMetrics;
  /** The data folder: readiness checks that it is writable and has room. */
  dataDir: string;
  redactor: PathRedactor;
  /** The models folder whose installed models /readyz lists (default: $DIDACTIC_MODELS_DIR or the cache folder). */
  modelsDir?: string;
}

/** Registers the operations routes (an encapsulated plugin). */
export async function operationsRoutes(fastify: FastifyInstance, options: OperationsRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { queue, metrics, redactor } = options;

  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['operations'], summary: 'The process is alive', security: [], response: { 200: HealthSchema } } },
    async () => ({ ok: true }),
  );

  // The doctor's core checks are costly (they open an ONNX session): run at most once a minute.
  let doctorCache: { at: number; checks: Array<{ name: string; ok: boolean; details: string }> } | null = null;
  const coreChecks = async () => {
    if (doctorCache && Date.now() - doctorCache.at < 60_000) return doctorCache.checks;
    const report = await runDoctor({ outDir: options.dataDir });
    const checks = report.checks.filter((c) => c.required).map((c) => ({ name: c.name, ok: c.ok, details: redactor.redact(c.details) }));
    doctorCache = { at: Date.now(), checks };
    return checks;
  };
  // Loaded on first use: the registry module brings the converter with it.
  const installedModels = async () => {
    const { listModels } = await import('../../models/fetch.js');
    const rows = await listModels(options.modelsDir ? { modelsDir: options.modelsDir } : {});
    return rows.filter((r) => r.installed).map((r) => ({ name: r.name, bytes: r.bytes, sha256: r.sha256 }));
  };
  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: {
        tags: ['operations'],
        summary: 'The doctor’s core checks pass (the data folder among them) and the queue is reachable; lists the installed models',
        security: [],
        response: { 200: ReadySchema, 503: ReadySchema },
      },
    },
    async (_req, reply) => {
      const [checks, q, models] = await Promise.all([coreChecks(), queue.ready(), installedModels()]);
      const all = [...checks, { name: 'queue', ok: q.ok, details: redactor.redact(q.details) }];
      const ok = all.every((c) => c.ok);
      return reply.code(ok ? 200 : 503).send({ ok, checks: all, models });
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics',
        response: {
          200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: z.string() } } },
          401: ErrorBodySchema,
          429: ErrorBodySchema,
        },
      },
    },
    async (_req, reply) => {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  );
}
