import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav, type StemSeparator } from '../../lib/index.js';
import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { clickTrack } from '../helpers/clicks.js';
import { pythonHas, venvPython } from '../helpers/python.js';
import { useTempDir } from '../helpers/tmp.js';
import { requires, venv } from '../helpers/requires.js';

const root = join(import.meta.dirname, '..', '..');
const havePython = pythonHas('pyarrow', 'pandas');
if (!havePython) console.warn('[pipeline-python] skipped: .venv with pyarrow and pandas not found (scripts/reference/requirements.txt)');

const twoStems: StemSeparator = {
  modelName: 'halves',
  async separate({ samples, sampleRate, channels }) {
    return [
      { name: 'drums', samples: samples.map((s) => s * 0.5), sampleRate, channels },
      { name: 'bass', samples: samples.map((s) => s * 0.5), sampleRate, channels },
    ];
  },
};

describe('the pipeline’s streamed datasets, read by pyarrow/pandas', requires(venv('pyarrow', 'pandas')), () => {
  const dir = useTempDir();
  it('have the schemas, dtypes and leaf types the original writes', async () => {
    const input = join(dir, 'song.wav');
    await writeWav(input, clickTrack({ sampleRate: 22050, seconds: 10, bpm: 120 }), { sampleRate: 22050 });
    await new AudioPipeline(
      { songId: 'song', inputWav: input, outDir: join(dir, 'out'), useBasicPitchTranscription: false },
      { services: { separator: twoStems }, plan: planConcurrency({ stemConcurrency: 2 }) },
    ).run();
    const r = spawnSync(venvPython, [join(root, 'scripts', 'reference', 'check_parquet_dtypes.py'), join(dir, 'out', 'datasets', 'song')], {
      encoding: 'utf8',
    });
    const report = JSON.parse(r.stdout) as { ok: boolean; datasets: { dataset: string; ok: boolean; problems: string[] }[] };
    expect(report.datasets.map((d) => d.dataset).sort()).toEqual(['bar_features', 'bar_grid', 'beats']);
    expect(report.datasets.flatMap((d) => d.problems)).toEqual([]);
    expect(report.ok).toBe(true);
  });
});
