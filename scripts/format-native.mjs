// clang-format (style in .clang-format) over our C++: every .cc/.h under native/src and native/test
// (the vendored code under native/vendor is not ours to format).
//   node scripts/format-native.mjs --check   fails, naming each file, when one is not formatted
//   node scripts/format-native.mjs --write   formats in place (what `npm run format` runs)
// clang-format 14 (Debian's) is the reference: another major version may lay out a few lines
// differently, so the script says which one ran.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const mode = process.argv.includes('--write') ? 'write' : process.argv.includes('--check') ? 'check' : null;
if (!mode) {
  console.error('usage: node scripts/format-native.mjs --check | --write');
  process.exit(2);
}

const tool = ['clang-format-14', 'clang-format'].find((c) => spawnSync(c, ['--version'], { stdio: 'ignore' }).status === 0);
if (!tool) {
  console.error('format:native: clang-format is not installed (Debian: apt-get install clang-format)');
  process.exit(1);
}
const version = spawnSync(tool, ['--version'], { encoding: 'utf8' }).stdout.trim();
if (!/version 14\./.test(version)) console.warn(`format:native: WARNING: ${version}; the reference is clang-format 14`);

function walk(dir) {
  const out = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else if (/\.(cc|h)$/.test(e.name)) out.push(relative(root, p));
  }
  return out;
}
const files = [...walk(join(root, 'native', 'src')), ...walk(join(root, 'native', 'test'))].sort();

const args = mode === 'write' ? ['-i'] : ['--dry-run', '-Werror'];
const bad = [];
// In batches, so one failing file names itself and the command line stays short.
for (let i = 0; i < files.length; i += 20) {
  const batch = files.slice(i, i + 20);
  const r = spawnSync(tool, ['--style=file', ...args, ...batch], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    for (const f of batch) if (r.stderr.includes(f)) bad.push(f);
    if (mode === 'write' || bad.length === 0) {
      process.stderr.write(r.stderr);
      process.exit(1);
    }
  }
}
if (bad.length) {
  console.error(`format:native: ${bad.length} of ${files.length} C++ files are not formatted (clang-format, .clang-format):`);
  for (const f of bad) console.error(`  ${f}`);
  console.error('run `npm run format` to format them');
  process.exit(1);
}
console.log(
  `format:native: ${files.length} C++ files ${mode === 'write' ? 'formatted' : 'already formatted'} (${version.replace(/^.*version /, 'clang-format ')})`,
);
