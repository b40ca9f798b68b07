/**
 * The pipeline with its real model engines, resolved from the config as a user's run does:
 * Demucs on ONNX Runtime (a stand-in model with the htdemucs signature whose sources are fixed
 * fractions of the mix, so the stems can be checked exactly) and Basic Pitch on the model
 * converted from @spotify/basic-pitch. And a real recording (basic-pitch's vocadito_10 from
 * ../shared, skipped when absent): the pipeline writes basic-pitch's notes to events, MIDI and reports.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, decodeAudio, writeWav } from '../../lib/index.js';
import { readParquetTable } from '../../lib/datasets/parquet.js';
import { createTranscriber } from '../../lib/models/basicPitch/index.js';
import { buildDemucsStandIn } from '../../lib/testing.js';
import { parseMidiNotes } from '../../lib/music/midi.js';
import { file, requires, which } from '../helpers/requires.js';
import { melodySong } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const vocadito = join(root, '..', 'shared', 'basic-pitch', 'vocadito_10.wav');
const haveVocadito = requires(
  file(vocadito, "the project's shared data (../shared) is not beside this checkout — clone next to shared/ (basic-pitch/vocadito_10.wav)"),
);
const abc2midi = which('abc2midi');

describe('pipeline with Demucs (stand-in model) and Basic Pitch', () => {
  const dir = useTempDir();
  const input = join(dir, 'tune.wav');
  const model = join(dir, 'standin.onnx');
  const out = join(dir, 'out');
  const audio = melodySong(12);
  let result: Record<string, unknown>;
  beforeAll(async () => {
    await writeWav(input, audio, { sampleRate: 44100, channels: 2, subtype: 'FLOAT' });
    // Time branch only: htdemucs' spectral branch cannot rebuild a song's first/last 1536 samples
    // (test/native/demucs.test.ts), which would hide the exact check below.
    writeFileSync(model, buildDemucsStandIn({ spectralShare: 0 }));
    result = await new AudioPipeline({ songId: 'tune', inputWav: input, outDir: out, demucsModel: model }, { savePosteriors: true }).run();
  }, 120_000);

  it('writes four 44.1 kHz stereo stems of the input length, each its fraction of the mix', async () => {
    expect(result.stems).toEqual(['bass', 'drums', 'other', 'vocals']);
    const fraction: Record<string, number> = { drums: 0.4, bass: 0.3, other: 0.2, vocals: 0.1 };
    // Demucs normalises by the mix mean and std; a linear stand-in keeps the mean in every stem.
    let mean = 0;
    for (let i = 0; i < audio.length; i++) mean += audio[i]!;
    mean /= audio.length;
    for (const stem of result.stems as string[]) {
      const wav = await decodeAudio(join(out, 'stems', 'tune', 'standin', 'tune', `${stem}.wav`));
      expect(wav.sampleRate).toBe(44100);
      expect(wav.channels).toBe(2);
      expect(wav.frames).toBe(audio.length / 2);
      let err = 0;
      for (let i = 0; i < audio.length; i++) err = Math.max(err, Math.abs(wav.samples[i]! - (fraction[stem]! * (audio[i]! - mean) + mean)));
      expect(err).toBeLessThan(1e-4); // 16-bit stems: half an LSB is 1.5e-5
    }
    expect(result.stem_separation_error).toBeUndefined();
  });

  it('writes per-stem datasets, MIDI with real notes and reports', async () => {
    const features = await readParquetTable(join(out, 'datasets', 'tune', 'bar_features.parquet'));
    const featureStems = new Set(features.getChild('stem')!.toArray() as string[]);
    expect([...featureStems].sort()).toEqual(['bass', 'drums', 'other', 'vocals']);

    const events = await readParquetTable(join(out, 'datasets', 'tune', 'events.parquet'));
    const stems = events.getChild('stem')!.toArray() as string[];
    const pitches = Array.from(events.getChild('pitch')!.toArray() as BigInt64Array, Number);
    for (const stem of ['bass', 'drums', 'other', 'vocals']) {
      const mine = pitches.filter((_, i) => stems[i] === stem);
      // Every stem holds the melody (at its own level), so every melody pitch is found.
      for (const p of [60, 64, 67, 72]) expect(mine).toContain(p);
      const midi = parseMidiNotes(readFileSync(join(out, 'midi', 'tune', `${stem}.mid`)));
      expect(midi.pitch.length).toBe(mine.length);
    }
    const combined = JSON.parse(readFileSync(join(out, 'analysis', 'tune', 'combined.json'), 'utf8')) as Record<string, unknown>;
    expect(String(JSON.stringify(combined))).toContain('demucs standin (onnx');
    expect(String(JSON.stringify(combined))).toContain('basic-pitch nmp (onnx');
    const md = readFileSync(join(out, 'reports', 'tune', 'midi_markdown.md'), 'utf8');
    expect(md).toContain('vocals');
    // Raw posteriors when asked: .npy float32 [frames, 88|264] beside each stem's MIDI.
    for (const stem of ['bass', 'drums', 'other', 'vocals']) {
      const files = result[`posteriors_${stem}`] as string[];
      expect(files.map((f) => f.split('/').pop())).toEqual([`${stem}.note.npy`, `${stem}.onset.npy`, `${stem}.contour.npy`]);
      const header = readFileSync(files[2]!).subarray(0, 128).toString('latin1');
      expect(header).toMatch(/'descr': '<f4'/);
      expect(header).toMatch(/'shape': \(\d+, 264\)/);
    }
    expect(existsSync(join(out, 'reports', 'tune', 'vocals.abc'))).toBe(true);
  });
});

describe('a missing or broken Demucs model falls back to full_mix, as the original does', () => {
  const dir = useTempDir();
  const input = join(dir, 'tune.wav');
  beforeAll(async () => {
    await writeWav(input, melodySong(6), { sampleRate: 44100, channels: 2 });
    writeFileSync(join(dir, 'broken.onnx'), 'not an onnx model');
  });

  it.each([
    ['missing', 'nope.onnx', /nope\.onnx.*not found|not found.*nope\.onnx/],
    ['broken', 'broken.onnx', /broken\.onnx/],
  ])('%s model: one full_mix stem, the reason in the result and combined.json', async (_kind, file, reason) => {
    const out = join(dir, `out-${file}`);
    const result = await new AudioPipeline({ songId: 'tune', inputWav: input, outDir: out, demucsModel: join(dir, file) }).run();
    expect(result.stems).toEqual(['full_mix']);
    expect(String(result.stem_separation_error)).toMatch(reason);
    const combined = JSON.parse(readFileSync(join(out, 'analysis', 'tune', 'combined.json'), 'utf8')) as Record<string, unknown>;
    expect(combined.stems).toEqual(['full_mix']);
    expect(JSON.stringify(combined)).toMatch(reason);
    // The rest of the job still ran: transcription of the full mix, datasets, reports.
    expect(existsSync(join(out, 'datasets', 'tune', 'events.parquet'))).toBe(true);
    expect(existsSync(join(out, 'stems', 'tune'))).toBe(true);
  });
});

describe('a real recording through the pipeline (vocadito_10, separation off)', haveVocadito, () => {
  const dir = useTempDir();
  const out = join(dir, 'out');

  it('events, MIDI and reports carry exactly the notes of a direct Basic Pitch transcription', async () => {
    const result = await new AudioPipeline({ songId: 'vocadito_10', inputWav: vocadito, outDir: out, useDemucsSeparation: false }).run();
    const direct = (await (await createTranscriber()).transcribe(vocadito)).notes;
    // basic-pitch's own note_events.npz for this file holds 28 notes (test/parity/basic-pitch.test.ts).
    expect(direct.length).toBe(28);

    const events = await readParquetTable(join(out, 'datasets', 'vocadito_10', 'events.parquet'));
    expect(events.numRows).toBe(28);
    const start = Array.from(events.getChild('start_s')!.toArray() as Float64Array);
    const end = Array.from(events.getChild('end_s')!.toArray() as Float64Array);
    const pitch = Array.from(events.getChild('pitch')!.toArray() as BigInt64Array, Number);
    const velocity = Array.from(events.getChild('velocity')!.toArray() as BigInt64Array, Number);
    const expected = [...direct].sort((a, b) => a.startTime - b.startTime || a.pitch - b.pitch);
    const got = start.map((s, i) => ({ s, e: end[i]!, p: pitch[i]!, v: velocity[i]! })).sort((a, b) => a.s - b.s || a.p - b.p);
    got.forEach((g, i) => {
      expect(g.p).toBe(expected[i]!.pitch);
      expect(g.s).toBeCloseTo(expected[i]!.startTime, 9);
      expect(g.e).toBeCloseTo(expected[i]!.endTime, 9);
      expect(g.v).toBe(Math.round(127 * expected[i]!.amplitude));
    });

    const midi = parseMidiNotes(readFileSync(join(out, 'midi', 'vocadito_10', 'vocadito_10.mid')));
    expect(midi.pitch.length).toBe(28);
    const md = readFileSync(join(out, 'reports', 'vocadito_10', 'midi_markdown.md'), 'utf8');
    expect(md.split('\n').filter((l) => /^\|\s*\d/.test(l)).length).toBe(28);
    const abc = join(out, 'reports', 'vocadito_10', 'full_mix.abc');
    expect(readFileSync(abc, 'utf8')).toMatch(/^X:/m);
    if (abc2midi) execFileSync(abc2midi, [abc, '-o', join(dir, 'abc.mid')], { stdio: 'pipe' });
    expect(result.transcription_error_full_mix).toBeUndefined();
  }, 120_000);
});
