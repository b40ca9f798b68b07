import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import { describe, expect, it } from 'vitest';

import { PipelineConfig } from '../../lib/pipeline/config.js';
import {
  buildCombinedSummary,
  describeEnvironment,
  filesGeneratedFromResults,
  pyFloat,
  stepTimingKey,
  toPythonJson,
  writeCombinedJson,
} from '../../lib/reports/combined.js';
import { renderMidiMarkdown, writeMidiMarkdown } from '../../lib/reports/markdown.js';
import { formatFixed, pitchToName, pythonFloatRepr } from '../../lib/reports/pyformat.js';
import { EVENTS, SONG_ID } from './datasetFixtures.js';
import { COMBINED_JSON_KEYS } from '../helpers/python.js';
import { requires, venv } from '../helpers/requires.js';

const python = resolve(import.meta.dirname, '..', '..', '.venv', 'bin', 'python');

describe('Python number formatting', () => {
  it('formats %.3f with ties to even on the exact binary value', () => {
    expect(formatFixed(0.0625, 3)).toBe('0.062'); // exact tie → even (JS toFixed gives 0.063)
    expect(formatFixed(0.1875, 3)).toBe('0.188');
    expect(formatFixed(1.6249999999999998, 3)).toBe('1.625');
    expect(formatFixed(0.011363636363636364, 3)).toBe('0.011');
    expect(formatFixed(-0.0001, 3)).toBe('-0.000');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(123456.5, 0)).toBe('123456');
    expect(formatFixed(1e22, 3)).toBe('10000000000000000000000.000');
  });

  it('writes repr(float) like Python', () => {
    expect([4, 0, 0.1, 1e-5, 1e16, 3600, -0, 1e15, 117.45383522727273, 0.0001, 1.5e-7, 123456789012345680, 5e-324].map(pythonFloatRepr)).toEqual([
      '4.0',
      '0.0',
      '0.1',
      '1e-05',
      '1e+16',
      '3600.0',
      '-0.0',
      '1000000000000000.0',
      '117.45383522727273',
      '0.0001',
      '1.5e-07',
      '1.2345678901234568e+17',
      '5e-324',
    ]);
  });

  it('agrees with CPython on 3000 random doubles', requires(venv()), () => {
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const values: number[] = [];
    for (let i = 0; i < 3000; i++) {
      const scale = 10 ** Math.floor(rand() * 40 - 20);
      values.push((rand() - 0.3) * scale, Math.round(rand() * 100000) / 1024);
    }
    // Sent as exponent strings: JSON integers would reach Python as ints, not floats.
    const script = "import json,sys\nv=[float(x) for x in json.load(sys.stdin)]\nprint(json.dumps([[repr(x), '%.3f' % x] for x in v]))";
    const run = spawnSync(python, ['-c', script], { input: JSON.stringify(values.map((v) => v.toExponential())), encoding: 'utf8' });
    const expected = JSON.parse(run.stdout) as [string, string][];
    values.forEach((v, i) => {
      expect(pythonFloatRepr(v), `repr ${v}`).toBe(expected[i]![0]);
      expect(formatFixed(v, 3), `%.3f ${v}`).toBe(expected[i]![1]);
    });
  });

  it('names pitches with sharps and octave floor(p/12)-1', () => {
    expect([60, 69, 48, 61, 26, 82, 0, 127].map(pitchToName)).toEqual(['C4', 'A4', 'C3', 'C#4', 'D1', 'A#5', 'C-1', 'G9']);
  });
});

describe('midi_markdown.md', () => {
  it("reproduces the original's single 'all' section exactly", () => {
    const text = renderMidiMarkdown(SONG_ID, EVENTS, { groupBy: 'all' });
    expect(text).toBe(
      [
        `# MIDI Analysis Report: ${SONG_ID}`,
        '',
        '## Stem: all',
        '',
        '### Bar 0',
        '',
        '| Time (s) | Pitch | Note | Velocity | Duration (s) |',
        '|----------|-------|------|----------|---------------|',
        '| 0.200 | 36 | C2 | 76 | 0.250 |',
        '| 1.100 | 38 | D2 | 78 | 0.250 |',
        '| 1.000 | 40 | E2 | 80 | 0.250 |',
        '| 2.200 | 43 | G2 | 83 | 0.250 |',
        '',
        '### Bar 1',
        '',
        '| Time (s) | Pitch | Note | Velocity | Duration (s) |',
        '|----------|-------|------|----------|---------------|',
        '| 3.000 | 36 | C2 | 76 | 0.250 |',
        '',
        '### Bar 2',
        '',
        '| Time (s) | Pitch | Note | Velocity | Duration (s) |',
        '|----------|-------|------|----------|---------------|',
        '| 5.500 | 42 | F#2 | 82 | 0.250 |',
        '| 6.400 | 45 | A2 | 85 | 0.250 |',
        '',
        '',
      ].join('\n'),
    );
  });

  it('by default writes one section per stem with notes sorted by start', () => {
    const text = renderMidiMarkdown(SONG_ID, EVENTS);
    const sections = text
      .split('## Stem: ')
      .slice(1)
      .map((s) => s.split('\n')[0]);
    expect(sections).toEqual(['drums', 'bass']);
    const bass = text.slice(text.indexOf('## Stem: bass'));
    expect(bass).toContain(
      '### Bar 0\n\n| Time (s) | Pitch | Note | Velocity | Duration (s) |\n|----------|-------|------|----------|---------------|\n| 1.000 | 40 | E2 | 80 | 0.250 |\n| 2.200 | 43 | G2 | 83 | 0.250 |\n\n',
    );
    expect(text.endsWith('|\n\n')).toBe(true);
    expect(text).toContain('0.200'); // real times, not the committed examples' 0.000
  });

  it('sorts bars numerically with negatives first, and notes within a bar by start', () => {
    const stem = {
      songId: 's',
      stem: 'vocals',
      notes: {
        pitch: [60, 62, 64],
        velocity: [1, 2, 3],
        startS: [5, 0.5, 0.1],
        endS: [6, 1, 0.2],
        instrumentIndex: 0,
        instrumentName: 'x',
        program: 0,
        isDrum: false,
      },
      alignment: {
        barIndex: Int32Array.from([10, -2, -2]),
        beatIndex: new Int32Array(3),
        beatInBar: new Float64Array(3),
        startBeatFloat: new Float64Array(3),
        endBeatFloat: new Float64Array(3),
      },
    };
    const text = renderMidiMarkdown('s', [stem]);
    expect(text.indexOf('### Bar -2')).toBeLessThan(text.indexOf('### Bar 10'));
    expect(text.indexOf('| 0.100 |')).toBeLessThan(text.indexOf('| 0.500 |'));
  });

  it('writes "No notes found." for no notes, atomically', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-md-'));
    await writeMidiMarkdown(join(dir, 'midi_markdown.md'), 'x', []);
    expect(readFileSync(join(dir, 'midi_markdown.md'), 'utf8')).toBe('# MIDI Analysis Report: x\n\n## Stem: all\n\nNo notes found.\n');
    expect(readdirSync(dir)).toEqual(['midi_markdown.md']);
  });
});

function sampleInput() {
  const config = new PipelineConfig({ songId: 'sample2', inputWav: 'x.wav', outDir: 'out', demucsTimeoutS: null }, { warn: null });
  return {
    songId: 'sample2',
    durationS: 4,
    tempoBpm: 0,
    numBeats: 0,
    numBars: 0,
    stems: ['full_mix'],
    notesPerStem: { full_mix: 0 },
    essentiaRequested: true,
    essentiaAvailable: false,
    filesGenerated: [],
    stepTimings: {
      step_1_copy_input_file: 0.019,
      step_3_preprocess_audio: 0,
      'step_5_separate_stems_(demucs)': 1e-5,
      step_11_write_summary_json: 0.001,
    },
    config: config.toSummaryConfig() as unknown as Record<string, string | number | boolean | null>,
    environment: { node: '20.20.2', platform: 'Linux-6.1-x86_64', napi: '9' },
    capabilities: { demucs_on_path: false, basic_pitch_on_path: false },
  };
}

describe('combined.json', () => {
  it('has the original keys in order, drops the step-11 timing, keeps floats as floats', () => {
    const summary = buildCombinedSummary(sampleInput());
    expect(Object.keys(summary)).toEqual(COMBINED_JSON_KEYS);
    const text = toPythonJson(summary);
    expect(text).toContain('"duration_s": 4.0,\n  "tempo_bpm": 0.0,');
    expect(text).toContain('"num_notes_per_stem": {},');
    expect(text).toContain('"files_generated": [],');
    expect(text).toContain('"step_3_preprocess_audio": 0.0,');
    expect(text).toContain('"step_5_separate_stems_(demucs)": 1e-05\n  },');
    expect(text).not.toContain('step_11');
    expect(text).toContain('"demucs_timeout_s": null,');
    expect(text).toContain('"basic_pitch_timeout_s": 1800.0\n  },');
    expect(text.endsWith('}')).toBe(true);
  });

  it('is byte-identical to json.dumps(indent=2) of the same Python values', requires(venv()), () => {
    const summary = buildCombinedSummary({ ...sampleInput(), songId: 'Mötley ♫ "q"\t', extra: { beat_times: [pyFloat(0.5), pyFloat(1)] } });
    const text = toPythonJson(summary);
    const script = [
      'import json, sys',
      'd = json.loads(sys.stdin.read())',
      "for k in ('duration_s', 'tempo_bpm'): d[k] = float(d[k])",
      "d['step_timings'] = {k: float(v) for k, v in d['step_timings'].items()}",
      "d['config']['basic_pitch_timeout_s'] = float(d['config']['basic_pitch_timeout_s'])",
      "d['beat_times'] = [float(x) for x in d['beat_times']]",
      'sys.stdout.write(json.dumps(d, indent=2))',
    ].join('\n');
    const run = spawnSync(python, ['-c', script], { input: text, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(text).toBe(run.stdout);
  });

  it('derives files_generated from results in order and step keys from step names', () => {
    expect(
      filesGeneratedFromResults({
        song_id: 's',
        events_parquet: 'd/events.parquet',
        beats_parquet: 'd/beats.parquet',
        midi_full_mix: 'm/x.mid',
        bar_features_parquet: 'd/bar_features.parquet',
        markdown_report: 'r/midi_markdown.md',
        abc_full_mix: 'r/full_mix.abc',
        summary_json: 'a/combined.json',
      }),
    ).toEqual(['d/events.parquet', 'd/beats.parquet', 'd/bar_features.parquet', 'r/midi_markdown.md', 'r/full_mix.abc']);
    expect(stepTimingKey('Step 5: Separate stems (Demucs)')).toBe('step_5_separate_stems_(demucs)');
    expect(stepTimingKey('Step 7: Process stems (chunks/transcription/align)')).toBe('step_7_process_stems_(chunks/transcription/align)');
    expect(stepTimingKey('Step 11: Write summary JSON')).toBe('step_11_write_summary_json');
  });

  it('reports Node and the platform, not Python', () => {
    const env = describeEnvironment();
    expect(env.node).toBe(process.versions.node);
    expect(env.platform).toMatch(/^[A-Za-z_]+-/);
    expect(env).not.toHaveProperty('python');
  });

  it('rejects extra keys that would replace original ones, and writes atomically without a trailing newline', async () => {
    expect(() => buildCombinedSummary({ ...sampleInput(), extra: { tempo_bpm: 1 } })).toThrow(/replace/);
    const dir = mkdtempSync(join(tmpdir(), 'de-combined-'));
    const path = join(dir, 'combined.json');
    await writeCombinedJson(path, sampleInput());
    const text = readFileSync(path, 'utf8');
    expect(text.endsWith('\n')).toBe(false);
    expect(JSON.parse(text).song_id).toBe('sample2');
    expect(readdirSync(dir)).toEqual(['combined.json']);
  });
});
