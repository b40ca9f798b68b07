/**
 * The Parquet thread (lib/datasets/parquetThread.ts): one worker per process runs every
 * parquet-wasm call; losing it fails the writes in progress as write failures, never silently.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

import { DatasetWriteError } from '../../lib/errors.js';
import { readParquetTable } from '../../lib/datasets/parquet.js';
import { parquetEncodeThreads, stopParquetThread } from '../../lib/datasets/parquetThread.js';
import { BEATS_SCHEMA } from '../../lib/datasets/schema.js';
import { StreamingParquetWriter } from '../../lib/datasets/streaming.js';
import { beatsBatch } from '../../lib/datasets/tables.js';
import { useTempDir } from '../helpers/tmp.js';

describe('the Parquet thread', () => {
  const dir = useTempDir();

  it('a thread that dies fails the writes in progress with DE_WRITE_FAILED, and the next write gets a fresh thread', async () => {
    const path = join(dir, 'lost.parquet');
    const writer = new StreamingParquetWriter(path, BEATS_SCHEMA);
    await writer.append(beatsBatch('song', ['a'], [0, 1, 2], 100));
    const { encodedBy } = parquetEncodeThreads();
    const before = [...encodedBy.keys()];
    await stopParquetThread();
    const err = await writer.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatasetWriteError);
    expect((err as DatasetWriteError).code).toBe('DE_WRITE_FAILED');
    expect(existsSync(path)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('lost'))).toEqual([]);

    const again = new StreamingParquetWriter(join(dir, 'again.parquet'), BEATS_SCHEMA);
    await again.append(beatsBatch('song', ['a'], [0, 1, 2], 100));
    expect(await again.close()).toMatchObject({ rows: 3 });
    expect((await readParquetTable(join(dir, 'again.parquet'))).numRows).toBe(3);
    // Encoded by a new thread, never the main one.
    const { mainThreadId } = parquetEncodeThreads();
    const fresh = [...parquetEncodeThreads().encodedBy.keys()].filter((t) => !before.includes(t));
    expect(fresh.length).toBe(1);
    expect(fresh[0]).not.toBe(mainThreadId);
  });

  it('a thread started ahead of any request (and given none) does not keep the process alive', () => {
    // The CLI starts the thread before it knows the job will get as far as writing (a missing input
    // fails first); an empty dataset's writer starts it and never sends a request.
    const streaming = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'datasets', 'streaming.js')).href;
    const schema = pathToFileURL(join(import.meta.dirname, '..', '..', 'dist', 'datasets', 'schema.js')).href;
    const script = `const { StreamingParquetWriter } = await import(${JSON.stringify(streaming)});
const { BEATS_SCHEMA } = await import(${JSON.stringify(schema)});
const w = new StreamingParquetWriter(${JSON.stringify(join(dir, 'never.parquet'))}, BEATS_SCHEMA);
console.log(JSON.stringify(await w.close()));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.error).toBeUndefined(); // ETIMEDOUT when the idle thread holds the process
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe('null');
    expect(existsSync(join(dir, 'never.parquet'))).toBe(false);
  });
});
