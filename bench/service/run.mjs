// Service load benchmark: N short clips (default 500 × 2 s, 44.1 kHz stereo, a melody over a kick)
// submitted over HTTP (multipart, 8 uploads in flight) to `didactic-engine serve` in embedded mode
// and in Redis mode with 2 workers, against the same songs through the CLI's batch mode
// (`--jobs`) on the same machine in the same run. Prints songs/min and the ratio to batch, API
// latency p50/p99 of status reads taken every 50 ms during the run, peak RSS per process
// (VmHWM), and lost / duplicated jobs (counted: every submitted id must complete exactly once,
// with exactly one combined.json). Loopback only; bounded by --count and --max-minutes per mode;
// stops everything it started. Needs redis-server (Debian package) for the Redis mode.
// Run: npm run build:ts && npm run bench:service [-- --count 500 --seconds 2 --workers 2 --max-minutes 15]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { writeWav } from '../../dist/index.js';
import { melodySong } from '../../scripts/example-song.mjs';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '2' },
    workers: { type: 'string', default: '2' },
    'max-minutes': { type: 'string', default: '15' },
    modes: { type: 'string', default: 'batch,embedded,redis' },
  },
});
const COUNT = Number(values.count);
const WORKERS = Number(values.workers);
const MAX_MS = Number(values['max-minutes']) * 60_000;
const MODES = values.modes.split(',');
const root = join(import.meta.dirname, '..', '..');
const CLI = join(root, 'dist', 'cli', 'main.js');
const CONFIG = { use_demucs_separation: false };
const work = mkdtempSync(join(tmpdir(), 'didactic-bench-service-'));
const children = new Set();

process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});
process.on('SIGINT', () => process.exit(130));

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function start(cmd, args, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  children.add(child);
  let text = '';
  child.stdout.on('data', (d) => (text += d));
  child.stderr.on('data', (d) => (text += d));
  child.on('exit', () => children.delete(child));
  return { child, output: () => text };
}

async function waitFor(proc, pattern, ms = 30_000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const m = pattern.exec(proc.output());
    if (m) return m;
    if (proc.child.exitCode !== null) break;
    await sleep(50);
  }
  throw new Error(`no ${pattern} from ${proc.child.spawnargs.join(' ')}:\n${proc.output()}`);
}

/** Peak RSS (VmHWM) of a process and its descendants, sampled until stopped; MiB by pid. */
function rssSampler(rootPids, label) {
  const peaks = new Map();
  const cpu = new Map();
  const read = (pid) => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      // utime + stime (fields 14, 15) in clock ticks of 1/100 s.
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      cpu.set(pid, (Number(fields[11]) + Number(fields[12])) / 100);
      return m ? Number(m[1]) / 1024 : 0;
    } catch {
      return null;
    }
  };
  const childrenOf = (pid) => {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  };
  const sample = () => {
    const queue = [...rootPids()];
    while (queue.length) {
      const pid = queue.shift();
      const v = read(pid);
      if (v === null) continue;
      const key = `${label(pid)} ${pid}`;
      peaks.set(key, Math.max(peaks.get(key) ?? 0, v));
      queue.push(...childrenOf(pid));
    }
  };
  const timer = setInterval(sample, 250);
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peaks;
    },
    /** CPU seconds by label, as last sampled. */
    cpuByLabel() {
      const out = new Map();
      for (const [pid, secs] of cpu) out.set(label(pid), (out.get(label(pid)) ?? 0) + secs);
      return out;
    },
  };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Status reads every 50 ms during the run: what a client polling a job sees. */
function latencyProbe(url, idOf) {
  const samples = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      await fetch(`${url}/v1/jobs/${idOf()}`)
        .then((r) => r.arrayBuffer())
        .catch(() => {});
      samples.push(performance.now() - t0);
      await sleep(50);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      const sorted = [...samples].sort((a, b) => a - b);
      return { n: sorted.length, p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: sorted.at(-1) };
    },
  };
}

async function submitAll(url, clips) {
  const ids = [];
  let next = 0;
  const submitOne = async () => {
    for (;;) {
      const i = next++;
      if (i >= COUNT) return;
      const form = new FormData();
      const id = `bench-${i}`;
      form.set('id', id);
      form.set('song_id', `song_${i}`);
      form.set('config', JSON.stringify(CONFIG));
      form.set('audio', new Blob([clips[i % clips.length]]), `song_${i}.wav`);
      for (;;) {
        const res = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
        const body = await res.json();
        if (res.status === 202 || res.status === 200) break;
        if (res.status === 429) {
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
          continue;
        }
        throw new Error(`submission ${id}: ${res.status} ${JSON.stringify(body)}`);
      }
      ids.push(id);
    }
  };
  await Promise.all(Array.from({ length: 8 }, submitOne));
  return ids;
}

async function counts(url) {
  const text = await fetch(`${url}/metrics`).then((r) => r.text());
  const out = {};
  for (const m of text.matchAll(/^didactic_jobs\{state="(\w+)"\} (\d+)/gm)) out[m[1]] = Number(m[2]);
  return out;
}

async function audit(url, dataDir, ids) {
  const statuses = (await fetch(`${url}/v1/jobs?limit=1000`).then((r) => r.json())).jobs;
  const byId = new Map();
  for (const s of statuses) byId.set(s.id, (byId.get(s.id) ?? []).concat(s));
  let lost = 0;
  let duplicated = 0;
  let failed = 0;
  for (const id of ids) {
    const entries = byId.get(id) ?? [];
    if (entries.length === 0) lost++;
    else if (entries[0].state === 'failed') failed++;
    else if (entries[0].state !== 'completed') lost++;
    if (entries.length > 1 || (entries[0]?.attempts ?? 1) > 1) duplicated++;
    const songs = existsSync(join(dataDir, 'jobs', id, 'out', 'analysis')) ? readdirSync(join(dataDir, 'jobs', id, 'out', 'analysis')) : [];
    if (entries[0]?.state === 'completed' && songs.length !== 1) duplicated++;
  }
  return { lost, duplicated, failed, listed: statuses.length };
}

async function runService(mode, clips) {
  const dataDir = join(work, `data-${mode}`);
  let redis = null;
  const workers = [];
  const args = ['serve', '--port', '0', '--data-dir', dataDir, '--rate-limit', '0', '--max-queue', String(COUNT + 10), '--log-level', 'WARNING'];
  if (mode === 'redis') {
    const port = await freePort();
    mkdirSync(join(work, 'redis'), { recursive: true });
    redis = start('redis-server', [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      join(work, 'redis'),
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
    ]);
    await waitFor(redis, /Ready to accept connections/);
    args.push('--redis', `redis://127.0.0.1:${port}`);
    for (let i = 0; i < WORKERS; i++) {
      // Several workers on one machine split its cores, as docs/service.md says to.
      const cores = String(Math.max(1, Math.floor(cpus().length / WORKERS)));
      // …and run below the API's priority (nice), as the embedded queue does with its workers.
      const w = start('nice', [
        '-n',
        '10',
        process.execPath,
        CLI,
        'worker',
        '--redis',
        `redis://127.0.0.1:${port}`,
        '--data-dir',
        dataDir,
        '--cores',
        cores,
        '--log-level',
        'WARNING',
      ]);
      workers.push(w);
    }
  } else {
    args.push('--jobs', String(WORKERS));
  }
  const server = start(process.execPath, [CLI, ...args]);
  const url = (await waitFor(server, /listening on (http:\/\/\S+)/))[1];
  for (const w of workers) await waitFor(w, /processing jobs from/);
  // Ready: the doctor's checks passed and the workers are up.
  for (let i = 0; i < 200; i++) {
    if ((await fetch(`${url}/readyz`)).status === 200) break;
    await sleep(100);
  }
  const pids = () => [server.child.pid, ...workers.map((w) => w.child.pid), ...(redis ? [redis.child.pid] : [])];
  const labels = new Map([
    [server.child.pid, 'serve'],
    ...workers.map((w, i) => [w.child.pid, `worker${i + 1}`]),
    ...(redis ? [[redis.child.pid, 'redis-server']] : []),
  ]);
  const rss = rssSampler(pids, (pid) => labels.get(pid) ?? 'worker-process');
  let lastId = 'bench-0';
  const probe = latencyProbe(url, () => lastId);
  const t0 = performance.now();
  const ids = await submitAll(url, clips);
  lastId = ids[Math.floor(ids.length / 2)];
  let c = {};
  while (performance.now() - t0 < MAX_MS) {
    c = await counts(url);
    if ((c.completed ?? 0) + (c.failed ?? 0) >= COUNT) break;
    await sleep(250);
  }
  const wall = (performance.now() - t0) / 1000;
  const latency = await probe.stop();
  const peaks = rss.stop();
  const cpuSeconds = rss.cpuByLabel();
  const result = await audit(url, dataDir, ids);
  server.child.kill('SIGTERM');
  for (const w of workers) w.child.kill('SIGTERM');
  await sleep(1500);
  redis?.child.kill('SIGTERM');
  await sleep(300);
  return { mode, wall, completed: c.completed ?? 0, latency, peaks, cpuSeconds, ...result };
}

async function runBatch(files) {
  const out = join(work, 'batch-out');
  const args = [CLI, '--out', out, '--jobs', String(WORKERS), '--no-demucs', '--no-progress', '-q', '--wav', ...files];
  const t0 = performance.now();
  const proc = start(process.execPath, args);
  const rss = rssSampler(
    () => [proc.child.pid],
    () => 'batch',
  );
  const code = await new Promise((resolve) => proc.child.on('exit', resolve));
  const wall = (performance.now() - t0) / 1000;
  const peaks = rss.stop();
  const cpuSeconds = rss.cpuByLabel();
  if (code !== 0) throw new Error(`batch failed (${code}):\n${proc.output().slice(-2000)}`);
  const completed = existsSync(join(out, 'analysis')) ? readdirSync(join(out, 'analysis')).length : 0;
  return { mode: 'batch', wall, completed, peaks, cpuSeconds };
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`# Service load: ${COUNT} clips of ${values.seconds} s, ${WORKERS} songs at once, on ${cpu} (${cpus().length} cores), Node ${process.version}`);
const clips = [];
const files = [];
for (let v = 0; v < 5; v++) {
  const path = join(work, 'clips', `variant_${v}.wav`);
  mkdirSync(join(work, 'clips'), { recursive: true });
  await writeWav(path, melodySong(Number(values.seconds), v), { sampleRate: 44100, channels: 2 });
  clips.push(readFileSync(path));
}
// The batch gets the same songs as separate files (its song ids come from the file names).
mkdirSync(join(work, 'batch-in'), { recursive: true });
for (let i = 0; i < COUNT; i++) {
  const path = join(work, 'batch-in', `song_${i}.wav`);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(path, clips[i % clips.length]);
  files.push(path);
}

const haveRedis = spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
const rows = [];
for (const mode of MODES) {
  if (mode === 'redis' && !haveRedis) {
    console.log('redis mode skipped: redis-server is not installed (apt-get install redis-server)');
    continue;
  }
  const r = mode === 'batch' ? await runBatch(files) : await runService(mode, clips);
  rows.push(r);
  console.log(`${mode}: ${r.completed}/${COUNT} songs in ${r.wall.toFixed(1)} s`);
}

const batch = rows.find((r) => r.mode === 'batch');
const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : '–');
console.log('\n| mode | songs | wall s | songs/min | vs batch | status p50 ms | status p99 ms | lost | duplicated | failed | peak RSS MiB (per process) |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) {
  const perMin = (r.completed / r.wall) * 60;
  const ratio = batch && r !== batch ? perMin / ((batch.completed / batch.wall) * 60) : NaN;
  const peaks = [...r.peaks.entries()].map(([k, v]) => `${k.split(' ')[0]} ${v.toFixed(0)}`).join(', ');
  console.log(
    `| ${r.mode} | ${r.completed} | ${fmt(r.wall)} | ${fmt(perMin)} | ${r === batch ? '1.00 (reference)' : fmt(ratio, 2)} | ${fmt(r.latency?.p50)} | ${fmt(r.latency?.p99)} | ${r.lost ?? '–'} | ${r.duplicated ?? '–'} | ${r.failed ?? '–'} | ${peaks} |`,
  );
}
const bad = rows.filter((r) => r.mode !== 'batch' && (r.lost > 0 || r.duplicated > 0 || r.completed < COUNT));
console.log('\nCPU seconds by process kind (utime + stime):');
for (const r of rows) console.log(`  ${r.mode}: ${[...r.cpuSeconds.entries()].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ')}`);
if (bad.length) {
  console.log(`\nFAILED: lost, duplicated or unfinished jobs in ${bad.map((r) => r.mode).join(', ')}`);
  process.exitCode = 1;
}
