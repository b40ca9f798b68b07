import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { ConfigError } from '../../lib/errors.js';
import { CONFIG_FIELD_NAMES, isSafeSongId, loadPipelineConfigFile, PipelineConfig, pipelineConfigJsonSchema } from '../../lib/pipeline/config.js';

const base = { songId: 'song', inputWav: '/nonexistent/in.wav', outDir: '/tmp/out' };
const quiet = { warn: null };

function configError(input: Record<string, unknown>): ConfigError {
  try {
    new PipelineConfig(input as never, quiet);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).code).toBe('DE_INVALID_CONFIG');
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('PipelineConfig defaults', () => {
  it('has every field of the original with its default', () => {
    const c = new PipelineConfig(base, quiet);
    expect(c.toSnakeCase()).toEqual({
      song_id: 'song',
      input_wav: '/nonexistent/in.wav',
      out_dir: '/tmp/out',
      demucs_model: 'htdemucs',
      demucs_device: 'cpu',
      analysis_sr: 22050,
      hop_length: 512,
      time_signature_num: 4,
      time_signature_den: 4,
      use_pydub_preprocess: true,
      preprocess_target_sr: 44100,
      preprocess_mono: true,
      preprocess_normalize: true,
      preprocess_trim_silence: true,
      preprocess_silence_thresh_dbfs: -40.0,
      preprocess_keep_silence_ms: 80,
      use_essentia_features: false,
      write_bar_chunks: true,
      write_bar_chunk_wavs: true,
      preserve_chunk_audio: false,
      enable_progress: null,
      basic_pitch_backend: 'tf',
      basic_pitch_keep_runs: 5,
      use_demucs_separation: true,
      use_basic_pitch_transcription: true,
      demucs_timeout_s: 3600.0,
      basic_pitch_timeout_s: 1800.0,
      bar_feature_precompute: true,
      // Ours, after the original's fields:
      beat_tracker: 'auto',
      detect_meter: true,
      beat_this_postprocess: 'auto',
      html_report: true,
      memory_budget_mb: null,
    });
    expect(Object.keys(c.toSnakeCase())).toEqual([...CONFIG_FIELD_NAMES]);
    expect(() => new PipelineConfig({ ...base, beatTracker: 'madmom' }, quiet)).toThrow(
      "beat_tracker must be one of 'auto', 'beatnet', 'beat-this', 'librosa', got 'madmom'",
    );
    expect(() => new PipelineConfig({ ...base, beatThisPostprocess: 'viterbi' }, quiet)).toThrow(
      "beat_this_postprocess must be one of 'auto', 'minimal', 'dbn', got 'viterbi'",
    );
    expect(() => new PipelineConfig({ ...base, beatThisPostprocess: 1 }, quiet)).toThrow(/beat_this_postprocess must be a string/);
    expect(new PipelineConfig({ ...base, beatThisPostprocess: 'dbn' }, quiet).beatThisPostprocess).toBe('dbn');
  });

  it('is frozen; with() makes a validated copy', () => {
    const c = new PipelineConfig(base, quiet);
    expect(() => {
      (c as unknown as { analysisSr: number }).analysisSr = 1;
    }).toThrow(TypeError);
    const d = c.with({ analysisSr: 44100 });
    expect(d.analysisSr).toBe(44100);
    expect(c.analysisSr).toBe(22050);
    expect(() => c.with({ hop_length: 0 })).toThrow('hop_length must be positive, got 0');
  });

  it('derives the eight output folders as <out>/<kind>/<song_id>', () => {
    const c = new PipelineConfig({ songId: 'abc', inputWav: 'x.wav', outDir: 'data' }, quiet);
    expect(c.stemsDir).toBe(join('data', 'stems', 'abc'));
    expect(c.preprocessDir).toBe(join('data', 'preprocessed', 'abc'));
    expect(c.chunksDir).toBe(join('data', 'chunks', 'abc'));
    expect(c.midiDir).toBe(join('data', 'midi', 'abc'));
    expect(c.analysisDir).toBe(join('data', 'analysis', 'abc'));
    expect(c.reportsDir).toBe(join('data', 'reports', 'abc'));
    expect(c.datasetsDir).toBe(join('data', 'datasets', 'abc'));
    expect(c.inputDir).toBe(join('data', 'input', 'abc'));
    expect(c.songId).toBe('abc');
  });

  it('createDirectories makes all eight folders', async () => {
    const out = mkdtempSync(join(tmpdir(), 'de-config-'));
    const c = new PipelineConfig({ songId: 's1', inputWav: 'x.wav', outDir: out }, quiet);
    await c.createDirectories();
    for (const kind of ['stems', 'preprocessed', 'chunks', 'midi', 'analysis', 'reports', 'datasets', 'input']) {
      expect(existsSync(join(out, kind, 's1'))).toBe(true);
    }
  });

  it('computes beats per bar as num*4/den', () => {
    expect(new PipelineConfig({ ...base, timeSignatureNum: 7, timeSignatureDen: 8 }, quiet).beatsPerBar).toBe(3.5);
    expect(new PipelineConfig({ ...base, timeSignatureNum: 6, timeSignatureDen: 8 }, quiet).beatsPerBar).toBe(3);
  });

  it('serialises the combined.json config subset in the original key order', () => {
    const c = new PipelineConfig({ ...base, demucsTimeoutS: null }, quiet);
    expect(Object.keys(c.toSummaryConfig())).toEqual([
      'analysis_sr',
      'hop_length',
      'time_signature_num',
      'time_signature_den',
      'use_pydub_preprocess',
      'use_essentia_features',
      'write_bar_chunks',
      'write_bar_chunk_wavs',
      'preserve_chunk_audio',
      'bar_feature_precompute',
      'use_demucs_separation',
      'demucs_model',
      'demucs_device',
      'demucs_timeout_s',
      'use_basic_pitch_transcription',
      'basic_pitch_backend',
      'basic_pitch_timeout_s',
    ]);
    expect(c.toSummaryConfig().demucs_timeout_s).toBeNull();
  });
});

describe('PipelineConfig keys', () => {
  it('accepts the original snake_case keys', () => {
    const c = new PipelineConfig({ song_id: 'x', input_wav: 'a.wav', out_dir: 'o', analysis_sr: 16000, use_demucs_separation: false }, quiet);
    expect(c.analysisSr).toBe(16000);
    expect(c.useDemucsSeparation).toBe(false);
  });

  it('rejects unknown keys, naming them', () => {
    expect(configError({ ...base, max_workers: 8 }).message).toBe("Unknown config key 'max_workers': PipelineConfig has no such field");
    expect(configError({ ...base, foo: 1, barBaz: 2 }).message).toContain("'foo', 'barBaz'");
  });

  it('rejects a field given in both spellings', () => {
    expect(configError({ ...base, analysis_sr: 1, analysisSr: 2 }).message).toContain("'analysisSr' given twice");
  });

  it('names missing required fields', () => {
    expect(configError({ inputWav: 'a', outDir: 'b' }).message).toBe('song_id is required');
  });
});

describe('PipelineConfig validation (original rules and messages)', () => {
  it.each([
    [{ analysisSr: -1 }, 'analysis_sr must be positive, got -1'],
    [{ analysisSr: 0 }, 'analysis_sr must be positive, got 0'],
    [{ preprocessTargetSr: 0 }, 'preprocess_target_sr must be positive, got 0'],
    [{ hopLength: 0 }, 'hop_length must be positive, got 0'],
    [{ timeSignatureNum: 0 }, 'time_signature_num must be positive, got 0'],
    [{ timeSignatureDen: 3 }, 'time_signature_den must be a power of 2 (1, 2, 4, 8, 16, 32), got 3'],
    [{ demucsTimeoutS: -100 }, 'demucs_timeout_s cannot be negative, got -100'],
    [{ basicPitchTimeoutS: -0.5 }, 'basic_pitch_timeout_s cannot be negative, got -0.5'],
    [{ preprocessSilenceThreshDbfs: 10 }, 'preprocess_silence_thresh_dbfs must be negative (dBFS), got 10'],
    [{ preprocessKeepSilenceMs: -1 }, 'preprocess_keep_silence_ms cannot be negative, got -1'],
    [{ basicPitchBackend: 'invalid' }, "basic_pitch_backend must be one of 'tf', 'onnx', 'tflite', 'coreml', got 'invalid'"],
  ])('%o → %s', (override, message) => {
    expect(configError({ ...base, ...override }).message).toBe(message);
  });

  it('applies the rules in the original order (first failure wins)', () => {
    expect(configError({ ...base, hopLength: 0, analysisSr: 0, basicPitchBackend: 'x' }).message).toMatch(/^analysis_sr must be positive/);
    expect(configError({ ...base, timeSignatureDen: 3, demucsTimeoutS: -1 }).message).toMatch(/^time_signature_den/);
  });

  it('accepts 0 dBFS and zero timeouts as the original does', () => {
    const c = new PipelineConfig({ ...base, preprocessSilenceThreshDbfs: 0, demucsTimeoutS: 0, basicPitchTimeoutS: 0 }, quiet);
    expect(c.preprocessSilenceThreshDbfs).toBe(0);
    expect(c.demucsTimeoutS).toBe(0);
  });

  it('treats null timeouts as "no timeout" instead of crashing (original CLI bug)', () => {
    const c = new PipelineConfig({ ...base, demucs_timeout_s: null, basic_pitch_timeout_s: null }, quiet);
    expect(c.demucsTimeoutS).toBeNull();
    expect(c.basicPitchTimeoutS).toBeNull();
  });

  it('checks types (the original did not)', () => {
    expect(configError({ ...base, analysisSr: '22050' }).message).toBe("analysis_sr must be an integer, got '22050'");
    expect(configError({ ...base, hopLength: 1.5 }).message).toBe('hop_length must be an integer, got 1.5');
    expect(configError({ ...base, writeBarChunks: 1 }).message).toBe('write_bar_chunks must be a boolean (true or false), got 1');
    expect(configError({ ...base, demucsTimeoutS: Number.NaN }).message).toContain('demucs_timeout_s must be a number of seconds or null');
  });

  it('carries zod issues with the failing path', () => {
    const err = configError({ ...base, hopLength: 0 });
    expect(err.issues.length).toBe(1);
    expect((err.issues[0] as { path: unknown[] }).path).toEqual(['hopLength']);
  });

  it.each(['../x', '..', '.', '', 'a/b', 'a\\b', '/abs', 'C:evil', 'nul\0byte'])('rejects unsafe song_id %j', (songId) => {
    expect(configError({ ...base, songId }).message).toMatch(/^song_id must be a single folder name/);
  });

  it('accepts ordinary song ids including spaces, dots and unicode', () => {
    for (const id of ['my song', 'a.b', 'E♭ minor', '..hidden', 'x..y']) {
      expect(isSafeSongId(id)).toBe(true);
      expect(new PipelineConfig({ ...base, songId: id }, quiet).songId).toBe(id);
    }
  });

  it('warns (only) when the input file does not exist', () => {
    const warnings: string[] = [];
    new PipelineConfig({ ...base, inputWav: '/nonexistent/x.wav' }, { warn: (m) => warnings.push(m) });
    expect(warnings).toEqual(['Input WAV file not found at initialization: /nonexistent/x.wav. Ensure it exists before running the pipeline.']);
    const dir = mkdtempSync(join(tmpdir(), 'de-config-'));
    const present = join(dir, 'a.wav');
    writeFileSync(present, 'x');
    new PipelineConfig({ ...base, inputWav: present }, { warn: (m) => warnings.push(m) });
    expect(warnings.length).toBe(1);
  });
});

describe('loadPipelineConfigFile', () => {
  it('reads snake_case JSON and lets overrides win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-config-'));
    const path = join(dir, 'cfg.json');
    writeFileSync(path, JSON.stringify({ song_id: 'f', input_wav: 'a.wav', out_dir: 'o', hop_length: 256, demucs_timeout_s: null }));
    const c = await loadPipelineConfigFile(path, { hopLength: 1024 }, quiet);
    expect(c.hopLength).toBe(1024);
    expect(c.demucsTimeoutS).toBeNull();
  });

  it('reports unknown keys and bad JSON as ConfigError', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-config-'));
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{ not json');
    await expect(loadPipelineConfigFile(bad)).rejects.toThrow(ConfigError);
    const unknown = join(dir, 'unknown.json');
    writeFileSync(unknown, JSON.stringify({ song_id: 'f', input_wav: 'a', out_dir: 'o', two_stems: true }));
    await expect(loadPipelineConfigFile(unknown, {}, quiet)).rejects.toThrow("Unknown config key 'two_stems'");
  });

  it('exports a JSON schema of the input', () => {
    const schema = pipelineConfigJsonSchema() as { properties: Record<string, unknown>; additionalProperties: unknown };
    expect(Object.keys(schema.properties)).toContain('analysisSr');
    expect(schema.additionalProperties).toBe(false);
  });
});
