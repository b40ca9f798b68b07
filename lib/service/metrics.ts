/**
 * The service's Prometheus metrics (prom-client, one registry per server): jobs by state, queue
 * depth, step and job durations of finished jobs, HTTP latency, and Node's default process metrics
 * (event-loop lag included).
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

import type { JobStatus } from './jobs.js';
import type { JobQueue } from './queue.js';

/** The service's prom-client registry and the metrics it records (see the module comment). */
export class ServiceMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status'>;
  readonly submitted: Counter<'mode'>;
  readonly finished: Counter<'outcome'>;
  readonly stepDuration: Histogram<'step'>;
  readonly jobDuration: Histogram<'outcome'>;

  constructor(queue: JobQueue) {
    collectDefaultMetrics({ register: this.registry, prefix: 'didactic_service_' });
    const registers = [this.registry];
    new Gauge({
      name: 'didactic_jobs',
      help: 'Jobs by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const counts = await queue.counts().catch(() => null);
        if (!counts) return;
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
    new Gauge({
      name: 'didactic_queue_depth',
      help: 'Jobs waiting for a worker',
      registers,
      async collect() {
        const counts = await queue.counts().catch(() => null);
        if (counts) this.set(counts.queued);
      },
    });
    this.httpDuration = new Histogram({
      name: 'didactic_http_request_duration_seconds',
      help: 'HTTP request latency',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.submitted = new Counter({ name: 'didactic_jobs_submitted_total', help: 'Jobs accepted', labelNames: ['mode'], registers });
    this.finished = new Counter({ name: 'didactic_jobs_finished_total', help: 'Jobs finished', labelNames: ['outcome'], registers });
    this.stepDuration = new Histogram({
      name: 'didactic_step_duration_seconds',
      help: 'Pipeline step durations of completed jobs',
      labelNames: ['step'],
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.jobDuration = new Histogram({
      name: 'didactic_job_duration_seconds',
      help: 'Job run time from start to end',
      labelNames: ['outcome'],
      buckets: [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600],
      registers,
    });
    queue.onFinished((status) => this.#recordFinished(status));
  }

  #recordFinished(status: JobStatus): void {
    const outcome = status.state === 'completed' ? (status.result?.degraded ? 'degraded' : 'completed') : 'failed';
    this.finished.inc({ outcome });
    if (status.started_at && status.finished_at) {
      this.jobDuration.observe({ outcome }, (Date.parse(status.finished_at) - Date.parse(status.started_at)) / 1000);
    }
    const timings = status.result?.summary.step_timings as Record<string, number> | undefined;
    for (const [step, seconds] of Object.entries(timings ?? {})) if (Number.isFinite(seconds)) this.stepDuration.observe({ step }, seconds);
  }
}
