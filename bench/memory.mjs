// Memory benchmark: peak RSS of (a) one 5- and one 20-minute song, (b) a batch of many short
// songs, sampled as the batch goes, to show that memory does not grow with song count.
// Each scenario runs in its own process. --models adds the 20-minute song with transcription, and with
// separation (stand-in model) + transcription. Run: npm run build:ts && node bench/memory.mjs [--songs 200] [--models]
//
// --lengths 1,10,30,60: instead, peak RSS against the input's length (44.1 kHz stereo, minutes),
// each song in its own process, next to the memory plan that is checked before step 1
// (lib/pipeline/memory.ts). --config '{"beatTracker":"librosa"}' adds config fields (default: no
// separation, no transcription; --models: the stand-in Demucs model and transcription).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { createTranscriber, PipelineConfig, planConcurrency, planSongMemory, writeWav } from '../dist/index.js';
import { buildDemucsStandIn } from '../dist/testing.js';
import { exampleSong } from '../scripts/example-song.mjs';
import { runScript } from './child.mjs';

const { values } = parseArgs({
  options: {
    songs: { type: 'string', default: '200' },
    models: { type: 'boolean', default: false },
    lengths: { type: 'string' },
    config: { type: 'string', default: '{}' },
  },
});
const root = join(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'didactic-bench-memory-'));
const config = { useDemucsSeparation: false, useBasicPitchTranscription: false };

function child(script, args) {
  return runScript(script, args, { maxBuffer: 1 << 26 });
}
const api = JSON.stringify(join(root, 'dist', 'index.js'));

if (values.lengths) {
  try {
    await byLength(values.lengths.split(',').map(Number));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  process.exit(0);
}

/** Peak RSS against input length, one process per song, beside the plan checked before step 1. */
async function byLength(lengths) {
  const extra = JSON.parse(values.config);
  const fields = { ...config, ...extra };
  if (values.models) {
    const model = join(dir, 'standin.onnx');
    writeFileSync(model, buildDemucsStandIn());
    await createTranscriber(); // converted model cached outside the measurement
    Object.assign(fields, { useDemucsSeparation: true, demucsModel: model, useBasicPitchTranscription: true }, extra);
  }
  const plan = planConcurrency();
  console.log(`CPU: ${cpus()[0]?.model ?? 'unknown'} (${cpus().length} cores), Node ${process.version}`);
  console.log(`config: ${JSON.stringify({ ...fields, demucsModel: fields.demucsModel ? 'stand-in' : undefined })}, stems at once: ${plan.stemConcurrency}\n`);
  console.log('| input (44.1 kHz stereo) | wall | peak RSS | planned peak (step) | measured / planned |');
  console.log('|---|---|---|---|---|');
  for (const minutes of lengths) {
    const file = join(dir, `len_${minutes}.wav`);
    // Generated in a child so that the song's samples never sit in this process.
    execFileSync(process.execPath, [
      '--input-type=module',
      '-e',
      `import { writeWav } from ${api}; import { exampleSong } from ${JSON.stringify(join(root, 'scripts', 'example-song.mjs'))};
       await writeWav(process.argv[1], exampleSong(44100, ${minutes} * 60), { sampleRate: 44100, channels: 2 });`,
      file,
    ]);
    const r = child(
      `import { AudioPipeline } from ${api};
       const a = JSON.parse(process.argv[1]); const t0 = performance.now();
       await new AudioPipeline({ songId: 's', inputWav: a.file, outDir: a.out, ...a.config }).run();
       console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rss: process.resourceUsage().maxRSS / 1024 }));`,
      { file, out: join(dir, `out${minutes}`), config: { ...fields, memoryBudgetMb: 1 << 20 } },
    );
    const cfg = new PipelineConfig({ songId: 's', inputWav: file, outDir: dir, ...fields }, { warn: null });
    const planned = planSongMemory({ frames: minutes * 60 * 44100, sampleRate: 44100, channels: 2 }, cfg, plan.stemConcurrency);
    const plannedMiB = planned.peakBytes / 2 ** 20;
    console.log(
      `| ${minutes} min | ${r.s.toFixed(1)} s | ${r.rss.toFixed(0)} MiB | ${plannedMiB.toFixed(0)} MiB (step ${planned.peakStep.step}) | ${(r.rss / plannedMiB).toFixed(2)} |`,
    );
    rmSync(join(dir, `out${minutes}`), { recursive: true, force: true });
    unlinkSync(file);
  }
}

try {
  console.log('| scenario | wall | peak RSS |');
  console.log('|---|---|---|');
  for (const minutes of [5, 20]) {
    const file = join(dir, `song_${minutes}.wav`);
    await writeWav(file, exampleSong(44100, minutes * 60), { sampleRate: 44100, channels: 2 });
    const r = child(
      `import { AudioPipeline } from ${api};
       const a = JSON.parse(process.argv[1]); const t0 = performance.now();
       await new AudioPipeline({ songId: 's', inputWav: a.file, outDir: a.out, ...a.config }).run();
       console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rss: process.resourceUsage().maxRSS / 1024 }));`,
      { file, out: join(dir, `out${minutes}`), config },
    );
    console.log(`| one ${minutes}-minute song (44.1 kHz stereo) | ${r.s.toFixed(2)} s | ${r.rss.toFixed(0)} MiB |`);
  }

  // The same 20-minute song with the model steps: transcription of the full mix, then Demucs
  // (stand-in model: the engine's real buffers, a cheap graph) + transcription of four stems.
  if (values.models) {
    const file = join(dir, 'song_20.wav');
    const model = join(dir, 'standin.onnx');
    writeFileSync(model, buildDemucsStandIn());
    await createTranscriber(); // converted model cached outside the measurement
    for (const [label, extra] of [
      ['transcription on', { useDemucsSeparation: false }],
      ['separation (stand-in) + transcription of 4 stems', { useDemucsSeparation: true, demucsModel: model }],
    ]) {
      const r = child(
        `import { AudioPipeline } from ${api};
         const a = JSON.parse(process.argv[1]); const t0 = performance.now();
         await new AudioPipeline({ songId: 's', inputWav: a.file, outDir: a.out, ...a.config }).run();
         console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rss: process.resourceUsage().maxRSS / 1024 }));`,
        { file, out: join(dir, 'out-models'), config: extra },
      );
      console.log(`| one 20-minute song, ${label} | ${r.s.toFixed(2)} s | ${r.rss.toFixed(0)} MiB |`);
    }
  }

  const songs = Number(values.songs);
  const files = [];
  for (let i = 0; i < 8; i++) {
    const file = join(dir, `short_${i}.wav`);
    await writeWav(file, exampleSong(44100, 15, 96 + 6 * i), { sampleRate: 44100, channels: 2 });
    files.push(file);
  }
  const list = Array.from({ length: songs }, (_, i) => files[i % files.length]);
  const r = child(
    `import { AudioPipeline } from ${api};
     const a = JSON.parse(process.argv[1]); const t0 = performance.now();
     const samples = []; let done = 0;
     const ids = a.list.map((_, i) => 'song_' + i);
     const res = await AudioPipeline.processBatch(a.list, a.out, { songIds: ids, jobs: 2, config: a.config,
       onSongDone: () => { done++; if (done % Math.max(1, Math.floor(a.list.length / 8)) === 0) { globalThis.gc?.(); samples.push([done, process.memoryUsage().rss / 2 ** 20]); } } });
     console.log(JSON.stringify({ s: (performance.now() - t0) / 1000, rss: process.resourceUsage().maxRSS / 1024, failed: res.failure_count, samples }));`,
    { list, out: join(dir, 'batch'), config },
  );
  console.log(`| batch of ${songs} 15-second songs, --jobs 2 | ${r.s.toFixed(1)} s | ${r.rss.toFixed(0)} MiB (failed: ${r.failed}) |`);
  console.log(`\nRSS during the batch (songs done → MiB): ${r.samples.map(([d, m]) => `${d}→${m.toFixed(0)}`).join(', ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
