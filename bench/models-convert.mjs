// Benchmark: `models fetch --from <folder> --unverified` per Demucs model — reading the float16
// checkpoint(s), checking and converting them into the committed weightless graph, writing the
// ONNX file — timed, with the peak RSS (VmHWM) of a child process that does only that.
// Checkpoints: --from <folder> holding the official file names, else random-init ones written by
// the reference code (scripts/models/demucs_graph.py checkpoints; needs .venv-torch).
// Run: npx tsc -p tsconfig.json && node bench/models-convert.mjs [--models htdemucs,htdemucs_6s] [--from DIR]
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

const { knownModel, graphsDir } = await import(join(root, 'dist', 'models', 'fetch.js')).then(async (m) => ({
  ...m,
  ...(await import(join(root, 'dist', 'models', 'registry.js'))),
}));
const work = mkdtempSync(join(tmpdir(), 'bench-models-'));
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
    rmSync(join(work, `${name}-models`), { recursive: true, force: true });
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
