// npm "install" hook. Two jobs, each printing one line per stage (npm shows install output only
// with --foreground-scripts or on failure):
//  1. The Basic Pitch TF.js weights: taken from the `@spotify/basic-pitch` package on the npm
//     registry by npm itself (`npm pack`, no install scripts, no TF.js dependency tree) and checked
//     against pinned SHA-256 sums. A failure is a warning: only transcription needs them.
//  2. The addon: a prebuilt one (prebuilds/<platform>-<arch>/) when it loads here; otherwise the
//     source build (pinned sources, cmake-js) with its full log in a file named on failure. Its
//     tools, cmake-js and node-addon-api's headers, are dev dependencies (a prebuilt install never
//     needs their ~35 packages): a checkout has them, elsewhere they are fetched for the build.
// DIDACTIC_FORCE_BUILD=1 ignores prebuilds; DIDACTIC_SKIP_WEIGHTS=1 skips the weights.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { probeAddon } from './addon-probe.mjs';
import { BASIC_PITCH, weightsDir } from './weights.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const say = (msg) => console.log(`didactic-engine: ${msg}`);

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function weightsOk(dir) {
  return Object.entries(BASIC_PITCH.files).every(([name, sum]) => existsSync(join(dir, name)) && sha256(join(dir, name)) === sum);
}

function fetchWeights() {
  const dir = weightsDir(root);
  if (process.env.DIDACTIC_SKIP_WEIGHTS === '1' || weightsOk(dir)) return;
  say(`fetching Basic Pitch weights (${BASIC_PITCH.spec} from the npm registry)`);
  const tmp = mkdtempSync(join(tmpdir(), 'didactic-weights-'));
  try {
    // npm_execpath is the npm running this install (same registry, cache and proxy settings);
    // under another package manager, the npm on PATH.
    const npm = process.env.npm_execpath;
    const [cmd, args] = npm && /npm-cli\.[cm]?js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
    const pack = spawnSync(cmd, [...args, 'pack', BASIC_PITCH.spec, '--pack-destination', tmp, '--ignore-scripts', '--silent'], {
      cwd: tmp,
      encoding: 'utf8',
    });
    if (pack.status !== 0) throw new Error(`npm pack failed: ${(pack.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
    const tarball = readdirSync(tmp).find((f) => f.endsWith('.tgz'));
    if (!tarball) throw new Error('npm pack wrote no tarball');
    const untar = spawnSync('tar', ['-xzf', join(tmp, tarball), '-C', tmp, 'package/model'], {
      encoding: 'utf8',
    });
    if (untar.status !== 0) throw new Error(`tar failed: ${untar.stderr.trim()}`);
    const unpacked = join(tmp, 'package', 'model');
    if (!weightsOk(unpacked)) throw new Error('the unpacked weights do not match the pinned SHA-256 sums');
    mkdirSync(dirname(dir), { recursive: true });
    rmSync(dir, { recursive: true, force: true });
    renameSync(unpacked, dir);
    say('Basic Pitch weights ready');
  } catch (err) {
    say(
      `WARNING: could not fetch the Basic Pitch weights (${err.message}); transcription stays unavailable until \`npm rebuild didactic-engine\` succeeds or DIDACTIC_BASIC_PITCH_MODEL names an nmp.onnx`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * Runs one build step with its output appended to the log; calls onLine for every output line.
 * Resolves on success, exits the process with the log's name on failure.
 */
function step(log, logPath, stage, command, args, onLine = () => {}) {
  return new Promise((resolve) => {
    log.write(`\n$ ${command} ${args.join(' ')}\n`);
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const feed = (chunk) => {
      log.write(chunk);
      pending += chunk.toString();
      const lines = pending.split('\n');
      pending = lines.pop();
      for (const line of lines) onLine(line);
    };
    child.stdout.on('data', feed);
    child.stderr.on('data', feed);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      log.end(() => {
        console.error(`didactic-engine: source build failed while ${stage} (exit ${code ?? signal}); full log: ${logPath}`);
        process.exit(code || 1);
      });
    });
  });
}

/**
 * cmake-js and node-addon-api for the source build: resolved from here when installed (a checkout's
 * dev dependencies, or the user's), else installed by npm (no scripts, at the versions package.json
 * pins as dev dependencies) into build-tools/, found by cmake-js through NODE_PATH. Returns the
 * cmake-js command; exits with the reason when npm fails.
 */
function buildTools() {
  const resolves = (id) => {
    try {
      return require.resolve(id);
    } catch {
      return null;
    }
  };
  const local = resolves('cmake-js/bin/cmake-js');
  if (local && resolves('node-addon-api')) return local;
  const dir = join(root, 'build-tools');
  const cmakeJs = join(dir, 'node_modules', 'cmake-js', 'bin', 'cmake-js');
  const modules = join(dir, 'node_modules');
  if (!existsSync(cmakeJs) || !existsSync(join(modules, 'node-addon-api', 'package.json'))) {
    const pins = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).devDependencies;
    const specs = ['cmake-js', 'node-addon-api'].map((name) => `${name}@${pins[name]}`);
    say(`fetching the build tools (${specs.join(', ')} from the npm registry)`);
    const npm = process.env.npm_execpath;
    const [cmd, args] = npm && /npm-cli\.[cm]?js$/.test(npm) ? [process.execPath, [npm]] : ['npm', []];
    // The outer install's settings reach scripts as npm_config_* variables: a global or
    // production install must not make this one global or skip anything.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(global|location|prefix|omit|production|dry_run)$/i.test(k)));
    const r = spawnSync(
      cmd,
      [...args, 'install', '--prefix', dir, '--no-save', '--no-package-lock', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error', ...specs],
      { cwd: root, encoding: 'utf8', env },
    );
    if (r.status !== 0 || !existsSync(cmakeJs)) {
      console.error(
        `didactic-engine: could not fetch the build tools (${(r.stderr || r.error?.message || '').trim().split('\n').slice(-3).join(' ')}); install them beside didactic-engine (npm install ${specs.join(' ')}) and run npm rebuild didactic-engine`,
      );
      process.exit(r.status || 1);
    }
  }
  // cmake-js looks for node-addon-api from the package's folder; NODE_PATH adds build-tools/.
  process.env.NODE_PATH = [modules, process.env.NODE_PATH].filter(Boolean).join(delimiter);
  return cmakeJs;
}

async function sourceBuild() {
  const cmakeJs = buildTools();
  const logPath = join(tmpdir(), `didactic-engine-build-${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
  const log = createWriteStream(logPath);
  const started = Date.now();
  say(`build log: ${logPath}`);
  say('[1/4] fetching sources (native/vendor.lock)');
  await step(log, logPath, 'fetching sources', 'bash', [join(root, 'scripts', 'vendor-fetch.sh')]);
  say('[2/4] configuring');
  // The C++ unit tests build only in a checkout (CMakeLists.txt: the package does not ship them).
  await step(log, logPath, 'configuring', process.execPath, [cmakeJs, 'configure', '--directory', root]);
  let shown = -1;
  let linking = false;
  let topTotal;
  await step(log, logPath, 'compiling', process.execPath, [cmakeJs, 'build', '--directory', root], (line) => {
    if (/Re-(checking|running)/.test(line)) return; // cmake regenerating, not a compile step
    const ninja = /^\[(\d+)\/(\d+)\]/.exec(line);
    const make = /^\[\s*(\d+)%\]/.exec(line);
    const [done, total] = ninja ? [Number(ninja[1]), Number(ninja[2])] : make ? [Number(make[1]), 100] : [0, 0];
    // Vendored libraries build in nested ninja runs whose [n/m] lines come through too: follow
    // only the top-level count (the first one seen).
    if (total > 0) topTotal ??= total;
    if (total !== topTotal) return;
    if (!linking && /Linking CXX shared (module|library) .*didactic_engine\.node/.test(line)) {
      linking = true;
      say('[4/4] linking');
      return;
    }
    if (total > 0 && !linking) {
      const decile = Math.floor((done / total) * 10);
      if (decile > shown) {
        shown = decile;
        say(`[3/4] compiling ${done}/${total}`);
      }
    }
  });
  await new Promise((resolve) => log.end(resolve));
  say(`built the addon from source in ${Math.round((Date.now() - started) / 1000)} s`);
}

fetchWeights();
const probe = process.env.DIDACTIC_FORCE_BUILD === '1' ? { ok: false, reason: 'DIDACTIC_FORCE_BUILD=1' } : probeAddon(root);
if (probe.ok) {
  say(`using the native addon ${probe.path.slice(root.length + 1)}`);
} else {
  say(`${probe.reason}: building from source (a few minutes)`);
  await sourceBuild();
}
