// npm "install" hook: use a prebuilt or already-built addon when one loads; otherwise fetch the
// pinned vendored sources (scripts/vendor-fetch.sh) and compile with cmake-js.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

function loads() {
  if (process.env.DIDACTIC_FORCE_BUILD === '1') return false;
  // Checked in a child process so a crashing binary cannot take the installer down.
  const probe = spawnSync(process.execPath, ['-e', `require('node-gyp-build')(${JSON.stringify(root)})`], {
    cwd: root,
    stdio: 'ignore',
  });
  return probe.status === 0;
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error(`didactic-engine: '${command} ${args.join(' ')}' failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

if (loads()) {
  console.log('didactic-engine: using the existing native addon (prebuilt or already built)');
} else {
  console.log('didactic-engine: no usable prebuilt addon; building from source');
  run('bash', [join(root, 'scripts', 'vendor-fetch.sh')]);
  run(process.execPath, [require.resolve('cmake-js/bin/cmake-js'), 'compile', '--directory', root]);
}
