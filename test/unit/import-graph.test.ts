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
