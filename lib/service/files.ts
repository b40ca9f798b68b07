/**
 * How a job's output files are served: a content type from an allowlist of what the pipeline writes,
 * `Content-Disposition: attachment` for everything but audio and the song's report, the report with a
 * CSP that lets only its own inline scripts run, and single byte ranges (206/416) so audio can seek.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';

/** Audio the pipeline reads or writes: served inline (the report's player streams it). */
const AUDIO_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.oga': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.mp3': 'audio/mpeg',
  '.aif': 'audio/aiff',
  '.aiff': 'audio/aiff',
  '.aifc': 'audio/aiff',
  '.caf': 'audio/x-caf',
  '.au': 'audio/basic',
  '.snd': 'audio/basic',
};

/** Data files the pipeline writes: served as downloads. */
const DOWNLOAD_TYPES: Record<string, string> = {
  '.w64': 'application/octet-stream',
  '.json': 'application/json',
  '.parquet': 'application/vnd.apache.parquet',
  '.mid': 'audio/midi',
  '.midi': 'audio/midi',
  '.md': 'text/markdown; charset=utf-8',
  '.abc': 'text/vnd.abc; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.png': 'image/png',
  '.npy': 'application/octet-stream',
};

/** The song's HTML report, the one HTML file served as a page. */
const REPORT_PATH = /^reports\/[^/]+\/report\.html$/;

/** How one output file is served. */
export interface FilePolicy {
  contentType: string;
  /** `inline` for audio and the report, else `attachment`. */
  disposition: 'inline' | 'attachment';
  /** The file is the song's report: its CSP comes from `reportPolicy`. */
  report: boolean;
}

/** The serving policy of an output path (relative to the job's output folder). */
export function filePolicy(relPath: string): FilePolicy {
  const ext = extname(relPath).toLowerCase();
  if (REPORT_PATH.test(relPath)) return { contentType: 'text/html; charset=utf-8', disposition: 'inline', report: true };
  const audio = AUDIO_TYPES[ext];
  if (audio) return { contentType: audio, disposition: 'inline', report: false };
  return { contentType: DOWNLOAD_TYPES[ext] ?? 'application/octet-stream', disposition: 'attachment', report: false };
}

/** `Content-Disposition` with the file's name, ASCII-safe and RFC 5987-encoded. */
export function contentDisposition(disposition: 'inline' | 'attachment', fileName: string): string {
  const ascii = fileName.replace(/[^A-Za-z0-9._-]/g, '_');
  return `${disposition}; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

/** The CSP of every response that is not a page: nothing runs, nothing loads, nothing frames it. */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The CSP of audio served inline: the API's, plus the file itself as media, so that the browser's
 * own player (the document it makes for an opened audio URL) can load it; still nothing runs.
 */
export const MEDIA_CSP = "default-src 'none'; media-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/** `'sha256-…'` sources for each inline `<script>` of a page (the scripts it was written with, no other). */
export function inlineScriptHashes(html: string): string[] {
  const hashes = new Set<string>();
  for (const m of html.matchAll(/<script(?:\s[^>]*)?>([\s\S]*?)<\/script\s*>/gi)) {
    const attrs = /^<script([^>]*)>/i.exec(m[0])?.[1] ?? '';
    // JSON data blocks are not executed and need no hash.
    if (/\bsrc\s*=/i.test(attrs) || /type\s*=\s*["']?application\/json/i.test(attrs)) continue;
    hashes.add(`'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  }
  return [...hashes];
}

/**
 * The report's CSP: its own inline scripts by hash (no other script, no eval), inline styles, media
 * from this origin (the input copy it plays), no network calls, no forms, no framing.
 */
export async function reportPolicy(path: string): Promise<string> {
  const html = await readFile(path, 'utf8');
  const scripts = inlineScriptHashes(html);
  return [
    "default-src 'none'",
    `script-src ${scripts.length ? scripts.join(' ') : "'none'"}`,
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    "media-src 'self' blob: data:",
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** A byte range of a file, both ends inclusive. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The one range a `Range` header asks for: null when the header is absent, malformed or asks for
 * several ranges (the whole file is sent then, as RFC 9110 allows); 'unsatisfiable' for a range
 * outside the file (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  if (m[1] === '') {
    // A suffix: the last n bytes.
    const n = Number(m[2]);
    if (n === 0) return 'unsatisfiable';
    return size === 0 ? 'unsatisfiable' : { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (!Number.isSafeInteger(start) || start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}
