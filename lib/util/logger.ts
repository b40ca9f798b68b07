/**
 * Logging. The CLI's text format is the original's (`<asctime> [<LEVEL>] <logger>: <message>` on
 * stderr); `jsonLogger` writes structured records (pino) for machines. Library code takes any
 * object with these four methods.
 */
import { createRequire } from 'node:module';

import type { pino as Pino } from 'pino';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';
export const LOG_LEVELS: readonly LogLevel[] = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'];
const RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40, CRITICAL: 50 };

export type LogFields = Record<string, unknown>;

/** What the package logs through: four levels, each with a message and optional structured fields. */
export interface Logger {
  /** Detail for debugging. */
  debug(message: string, fields?: LogFields): void;
  /** Progress of a run. */
  info(message: string, fields?: LogFields): void;
  /** Something fell back or was degraded. */
  warn(message: string, fields?: LogFields): void;
  /** A failure. */
  error(message: string, fields?: LogFields): void;
}

/** A Logger that drops everything. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Python logging's default asctime: `YYYY-MM-DD HH:MM:SS,mmm` (local time). */
export function pythonAsctime(date = new Date()): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    `${date.getFullYear()}-${p(date.getMonth() + 1)}-${p(date.getDate())} ` +
    `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())},${p(date.getMilliseconds(), 3)}`
  );
}

export interface TextLoggerOptions {
  level?: LogLevel;
  name?: string;
  write?: (line: string) => void;
}

/** The original's log format, one line per record, to stderr by default. */
export function textLogger(options: TextLoggerOptions = {}): Logger {
  const threshold = RANK[options.level ?? 'INFO'];
  const name = options.name ?? 'didactic_engine.cli';
  const write = options.write ?? ((line: string) => process.stderr.write(line));
  const emit = (level: LogLevel, message: string, fields?: LogFields) => {
    if (RANK[level] < threshold) return;
    const err = fields?.err instanceof Error ? `\n${fields.err.stack ?? fields.err.message}` : '';
    write(`${pythonAsctime()} [${level}] ${name}: ${message}${err}\n`);
  };
  return {
    debug: (m, f) => emit('DEBUG', m, f),
    info: (m, f) => emit('INFO', m, f),
    warn: (m, f) => emit('WARNING', m, f),
    error: (m, f) => emit('ERROR', m, f),
  };
}

/** Structured JSON lines (pino) on stderr: message plus the record's fields. */
export function jsonLogger(options: { level?: LogLevel; name?: string } = {}): Logger {
  const levelMap: Record<LogLevel, string> = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error', CRITICAL: 'fatal' };
  // pino (CommonJS, ~50 modules) is loaded only for JSON logs: text logging never needs it.
  const { pino } = createRequire(import.meta.url)('pino') as { pino: typeof Pino };
  const log = pino({ name: options.name ?? 'didactic-engine', level: levelMap[options.level ?? 'INFO'] }, pino.destination(2));
  return {
    debug: (m, f) => log.debug(f ?? {}, m),
    info: (m, f) => log.info(f ?? {}, m),
    warn: (m, f) => log.warn(f ?? {}, m),
    error: (m, f) => log.error(f ?? {}, m),
  };
}

/** A logger that puts `prefix` before every message (e.g. `[song_id] ` when songs run at once). */
export function prefixedLogger(log: Logger, prefix: string): Logger {
  return {
    debug: (m, f) => log.debug(prefix + m, f),
    info: (m, f) => log.info(prefix + m, f),
    warn: (m, f) => log.warn(prefix + m, f),
    error: (m, f) => log.error(prefix + m, f),
  };
}
