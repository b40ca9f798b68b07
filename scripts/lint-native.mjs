// `npm run lint:native`: clang-tidy (checks in .clang-tidy) over the C++ of native/src and
// native/test, with each file's real compile flags from build/compile_commands.json (written by
// the CMake configure of `npm run build:native`). Files run in parallel, one per core.
//   node scripts/lint-native.mjs [files...]   only these files (e.g. the ones a change touches)
//   DIDACTIC_COMPDB=dir                        another folder holding compile_commands.json
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const compdbDir = resolve(root, process.env.DIDACTIC_COMPDB ?? 'build');
const compdb = join(compdbDir, 'compile_commands.json');
const fail = (msg) => {
  console.error(`lint:native: ${msg}`);
  process.exit(1);
};

const tidy = ['clang-tidy-14', 'clang-tidy'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!tidy) fail('clang-tidy is not installed (Debian: apt-get install clang-tidy)');
if (!existsSync(compdb)) {
  fail(`${relative(root, compdb)} is missing: configure the native build first (\`npm run build:native\`; CMakeLists.txt sets CMAKE_EXPORT_COMPILE_COMMANDS)`);
}

// Our own translation units only: vendored code and the link steps are not linted.
// kissfft_simd.cc and pffft_real.cc only #include vendored C (kissfft, pffft) to compile it with our
// flags and namespace: their findings would be the vendored code's.
const VENDOR_GLUE = new Set(['native/src/dsp/kissfft_simd.cc', 'native/src/dsp/pffft_real.cc']);
const ours = (f) => /[/\\]native[/\\](src|test)[/\\]/.test(f) && !/[/\\]vendor[/\\]/.test(f) && /\.(cc|cpp)$/.test(f) && !VENDOR_GLUE.has(relative(root, f));
const known = new Map();
for (const e of JSON.parse(readFileSync(compdb, 'utf8'))) {
  const file = resolve(e.directory, e.file);
  if (ours(file)) known.set(relative(root, file), file);
}
if (known.size === 0) fail(`${relative(root, compdb)} names no file of native/src or native/test (was it written by another checkout?)`);

const asked = process.argv.slice(2).map((f) => relative(root, resolve(f)));
const files = asked.length ? asked.filter((f) => known.has(f)) : [...known.keys()].sort();
for (const f of asked) if (!known.has(f)) console.log(`lint:native: skipped ${f} (not in the compile database)`);

// GCC defaults to C++17, so CMake writes no -std flag for cxx_std_17; clang-tidy's clang would
// parse C++14 without it.
const started = Date.now();
const failures = [];
let next = 0;
async function worker() {
  while (next < files.length) {
    const file = files[next++];
    const { code, out } = await new Promise((done) => {
      const child = spawn(tidy, ['-p', compdbDir, '--quiet', '--extra-arg-before=-std=c++17', known.get(file)], { cwd: root });
      let text = '';
      child.stdout.on('data', (d) => (text += d));
      child.stderr.on('data', (d) => (text += d));
      child.on('close', (c) => done({ code: c, out: text }));
    });
    // "N warnings generated." lines are counts of suppressed system-header noise.
    const report = out
      .split('\n')
      .filter((l) => l.trim() && !/^\d+ warnings? (and \d+ errors? )?generated\.?$/.test(l.trim()))
      .join('\n');
    if (code !== 0 || /(warning|error):/.test(report)) failures.push({ file, report });
  }
}
await Promise.all(Array.from({ length: Math.min(availableParallelism(), files.length) }, worker));

const secs = ((Date.now() - started) / 1000).toFixed(1);
if (failures.length) {
  for (const { file, report } of failures) console.error(`\n── ${file}\n${report}`);
  console.error(
    `\nlint:native: clang-tidy found problems in ${failures.length} of ${files.length} files (${secs} s). Fix them, or switch a check off in .clang-tidy with the reason.`,
  );
  process.exit(1);
}
console.log(`lint:native: clang-tidy clean on ${files.length} files (${secs} s)`);
