// Golden outputs: for fixed inputs and configs, every file the pipeline writes must stay
// byte-identical across refactors (combined.json compared without its run-specific keys: timings,
// resource figures, environment, the fingerprint of the input file's path and mtime; Parquet
// tables compared by schema and values, since their chunk paths name the temp folder).
// Regenerate deliberately with `UPDATE_GOLDEN=1 npx vitest run test/e2e/pipeline-golden.test.ts`
// and say in the commit why the outputs changed.
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { readParquetTable } from '../../lib/datasets/parquet.js';
import { parseReportHtml } from '../../lib/reports/html/data.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { clickTrack } from '../helpers/clicks.js';
import { filesUnder, useTempDir } from '../helpers/tmp.js';

const fixture = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'golden', 'pipeline-hashes.json');
const RUN_SPECIFIC_KEYS = ['step_timings', 'step_metrics', 'environment', 'run_fingerprint'];

const CASES: Record<string, { input: 'song' | 'clicks34'; config: Record<string, unknown> }> = {
  defaults_no_models: { input: 'song', config: {} },
  waltz_native_chunks_no_preprocess: {
    input: 'clicks34',
    config: { timeSignatureNum: 3, preserveChunkAudio: true, usePydubPreprocess: false, hopLength: 256 },
  },
  no_chunk_wavs: { input: 'song', config: { writeBarChunkWavs: false, timeSignatureNum: 6, timeSignatureDen: 8 } },
};

async function digest(path: string, root: string, input: string): Promise<string> {
  let bytes: Buffer | string = readFileSync(path);
  if (path.endsWith('.parquet')) {
    // Chunk paths inside the tables name the temp folder: compare the decoded table (schema and
    // every value) with the folder replaced, instead of the file's bytes.
    const table = await readParquetTable(path);
    const columns = table.schema.fields.map((f) => [f.name, String(f.type), Array.from(table.getChild(f.name)!.toArray() as ArrayLike<unknown>, String)]);
    bytes = JSON.stringify(columns).split(root).join('<out>');
  } else if (path.endsWith('manifest.json')) {
    // The manifest's fingerprint names the input's path and mtime; its file list must be stable.
    const manifest = JSON.parse(bytes.toString('utf8')) as { files: Array<{ path: string; bytes: number; sha256: string }> };
    bytes = JSON.stringify(manifest.files.filter((f) => !/\.parquet$|combined\.json$|report\.html$/.test(f.path)));
  } else if (path.endsWith('report.html')) {
    // The page inlines the chart libraries' bundles: compare the data it draws, not their bytes.
    bytes = JSON.stringify(parseReportHtml(bytes.toString('utf8')))
      .split(root)
      .join('<out>');
  } else if (path.endsWith('combined.json')) {
    const summary = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    for (const key of RUN_SPECIFIC_KEYS) delete summary[key];
    bytes = JSON.stringify(summary).split(root).join('<out>').split(input).join('<input>');
  }
  return createHash('sha256').update(bytes).digest('hex');
}

describe('golden pipeline outputs (byte-identical across refactors)', () => {
  const dir = useTempDir('didactic-golden-');
  const inputs = { song: join(dir, 'song.wav'), clicks34: join(dir, 'clicks34.wav') };
  const actual: Record<string, Record<string, string>> = {};

  beforeAll(async () => {
    await writeWav(inputs.song, exampleSong(44100, 12, 120), { sampleRate: 44100, channels: 2 });
    await writeWav(inputs.clicks34, clickTrack({ sampleRate: 48000, seconds: 9, bpm: 100, beatsPerBar: 3, leadIn: 0.3, channels: 2 }), {
      sampleRate: 48000,
      channels: 2,
    });
    for (const [name, c] of Object.entries(CASES)) {
      const out = join(dir, name);
      await new AudioPipeline({
        songId: name,
        inputWav: inputs[c.input],
        outDir: out,
        useDemucsSeparation: false,
        useBasicPitchTranscription: false,
        // The librosa tracker without meter detection must reproduce the pre-rhythm outputs exactly.
        beatTracker: 'librosa',
        detectMeter: false,
        ...c.config,
      }).run();
      actual[name] = Object.fromEntries(await Promise.all(filesUnder(out).map(async (f) => [relative(out, f), await digest(f, out, inputs[c.input])])));
    }
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(fixture, `${JSON.stringify(actual, null, 2)}\n`);
  }, 120_000);

  for (const name of Object.keys(CASES)) {
    it(`${name}: same files, same bytes`, () => {
      const expected = (JSON.parse(readFileSync(fixture, 'utf8')) as Record<string, Record<string, string>>)[name];
      expect(expected, `no golden entry for ${name}`).toBeDefined();
      expect(Object.keys(expected!).length).toBeGreaterThan(5);
      expect(actual[name]).toEqual(expected);
    });
  }
});
