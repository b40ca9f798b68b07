/**
 * The Parquet thread's Arrow IPC writer (lib/datasets/ipc.ts) against apache-arrow's own
 * (tableToIPC): for every dataset, the stream it writes decodes, with apache-arrow, to the same
 * schema (names, types, nullability) and the same values, including empty batches, non-ASCII
 * strings, booleans, 64-bit integers beyond 2^32 and list columns.
 */
import { tableFromIPC, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';

import { ipcFromBuffers } from '../../lib/datasets/arrow.js';
import { type ColumnBatch, columnBuffers } from '../../lib/datasets/columns.js';
import { ipcStream } from '../../lib/datasets/ipc.js';
import { BAR_FEATURES_SCHEMA, BAR_GRID_SCHEMA, BARS_SCHEMA, BEATS_SCHEMA, type DatasetSchema, EVENTS_SCHEMA } from '../../lib/datasets/schema.js';
import { barFeaturesBatch, barGridBatch, barsBatch, beatsBatch, eventsBatch } from '../../lib/datasets/tables.js';
import { segmentBeatsIntoBars } from '../../lib/music/segmentation.js';
import { BEATS, EVENTS, SONG_ID, stemBarFeatures, TEMPO } from './datasetFixtures.js';

/** Every row as plain values (bigint as text, lists as arrays), in column order. */
function rows(table: Table): unknown[] {
  return table.toArray().map((row) => JSON.parse(JSON.stringify(row, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v?.toArray ? Array.from(v.toArray()) : v))));
}

function expectSameAsArrow(schema: DatasetSchema, batch: ColumnBatch) {
  const ours = tableFromIPC(ipcStream(schema, columnBuffers(schema, batch)));
  const arrows = tableFromIPC(ipcFromBuffers(schema, columnBuffers(schema, batch)));
  expect(ours.schema.fields.map((f) => [f.name, String(f.type), f.nullable])).toEqual(arrows.schema.fields.map((f) => [f.name, String(f.type), f.nullable]));
  expect(ours.schema.fields.map((f) => f.name)).toEqual(schema.columns.map((c) => c.name));
  expect(ours.numRows).toBe(batch.length);
  expect(rows(ours)).toEqual(rows(arrows));
}

describe('the Arrow IPC stream of a batch', () => {
  it('decodes as apache-arrow’s does, for each dataset', () => {
    const bars = segmentBeatsIntoBars(BEATS, TEMPO, 4, 4, 12, { pickup: true });
    expectSameAsArrow(EVENTS_SCHEMA, eventsBatch(EVENTS[0]!));
    expectSameAsArrow(BEATS_SCHEMA, beatsBatch(SONG_ID, ['bass', 'drums'], BEATS, TEMPO));
    expectSameAsArrow(BARS_SCHEMA, barsBatch(SONG_ID, EVENTS));
    expectSameAsArrow(BAR_FEATURES_SCHEMA, barFeaturesBatch(stemBarFeatures('bass', 3)));
    expectSameAsArrow(BAR_GRID_SCHEMA, barGridBatch(SONG_ID, bars, BEATS, 4, TEMPO));
  });

  it('keeps values at the edges: no rows, odd row counts of booleans, large integers, multi-byte text, lists of one width', () => {
    const schema: DatasetSchema = {
      name: 'edges',
      columns: [
        { name: 'i', kind: 'int64' },
        { name: 'f', kind: 'float64' },
        { name: 'b', kind: 'bool' },
        { name: 's', kind: 'utf8' },
        { name: 'l', kind: 'list<float64>', listSize: 2 },
      ],
    };
    const empty = { length: 0, columns: { i: [], f: [], b: [], s: [], l: [] } };
    expectSameAsArrow(schema, empty);
    const nine = {
      length: 9,
      columns: {
        i: [0, -1, 2 ** 40, -(2 ** 53 - 1), 2 ** 53 - 1, 7, 8, 9, 10],
        f: new Float64Array([0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 1e-300, 2, 3, 4]),
        b: [true, false, true, true, false, false, true, false, true],
        s: ['', 'é', '音楽', 'a\u0000b', '🎵', 'x', 'yy', 'zzz', 'end'],
        l: { values: Float64Array.from({ length: 18 }, (_, k) => k / 3), width: 2 },
      },
    };
    expectSameAsArrow(schema, nine);
  });
});
