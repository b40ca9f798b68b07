import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { readParquetInfo, readParquetTable } from '../../lib/datasets/parquet.js';
import { BEATS_SCHEMA } from '../../lib/datasets/schema.js';
import { StreamingParquetWriter } from '../../lib/datasets/streaming.js';
import { beatsBatch } from '../../lib/datasets/tables.js';
import { useTempDir } from '../helpers/tmp.js';

describe('StreamingParquetWriter', () => {
  const dir = useTempDir();

  it('writes appended batches as row groups and reads back every row in order', async () => {
    const path = join(dir, 'beats.parquet');
    const writer = new StreamingParquetWriter(path, BEATS_SCHEMA, { maxRowGroupSize: 1000 });
    let expected = 0;
    for (let stem = 0; stem < 5; stem++) {
      const times = Float64Array.from({ length: 700 }, (_, i) => i * 0.5 + stem);
      await writer.append(beatsBatch('song', [`stem${stem}`], times, 120));
      expected += 700;
    }
    // Nothing is in place before close.
    expect(existsSync(path)).toBe(false);
    const result = await writer.close();
    expect(result).toMatchObject({ path, rows: expected });
    const info = await readParquetInfo(path);
    expect(info.numRows).toBe(expected);
    expect(info.numRowGroups).toBe(4);
    expect(info.columns.every((c) => c.compression === 'SNAPPY')).toBe(true);
    const table = await readParquetTable(path);
    expect(table.schema.fields.map((f) => f.name)).toEqual(BEATS_SCHEMA.columns.map((c) => c.name));
    const stems = table.getChild('stem')!.toArray() as string[];
    expect(stems[0]).toBe('stem0');
    expect(stems[expected - 1]).toBe('stem4');
    expect((table.getChild('time_s')!.toArray() as Float64Array)[701]).toBe(1.5);
  });

  it('writes no file for an empty dataset and leaves no temp file when aborted', async () => {
    const empty = new StreamingParquetWriter(join(dir, 'empty.parquet'), BEATS_SCHEMA);
    expect(await empty.close()).toBeNull();
    const aborted = new StreamingParquetWriter(join(dir, 'aborted.parquet'), BEATS_SCHEMA);
    await aborted.append(beatsBatch('song', ['a'], [0, 1, 2], 100));
    await aborted.abort();
    expect(readdirSync(dir).filter((f) => f.includes('aborted'))).toEqual([]);
  });
});
