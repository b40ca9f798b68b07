// One error table: the DE_* codes of native/src/common/error.h and NATIVE_ERROR_CODES in
// lib/errors.ts must be the same list, no other native file may spell a code out, and every
// native code must reach JS as itself (not collapsed into DE_NATIVE_UNKNOWN).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  codeOfErrno,
  DidacticError,
  ERRNO_CODES,
  ERROR_TABLE,
  type ErrorCode,
  fromNative,
  NATIVE_ERROR_CODES,
  renderErrorTableMarkdown,
  TS_ERROR_CODES,
  WriteError,
} from '../../lib/errors.js';
import { isRetryableJobCode } from '../../lib/service/jobs.js';
import { httpStatusOf } from '../../lib/service/server.js';

const root = join(import.meta.dirname, '..', '..');
const nativeSrc = join(root, 'native', 'src');
const errorHeader = join(nativeSrc, 'common', 'error.h');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(cc|h|cpp|hpp)$/.test(e.name) ? [path] : [];
  });
}

/** `inline constexpr const char* kName = "DE_…";` definitions of error.h. */
function headerCodes(): string[] {
  const text = readFileSync(errorHeader, 'utf8');
  return [...text.matchAll(/constexpr\s+const\s+char\s*\*\s*k\w+\s*=\s*"(DE_[A-Z0-9_]+)"/g)].map((m) => m[1]!);
}

describe('one error table (native/src/common/error.h ↔ lib/errors.ts)', () => {
  it('error.h defines exactly NATIVE_ERROR_CODES, each once', () => {
    const native = headerCodes();
    expect(native.length).toBeGreaterThan(0);
    expect(new Set(native).size).toBe(native.length);
    const missingInTs = native.filter((c) => !(NATIVE_ERROR_CODES as readonly string[]).includes(c));
    const missingInCpp = NATIVE_ERROR_CODES.filter((c) => !native.includes(c));
    expect({ missingInTs, missingInCpp }).toEqual({ missingInTs: [], missingInCpp: [] });
  });

  it('no other native source spells a DE_ code out (they use de::code:: constants)', () => {
    const files = sourceFiles(nativeSrc).filter((f) => f !== errorHeader);
    expect(files.length).toBeGreaterThan(10);
    const literals = files.flatMap((f) => [...readFileSync(f, 'utf8').matchAll(/"(DE_[A-Z0-9_]+)"/g)].map((m) => `${relative(root, f)}: ${m[1]}`));
    expect(literals).toEqual([]);
  });

  it('TypeScript-only codes do not overlap the native ones', () => {
    expect(TS_ERROR_CODES.length).toBeGreaterThan(0);
    expect(TS_ERROR_CODES.filter((c) => (NATIVE_ERROR_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('every native code reaches JS as itself on a DidacticError subclass', () => {
    expect(NATIVE_ERROR_CODES.length).toBeGreaterThan(0);
    for (const code of NATIVE_ERROR_CODES) {
      const raw = Object.assign(new Error(`boom ${code}`), { code, op: 'decode' });
      const err = fromNative(raw);
      expect(err).toBeInstanceOf(DidacticError);
      expect(err.code).toBe(code);
    }
  });
});

describe('one table of facts per code (ERROR_TABLE) and one errno mapping', () => {
  /** `{ENOENT, code::kFileNotFound}` rows of kErrnoCodes in error.h, as errno name → DE_ code. */
  function headerErrnoCodes(): Record<string, string> {
    const text = readFileSync(errorHeader, 'utf8');
    const constants = new Map([...text.matchAll(/constexpr\s+const\s+char\s*\*\s*(k\w+)\s*=\s*"(DE_[A-Z0-9_]+)"/g)].map((m) => [m[1]!, m[2]!]));
    const table = /kErrnoCodes\[\]\s*=\s*\{([\s\S]*?)\};/.exec(text)?.[1] ?? '';
    return Object.fromEntries([...table.matchAll(/\{\s*(E[A-Z]+)\s*,\s*code::(k\w+)\s*\}/g)].map((m) => [m[1]!, constants.get(m[2]!) ?? `unknown ${m[2]}`]));
  }

  it('error.h maps errno exactly as ERRNO_CODES does', () => {
    const native = headerErrnoCodes();
    expect(Object.keys(native).length).toBeGreaterThan(5);
    expect(native).toEqual({ ...ERRNO_CODES });
    expect(native).toMatchObject({ ENOSPC: 'DE_DISK_FULL', EROFS: 'DE_PERMISSION_DENIED', ENOENT: 'DE_FILE_NOT_FOUND' });
  });

  it('codeOfErrno falls back for errnos the table lacks', () => {
    expect(codeOfErrno('ENOSPC', 'DE_WRITE_FAILED')).toBe('DE_DISK_FULL');
    expect(codeOfErrno('EIO', 'DE_WRITE_FAILED')).toBe('DE_WRITE_FAILED');
    expect(codeOfErrno(undefined, 'DE_WRITE_FAILED')).toBe('DE_WRITE_FAILED');
  });

  it('keeps the facts of the four tables it replaced', () => {
    const codes = Object.keys(ERROR_TABLE) as ErrorCode[];
    expect(codes.sort()).toEqual([...NATIVE_ERROR_CODES, ...TS_ERROR_CODES].sort());
    const where = (pred: (c: ErrorCode) => boolean): string[] => codes.filter(pred).sort();
    // RETRYABLE (lib/errors.ts) and RETRYABLE_JOB_CODES (lib/service/jobs.ts) before the merge.
    expect(where((c) => ERROR_TABLE[c].retryable)).toEqual(['DE_INFERENCE_FAILED', 'DE_OUT_OF_MEMORY', 'DE_TIMEOUT', 'DE_WRITE_FAILED']);
    expect(where((c) => isRetryableJobCode(c))).toEqual(
      ['DE_TIMEOUT', 'DE_INFERENCE_FAILED', 'DE_WRITE_FAILED', 'DE_OUT_OF_MEMORY', 'DE_DISK_FULL', 'DE_LOCKED', 'DE_WORKER_LOST', 'DE_INTERNAL'].sort(),
    );
    expect(isRetryableJobCode('DE_NOT_A_CODE')).toBe(false);
    // STATUS_BY_CODE (lib/service/server.ts) before the merge; everything else is 500.
    const statuses = Object.fromEntries(codes.filter((c) => httpStatusOf(c) !== 500).map((c) => [c, httpStatusOf(c)]));
    expect(statuses).toEqual({
      DE_INVALID_ARGUMENT: 400,
      DE_INVALID_CONFIG: 400,
      DE_UNAUTHORIZED: 401,
      DE_UNSAFE_PATH: 403,
      DE_JOB_NOT_FOUND: 404,
      DE_FILE_NOT_FOUND: 404,
      DE_IS_DIRECTORY: 404,
      DE_UPLOAD_TOO_LARGE: 413,
      DE_UNSUPPORTED_FORMAT: 415,
      DE_RANGE_NOT_SATISFIABLE: 416,
      DE_RATE_LIMITED: 429,
      DE_QUEUE_FULL: 429,
      DE_UNAVAILABLE: 503,
    });
    expect(httpStatusOf('DE_NOT_A_CODE')).toBe(500);
    // Each code's errors are of its class, and say whether they are retryable.
    for (const code of NATIVE_ERROR_CODES) {
      const err = fromNative(Object.assign(new Error('x'), { code, op: 'decode' }));
      expect(err).toBeInstanceOf(ERROR_TABLE[code].class);
      expect(err.retryable).toBe(ERROR_TABLE[code].retryable);
    }
    expect(fromNative(Object.assign(new Error('x'), { code: 'DE_DISK_FULL', op: 'writeWav' }))).toBeInstanceOf(WriteError);
    expect(codes.filter((c) => ERROR_TABLE[c].meaning.length < 10)).toEqual([]);
  });

  it('docs/errors.md is the table as generated (npm run docs:errors)', () => {
    expect(readFileSync(join(root, 'docs', 'errors.md'), 'utf8')).toBe(renderErrorTableMarkdown());
  });
});
