/**
 * The config's bounds beyond the original's rules (CONFIG_BOUNDS), the partial check of a config
 * file or a client's overrides, and the classification of path fields that the service refuses.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { MAX_HOP } from '../../lib/audio/limits.js';
import { ConfigError } from '../../lib/errors.js';
import {
  CONFIG_BOUNDS,
  CONFIG_PATH_FIELDS,
  checkConfigFields,
  isConfigBoundError,
  loadPipelineConfigFile,
  MAX_TIMEOUT_S,
  PipelineConfig,
  pipelineConfigJsonSchema,
} from '../../lib/pipeline/config.js';
import { planConcurrency, transcriberThreads } from '../../lib/pipeline/concurrency.js';

const base = { songId: 'song', inputWav: '/nonexistent/in.wav', outDir: '/tmp/out' };
const quiet = { warn: null };

function thrown(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('config bounds (the engine’s limits)', () => {
  it.each([
    [{ analysisSr: 999 }, 'analysis_sr must be within 1000..768000 Hz, got 999'],
    [{ analysisSr: 2_000_000 }, 'analysis_sr must be within 1000..768000 Hz, got 2000000'],
    [{ preprocessTargetSr: 768_001 }, 'preprocess_target_sr must be within 1000..768000 Hz, got 768001'],
    [{ hopLength: MAX_HOP + 1 }, `hop_length must be at most ${MAX_HOP} samples, got ${MAX_HOP + 1}`],
    [{ demucsTimeoutS: 1e10 }, `demucs_timeout_s must be at most ${MAX_TIMEOUT_S} seconds (or null for no timeout), got 10000000000`],
    [{ basicPitchTimeoutS: MAX_TIMEOUT_S + 1 }, /^basic_pitch_timeout_s must be at most/],
    [{ timeSignatureNum: 13 }, /^time_signature_num must give at most 12 beats per bar with beat_tracker 'beatnet' or 'auto'.*got 13\/4$/],
    [{ timeSignatureNum: 39, timeSignatureDen: 8 }, /got 39\/8$/],
    // Beat This!'s DBN decodes in the configured meter without meter detection.
    [
      { timeSignatureNum: 13, beatTracker: 'beat-this', beatThisPostprocess: 'dbn' },
      /^time_signature_num must give at most 12 beats per bar with beat_tracker 'beat-this' and beat_this_postprocess 'dbn'.*got 13\/4$/,
    ],
    [{ demucsDevice: 'mps' }, "demucs_device must be 'cpu', 'cuda' or 'cuda:N', got 'mps'"],
    [{ demucsDevice: 'cuda:x' }, "demucs_device must be 'cpu', 'cuda' or 'cuda:N', got 'cuda:x'"],
  ])('%o is refused: %s', (override, message) => {
    const err = thrown(() => new PipelineConfig({ ...base, ...override }, quiet));
    if (typeof message === 'string') expect(err.message).toBe(message);
    else expect(err.message).toMatch(message);
    expect(isConfigBoundError(err)).toBe(true);
  });

  it('accepts the edges of every bound', () => {
    const edges = [
      { analysisSr: CONFIG_BOUNDS.analysisSr.min, preprocessTargetSr: CONFIG_BOUNDS.preprocessTargetSr.max },
      { analysisSr: CONFIG_BOUNDS.analysisSr.max, hopLength: MAX_HOP },
      { demucsTimeoutS: MAX_TIMEOUT_S, basicPitchTimeoutS: MAX_TIMEOUT_S },
      { demucsTimeoutS: null, basicPitchTimeoutS: 0 },
      { timeSignatureNum: 12 },
      // 36/8 is counted as 12 dotted-quarter beats by the tracker.
      { timeSignatureNum: 36, timeSignatureDen: 8 },
      // librosa's tracker counts bars of any length.
      { timeSignatureNum: 1000, beatTracker: 'librosa' },
      // Beat This!'s peak picking counts bars of any length too.
      { timeSignatureNum: 1000, beatTracker: 'beat-this', beatThisPostprocess: 'minimal' },
      { demucsDevice: 'CUDA:1' },
    ];
    for (const edge of edges) expect(() => new PipelineConfig({ ...base, ...edge } as never, quiet), JSON.stringify(edge)).not.toThrow();
  });

  it('keeps the original’s rules and messages first; they are not bounds', () => {
    const err = thrown(() => new PipelineConfig({ ...base, analysisSr: 0 }, quiet));
    expect(err.message).toBe('analysis_sr must be positive, got 0');
    expect(isConfigBoundError(err)).toBe(false);
    expect(isConfigBoundError(thrown(() => new PipelineConfig({ ...base, useDemucsSeparation: 'no' } as never, quiet)))).toBe(false);
    expect(isConfigBoundError(new Error('x'))).toBe(false);
  });

  it('checks a partial config (a file, a client’s overrides) with every rule', async () => {
    expect(() => checkConfigFields({})).not.toThrow();
    expect(() => checkConfigFields({ analysis_sr: 44100, beat_tracker: 'librosa' })).not.toThrow();
    expect(thrown(() => checkConfigFields({ use_demucs_separation: 'no' })).message).toBe("use_demucs_separation must be a boolean (true or false), got 'no'");
    expect(thrown(() => checkConfigFields({ analysis_sr: 2_000_000 })).message).toMatch(/^analysis_sr must be within/);
    expect(thrown(() => checkConfigFields({ song_id: '../x' })).message).toMatch(/^song_id must be a single folder name/);
    // A file's wrongly typed value is refused even when an override replaces it.
    const dir = mkdtempSync(join(tmpdir(), 'de-config-bounds-'));
    const file = join(dir, 'c.json');
    writeFileSync(file, JSON.stringify({ song_id: 's', input_wav: 'a.wav', out_dir: 'o', use_demucs_separation: 'no' }));
    await expect(loadPipelineConfigFile(file, { use_demucs_separation: false }, quiet)).rejects.toThrow(/use_demucs_separation must be a boolean/);
  });
});

describe('path fields of the config', () => {
  // Every string field that is not a path, and why: a new string field must be classified here or in CONFIG_PATH_FIELDS.
  const NOT_PATHS: Record<string, string> = {
    songId: 'a single folder name, checked by isSafeSongId',
    demucsDevice: "'cpu', 'cuda' or 'cuda:N'",
    basicPitchBackend: 'one of four names',
    beatTracker: 'one of two names',
    beatThisPostprocess: "'auto', 'minimal' or 'dbn'",
  };

  it('classifies every string field as a path or not', () => {
    const schema = pipelineConfigJsonSchema() as { properties: Record<string, { type?: string | string[]; anyOf?: { type?: string }[] }> };
    const isString = (p: { type?: string | string[]; anyOf?: { type?: string }[] }) =>
      p.type === 'string' || (Array.isArray(p.type) && p.type.includes('string')) || (p.anyOf ?? []).some((a) => a.type === 'string');
    const stringFields = Object.entries(schema.properties)
      .filter(([, p]) => isString(p))
      .map(([name]) => name)
      .sort();
    expect(stringFields.length).toBeGreaterThan(4);
    const classified = [...Object.keys(CONFIG_PATH_FIELDS), ...Object.keys(NOT_PATHS)].sort();
    expect(stringFields).toEqual(classified);
  });

  it('names every field that looks like a path as one', () => {
    const schema = pipelineConfigJsonSchema() as { properties: Record<string, unknown> };
    const pathLike = Object.keys(schema.properties).filter((name) => /(Wav|Dir|Path|File|Folder|Model|Root)$/.test(name));
    expect(pathLike.sort()).toEqual(Object.keys(CONFIG_PATH_FIELDS).sort());
  });
});

describe('concurrency plan within the session limit', () => {
  it('refuses more ONNX Runtime threads than a session takes and caps derived counts', () => {
    expect(() => planConcurrency({ cores: 8, ortIntraOpThreads: 100_000 })).toThrow(/at most 256/);
    const plan = planConcurrency({ cores: 8, stemConcurrency: 4, ortIntraOpThreads: 256 });
    expect(plan.separatorThreads).toBe(256);
    expect(transcriberThreads(plan, 1)).toBe(256);
  });
});
