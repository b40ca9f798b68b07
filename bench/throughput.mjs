// Throughput benchmark: songs per minute on a batch of generated 3-minute songs (44.1 kHz stereo)
// through the whole pipeline with transcription on (Basic Pitch, converted model), stem separation
// off and on (Demucs engine with the stand-in model: real segmenting, STFT/iSTFT and overlap-add,
// a cheap graph), for --jobs 1/2 and in-song parallelism (stems at once) off/on. Every row runs
// in its own process; peak RSS is that process's. The sequential baseline is one song, one stem
// and one ONNX Runtime thread at a time. Speed-up = baseline wall / row wall, same separation mode.
// Run: npm run build:ts && node bench/throughput.mjs [--songs 4] [--minutes 3]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createTranscriber, writeWav } from '../dist/index.js';
import { buildDemucsStandIn } from '../dist/testing.js';
import { planConcurrency } from '../dist/index.js';
import { exampleSong } from '../scripts/example-song.mjs';
import { runScript } from './child.mjs';

const { values } = parseArgs({ options: { songs: { type: 'string', default: '4' }, minutes: { type: 'string', default: '3' } } });
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-throughput-'));
const songs = Number(values.songs);
const minutes = Number(values.minutes);

function runBatch(args) {
  const script = `
    import { planConcurrency, processBatch } from ${JSON.stringify(join(root, 'dist', 'index.js'))};
    const a = JSON.parse(process.argv[1]);
    const t0 = performance.now();
    const plan = planConcurrency({ jobs: a.jobs, stemConcurrency: a.stems, ortIntraOpThreads: a.ort });
    const r = await processBatch(a.files, a.out, { plan, config: a.config });
    if (r.failure_count) throw new Error(JSON.stringify(r.failed));
    console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000, maxRssMiB: process.resourceUsage().maxRSS / 1024 }));`;
  const env = { ...process.env, UV_THREADPOOL_SIZE: String(Math.max(4, args.jobs * (args.stems ?? 2) + 2)) };
  return runScript(script, args, { env });
}

try {
  await createTranscriber(); // converts and caches the Basic Pitch model once, outside the timings
  const model = join(dir, 'htdemucs-standin.onnx');
  writeFileSync(model, buildDemucsStandIn());
  const files = [];
  for (let i = 0; i < songs; i++) {
    const file = join(dir, `song_${i}.wav`);
    await writeWav(file, exampleSong(44100, minutes * 60, 100 + 7 * i), { sampleRate: 44100, channels: 2 });
    files.push(file);
  }
  const cores = availableParallelism();
  console.log(`${songs} songs × ${minutes} min, transcription on; ${cores} cores (${cpus()[0]?.model ?? 'unknown CPU'}); Node ${process.version}`);
  console.log('| separation | jobs | in-song parallelism | ORT threads per song | wall | songs/min | speed-up | peak RSS |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const separation of [false, true]) {
    const config = { useDemucsSeparation: separation, demucsModel: model };
    let base = 0;
    // Sequential first (the baseline), then the parallel variants; the default plan last.
    const rows = [
      { jobs: 1, stems: 1, ort: 1, label: 'off' },
      { jobs: 1, stems: undefined, ort: undefined, label: 'on' },
      { jobs: 2, stems: 1, ort: 1, label: 'off' },
      { jobs: 2, stems: undefined, ort: undefined, label: 'on (plan)' },
    ];
    runBatch({ files: files.slice(0, 1), out: join(dir, 'warm'), jobs: 1, stems: 1, ort: 1, config }); // page cache, first loads
    for (const row of rows) {
      const r = runBatch({ files, out: join(dir, `out-${separation}-${row.jobs}-${row.label}`), jobs: row.jobs, stems: row.stems, ort: row.ort, config });
      if (!base) base = r.seconds;
      // The plan of lib/pipeline/concurrency.ts; with one stem (no separation) the idle stem
      // slots' cores go to the transcriber's threads, and separation gets stems × threads.
      const plan = planConcurrency({ jobs: row.jobs, stemConcurrency: row.stems, ortIntraOpThreads: row.ort });
      const slots = plan.stemConcurrency;
      const ort = plan.ortIntraOpThreads;
      const shape = separation ? `sep ${slots * ort}, ${slots} stems × ${ort}` : `1 stem × ${ort * slots}`;
      console.log(
        `| ${separation ? 'on (stand-in)' : 'off'} | ${row.jobs} | ${row.label} | ${shape} | ${r.seconds.toFixed(1)} s | ` +
          `${((songs / r.seconds) * 60).toFixed(2)} | ${(base / r.seconds).toFixed(2)}× | ${r.maxRssMiB.toFixed(0)} MiB |`,
      );
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
