// The layers of lib/ (docs/architecture.md): data flows down, never back up, and no module takes
// part in an import cycle. Imports are read from the source (static, `import type`, re-exports
// and dynamic import()), so a violation fails here before it confuses a reader.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const lib = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'lib');

/** Rank of each top-level room of lib/; a module may import only rooms of its rank or lower. */
const RANKS: Array<[prefix: string, rank: number]> = [
  ['errors.ts', 0],
  ['native/', 0],
  ['util/', 1],
  ['audio/', 2],
  ['analysis/', 2],
  ['music/', 3],
  ['models/', 4],
  ['datasets/', 5],
  ['reports/', 5],
  ['pipeline/', 6],
  ['doctor.ts', 7],
  ['service/', 7],
  ['cli/', 8],
  ['index.ts', 9],
  ['entries/', 9],
  ['testing.ts', 9],
];

function rankOf(file: string): number {
  const hit = RANKS.find(([prefix]) => file === prefix || file.startsWith(prefix));
  if (!hit) throw new Error(`${file} is in no layer of the import-graph test: add its folder to RANKS`);
  return hit[1];
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function importsOf(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  const specs = [...text.matchAll(/(?:from\s+|import\s*\(\s*|import\s+)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]!);
  return specs.map((s) => relative(lib, resolve(dirname(path), s)).replace(/\.js$/, '.ts')).filter((s) => !s.startsWith('..'));
}

const graph = new Map(sources(lib).map((p) => [relative(lib, p), importsOf(p)]));

describe('lib/ import graph', () => {
  it('reads a non-trivial graph', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
  });

  it('has no upward import (datasets, util, models, reports never import pipeline or cli, ...)', () => {
    const upward: string[] = [];
    for (const [file, deps] of graph) {
      for (const dep of deps) if (rankOf(dep) > rankOf(file)) upward.push(`${file} → ${dep}`);
    }
    expect(upward).toEqual([]);
  });

  it('has no cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string) => {
      state.set(file, 'open');
      stack.push(file);
      for (const dep of graph.get(file) ?? []) {
        if (state.get(dep) === 'open') cycles.push([...stack.slice(stack.indexOf(dep)), dep].join(' → '));
        else if (!state.has(dep)) visit(dep);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    expect(cycles).toEqual([]);
  });

  it('every import resolves to a file of lib/', () => {
    const missing = [...graph.values()].flat().filter((dep) => !graph.has(dep));
    expect(missing).toEqual([]);
  });
});

// The same rule for the C++ under native/src: pure cores rank by domain (common < dsp < audio < ml
// < beat: audio has no DSP, Basic Pitch and Demucs resample, the rhythm tracker runs an ONNX
// session), the N-API boundary helpers (napi/) sit just above common and know no domain, the glue
// files (*_binding.*) may use everything below them, and addon.cc registers the glue. A core never
// sees napi.h.
const nativeSrc = resolve(lib, '..', 'native', 'src');

function nativeRankOf(file: string): number {
  if (file === 'addon.cc') return 7;
  if (/_binding\.(h|cc)$/.test(file)) return 6;
  const room = file.split('/')[0]!;
  const ranks: Record<string, number> = { common: 0, napi: 1, dsp: 2, audio: 3, ml: 4, beat: 5 };
  const rank = ranks[room];
  if (rank === undefined) throw new Error(`native/src/${file} is in no layer of the import-graph test: add its folder`);
  return rank;
}

function nativeSources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return nativeSources(path);
    return /\.(h|cc)$/.test(e.name) ? [path] : [];
  });
}

/** `#include "…"` targets that are files of native/src (vendored headers and <system> ones are skipped). */
function nativeIncludesOf(path: string): { local: string[]; napiH: boolean } {
  const text = readFileSync(path, 'utf8');
  const known = new Set(nativeGraphFiles);
  const local = [...text.matchAll(/^\s*#\s*include\s+"([^"]+)"/gm)]
    .flatMap((m) => [m[1]!, relative(nativeSrc, resolve(dirname(path), m[1]!))])
    .filter((p) => known.has(p));
  return { local: [...new Set(local)], napiH: /^\s*#\s*include\s+<napi\.h>/m.test(text) };
}

const nativeGraphFiles = nativeSources(nativeSrc).map((p) => relative(nativeSrc, p));
const nativeGraph = new Map(nativeGraphFiles.map((f) => [f, nativeIncludesOf(join(nativeSrc, f))]));

describe('native/src include graph', () => {
  it('reads a non-trivial graph', () => {
    expect(nativeGraph.size).toBeGreaterThan(60);
    expect([...nativeGraph.values()].flatMap((v) => v.local).length).toBeGreaterThan(100);
  });

  it('has no upward include (napi/ knows no domain, cores never include glue, no glue registers another)', () => {
    const upward: string[] = [];
    for (const [file, { local }] of nativeGraph) {
      for (const dep of local) if (nativeRankOf(dep) > nativeRankOf(file)) upward.push(`${file} → ${dep}`);
    }
    expect(upward).toEqual([]);
  });

  it('addon.cc registers every domain, and no glue file registers another', () => {
    const calls = (f: string) => [...readFileSync(join(nativeSrc, f), 'utf8').matchAll(/\b(Register\w+)\(env, exports\)/g)].map((m) => m[1]!);
    const defined = nativeGraphFiles
      .filter((f) => f.endsWith('_binding.cc'))
      .flatMap((f) => [...readFileSync(join(nativeSrc, f), 'utf8').matchAll(/^void (Register\w+)\(/gm)].map((m) => m[1]!));
    expect(defined.length).toBeGreaterThan(5);
    expect(calls('addon.cc').sort()).toEqual([...defined].sort());
    expect(nativeGraphFiles.filter((f) => f.endsWith('_binding.cc') && calls(f).length > 0)).toEqual([]);
  });

  it('the pure cores do not include napi.h', () => {
    const withNapi = [...nativeGraph].filter(([file, { napiH }]) => napiH && nativeRankOf(file) >= 2 && nativeRankOf(file) <= 5).map(([f]) => f);
    expect(withNapi).toEqual([]);
  });
});
