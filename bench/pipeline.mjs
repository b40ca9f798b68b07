// Benchmark: the whole pipeline without models (separation and transcription off) on generated
// 3- and 10-minute songs: end-to-end time, per-step times and peak RSS (each run in its own
// process), then batch throughput with --jobs 1 and --jobs 2.
// Run: npm run build:ts && node bench/pipeline.mjs [--songs 4] [--minutes 3,10] [--beat-tracker beatnet|librosa]
//   [--song-concurrency 1,2 --reps 5]: the song runs with each plan.songConcurrency in turn (median of
//   --reps, alternating), to compare the sequential and the overlapped steps in one run; --songs 0
//   skips the batch.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { writeWav } from '../dist/index.js';
import { exampleSong } from '../scripts/example-song.mjs';
import { runScript } from './child.mjs';

const { values } = parseArgs({
  options: {
    songs: { type: 'string', default: '4' },
    minutes: { type: 'string', default: '3,10' },
    'beat-tracker': { type: 'string', default: 'beatnet' },
    'song-concurrency': { type: 'string' },
    reps: { type: 'string', default: '1' },
  },
});
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-pipeline-'));

/** Runs one pipeline invocation in a child process and returns its timings and peak RSS. */
function runChild(args) {
  const script = `
    import { AudioPipeline, planConcurrency } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
    const args = JSON.parse(process.argv[1]);
    const t0 = performance.now();
    if (args.batch) {
      const r = await AudioPipeline.processBatch(args.files, args.out, { jobs: args.jobs, config: args.config });
      if (r.failure_count) throw new Error(JSON.stringify(r.failed));
      console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
    } else {
      const plan = args.songConcurrency ? planConcurrency({ songConcurrency: args.songConcurrency }) : undefined;
      const p = new AudioPipeline({ songId: args.songId, inputWav: args.file, outDir: args.out, ...args.config }, plan ? { plan } : {});
      await p.run();
      console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, steps: p.stepTimings, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));
    }`;
  return runScript(script, args);
}

const config = { useDemucsSeparation: false, useBasicPitchTranscription: false, beatTracker: values['beat-tracker'] };
try {
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}`);
  console.log(`Full pipeline without models (separation and transcription off), beat tracker ${config.beatTracker}, defaults otherwise`);
  const variants = values['song-concurrency'] ? values['song-concurrency'].split(',').map(Number) : [undefined];
  const reps = Math.max(1, Number(values.reps));
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  console.log(`| song | song concurrency | end to end${reps > 1 ? ` (median of ${reps})` : ''} | peak RSS | slowest steps |`);
  console.log('|---|---|---|---|---|');
  for (const minutes of values.minutes.split(',').map(Number)) {
    const file = join(dir, `song_${minutes}min.wav`);
    await writeWav(file, exampleSong(44100, minutes * 60), { sampleRate: 44100, channels: 2 });
    runChild({ songId: 'warmup', file, out: join(dir, 'warm'), config }); // page cache, first-load costs
    const runs = new Map(variants.map((v) => [v, []]));
    for (let i = 0; i < reps; i++) {
      // Alternating order, so that a change in the machine's load falls on every variant alike.
      for (const v of i % 2 ? [...variants].reverse() : variants) {
        runs.get(v).push(runChild({ songId: `song_${minutes}min`, file, out: join(dir, 'out'), config, songConcurrency: v }));
      }
    }
    for (const v of variants) {
      const rs = runs.get(v);
      const r = rs.find((x) => x.seconds === median(rs.map((y) => y.seconds)));
      const steps = Object.entries(r.steps)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 4)
        .map(([k, s]) => `${k.replace(/^step_(\d+)_.*/, 'step $1')} ${s.toFixed(3)} s`)
        .join(', ');
      console.log(`| ${minutes} min 44.1 kHz stereo | ${v ?? 'plan'} | ${r.seconds.toFixed(3)} s | ${r.maxRssMiB.toFixed(0)} MiB | ${steps} |`);
    }
  }

  const songs = Number(values.songs);
  if (songs > 0) {
    const files = [];
    for (let i = 0; i < songs; i++) {
      const file = join(dir, `batch_${i}.wav`);
      await writeWav(file, exampleSong(44100, 180, 100 + 7 * i), { sampleRate: 44100, channels: 2 });
      files.push(file);
    }
    console.log(`\nBatch of ${songs} three-minute songs`);
    console.log('| jobs | wall | songs/min | peak RSS | speed-up |');
    console.log('|---|---|---|---|---|');
    let base = 0;
    for (const jobs of [1, 2]) {
      const r = runChild({ batch: true, files, out: join(dir, `batch-j${jobs}`), jobs, config });
      if (jobs === 1) base = r.seconds;
      console.log(
        `| ${jobs} | ${r.seconds.toFixed(2)} s | ${((songs / r.seconds) * 60).toFixed(1)} | ${r.maxRssMiB.toFixed(0)} MiB | ${(base / r.seconds).toFixed(2)}× |`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
