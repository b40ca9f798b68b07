// Benchmark: the HTML report of a generated song (3 minutes by default) and `report --png`.
// One pipeline run (no separation; transcription when Basic Pitch is installed) makes the song's
// outputs; then, median of --runs each:
//   - HTML build: what the `report` command does in-process (read combined.json and the Parquet
//     datasets, decode the input copy for the waveform, render and write the page), and apart
//     the Parquet read-back alone (what the pipeline's step 10 no longer does);
//   - PNG render (renderReportPng: Chromium start, page load, the page's own drawing, screenshot,
//     shut-down), with each phase timed in a separate run of the same calls;
//   - `report --png` as a user runs it (a new process: CLI start, HTML build, PNG).
// --load N runs N busy processes meanwhile, to see how a loaded machine stretches each phase
// (the case that once took 34 s).
// Run: npm run build:ts && node bench/report.mjs [--minutes 3] [--runs 5] [--load 0]
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

import { buildSongReport, findChromium, readReportDatasets, renderReportPng, writeWav } from '../dist/index.js';
import { CHROMIUM_FLAGS } from '../dist/reports/html/png.js';
import { exampleSong } from '../scripts/example-song.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '3' },
    runs: { type: 'string', default: '5' },
    load: { type: 'string', default: '0' },
  },
});
const minutes = Number(values.minutes);
const runs = Math.max(1, Number(values.runs));
const root = join(import.meta.dirname, '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-report-'));
const chromium = findChromium();
if (!chromium) {
  console.error('No Chromium found (DIDACTIC_CHROMIUM or /usr/bin/chromium): the PNG part needs one.');
  process.exit(1);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${x.toFixed(0)} ms`;
async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

/**
 * CPU seconds used so far by `rootPid` and every process under it (Linux /proc; 0 elsewhere):
 * Chromium's work apart from how long a busy machine makes it wait.
 */
function treeCpuS(rootPid) {
  const procs = new Map();
  try {
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        procs.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 });
      } catch {
        // the process ended meanwhile
      }
    }
  } catch {
    return 0;
  }
  const under = (pid) => {
    for (let p = pid, k = 0; p > 1 && k < 64; p = procs.get(p)?.ppid ?? 0, k++) if (p === rootPid) return true;
    return false;
  };
  let sum = 0;
  for (const [pid, p] of procs) if (under(pid)) sum += p.cpu;
  return sum;
}

/** renderReportPng's calls one by one (the same flags and waits), each phase timed, with Chromium's CPU. */
async function pngPhases(htmlPath, pngPath) {
  const { launch } = await import('puppeteer-core');
  const t = {};
  let last = performance.now();
  const lap = (k) => {
    const now = performance.now();
    t[k] = now - last;
    last = now;
  };
  const browser = await launch({ executablePath: chromium, headless: true, args: CHROMIUM_FLAGS, defaultViewport: null });
  const pid = browser.process().pid;
  lap('launch');
  t.cpuLaunch = treeCpuS(pid);
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
  await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: 120_000 });
  lap('load');
  await page.waitForFunction('window.__reportReady === true', { timeout: 120_000 });
  lap('draw');
  t.cpuDrawn = treeCpuS(pid);
  t.pageDrawMs = await page.evaluate('window.__reportRenderMs');
  t.views = await page.evaluate(
    '[...performance.getEntriesByType("measure")].filter((m) => m.name.startsWith("report-") && m.name !== "report-render").map((m) => [m.name.slice(7), m.duration])',
  );
  t.waveformBy = await page.evaluate('document.getElementById("waveform").getAttribute("data-waveform-by")');
  await page.screenshot({ path: pngPath, fullPage: true, type: 'png' });
  lap('screenshot');
  t.cpuShot = treeCpuS(pid);
  await browser.close();
  lap('close');
  return t;
}

const hogs = [];
try {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}, ${chromium}`);
  const song = join(dir, `song_${minutes}min.wav`);
  await writeWav(song, exampleSong(44100, minutes * 60), { sampleRate: 44100, channels: 2 });
  const out = join(dir, 'out');
  const songId = `song_${minutes}min`;
  execFileSync(process.execPath, [cli, '--wav', song, '--song-id', songId, '--out', out, '--no-demucs', '-q'], { stdio: 'inherit' });
  const datasetsDir = join(out, 'datasets', songId);
  const first = await buildSongReport(out, songId);
  const notes = first.data.notes.reduce((n, s) => n + s.pitch.length, 0);
  console.log(
    `Song: ${minutes} min 44.1 kHz stereo, pipeline without separation: ${notes} notes, ${first.data.summary.num_beats} beats, ` +
      `${first.data.summary.num_bars} bars; page ${(first.bytes / 1024).toFixed(0)} KiB`,
  );

  const load = Number(values.load);
  for (let i = 0; i < load; i++) hogs.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
  console.log(`Busy processes meanwhile: ${load}; load average at start ${loadavg()[0].toFixed(2)}; median of ${runs} runs`);

  const readBack = [];
  const html = [];
  const png = [];
  const phases = [];
  const cliPng = [];
  for (let i = 0; i < runs; i++) {
    readBack.push(await timed(() => readReportDatasets(datasetsDir)));
    html.push(await timed(() => buildSongReport(out, songId)));
    png.push(await timed(() => renderReportPng(first.path, join(dir, 'a.png'))));
    phases.push(await pngPhases(first.path, join(dir, 'b.png')));
    cliPng.push(
      await timed(
        () =>
          new Promise((resolve, reject) => {
            const child = spawn(process.execPath, [cli, 'report', out, songId, '--png', join(dir, 'c.png')], { stdio: 'ignore' });
            child.on('error', reject);
            child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`report --png exited ${code}`))));
          }),
      ),
    );
  }
  const phase = (k) => median(phases.map((p) => p[k]));
  console.log('| what | median |');
  console.log('|---|---|');
  console.log(`| Parquet read-back of the report's rows (no longer in the pipeline's step 10) | ${ms(median(readBack))} |`);
  console.log(`| HTML build as \`report\` does it (combined.json, Parquet, input decode, page) | ${ms(median(html))} |`);
  console.log(`| PNG render (renderReportPng) | ${ms(median(png))} |`);
  console.log(
    `| — of which: Chromium start ${ms(phase('launch'))}, page load ${ms(phase('load'))}, ` +
      `drawn ${ms(phase('draw'))} later (page's own drawing ${ms(phase('pageDrawMs'))} from its script's start), ` +
      `screenshot ${ms(phase('screenshot'))}, shut-down ${ms(phase('close'))} | |`,
  );
  console.log(`| \`report --png\` (new process: CLI start, HTML build, PNG) | ${ms(median(cliPng))} |`);
  const cpu = (k) => `${phase(k).toFixed(2)} s`;
  console.log(
    `Chromium's CPU (all its processes): ${cpu('cpuLaunch')} to start, ${cpu('cpuDrawn')} once the page is drawn, ${cpu('cpuShot')} after the screenshot`,
  );
  const views = new Map();
  for (const p of phases) for (const [name, d] of p.views) views.set(name, [...(views.get(name) ?? []), d]);
  console.log(`The page's views (synchronous part): ${[...views].map(([name, d]) => `${name} ${ms(median(d))}`).join(', ')}`);
  console.log(`The waveform went on by: ${[...new Set(phases.map((p) => p.waveformBy))].join(', ')} (a 'timeout' is the page's 1.5 s fallback)`);
  console.log(`Load average at the end ${loadavg()[0].toFixed(2)}`);
} finally {
  for (const h of hogs) h.kill();
  rmSync(dir, { recursive: true, force: true });
}
