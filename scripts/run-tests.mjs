// `npm test`: the standalone suite (everything except the reference tests below), then which tests
// skipped and why, and a closing "N passed, N failed, N skipped" line.
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
  'test/parity/demucs.test.ts',
  'test/unit/parquet-python.test.ts',
  'test/e2e/pipeline-python.test.ts',
];

const venvPython = join(root, '.venv', 'bin', 'python');
const venvReady = existsSync(venvPython) && spawnSync(venvPython, ['-c', 'import librosa, numpy, pyarrow, pandas, soxr'], { stdio: 'ignore' }).status === 0;
const haveAbc2midi = spawnSync('sh', ['-c', 'command -v abc2midi'], { stdio: 'ignore' }).status === 0;
const haveShared = existsSync(join(root, '..', 'shared'));
const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
// The browser tests' Chromium: the same lookup as lib/reports/html/png.ts (findChromium).
const haveChromium = process.env.DIDACTIC_CHROMIUM
  ? existsSync(process.env.DIDACTIC_CHROMIUM)
  : ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'].some((p) => existsSync(p));

// Why a test in a file may skip: [marker in the file's text, condition met, reason, how to enable].
const demucsRandom = process.env.DIDACTIC_DEMUCS_RANDOM ?? '/tmp/didactic-demucs/htdemucs-random';
const NEEDS = [
  [
    /beatThisParity/,
    existsSync(join(root, '.venv-torch', 'bin', 'python')),
    'the PyTorch Beat This! reference venv is missing (.venv-torch with beat-this 1.1.0)',
    'run `bash scripts/reference/setup-torch-env.sh` (docs/models.md)',
  ],
  [
    /demucsConvertParity/,
    existsSync(join(root, '.venv-torch', 'bin', 'python')),
    'the PyTorch Demucs reference venv is missing (.venv-torch with torch and demucs 4.0.1)',
    'see docs/models.md (Fetching and converting the pretrained models)',
  ],
  [
    /\.venv-torch/,
    existsSync(join(root, '.venv-torch', 'bin', 'python')) && existsSync(`${demucsRandom}.onnx`),
    'the PyTorch Demucs reference is not set up (.venv-torch and an exported random htdemucs)',
    'see docs/models.md (Demucs parity)',
  ],
  [/\.venv|pythonHas|venvPython|hasPython|music21/, venvReady, 'Python reference environment missing (.venv)', 'run `npm run setup:reference`'],
  [/haveRedisServer/, haveRedis, 'redis-server not installed', 'apt-get install redis-server'],
  [/abc2midi/, haveAbc2midi, 'abc2midi not installed', 'apt-get install abcmidi'],
  [/'shared'/, haveShared, "the project's shared data (../shared) is not beside this checkout", 'clone next to shared/'],
  [/getuid/, process.getuid?.() !== 0, 'a permission test cannot fail as root', 'run as a normal user'],
  [
    /findChromium/,
    haveChromium,
    'no Chromium installed (the HTML report browser tests)',
    'apt-get install chromium fonts-dejavu-core, or set DIDACTIC_CHROMIUM',
  ],
  [
    /native_tests/,
    existsSync(join(root, 'build', 'native_tests')),
    'the C++ unit tests are not built (build/native_tests)',
    'run `npm run build:native` in a checkout',
  ],
];

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
  // Skipped tests grouped by the first unmet need their file mentions.
  const byReason = new Map();
  for (const file of r.testResults ?? []) {
    const n = (file.assertionResults ?? []).filter((t) => t.status !== 'passed' && t.status !== 'failed').length;
    if (n === 0) continue;
    const text = existsSync(file.name) ? readFileSync(file.name, 'utf8') : '';
    const need = NEEDS.find(([marker, met]) => marker.test(text) && !met);
    const key = need ? `${need[2]} — ${need[3]}` : 'skipped by the test itself (see the file)';
    const entry = byReason.get(key) ?? { count: 0, files: [] };
    entry.count += n;
    entry.files.push(relative(root, file.name));
    byReason.set(key, entry);
  }
  console.log('');
  for (const [reason, { count, files }] of byReason) console.log(`skipped ${count}: ${reason} (${files.join(', ')})`);
  if (!reference) {
    const how = venvReady ? 'run `npm run test:reference`' : 'run `npm run setup:reference`, then `npm run test:reference`';
    console.log(`not run by npm test: ${REFERENCE_FILES.length} reference test files (parity with the Python originals) — ${how}`);
  }
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
}
process.exit(run.status ?? 1);
