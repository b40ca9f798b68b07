// `npm run prebuild`: builds the addon and copies it to prebuilds/<platform>-<arch>/ with
// prebuildify's naming (node.napi.<libc>.node), then checks that node-gyp-build loads it with
// PREBUILDS_ONLY set (that is, without falling back to build/).
import { copyFileSync, mkdirSync } from 'node:fs';
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

run('bash', [join(root, 'scripts', 'vendor-fetch.sh')]);
run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--directory', root]);

const libc = process.platform === 'linux' ? (process.report?.getReport().header.glibcVersionRuntime ? 'glibc' : 'musl') : '';
const name = ['node', 'napi', libc, 'node'].filter(Boolean).join('.');
const dir = join(root, 'prebuilds', `${process.platform}-${process.arch}`);
mkdirSync(dir, { recursive: true });
const target = join(dir, name);
copyFileSync(join(root, 'build', 'Release', 'didactic_engine.node'), target);
console.log(`prebuild: wrote ${target}`);

run(
  process.execPath,
  ['-e', `const p=require('node-gyp-build').resolve(${JSON.stringify(root)}); if(!p.includes('prebuilds')) throw new Error('loaded '+p); require(p); console.log('prebuild: loads with PREBUILDS_ONLY=1:', p)`],
  { ...process.env, PREBUILDS_ONLY: '1' },
);
