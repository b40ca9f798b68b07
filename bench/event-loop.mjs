// Benchmark: how long the main event loop stalls during a whole pipeline run, per song length.
// Each run is its own process (so the first Parquet encode, module loads and JIT of the process are
// in it); the loop is watched with perf_hooks.monitorEventLoopDelay (10 ms resolution) and a 5 ms
// interval timer that records every gap above 50 ms with the main thread's CPU time in it. Timing belongs here, not in the tests: the
// tests assert that the heavy work runs off the main thread (test/e2e/pipeline-event-loop.test.ts).
// Run: npm run build:ts && node bench/event-loop.mjs [--minutes 1,3,10] [--no-transcription]
//      [--runs 1] [--root <another checkout, built>]   (--root: measure another build, e.g. before a change)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

import { writeWav } from '../dist/index.js';
import { exampleSong } from '../scripts/example-song.mjs';
import { runScript } from './child.mjs';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '1,3,10' },
    transcription: { type: 'boolean', default: true },
    'no-transcription': { type: 'boolean', default: false },
    runs: { type: 'string', default: '1' },
    root: { type: 'string', default: join(import.meta.dirname, '..') },
  },
});
const transcription = values.transcription && !values['no-transcription'];
const root = resolve(values.root);
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-loop-'));

// Clock ticks per second of /proc's CPU times (USER_HZ), for the main thread's CPU time.
let ticksPerSecond = 100;
try {
  ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // not Linux: the CPU column stays empty
}

/**
 * One pipeline run in a fresh process. Per gap of the 5 ms timer above 50 ms: its wall time and the
 * main thread's CPU time within it (/proc/self/task/<pid>/stat). A stall with CPU is the loop held by
 * our own work; one without is the process waiting for a core (a loaded machine), which the wall
 * figures alone cannot tell apart.
 */
function runChild(file, out) {
  const script = `
    import { readFileSync } from 'node:fs';
    import { monitorEventLoopDelay } from 'node:perf_hooks';
    const { AudioPipeline } = await import(${JSON.stringify(join(root, 'dist', 'index.js'))});
    const [file, out, transcription, hz] = JSON.parse(process.argv[1]);
    const stat = '/proc/self/task/' + process.pid + '/stat';
    const cpuMs = () => {
      try {
        const s = readFileSync(stat, 'utf8');
        const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
        return ((Number(f[11]) + Number(f[12])) * 1000) / hz;
      } catch {
        return NaN;
      }
    };
    const h = monitorEventLoopDelay({ resolution: 10 });
    const gaps = [];
    let last = performance.now();
    let lastCpu = cpuMs();
    const timer = setInterval(() => {
      const now = performance.now();
      const cpu = cpuMs();
      if (now - last > 50) gaps.push({ wall: Math.round(now - last - 5), cpu: Math.round(cpu - lastCpu) });
      last = now;
      lastCpu = cpu;
    }, 5);
    h.enable();
    const t0 = performance.now();
    const p = new AudioPipeline({ songId: 'song', inputWav: file, outDir: out, useDemucsSeparation: false, useBasicPitchTranscription: transcription });
    await p.run();
    const wall = (performance.now() - t0) / 1000;
    h.disable();
    clearInterval(timer);
    console.log(JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, gaps, wall }));`;
  return runScript(script, [file, out, transcription, ticksPerSecond], { stdio: ['ignore', 'pipe', 'inherit'] });
}

try {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}, load average ${loadavg()[0].toFixed(2)}`);
  console.log(`Build measured: ${root}; separation off, transcription ${transcription ? 'on' : 'off'}, defaults otherwise`);
  console.log(
    '| song | wall | largest stall (wall) | largest main-thread CPU in one stall | loop delay p99 | stalls > 50 ms: wall / main-thread CPU, most CPU first |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const minutes of values.minutes.split(',').map(Number)) {
    const file = join(dir, `song_${minutes}min.wav`);
    await writeWav(file, exampleSong(44100, minutes * 60), { sampleRate: 44100, channels: 2 });
    for (let run = 0; run < Number(values.runs); run++) {
      const out = join(dir, `out-${minutes}-${run}`);
      const r = runChild(file, out);
      rmSync(out, { recursive: true, force: true });
      const gaps = r.gaps.sort((a, b) => b.cpu - a.cpu || b.wall - a.wall);
      const maxCpu = gaps.length ? Math.max(...gaps.map((g) => g.cpu)) : 0;
      const shown = gaps.length
        ? `${gaps
            .slice(0, 5)
            .map((g) => `${g.wall}/${g.cpu}`)
            .join(', ')} ms${gaps.length > 5 ? ` (+${gaps.length - 5})` : ''}`
        : 'none';
      console.log(`| ${minutes} min | ${r.wall.toFixed(2)} s | ${r.maxMs.toFixed(0)} ms | **${maxCpu} ms** | ${r.p99Ms.toFixed(0)} ms | ${shown} |`);
    }
  }
  console.log(`load average after: ${loadavg()[0].toFixed(2)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
