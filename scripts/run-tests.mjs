// `npm test`: the standalone suite (everything except the reference tests below), then which tests
// skipped and why (the reason each suite declares with test/helpers/requires.ts, read from vitest's
// JSON report), and a closing "N passed, N failed, N skipped" line. Arguments go on to vitest:
// `node scripts/run-tests.mjs test/unit` runs one folder.
// `npm run test:reference` (--reference): the parity/oracle tests that compare against the Python
// references in .venv (`npm run setup:reference` makes it).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

/** Test files that need the Python reference environment for every test they hold. */
const REFERENCE_FILES = [
  'test/parity/analysis-live.test.ts',
  'test/parity/analysis-options.test.ts',
  'test/parity/basic-pitch.test.ts',
  'test/parity/beat-this.test.ts',
  'test/parity/demucs-convert.test.ts',
  'test/parity/demucs.test.ts',
  'test/unit/parquet-python.test.ts',
  'test/e2e/pipeline-python.test.ts',
];

const venvPython = join(root, '.venv', 'bin', 'python');
const venvReady = existsSync(venvPython) && spawnSync(venvPython, ['-c', 'import librosa, numpy, pyarrow, pandas, soxr'], { stdio: 'ignore' }).status === 0;

const argv = process.argv.slice(2);
const reference = argv.includes('--reference');
const passThrough = argv.filter((a) => a !== '--reference');

if (reference && !venvReady) {
  console.error('test:reference: the Python reference environment (.venv) is missing or incomplete; run `npm run setup:reference` first');
  process.exit(1);
}

const results = join(root, 'node_modules', '.cache', reference ? 'vitest-results-reference.json' : 'vitest-results.json');
rmSync(results, { force: true });
// The CLI tests run the built dist/; build it first so they never test stale code.
const tsc = spawnSync(process.execPath, [join(dirname(require.resolve('typescript/package.json')), 'bin', 'tsc'), '-p', 'tsconfig.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
// And the pages' browser scripts beside it (the rest of `npm run build:ts`).
const browser = spawnSync(process.execPath, [join(root, 'scripts', 'build-browser.mjs')], { cwd: root, stdio: 'inherit' });
if (browser.status !== 0) process.exit(browser.status ?? 1);

const selection = reference ? REFERENCE_FILES : REFERENCE_FILES.flatMap((f) => ['--exclude', f]);
const vitest = join(dirname(require.resolve('vitest/package.json')), 'vitest.mjs');
const run = spawnSync(
  process.execPath,
  [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...selection, ...passThrough],
  { cwd: root, stdio: 'inherit' },
);

if (existsSync(results)) {
  const r = JSON.parse(readFileSync(results, 'utf8'));
  const skipped = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  // Skipped tests grouped by the reason their suite declared (test/helpers/requires.ts puts it in
  // the test's meta); a skip without one is named by file so it can be given one.
  const byReason = new Map();
  for (const file of r.testResults ?? []) {
    for (const t of file.assertionResults ?? []) {
      if (t.status === 'passed' || t.status === 'failed') continue;
      const reason = t.meta?.skipReason ?? 'no reason declared (skipped without test/helpers/requires.ts)';
      const entry = byReason.get(reason) ?? { count: 0, files: new Set() };
      entry.count += 1;
      entry.files.add(relative(root, file.name));
      byReason.set(reason, entry);
    }
  }
  console.log('');
  for (const [reason, { count, files }] of byReason) console.log(`skipped ${count}: ${reason} (${[...files].join(', ')})`);
  if (!reference) {
    const how = venvReady ? 'run `npm run test:reference`' : 'run `npm run setup:reference`, then `npm run test:reference`';
    console.log(`not run by npm test: ${REFERENCE_FILES.length} reference test files (parity with the Python originals) — ${how}`);
  }
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(run.status ?? 1);
