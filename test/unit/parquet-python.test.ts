/**
 * Reads our Parquet datasets with Python's pyarrow + pandas and compares dtypes, Arrow schema and
 * Parquet leaf types with what the original (DataFrame.to_parquet via pyarrow) writes for the same
 * rows. Development-only: skipped, with the reason, when .venv/bin/python or pyarrow is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { segmentBeatsIntoBars } from '../../lib/music/segmentation.js';
import { BEATS, TEMPO, writeFixtureSong } from './datasetFixtures.js';
import { requires, venv } from '../helpers/requires.js';

const root = resolve(import.meta.dirname, '..', '..');
const python = join(root, '.venv', 'bin', 'python');
const script = join(root, 'scripts', 'reference', 'check_parquet_dtypes.py');

interface DatasetReport {
  dataset: string;
  ok: boolean;
  rows: number;
  dtypes: Record<string, string>;
  problems: string[];
}

describe('datasets read by pyarrow/pandas match what the original writes', requires(venv('pyarrow', 'pandas')), () => {
  it('events, beats, bars and bar_features: same schema, dtypes, leaf types and values', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-pyparquet-'));
    await writeFixtureSong(dir, {
      bars: [4, 3],
      barGrid: { bars: segmentBeatsIntoBars(BEATS, TEMPO, 4, 4, 10), beatsPerBar: 4 },
    });
    const run = spawnSync(python, [script, dir], { encoding: 'utf8', timeout: 120_000 });
    const report = JSON.parse(run.stdout) as { ok: boolean; datasets: DatasetReport[] };
    for (const d of report.datasets) expect(d.problems, d.dataset).toEqual([]);
    expect(report.datasets.map((d) => d.dataset)).toEqual(['bar_features', 'bar_grid', 'bars', 'beats', 'events']);
    const events = report.datasets.find((d) => d.dataset === 'events')!;
    expect(events.dtypes.pitch).toBe('int64');
    expect(events.dtypes.is_drum).toBe('bool');
    expect(events.dtypes.start_s).toBe('float64');
    expect(run.status).toBe(0);
    expect(report.ok).toBe(true);
  });
});
