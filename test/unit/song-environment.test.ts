// The one builder of a song's environment and the batch's input check, which the CLI shares.
import { describe, expect, it } from 'vitest';

import { DidacticError } from '../../lib/errors.js';
import { batchSongIds, songIdOf } from '../../lib/pipeline/batchInputs.js';
import { planConcurrency } from '../../lib/pipeline/concurrency.js';
import { PipelineConfig } from '../../lib/pipeline/config.js';
import { CHUNK_WRITE_CONCURRENCY, songEnvironment } from '../../lib/pipeline/context.js';
import { ModelCache } from '../../lib/pipeline/models.js';
import { createPipelineBreakers, PIPELINE_BREAKER_DEFAULTS, ServiceBreaker } from '../../lib/pipeline/resilience.js';
import { silentLogger } from '../../lib/util/logger.js';

describe('songEnvironment', () => {
  const config = new PipelineConfig({ songId: 's', inputWav: 'in/s.wav', outDir: 'out' }, { warn: null });
  const plan = planConcurrency();
  const models = new ModelCache();

  it('fills the defaults every owner shares', () => {
    const env = songEnvironment(config, { plan, models });
    expect(env).toMatchObject({ config, plan, models, services: {}, log: silentLogger, signal: undefined, onProgress: undefined });
    expect(env).toMatchObject({ chunkWriteConcurrency: 4, savePosteriors: false, strict: false });
    expect(CHUNK_WRITE_CONCURRENCY).toBe(4);
    expect(env.staging).toMatchObject({ outDir: 'out', songId: 's' });
    expect(env.breakers.demucs).toBeInstanceOf(ServiceBreaker);
    expect([env.breakers.demucs.name, env.breakers.basicPitch.name]).toEqual(['demucs', 'basic_pitch']);
    // Each call without breakers makes new ones: songs never share them by accident.
    expect(songEnvironment(config, { plan, models }).breakers.demucs).not.toBe(env.breakers.demucs);
  });

  it('passes what the owner gives through', () => {
    const breakers = createPipelineBreakers();
    const signal = new AbortController().signal;
    const onProgress = () => undefined;
    const env = songEnvironment(config, { plan, models, breakers, signal, onProgress, chunkWriteConcurrency: 2, savePosteriors: true, strict: true });
    expect(env).toMatchObject({ breakers, signal, onProgress, chunkWriteConcurrency: 2, savePosteriors: true, strict: true });
  });

  it('createPipelineBreakers uses the original thresholds (3 failures open for 120 s)', async () => {
    expect(PIPELINE_BREAKER_DEFAULTS).toEqual({ failureThreshold: 3, recoveryTimeout: 120 });
    const { demucs } = createPipelineBreakers();
    for (let i = 0; i < 3; i++) await expect(demucs.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect(demucs.state).toBe('open');
    await expect(demucs.execute(async () => 1)).rejects.toThrow(/^Circuit 'demucs' is OPEN\. Service unavailable\. Retry in 1[12]\d\.\ds\.$/);
  });
});

describe('batchSongIds', () => {
  const refused = (f: () => unknown): DidacticError => {
    try {
      f();
    } catch (err) {
      return err as DidacticError;
    }
    throw new Error('not refused');
  };

  it('names songs after their files, or takes the ids given', () => {
    expect(songIdOf('a/b/take 1.flac')).toBe('take 1');
    expect(batchSongIds(['x/one.wav', 'y/two.mp3'])).toEqual(['one', 'two']);
    expect(batchSongIds(['x/one.wav', 'x/one.mp3'], ['a', 'b'])).toEqual(['a', 'b']);
  });

  it('refuses an empty list and ids that do not match the inputs', () => {
    expect(refused(() => batchSongIds([]))).toMatchObject({ code: 'DE_INVALID_ARGUMENT', message: 'input_files list cannot be empty' });
    expect(refused(() => batchSongIds(['a.wav', 'b.wav'], ['one']))).toMatchObject({
      code: 'DE_INVALID_ARGUMENT',
      message: 'Number of song_ids (1) must match number of input_files (2)',
    });
  });

  it('refuses two inputs that would write the same song folder, naming both', () => {
    const err = refused(() => batchSongIds(['d1/song.wav', 'd2/other.wav', 'd3/song.flac']));
    expect(err).toBeInstanceOf(DidacticError);
    expect(err.code).toBe('DE_INVALID_ARGUMENT');
    expect(err.message).toContain("'d1/song.wav' and 'd3/song.flac' would both write song 'song'");
    expect(err.details).toEqual({ songId: 'song', inputs: ['d1/song.wav', 'd3/song.flac'] });
    expect(refused(() => batchSongIds(['a.wav', 'b.wav'], ['same', 'same'])).message).toContain("would both write song 'same'");
  });
});
