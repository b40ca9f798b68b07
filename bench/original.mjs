// Benchmark against the Python original: both CLIs on the same songs, alternating, each run in a
// fresh output folder; per song and mode the median wall and CPU time (user + system of the
// process and its children, from /usr/bin/time), the peak RSS (largest single process) and the
// ratios; then a comparison of what each wrote: file layout, Parquet schemas and row counts (read
// with this package's readers), combined.json keys, note counts, tempo and beat times. A second
// comparison runs ours with `--beat-tracker librosa --no-detect-meter --no-preprocess` and the
// original with `--no-preprocess`: there the beats must be identical (the run fails otherwise).
//
// Run: npm run build:ts && npm run bench:original -- [--songs 1,3,10 | --songs a.wav,b.flac]
//        [--runs 3] [--modes no-models,transcription] [--original "<command>"] [--no-librosa-check]
// --songs: numbers are minutes of a generated 44.1 kHz stereo song (scripts/example-song.mjs),
// anything else a file. --original: the original's command (default: .venv-original/bin/didactic-engine,
// installed on first use by ../shared/original/setup.sh); the folder of its first word goes first on
// PATH, as the original runs `basic-pitch` as a subprocess. The original runs with --no-demucs
// (Demucs is not installed by setup.sh) and its ONNX Basic Pitch backend; ours gets the same flags.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { readParquetTable } from '../dist/entries/datasets.js';
import { writeWav } from '../dist/index.js';
import { exampleSong } from '../scripts/example-song.mjs';

const { values } = parseArgs({
  options: {
    songs: { type: 'string', default: '1,3,10' },
    runs: { type: 'string', default: '3' },
    modes: { type: 'string', default: 'no-models,transcription' },
    original: { type: 'string' },
    ours: { type: 'string' },
    'no-librosa-check': { type: 'boolean', default: false },
    keep: { type: 'string' },
  },
});

const root = resolve(import.meta.dirname, '..');
const TIME = '/usr/bin/time';
if (!existsSync(TIME)) {
  console.error(`${TIME} is needed for the CPU time and peak RSS of both CLIs and their children (Debian: apt-get install time)`);
  process.exit(2);
}

/** Splits a command line on blanks, honouring single and double quotes. */
function splitCommand(command) {
  const words = [];
  const re = /"([^"]*)"|'([^']*)'|(\S+)/g;
  for (let m = re.exec(command); m; m = re.exec(command)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/** The original's command: the flag's, else the default venv (installed by setup.sh when missing). */
function originalCommand() {
  if (values.original) return splitCommand(values.original);
  const venv = join(root, '.venv-original');
  const bin = join(venv, 'bin', 'didactic-engine');
  if (!existsSync(bin)) {
    const setup = resolve(root, '..', 'shared', 'original', 'setup.sh');
    if (!existsSync(setup)) {
      console.error(`The original is not installed (${bin}) and ${setup} is missing: pass --original "<command>"`);
      process.exit(2);
    }
    console.log(`Installing the original into ${venv} (bash ${setup}; needs Python 3.11+ and PyPI; a few minutes) ...`);
    const r = spawnSync('bash', [setup, venv], { stdio: 'inherit' });
    if (r.status !== 0) {
      console.error(`setup.sh failed (exit ${r.status}); install the original yourself and pass --original "<command>"`);
      process.exit(2);
    }
  }
  return [bin];
}

const ORIGINAL = originalCommand();
const OURS = values.ours ? splitCommand(values.ours) : [process.execPath, join(root, 'dist', 'cli', 'main.js')];
// The original runs `basic-pitch` from PATH: the folder of its command goes first.
const originalBin = ORIGINAL[0].includes('/') ? dirname(resolve(ORIGINAL[0])) : null;
const ENGINES = {
  ours: { argv: OURS, env: process.env },
  original: { argv: ORIGINAL, env: originalBin ? { ...process.env, PATH: `${originalBin}:${process.env.PATH}` } : process.env },
};
// Flags both CLIs understand; the timeouts are required by the original (it crashes without them).
const COMMON = ['--no-demucs', '--basic-pitch-backend', 'onnx', '--demucs-timeout', '3600', '--basic-pitch-timeout', '1800', '--no-progress'];
const MODES = {
  'no-models': { ours: ['--no-transcription'], original: ['--no-transcription'] },
  transcription: { ours: [], original: [] },
};
const LIBROSA_MODE = {
  ours: ['--no-transcription', '--beat-tracker', 'librosa', '--no-detect-meter', '--no-preprocess'],
  original: ['--no-transcription', '--no-preprocess'],
};

const work = values.keep ? resolve(values.keep) : mkdtempSync(join(tmpdir(), 'didactic-bench-original-'));
mkdirSync(work, { recursive: true });
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
let outCounter = 0;

/** One run of one CLI into a fresh output folder: wall s, CPU s (with children), peak RSS MiB, the folder. */
function runOnce(engine, song, songId, extra) {
  const out = join(work, `out-${engine}-${++outCounter}`);
  const { argv, env } = ENGINES[engine];
  const args = [...argv.slice(1), '--wav', song, '--song-id', songId, '--out', out, ...COMMON, ...extra];
  const r = spawnSync(TIME, ['-f', '@@time %e %U %S %M', argv[0], ...args], { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const at = r.stderr.lastIndexOf('@@time ');
  if (r.status !== 0 || at < 0) {
    const tail = r.stderr.trim().split('\n').slice(-8).join('\n');
    throw new Error(`${engine} failed (exit ${r.status}) on ${song}:\n${tail}`);
  }
  const [wall, user, sys, rssKiB] = r.stderr
    .slice(at + 7)
    .trim()
    .split(' ')
    .map(Number);
  return { wall, cpu: user + sys, rss: rssKiB / 1024, out };
}

/** A song to run: a generated one for a number of minutes, else the user's file. */
async function prepareSong(spec) {
  if (/^\d+(\.\d+)?$/.test(spec)) {
    const minutes = Number(spec);
    const file = join(work, `song_${spec.replace('.', '_')}min.wav`);
    if (!existsSync(file)) await writeWav(file, exampleSong(44100, minutes * 60), { sampleRate: 44100, channels: 2 });
    return { file, label: `${spec} min generated (44.1 kHz stereo)`, songId: basename(file, '.wav') };
  }
  const file = isAbsolute(spec) ? spec : resolve(spec);
  if (!existsSync(file)) throw new Error(`no such song: ${file}`);
  return { file, label: basename(file), songId: basename(file, extname(file)).replace(/[^\w.-]/g, '_') };
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => relative(dir, join(d.parentPath, d.name)));
}

/** Files per folder (chunk folders hold one file per bar, so folders are compared by count). */
function layout(out) {
  const folders = new Map();
  for (const f of listFiles(out)) {
    const folder = dirname(f);
    const name = /^bar_\d+\.wav$/.test(basename(f)) ? 'bar_*.wav' : basename(f);
    const key = `${folder}/${name}`;
    folders.set(key, (folders.get(key) ?? 0) + 1);
  }
  return folders;
}

function keyPaths(obj, prefix = '', depth = 0) {
  const keys = [];
  for (const [k, v] of Object.entries(obj)) {
    const path = prefix ? `${prefix}.${k}` : k;
    keys.push(path);
    if (depth < 1 && v && typeof v === 'object' && !Array.isArray(v) && !['step_timings', 'num_notes_per_stem'].includes(k))
      keys.push(...keyPaths(v, path, depth + 1));
  }
  return keys;
}

async function datasets(out, songId) {
  const dir = join(out, 'datasets', songId);
  const result = new Map();
  for (const f of listFiles(dir).filter((x) => x.endsWith('.parquet'))) {
    const table = await readParquetTable(join(dir, f));
    result.set(basename(f, '.parquet'), {
      rows: table.numRows,
      schema: table.schema.fields.map((field) => `${field.name}:${String(field.type)}${field.nullable ? '' : ' not null'}`),
      table,
    });
  }
  return result;
}

function beatTimes(sets) {
  const beats = sets.get('beats')?.table;
  if (!beats) return [];
  const stems = beats.getChild('stem').toArray();
  const times = beats.getChild('time_s').toArray();
  return Array.from(times).filter((_, i) => stems[i] === stems[0]);
}

const fmtList = (xs, n = 6) => (xs.length === 0 ? 'none' : `${xs.slice(0, n).join(', ')}${xs.length > n ? ` (+${xs.length - n} more)` : ''}`);

/** Prints the comparison of two output folders; returns whether the beat times are identical. */
async function compare(oursOut, originalOut, songId, title) {
  console.log(`\n**${title}**\n`);
  const [lo, lp] = [layout(oursOut), layout(originalOut)];
  const keys = [...new Set([...lo.keys(), ...lp.keys()])].sort();
  const onlyOurs = keys.filter((k) => !lp.has(k));
  const onlyOriginal = keys.filter((k) => !lo.has(k));
  const counts = keys.filter((k) => lo.has(k) && lp.has(k) && lo.get(k) !== lp.get(k)).map((k) => `${k} ${lo.get(k)} vs ${lp.get(k)}`);
  console.log(
    `- layout: ${keys.length - onlyOurs.length - onlyOriginal.length} files/folders in both; only ours: ${fmtList(onlyOurs)}; only the original's: ${fmtList(onlyOriginal)}; different counts (ours vs original): ${fmtList(counts)}`,
  );
  const [so, sp] = [await datasets(oursOut, songId), await datasets(originalOut, songId)];
  for (const name of [...new Set([...so.keys(), ...sp.keys()])].sort()) {
    const a = so.get(name);
    const b = sp.get(name);
    if (!a || !b) {
      console.log(`- ${name}.parquet: only ${a ? 'ours' : "the original's"} (${(a ?? b).rows} rows)`);
      continue;
    }
    const same = a.schema.join('|') === b.schema.join('|');
    const diff = same
      ? ''
      : `: ours [${a.schema.filter((x) => !b.schema.includes(x)).join(', ')}] vs original [${b.schema.filter((x) => !a.schema.includes(x)).join(', ')}]`;
    console.log(`- ${name}.parquet: schema ${same ? 'identical' : 'DIFFERENT'}${diff}; rows ${a.rows} vs ${b.rows}`);
  }
  const [co, cp] = [
    JSON.parse(readFileSync(join(oursOut, 'analysis', songId, 'combined.json'), 'utf8')),
    JSON.parse(readFileSync(join(originalOut, 'analysis', songId, 'combined.json'), 'utf8')),
  ];
  const [ko, kp] = [keyPaths(co), keyPaths(cp)];
  console.log(
    `- combined.json keys: ${kp.filter((k) => ko.includes(k)).length} of the original's ${kp.length} present; missing: ${fmtList(kp.filter((k) => !ko.includes(k)))}; additional in ours: ${fmtList(ko.filter((k) => !kp.includes(k)))}`,
  );
  const notes = (c) => JSON.stringify(c.num_notes_per_stem ?? {});
  console.log(`- notes per stem: ${notes(co)} vs ${notes(cp)}; events rows ${so.get('events')?.rows ?? 0} vs ${sp.get('events')?.rows ?? 0}`);
  console.log(
    `- tempo: ${Number(co.tempo_bpm).toFixed(3)} vs ${Number(cp.tempo_bpm).toFixed(3)} BPM; beats ${co.num_beats} vs ${cp.num_beats}; bars ${co.num_bars} vs ${cp.num_bars}`,
  );
  const [bo, bp] = [beatTimes(so), beatTimes(sp)];
  let identical = bo.length === bp.length && bo.every((t, i) => Math.abs(t - bp[i]) <= 1e-9);
  if (bo.length === 0 && bp.length === 0) identical = true;
  let detail = `${bo.length} vs ${bp.length} beats`;
  if (bo.length && bp.length) {
    // Distance from each of our beats to the nearest of the original's.
    const nearest = bo.map((t) => Math.min(...bp.map((u) => Math.abs(t - u))));
    detail += `; median distance to the nearest original beat ${(median(nearest) * 1000).toFixed(1)} ms, first beats ${bo
      .slice(0, 3)
      .map((t) => t.toFixed(3))
      .join(', ')} vs ${bp
      .slice(0, 3)
      .map((t) => t.toFixed(3))
      .join(', ')} s`;
  }
  console.log(`- beat times: ${identical ? 'identical' : 'different'} (${detail})`);
  return identical;
}

const fmtS = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : '–');
const fmtRatio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && a > 0 ? `**${(b / a).toFixed(2)}×**` : '–');

let failures = 0;
try {
  const songs = [];
  for (const spec of values.songs
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean))
    songs.push(await prepareSong(spec));
  const modes = values.modes.split(',').map((m) => m.trim());
  for (const m of modes) if (!MODES[m]) throw new Error(`unknown mode ${m} (known: ${Object.keys(MODES).join(', ')})`);
  const runs = Math.max(1, Number(values.runs));
  console.log(
    `CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  console.log(`ours: ${OURS.join(' ')}\noriginal: ${ORIGINAL.join(' ')}`);
  console.log(
    `${runs} run(s) per song, mode and CLI, alternating (which CLI goes first alternates too), each into a fresh folder; medians; common flags: ${COMMON.join(' ')}`,
  );
  // Warm-up: page cache, Python bytecode and numba caches, the converted Basic Pitch model.
  const warm = songs[0];
  for (const engine of ['ours', 'original']) rmSync(runOnce(engine, warm.file, warm.songId, MODES[modes.at(-1)][engine]).out, { recursive: true, force: true });

  const rows = [];
  const comparisons = [];
  for (const song of songs) {
    for (const mode of modes) {
      const samples = { ours: [], original: [] };
      const last = {};
      for (let i = 0; i < runs; i++) {
        for (const engine of i % 2 === 0 ? ['ours', 'original'] : ['original', 'ours']) {
          const r = runOnce(engine, song.file, song.songId, MODES[mode][engine]);
          samples[engine].push(r);
          if (last[engine]) rmSync(last[engine], { recursive: true, force: true });
          last[engine] = r.out;
        }
      }
      const m = (engine, key) => median(samples[engine].map((s) => s[key]));
      rows.push(
        `| ${song.label} | ${mode} | ${fmtS(m('ours', 'wall'))} | ${fmtS(m('original', 'wall'))} | ${fmtRatio(m('ours', 'wall'), m('original', 'wall'))} | ${fmtS(m('ours', 'cpu'))} | ${fmtS(m('original', 'cpu'))} | ${fmtRatio(m('ours', 'cpu'), m('original', 'cpu'))} | ${m('ours', 'rss').toFixed(0)} MiB | ${m('original', 'rss').toFixed(0)} MiB |`,
      );
      console.log(rows.at(-1));
      comparisons.push({ song, title: `${song.label}, ${mode} (ours with its defaults: the learned beat tracker)`, ours: last.ours, original: last.original });
    }
    if (!values['no-librosa-check']) {
      const ours = runOnce('ours', song.file, song.songId, LIBROSA_MODE.ours);
      const original = runOnce('original', song.file, song.songId, LIBROSA_MODE.original);
      comparisons.push({
        song,
        title: `${song.label}, ours ${LIBROSA_MODE.ours.join(' ')} / original ${LIBROSA_MODE.original.join(' ')}: beats must be identical`,
        ours: ours.out,
        original: original.out,
        mustMatch: true,
      });
    }
  }
  console.log('\n| song | mode | ours wall | original wall | wall ratio | ours CPU | original CPU | CPU ratio | ours peak RSS | original peak RSS |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
  for (const c of comparisons) {
    const identical = await compare(c.ours, c.original, c.song.songId, c.title);
    if (c.mustMatch && !identical) {
      failures++;
      console.log('  ✗ the beats differ in librosa mode');
    }
    rmSync(c.ours, { recursive: true, force: true });
    rmSync(c.original, { recursive: true, force: true });
  }
  console.log(
    `\nload average after: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
} finally {
  if (!values.keep) rmSync(work, { recursive: true, force: true });
}
process.exitCode = failures > 0 ? 1 : 0;
