// Benchmark: `models fetch --from <folder> --unverified` per Demucs model — reading the float16
// checkpoint(s), checking and converting them into the committed weightless graph, writing the
// ONNX file — timed, with the peak RSS (VmHWM) of a child process that does only that.
// Checkpoints: --from <folder> holding the official file names, else random-init ones written by
// the reference code (scripts/models/demucs_graph.py checkpoints; needs .venv-torch).
// With --separate <seconds>: the first run (open the session + separate, fresh process, 2 threads,
// peak RSS) of a synthetic stereo song of that length with the converted random-init htdemucs and
// with scripts/export-htdemucs.py's random-init export (the same graph: the speed must match).
// Run: npm run build:ts && npm run bench:models -- [--models htdemucs,htdemucs_6s] [--from DIR] [--separate 180]
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakBytes, runJson } from './child.mjs';

const root = join(import.meta.dirname, '..');
const python = join(root, '.venv-torch', 'bin', 'python');
const { values } = parseArgs({
  options: {
    models: { type: 'string', default: 'htdemucs,htdemucs_6s,htdemucs_ft' },
    from: { type: 'string' },
    child: { type: 'string' },
    out: { type: 'string' },
    separate: { type: 'string' },
    'separate-child': { type: 'string' },
  },
});

if (values.child) {
  const { fetchModel } = await import(join(root, 'dist', 'models', 'fetch.js'));
  const t0 = performance.now();
  const r = await fetchModel(values.child, { from: values.from, unverified: true, modelsDir: values.out });
  const seconds = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ model: values.child, seconds, convertSeconds: r.convertSeconds, peakBytes: peakBytes(), onnxBytes: statSync(r.path).size }));
  process.exit(0);
}

if (values['separate-child']) {
  const { createSeparator } = await import(join(root, 'dist', 'models', 'demucs', 'index.js'));
  const frames = Math.round(Number(values.separate) * 44100);
  // A deterministic stereo mix: chords, a bass line and clicks, so every branch sees signal.
  const mix = new Float32Array(2 * frames);
  for (let i = 0; i < frames; i++) {
    const t = i / 44100;
    const v =
      0.2 * Math.sin(2 * Math.PI * 220 * t) + 0.15 * Math.sin(2 * Math.PI * 277.2 * t) + 0.2 * Math.sin(2 * Math.PI * 55 * t) + (i % 22050 < 200 ? 0.3 : 0);
    mix[2 * i] = v;
    mix[2 * i + 1] = 0.9 * v;
  }
  const t0 = performance.now();
  const sep = await createSeparator(values['separate-child'], { intraOpThreads: 2 });
  const openSeconds = (performance.now() - t0) / 1000;
  const r = await sep.separate({ samples: mix, sampleRate: 44100, channels: 2 });
  const seconds = (performance.now() - t0) / 1000;
  await sep.close();
  console.log(JSON.stringify({ openSeconds, seconds, stems: r.stems.length, peakBytes: peakBytes() }));
  process.exit(0);
}

const { knownModel, graphsDir } = await import(join(root, 'dist', 'models', 'fetch.js')).then(async (m) => ({
  ...m,
  ...(await import(join(root, 'dist', 'models', 'registry.js'))),
}));
const work = mkdtempSync(join(tmpdir(), 'bench-models-'));
/** [label, model path] pairs separated with --separate. */
const separated = [];
try {
  for (const name of values.models.split(',')) {
    if (!existsSync(join(graphsDir(), `${knownModel(name).graph ?? name}.onnx`))) {
      console.log(`${name}: no weightless graph in models/graphs, skipped`);
      continue;
    }
    let from = values.from;
    if (!from) {
      if (!existsSync(python)) throw new Error('no --from folder and no .venv-torch to write random-init checkpoints');
      const made = runJson(
        python,
        [join(root, 'scripts/models/demucs_graph.py'), 'checkpoints', '--arch', name, '--seed', '3', '-o', join(work, `${name}-raw`)],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      from = join(work, name);
      mkdirSync(from);
      for (const [i, f] of knownModel(name).files.entries()) copyFileSync(join(work, `${name}-raw`, made.files[i]), join(from, f.file));
    }
    const r = runJson(process.execPath, [import.meta.filename, '--child', name, '--from', from, '--out', join(work, `${name}-models`)]);
    console.log(
      `${name}: fetch --from (read, hash, convert, write) ${r.seconds.toFixed(1)} s, of which conversion ${r.convertSeconds.toFixed(1)} s; ` +
        `peak RSS ${(r.peakBytes / 2 ** 20).toFixed(0)} MiB; ONNX ${(r.onnxBytes / 1e6).toFixed(1)} MB`,
    );
    if (values.separate && name === 'htdemucs') separated.push(['converted (models fetch)', join(work, `${name}-models`, 'htdemucs.onnx')]);
    else rmSync(join(work, `${name}-models`), { recursive: true, force: true });
  }
  if (values.separate) {
    if (!existsSync(python)) throw new Error('--separate needs .venv-torch for the export script');
    const exported = join(work, 'exported.onnx');
    execFileSync(python, [join(root, 'scripts/export-htdemucs.py'), '--random-init', '--seed', '0', '-o', exported], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    separated.push(['exported (scripts/export-htdemucs.py)', exported]);
    for (const [label, model] of separated) {
      const r = JSON.parse(
        execFileSync(process.execPath, [import.meta.filename, '--separate-child', model, '--separate', values.separate], { encoding: 'utf8' })
          .trim()
          .split('\n')
          .pop(),
      );
      console.log(
        `htdemucs ${label}: first run on ${values.separate} s of stereo: ${r.seconds.toFixed(1)} s ` +
          `(session open ${r.openSeconds.toFixed(1)} s), ${r.stems} stems, peak RSS ${(r.peakBytes / 2 ** 20).toFixed(0)} MiB`,
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
