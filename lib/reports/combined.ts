/**
 * `analysis/<song_id>/combined.json`: the original's current schema, keys in its
 * order, serialised the way Python's `json.dumps(indent=2)` does (2-space indent, `": "`,
 * integral floats keep `.0`, `1e-05` exponents, non-ASCII as `\uXXXX`, no trailing newline), so
 * the file is byte-compatible with the original's for the same values.
 *
 * `environment` reports this runtime honestly: `node` (not `python`) and a Python-style
 * `platform` string. Extra keys are additive and come after the original's.
 */
import { arch, machine, release, type } from 'node:os';

import { writeFileAtomic } from '../util/atomic.js';
import { pythonFloatRepr } from './pyformat.js';

/** combined.json's `config` object (PipelineConfig.toSummaryConfig()). */
export type SummaryConfigObject = Record<string, string | number | boolean | null>;

export interface CombinedSummaryInput {
  songId: string;
  /** Ingest duration in seconds (before preprocessing/trim). */
  durationS: number;
  /** 0.0 when no beats. */
  tempoBpm: number;
  numBeats: number;
  numBars: number;
  stems: readonly string[];
  /** Aligned notes per stem; stems with 0 notes are left out, order = first appearance. */
  notesPerStem: Iterable<readonly [string, number]> | Readonly<Record<string, number>>;
  essentiaRequested: boolean;
  essentiaAvailable: boolean;
  /** Paths in results order: the written Parquet files, the markdown report, each ABC file. */
  filesGenerated: readonly string[];
  /** Step timings in seconds; the step-11 key is dropped (the original serialises inside step 11). */
  stepTimings: Readonly<Record<string, number>>;
  config: SummaryConfigObject;
  /** Defaults to describeEnvironment(). */
  environment?: Record<string, string | null>;
  /** PATH probes and other capability flags; `{}` when the probe failed. */
  capabilities: Record<string, boolean>;
  /** Additive keys, written after the original's. Wrap floats in PyFloat to keep `.0`. */
  extra?: Record<string, unknown>;
}

/** Marks a number as a Python float for serialisation (`4` → `4.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
  toJSON(): number {
    return this.value;
  }
}

export const pyFloat = (value: number): PyFloat => new PyFloat(value);

export const STEP_11_TIMING_KEY = 'step_11_write_summary_json';

/** The original's timing key for a step name: lower-case, no colons, spaces → `_`, `_` runs collapsed. */
export function stepTimingKey(stepName: string): string {
  return stepName.toLowerCase().replace(/:/g, '').replace(/ /g, '_').replace(/_+/g, '_');
}

let platformString: string | undefined;

/** Python's `platform.platform()` shape: `Linux-6.1.0-18-amd64-x86_64-with-glibc2.36`. Computed once per process. */
export function pythonStylePlatform(): string {
  // A diagnostic report takes 10-20 ms (more with worker threads running, which it interrupts); the answer never changes.
  platformString ??= computePlatform();
  return platformString;
}

function computePlatform(): string {
  let libc = '';
  try {
    const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
    if (header?.glibcVersionRuntime) libc = `-with-glibc${header.glibcVersionRuntime}`;
  } catch {
    // Reports can be disabled; the platform string is still useful without the libc part.
  }
  return `${type()}-${release()}-${typeof machine === 'function' ? machine() : arch()}${libc}`;
}

/** The runtime this run used: Node.js version, platform, N-API version. */
export function describeEnvironment(): Record<string, string | null> {
  return {
    node: process.versions.node,
    platform: pythonStylePlatform(),
    napi: process.versions.napi ?? null,
  };
}

const FILE_RESULT_KEY = /^(?:events_parquet|beats_parquet|bars_parquet|bar_features_parquet|markdown_report|abc_.+)$/;

/** `files_generated` from a results object, in its key order (Parquet files, markdown, ABC files). */
export function filesGeneratedFromResults(results: Readonly<Record<string, unknown>>): string[] {
  return Object.entries(results)
    .filter(([key, value]) => FILE_RESULT_KEY.test(key) && typeof value === 'string')
    .map(([, value]) => value as string);
}

function notesEntries(input: CombinedSummaryInput['notesPerStem']): [string, number][] {
  const entries: [string, number][] =
    Symbol.iterator in (input as object)
      ? [...(input as Iterable<readonly [string, number]>)].map(([k, v]) => [k, v])
      : Object.entries(input as Record<string, number>);
  return entries.filter(([, count]) => count > 0);
}

/** The summary object with the original's keys in order (floats marked for serialisation). */
export function buildCombinedSummary(input: CombinedSummaryInput): Record<string, unknown> {
  const timings: Record<string, PyFloat> = {};
  for (const [key, seconds] of Object.entries(input.stepTimings)) {
    if (key !== STEP_11_TIMING_KEY) timings[key] = pyFloat(seconds);
  }
  const config: Record<string, unknown> = { ...input.config };
  for (const key of ['demucs_timeout_s', 'basic_pitch_timeout_s']) {
    const v = config[key];
    if (typeof v === 'number') config[key] = pyFloat(v);
  }
  const summary: Record<string, unknown> = {
    song_id: input.songId,
    duration_s: pyFloat(input.durationS),
    tempo_bpm: pyFloat(input.tempoBpm),
    num_beats: input.numBeats,
    num_bars: input.numBars,
    stems: [...input.stems],
    num_notes_per_stem: Object.fromEntries(notesEntries(input.notesPerStem)),
    essentia_requested: input.essentiaRequested,
    essentia_available: input.essentiaAvailable,
    files_generated: [...input.filesGenerated],
    step_timings: timings,
    config,
    environment: input.environment ?? describeEnvironment(),
    capabilities: { ...input.capabilities },
  };
  for (const [key, value] of Object.entries(input.extra ?? {})) {
    if (key in summary) throw new Error(`combined.json extra key ${key} would replace an original key`);
    summary[key] = value;
  }
  return summary;
}

/** `json.dumps` string escaping with ensure_ascii: everything outside space..~ becomes \uXXXX. */
function pythonJsonString(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function numberText(value: number, asFloat: boolean): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (asFloat) return pythonFloatRepr(value);
  // A non-integer that was not marked is still a Python float.
  return Number.isInteger(value) && !Object.is(value, -0) ? String(value) : pythonFloatRepr(value);
}

/** Serialises like Python's `json.dumps(value, indent=2)` (no trailing newline). */
export function toPythonJson(value: unknown, indent = 2, depth = 0): string {
  if (value instanceof PyFloat) return numberText(value.value, true);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return numberText(value, false);
  if (typeof value === 'string') return pythonJsonString(value);
  const pad = ' '.repeat(indent * (depth + 1));
  const closePad = ' '.repeat(indent * depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad + toPythonJson(v, indent, depth + 1)).join(',\n')}\n${closePad}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${pad}${pythonJsonString(k)}: ${toPythonJson(v, indent, depth + 1)}`).join(',\n')}\n${closePad}}`;
  }
  return pythonJsonString(String(value));
}

/** Builds and writes combined.json atomically; returns the summary object written. */
export async function writeCombinedJson(path: string, input: CombinedSummaryInput): Promise<Record<string, unknown>> {
  const summary = buildCombinedSummary(input);
  await writeFileAtomic(path, toPythonJson(summary), { op: 'writeCombinedJson' });
  return summary;
}
