/**
 * Prometheus text-format metrics of a CLI batch (`--metrics-file`): songs processed/failed,
 * per-step seconds, bytes, peak RSS. A prom-client registry, the same library the service's
 * `/metrics` uses; `renderPrometheus()` gives the exposition text.
 */
import { Counter, Gauge, Registry } from 'prom-client';

import type { BatchMetrics } from './metrics.js';

/** What recordBatch reads of a batch's outcome. */
export interface BatchOutcomeCounts {
  successful: readonly unknown[];
  failed: readonly unknown[];
  skipped: readonly unknown[];
  metrics: BatchMetrics;
}

const registry = new Registry();
const registers = [registry];
const songs = new Counter({ name: 'didactic_songs_total', help: 'Songs processed, by outcome', labelNames: ['outcome'], registers });
const stepSeconds = new Counter({ name: 'didactic_step_seconds_total', help: 'Wall seconds spent per pipeline step', labelNames: ['step'], registers });
const stepCpuSeconds = new Counter({ name: 'didactic_step_cpu_seconds_total', help: 'CPU seconds spent per pipeline step', labelNames: ['step'], registers });
const readBytes = new Counter({ name: 'didactic_read_bytes_total', help: 'Bytes read by the process while processing songs', registers });
const writtenBytes = new Counter({ name: 'didactic_written_bytes_total', help: 'Bytes written by the process while processing songs', registers });
const peakRss = new Gauge({ name: 'didactic_peak_rss_bytes', help: 'Peak resident set size of the process', registers });

/** Folds a batch's outcome into the registry. */
export function recordBatch(batch: BatchOutcomeCounts): void {
  songs.inc({ outcome: 'ok' }, batch.successful.length);
  songs.inc({ outcome: 'failed' }, batch.failed.length);
  songs.inc({ outcome: 'skipped' }, batch.skipped.length);
  for (const [step, m] of Object.entries(batch.metrics.steps)) {
    stepSeconds.inc({ step }, m.wall_s);
    stepCpuSeconds.inc({ step }, m.cpu_s);
  }
  if (batch.metrics.read_bytes !== null) readBytes.inc(batch.metrics.read_bytes);
  if (batch.metrics.written_bytes !== null) writtenBytes.inc(batch.metrics.written_bytes);
  peakRss.set(Math.round(batch.metrics.peak_rss_mib * 2 ** 20));
}

/** The registry's exposition text. */
export function renderPrometheus(): Promise<string> {
  return registry.metrics();
}
