// Skips are declared by the suites (test/helpers/requires.ts): the reason travels in the test's
// meta to vitest's JSON report, where `npm test` (scripts/run-tests.mjs) reads it.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

import { file, need, onPath, requires } from '../helpers/requires.js';

const testRoot = join(import.meta.dirname, '..');

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? (e.name === 'fixtures' ? [] : testFiles(join(dir, e.name))) : /\.(ts|mjs)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

describe('requires', () => {
  it('runs when every need is met, and skips with the first unmet need as the reason', () => {
    expect(requires()).toEqual({});
    expect(requires(need(true, 'unused'))).toEqual({});
    expect(requires(need(true, 'unused'), need(false, 'first — fix 1'), need(false, 'second — fix 2'))).toEqual({
      skip: true,
      meta: { skipReason: 'first — fix 1' },
    });
  });

  it('probes PATH and files', () => {
    expect(onPath('sh', 'unused').met).toBe(true);
    const missing = onPath('didactic-no-such-tool', 'apt-get install nothing');
    expect(missing).toEqual({ met: false, reason: 'didactic-no-such-tool not installed — apt-get install nothing' });
    expect(file(join(testRoot, 'helpers', 'requires.ts'), 'unused').met).toBe(true);
    expect(file(join(testRoot, 'no-such-file'), 'why').met).toBe(false);
  });

  // A skip any other way would reach the summary as "no reason declared".
  it('is how every test file skips', () => {
    const otherSkips = /\b(?:describe|it|test)\.(?:skip|skipIf|runIf)\b|\b(?:ctx|context)\.skip\(/;
    const offenders = testFiles(testRoot)
      .filter((f) => !f.endsWith(join('unit', 'requires.test.ts')))
      .filter((f) => otherSkips.test(readFileSync(f, 'utf8')))
      .map((f) => relative(testRoot, f));
    expect(offenders).toEqual([]);
  });
});
