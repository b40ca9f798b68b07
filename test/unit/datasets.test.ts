import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DataType, type Table } from 'apache-arrow';
import { describe, expect, it } from 'vitest';

import { DatasetWriteError, InvalidArgumentError } from '../../lib/errors.js';
import { buildRecordBatch } from '../../lib/datasets/arrow.js';
import { checkParquetDataset, readParquetInfo, readParquetTable, writeParquetDataset } from '../../lib/datasets/parquet.js';
import { BAR_FEATURES_SCHEMA, BAR_GRID_SCHEMA, BARS_SCHEMA, BEATS_SCHEMA, type DatasetSchema, EVENTS_SCHEMA } from '../../lib/datasets/schema.js';
import { segmentBeatsIntoBars } from '../../lib/music/segmentation.js';
import { barFeaturesBatch, barsBatch, beatsBatch, eventsBatch } from '../../lib/datasets/tables.js';
import { writeSongDatasets } from '../../lib/datasets/songSink.js';
import { StreamingParquetWriter } from '../../lib/datasets/streaming.js';
import { BEATS, EVENTS, SONG_ID, stemBarFeatures, TEMPO, writeFixtureSong } from './datasetFixtures.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'de-datasets-'));

function typeName(t: DataType): string {
  if (DataType.isInt(t)) return `int${t.bitWidth}`;
  if (DataType.isFloat(t)) return t.precision === 2 ? 'float64' : 'float';
  if (DataType.isBool(t)) return 'bool';
  if (DataType.isUtf8(t)) return 'utf8';
  if (DataType.isList(t)) return `list<${typeName(t.children[0]!.type)}>`;
  return String(t);
}

function expectSchema(table: Table, schema: DatasetSchema) {
  expect(table.schema.fields.map((f) => f.name)).toEqual(schema.columns.map((c) => c.name));
  for (const [i, field] of table.schema.fields.entries()) {
    expect(typeName(field.type), field.name).toBe(schema.columns[i]!.kind);
    expect(field.nullable, field.name).toBe(true);
    if (DataType.isList(field.type)) expect(field.type.children[0]!.name).toBe('element');
  }
}

const rowsOf = (table: Table) => table.toArray().map((r) => r.toJSON() as Record<string, unknown>);

describe('song datasets written and read back', () => {
  it('writes all four files with the exact schemas, SNAPPY, one row group', async () => {
    const dir = tmp();
    const result = await writeFixtureSong(dir);
    expect(Object.keys(result)).toEqual(['events', 'beats', 'bars', 'bar_features']);
    expect(readdirSync(dir).sort()).toEqual(['bar_features.parquet', 'bars.parquet', 'beats.parquet', 'events.parquet']);
    for (const [name, schema] of [
      ['events', EVENTS_SCHEMA],
      ['beats', BEATS_SCHEMA],
      ['bars', BARS_SCHEMA],
      ['bar_features', BAR_FEATURES_SCHEMA],
    ] as const) {
      const path = join(dir, `${name}.parquet`);
      expectSchema(await readParquetTable(path), schema);
      const info = await readParquetInfo(path);
      expect(info.numRowGroups).toBe(1);
      expect(new Set(info.columns.map((c) => c.compression))).toEqual(new Set(['SNAPPY']));
      expect(info.keyValueMetadata.has('ARROW:schema')).toBe(true);
    }
    expect(result.events!.rows).toBe(7);
    expect(result.beats!.rows).toBe(32);
    expect(result.bar_features!.rows).toBe(5);
    const info = await readParquetInfo(join(dir, 'bar_features.parquet'));
    expect(info.columns.map((c) => c.path)).toContain('mfcc_mean.list.element');
  });

  it('events keep note order per stem, computed dur_s and the alignment columns', async () => {
    const dir = tmp();
    await writeParquetDataset(join(dir, 'events.parquet'), EVENTS_SCHEMA, EVENTS.map(eventsBatch));
    const rows = rowsOf(await readParquetTable(join(dir, 'events.parquet')));
    expect(rows.map((r) => r.stem)).toEqual(['drums', 'drums', 'drums', 'drums', 'bass', 'bass', 'bass']);
    expect(rows[0]).toMatchObject({ pitch: 36n, velocity: 76n, start_s: 0.2, end_s: 0.45, dur_s: 0.45 - 0.2, instrument_name: 'Instrument_0' });
    expect(rows[0]!.program).toBe(4n);
    expect(rows[0]!.is_drum).toBe(false);
    expect(rows[0]!.song_id).toBe(SONG_ID);
    // 0.8 s before the first beat at 1.0 s: beat −1.6, bar 0 (truncation), beat_in_bar 2.4
    expect(rows[0]!.start_beat_float).toBeCloseTo(-1.6, 12);
    expect(rows[0]!.bar_index).toBe(0n);
    expect(rows[0]!.beat_in_bar).toBeCloseTo(2.4, 12);
    expect(rows[3]!.bar_index).toBe(2n); // 5.5 s → beat 9
  });

  it('beats repeat the single grid per stem with beat_index restarting at 0', () => {
    const batch = beatsBatch(SONG_ID, ['a', 'b'], [0.5, 1.0, 1.5], 117.5);
    expect(batch.length).toBe(6);
    expect(Array.from(batch.columns.beat_index as Int32Array)).toEqual([0, 1, 2, 0, 1, 2]);
    expect(batch.columns.stem).toEqual(['a', 'a', 'a', 'b', 'b', 'b']);
    expect(beatsBatch(SONG_ID, ['a'], [], 0).length).toBe(0);
  });

  it('bars aggregate notes per (stem, bar) sorted by stem then bar, negatives included', () => {
    const batch = barsBatch(SONG_ID, EVENTS);
    const c = batch.columns;
    expect(c.stem).toEqual(['bass', 'bass', 'drums', 'drums', 'drums']);
    expect(Array.from(c.bar_index as Int32Array)).toEqual([0, 2, 0, 1, 2]);
    expect(Array.from(c.num_notes as Int32Array)).toEqual([2, 1, 2, 1, 1]);
    expect(Array.from(c.pitch_min as Int32Array)).toEqual([40, 45, 36, 36, 42]);
    expect(Array.from(c.pitch_max as Int32Array)).toEqual([43, 45, 38, 36, 42]);
    expect((c.mean_velocity as Float64Array)[0]).toBe((80 + 83) / 2);
    expect((c.start_s as Float64Array)[2]).toBe(0.2);
    expect((c.end_s as Float64Array)[2]).toBe(1.35);
  });

  it('writes the additive bar_grid dataset only when asked, flagging extrapolated bars', async () => {
    const dir = tmp();
    const bars = segmentBeatsIntoBars(BEATS, TEMPO, 4, 4, 12, { pickup: true });
    const result = await writeFixtureSong(dir, { events: [], barFeatures: [], barGrid: { bars, beatsPerBar: 4 } });
    expect(Object.keys(result)).toEqual(['beats', 'bar_grid']);
    const table = await readParquetTable(join(dir, 'bar_grid.parquet'));
    expectSchema(table, BAR_GRID_SCHEMA);
    const rows = rowsOf(table);
    expect(rows.map((r) => [r.bar_index, r.start_s, r.end_s, r.extrapolated])).toEqual([
      [-1n, 0, 1, true],
      [0n, 1, 3, false],
      [1n, 3, 5, false],
      [2n, 5, 7, false],
      [3n, 7, 9, true], // the last detected beat is 8.5 s
      [4n, 9, 11, true],
      [5n, 11, 12, true],
    ]);
    expect(rows[6]!.duration_s).toBe(1);
    expect(rows[0]!.beats_per_bar).toBe(4);
  });

  it('writes no file for an empty dataset (the original skips empty datasets)', async () => {
    const dir = tmp();
    const result = await writeSongDatasets({ datasetsDir: dir, songId: 's', stems: ['full_mix'], beatTimes: [], tempoBpm: 0, events: [], barFeatures: [] });
    expect(result).toEqual({});
    expect(readdirSync(dir)).toEqual([]);
  });

  it('keeps list columns and never-null chunk_path strings', async () => {
    const dir = tmp();
    const path = join(dir, 'bar_features.parquet');
    await writeParquetDataset(path, BAR_FEATURES_SCHEMA, [barFeaturesBatch(stemBarFeatures('bass', 3))]);
    const rows = rowsOf(await readParquetTable(path));
    expect(rows).toHaveLength(3);
    const mfcc = Array.from(rows[1]!.mfcc_mean as ArrayLike<number>);
    expect(mfcc).toHaveLength(13);
    expect(mfcc[0]).toBeCloseTo(-200 + 13 * 0.01, 12);
    expect(Array.from(rows[2]!.chroma_mean as ArrayLike<number>)).toHaveLength(12);
    expect(rows.map((r) => r.chunk_path)).toEqual([`chunks/${SONG_ID}/bass/bar_0000.wav`, '', `chunks/${SONG_ID}/bass/bar_0002.wav`]);
    expect(rows[0]!.duration_s).toBe(2);
    expect(rows[0]!.audio_source).toBe('stem');
  });
});

describe('Arrow batch validation', () => {
  it('rejects wrong lengths, unknown or missing columns, unsafe integers and bad list widths', () => {
    const good = beatsBatch('s', ['a'], [1, 2], 100);
    expect(() => buildRecordBatch(BEATS_SCHEMA, { ...good, length: 3 })).toThrow(InvalidArgumentError);
    expect(() => buildRecordBatch(BEATS_SCHEMA, { length: 2, columns: { ...good.columns, extra: 1 } })).toThrow(/no column extra/);
    const { time_s: _omit, ...missing } = good.columns;
    expect(() => buildRecordBatch(BEATS_SCHEMA, { length: 2, columns: missing })).toThrow(/missing column time_s/);
    expect(() => buildRecordBatch(BEATS_SCHEMA, { length: 2, columns: { ...good.columns, beat_index: [0, 2 ** 60] } })).toThrow(/safe integer/);
    const bad = barFeaturesBatch(stemBarFeatures('x', 2));
    expect(() =>
      buildRecordBatch(BAR_FEATURES_SCHEMA, { ...bad, columns: { ...bad.columns, mfcc_mean: { values: new Float64Array(24), width: 12 } } }),
    ).toThrow(/13 values/);
  });

  it('encodes negative and large int64 values exactly', async () => {
    const dir = tmp();
    const path = join(dir, 'b.parquet');
    const values = [-1, -(2 ** 32), 2 ** 31, 2 ** 53 - 1, -(2 ** 53 - 1), 0];
    await writeParquetDataset(path, BEATS_SCHEMA, [{ length: 6, columns: { song_id: 's', stem: 'a', beat_index: values, time_s: 0, tempo_bpm: 1 } }]);
    const table = await readParquetTable(path);
    expect(Array.from(table.getChild('beat_index')!.toArray() as BigInt64Array)).toEqual(values.map(BigInt));
  });
});

describe('atomic writes', () => {
  it('leaves no temp file behind and replaces an existing file whole', async () => {
    const dir = tmp();
    const path = join(dir, 'beats.parquet');
    writeFileSync(path, 'old content');
    await writeParquetDataset(path, BEATS_SCHEMA, [beatsBatch('s', ['a'], BEATS, TEMPO)]);
    expect(readdirSync(dir)).toEqual(['beats.parquet']);
    expect((await readParquetTable(path)).numRows).toBe(BEATS.length);
  });

  it('fails with DatasetWriteError (DE_WRITE_FAILED) into a missing or read-only folder, writing nothing', async () => {
    const dir = tmp();
    const missing = join(dir, 'nope', 'beats.parquet');
    const err = await writeParquetDataset(missing, BEATS_SCHEMA, [beatsBatch('s', ['a'], BEATS, TEMPO)]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetWriteError);
    expect((err as DatasetWriteError).code).toBe('DE_WRITE_FAILED');
    expect(existsSync(missing)).toBe(false);
    if (process.getuid?.() !== 0) {
      const ro = join(dir, 'ro');
      mkdirSync(ro);
      chmodSync(ro, 0o500);
      await expect(writeParquetDataset(join(ro, 'x.parquet'), BEATS_SCHEMA, [beatsBatch('s', ['a'], BEATS, TEMPO)])).rejects.toThrow(DatasetWriteError);
      chmodSync(ro, 0o700);
      expect(readdirSync(ro)).toEqual([]);
    }
  });

  it('the writer rejects use after close', async () => {
    const writer = new StreamingParquetWriter(join(tmp(), 'x.parquet'), BEATS_SCHEMA);
    await writer.append(beatsBatch('s', ['a'], [1], 1));
    await writer.close();
    await expect(writer.append(beatsBatch('s', ['a'], [1], 1))).rejects.toThrow(DatasetWriteError);
  });
});

describe('checkParquetDataset', () => {
  it('accepts our files and rejects truncated, foreign or differently typed ones', async () => {
    const dir = tmp();
    const path = join(dir, 'beats.parquet');
    await writeParquetDataset(path, BEATS_SCHEMA, [beatsBatch('s', ['a', 'b'], BEATS, TEMPO)]);
    expect(await checkParquetDataset(path, BEATS_SCHEMA)).toEqual({ ok: true, rows: 32, problems: [] });
    const wrongSchema = await checkParquetDataset(path, BARS_SCHEMA);
    expect(wrongSchema.ok).toBe(false);
    expect(wrongSchema.problems[0]).toMatch(/^columns/);
    const bytes = readFileSync(path);
    const truncated = join(dir, 'truncated.parquet');
    writeFileSync(truncated, bytes.subarray(0, bytes.length - 20));
    expect((await checkParquetDataset(truncated, BEATS_SCHEMA)).problems[0]).toMatch(/^unreadable/);
    const retyped = join(dir, 'retyped.parquet');
    const floatIndex = { name: 'beats', columns: BEATS_SCHEMA.columns.map((c) => (c.name === 'beat_index' ? { ...c, kind: 'float64' as const } : c)) };
    await writeParquetDataset(retyped, floatIndex, [beatsBatch('s', ['a'], BEATS, TEMPO)]);
    expect((await checkParquetDataset(retyped, BEATS_SCHEMA)).problems).toEqual(['beat_index: type Float64, expected Int64']);
  });
});

describe('scale', () => {
  it('writes a million-row events table from typed columns', async () => {
    const n = 1_000_000;
    const startS = Float64Array.from({ length: n }, (_, i) => i * 0.01);
    const notes = {
      pitch: Int32Array.from({ length: n }, (_, i) => 21 + (i % 88)),
      velocity: Int32Array.from({ length: n }, (_, i) => i % 128),
      startS,
      endS: startS.map((s) => s + 0.1),
      instrumentIndex: 0,
      instrumentName: 'Instrument_0',
      program: 4,
      isDrum: false,
    };
    const alignment = {
      beatIndex: new Int32Array(n),
      barIndex: new Int32Array(n),
      beatInBar: new Float64Array(n),
      startBeatFloat: new Float64Array(n),
      endBeatFloat: new Float64Array(n),
    };
    const path = join(tmp(), 'events.parquet');
    const result = await writeParquetDataset(path, EVENTS_SCHEMA, [eventsBatch({ songId: 'big', stem: 'vocals', notes, alignment })]);
    expect(result!.rows).toBe(n);
    const table = await readParquetTable(path);
    expect(table.numRows).toBe(n);
    expect(table.getChild('stem')!.get(n - 1)).toBe('vocals');
  });
});
