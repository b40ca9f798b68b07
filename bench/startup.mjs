// Benchmark: the CLI's fixed cost. `didactic-engine --version` and the main job on a 1-second song
// (--no-demucs --no-transcription, so what is measured is start-up, not work), each a fresh process:
// wall and CPU time (user + system, from /usr/bin/time when present, else wall only), peak RSS, and
// how many modules the main thread loads (scripts/record-modules.mjs, in a separate run so its own
// cost is not timed). With --baseline <another checkout, built> both are run alternately.
// Run: npm run build:ts && node bench/startup.mjs [--runs 7] [--baseline ../other-checkout]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { writeWav } from '../dist/index.js';
import { exampleSong } from '../scripts/example-song.mjs';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '7' },
    baseline: { type: 'string' },
  },
});
const here = resolve(import.meta.dirname, '..');
const builds = [...(values.baseline ? [['baseline', resolve(values.baseline)]] : []), ['this checkout', here]];
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-startup-'));
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** One CLI run: wall s, CPU s (user + sys) and peak RSS MiB. */
function timed(root, args) {
  const cli = join(root, 'dist', 'cli', 'main.js');
  if (!TIME) {
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [cli, ...args], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')} exited ${r.status}`);
    return { wall: (performance.now() - t0) / 1000, cpu: NaN, rss: NaN };
  }
  const r = spawnSync(TIME, ['-f', '@@ %e %U %S %M', process.execPath, cli, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cli} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  const [wall, user, sys, rssKiB] = r.stderr
    .slice(r.stderr.lastIndexOf('@@') + 3)
    .trim()
    .split(' ')
    .map(Number);
  return { wall, cpu: user + sys, rss: rssKiB / 1024 };
}

/** Files and packages the main thread loads (thread 0 of scripts/record-modules.mjs's log). */
function moduleCount(root, args) {
  const log = join(dir, 'modules.jsonl');
  rmSync(log, { force: true });
  execFileSync(process.execPath, ['--import', join(here, 'scripts', 'record-modules.mjs'), join(root, 'dist', 'cli', 'main.js'), ...args], {
    env: { ...process.env, DIDACTIC_RECORD_MODULES: log },
    stdio: 'ignore',
  });
  const lines = readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const main = new Set(lines.filter((l) => l.thread === 0 && !l.url.startsWith('node:')).map((l) => l.url));
  const packages = new Set([...main].map((u) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)?.[1]).filter(Boolean));
  return { files: main.size, packages: [...packages].sort() };
}

try {
  const song = join(dir, 'one-second.wav');
  await writeWav(song, exampleSong(44100, 1), { sampleRate: 44100, channels: 2 });
  const jobs = {
    '--version': () => ['--version'],
    'main job, 1 s song': (i) => ['--wav', song, '--song-id', 'one', '--out', join(dir, `out-${i}`), '--no-demucs', '--no-transcription', '-q'],
  };
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}, load average ${loadavg()[0].toFixed(2)}`);
  console.log(`${values.runs} runs per build and command, alternating, medians${TIME ? '' : ' (no /usr/bin/time: wall only)'}`);
  console.log('| command | build | wall | CPU (user + sys) | peak RSS | main-thread modules | packages on the main thread |');
  console.log('|---|---|---|---|---|---|---|');
  let run = 0;
  for (const [name, argsFor] of Object.entries(jobs)) {
    const samples = new Map(builds.map(([label]) => [label, []]));
    for (const [, root] of builds) timed(root, argsFor(run++)); // warm-up: page cache
    for (let i = 0; i < Number(values.runs); i++) for (const [label, root] of builds) samples.get(label).push(timed(root, argsFor(run++)));
    for (const [label, root] of builds) {
      const s = samples.get(label);
      const m = moduleCount(root, argsFor(run++));
      console.log(
        `| ${name} | ${label} | ${median(s.map((x) => x.wall)).toFixed(3)} s | ${median(s.map((x) => x.cpu)).toFixed(3)} s | ${median(s.map((x) => x.rss)).toFixed(0)} MiB | ${m.files} | ${m.packages.join(', ')} |`,
      );
    }
  }
  console.log(`load average after: ${loadavg()[0].toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
