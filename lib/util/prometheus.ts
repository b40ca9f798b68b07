/**
 * Prometheus text-format metrics for long-running use (a server or a worker scraping into
 * Prometheus): songs processed/failed, per-step seconds, bytes, peak RSS. In-process registry;
 * `renderPrometheus()` gives the exposition text, `--metrics-file` writes it after a batch.
 */
import type { BatchMetrics } from './metrics.js';

/** What recordBatch reads of a batch's outcome. */
export interface BatchOutcomeCounts {
  successful: readonly unknown[];
  failed: readonly unknown[];
  skipped: readonly unknown[];
  metrics: BatchMetrics;
}

const counters = new Map<string, number>();
const gauges = new Map<string, number>();

function key(name: string, labels: Record<string, string> = {}): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return l ? `${name}{${l}}` : name;
}

export function incCounter(name: string, labels: Record<string, string> = {}, by = 1): void {
  const k = key(name, labels);
  counters.set(k, (counters.get(k) ?? 0) + by);
}

export function setGauge(name: string, value: number, labels: Record<string, string> = {}): void {
  gauges.set(key(name, labels), value);
}

/** Folds a batch's outcome into the registry. */
export function recordBatch(batch: BatchOutcomeCounts): void {
  incCounter('didactic_songs_total', { outcome: 'ok' }, batch.successful.length);
  incCounter('didactic_songs_total', { outcome: 'failed' }, batch.failed.length);
  incCounter('didactic_songs_total', { outcome: 'skipped' }, batch.skipped.length);
  for (const [step, m] of Object.entries(batch.metrics.steps)) {
    incCounter('didactic_step_seconds_total', { step }, m.wall_s);
    incCounter('didactic_step_cpu_seconds_total', { step }, m.cpu_s);
  }
  if (batch.metrics.read_bytes !== null) incCounter('didactic_read_bytes_total', {}, batch.metrics.read_bytes);
  if (batch.metrics.written_bytes !== null) incCounter('didactic_written_bytes_total', {}, batch.metrics.written_bytes);
  setGauge('didactic_peak_rss_bytes', batch.metrics.peak_rss_mib * 2 ** 20);
}

const HELP: Record<string, [string, 'counter' | 'gauge']> = {
  didactic_songs_total: ['Songs processed, by outcome', 'counter'],
  didactic_step_seconds_total: ['Wall seconds spent per pipeline step', 'counter'],
  didactic_step_cpu_seconds_total: ['CPU seconds spent per pipeline step', 'counter'],
  didactic_read_bytes_total: ['Bytes read by the process while processing songs', 'counter'],
  didactic_written_bytes_total: ['Bytes written by the process while processing songs', 'counter'],
  didactic_peak_rss_bytes: ['Peak resident set size of the process', 'gauge'],
};

export function renderPrometheus(): string {
  const lines: string[] = [];
  const all = [...counters.entries(), ...gauges.entries()];
  for (const [name, [help, type]] of Object.entries(HELP)) {
    const series = all.filter(([k]) => k === name || k.startsWith(`${name}{`));
    if (series.length === 0) continue;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [k, v] of series) lines.push(`${k} ${Number.isInteger(v) ? v : v.toFixed(6)}`);
  }
  return `${lines.join('\n')}\n`;
}
