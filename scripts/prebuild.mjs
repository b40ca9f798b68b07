// `npm run prebuild` (and `prepack`, so `npm pack` ships it): builds the addon (GCC 10 / glibc 2.31
// sysroot, see below) and copies it to
// prebuilds/<platform>-<arch>/ with prebuildify's naming (node.napi.<libc>.node), puts ONNX
// Runtime's shared library from the onnxruntime-node dev dependency beside it (consumers then
// never install onnxruntime-node, whose install script downloads CUDA files), reports the newest
// glibc/libstdc++ symbol versions it needs, and checks that node-gyp-build loads it with
// PREBUILDS_ONLY set (that is, without falling back to build/).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

function compare(a, b) {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
  return 0;
}

/** Highest GLIBC_/GLIBCXX_/GCC_ version each file's dynamic symbols ask for (objdump -T). */
export function symbolVersions(file) {
  const dump = spawnSync('objdump', ['-T', file], { encoding: 'utf8' });
  if (dump.status !== 0) return null;
  const newest = {};
  for (const m of dump.stdout.matchAll(/\b(GLIBC|GLIBCXX|CXXABI|GCC)_([\d.]+)\b/g)) {
    const v = m[2].split('.').map(Number);
    const cur = newest[m[1]];
    if (!cur || compare(v, cur) > 0) newest[m[1]] = v;
  }
  return Object.fromEntries(Object.entries(newest).map(([k, v]) => [k, v.join('.')]));
}

if (process.platform !== 'linux' || process.arch !== 'x64') {
  console.error(`prebuild: only linux-x64 prebuilds are made (this is ${process.platform}-${process.arch})`);
  process.exit(1);
}

run('bash', [join(root, 'scripts', 'vendor-fetch.sh')]);
// Built apart from build/ (the development build) with Debian 11's GCC 10 and glibc 2.31
// (scripts/prebuild-toolchain.sh), so the shipped addon runs on glibc >= 2.29 systems.
// DIDACTIC_PREBUILD_HOST_TOOLCHAIN=1 uses the machine's compiler instead (then it needs that glibc).
const hostToolchain = process.env.DIDACTIC_PREBUILD_HOST_TOOLCHAIN === '1';
const buildDir = join(root, hostToolchain ? 'build' : 'build-prebuild');
const compilers = [];
if (!hostToolchain) {
  const tc = spawnSync('bash', [join(root, 'scripts', 'prebuild-toolchain.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (tc.status !== 0) process.exit(tc.status ?? 1);
  const bin = tc.stdout.trim().split('\n').pop();
  compilers.push(`--CDCMAKE_C_COMPILER=${join(bin, 'cc')}`, `--CDCMAKE_CXX_COMPILER=${join(bin, 'c++')}`, '--CDDIDACTIC_NATIVE_TESTS=OFF');
}
console.log(`prebuild: building in ${buildDir.slice(root.length + 1)} (${hostToolchain ? 'host compiler' : 'GCC 10 / glibc 2.31 sysroot'})`);
run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--directory', root, '--out', buildDir, ...compilers]);

const libc = process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl';
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
const target = join(dir, `node.napi.${libc}.node`);
copyFileSync(join(buildDir, 'Release', 'didactic_engine.node'), target);
console.log(`prebuild: wrote ${target}`);

const ortPkg = dirname(require.resolve('onnxruntime-node/package.json'));
const ortVersion = JSON.parse(
  spawnSync(process.execPath, ['-p', `JSON.stringify(require(${JSON.stringify(join(ortPkg, 'package.json'))}).version)`], { encoding: 'utf8' }).stdout,
);
const ortLib = join(ortPkg, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime.so.1');
if (!existsSync(ortLib)) {
  console.error(`prebuild: ${ortLib} is missing (npm ci installs onnxruntime-node as a dev dependency)`);
  process.exit(1);
}
copyFileSync(ortLib, join(dir, 'libonnxruntime.so.1'));
writeFileSync(
  join(dir, 'libonnxruntime.NOTICE.txt'),
  `libonnxruntime.so.1 is ONNX Runtime ${ortVersion} (CPU), copied unchanged from the onnxruntime-node ${ortVersion} npm package.\n` +
    'Copyright (c) Microsoft Corporation. MIT License: https://github.com/microsoft/onnxruntime/blob/main/LICENSE\n' +
    'Its third-party notices: ThirdPartyNotices.txt in that repository.\n',
);
console.log(`prebuild: copied ONNX Runtime ${ortVersion} (libonnxruntime.so.1) from onnxruntime-node`);

for (const file of [target, join(dir, 'libonnxruntime.so.1')]) {
  const v = symbolVersions(file);
  console.log(
    `prebuild: ${file.slice(root.length + 1)} needs ${
      v
        ? Object.entries(v)
            .map(([k, x]) => `${k}_${x}`)
            .join(', ')
        : '(objdump not found)'
    }`,
  );
  // The target: glibc <= 2.31 (Debian 11, Ubuntu 20.04), unless the host compiler was asked for.
  if (file === target && v?.GLIBC && !hostToolchain && compare(v.GLIBC.split('.').map(Number), [2, 31]) > 0) {
    console.error(`prebuild: the addon needs GLIBC_${v.GLIBC}, above the 2.31 target`);
    process.exit(1);
  }
}

run(
  process.execPath,
  [
    '-e',
    `const p=require('node-gyp-build').resolve(${JSON.stringify(root)}); if(!p.includes('prebuilds')) throw new Error('loaded '+p); require(p); console.log('prebuild: loads with PREBUILDS_ONLY=1:', p)`,
  ],
  { ...process.env, PREBUILDS_ONLY: '1' },
);
