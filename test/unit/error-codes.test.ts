// One error table: the DE_* codes of native/src/common/error.h and NATIVE_ERROR_CODES in
// lib/errors.ts must be the same list, no other native file may spell a code out, and every
// native code must reach JS as itself (not collapsed into DE_NATIVE_UNKNOWN).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import { DidacticError, fromNative, NATIVE_ERROR_CODES, TS_ERROR_CODES } from '../../lib/errors.js';

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
