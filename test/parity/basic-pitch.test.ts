/**
 * Peer tests with basic-pitch's own fixtures (../shared/basic-pitch beside the checkout):
 * (a) note creation fed vocadito_10/model_output.npz reproduces note_events.npz (28 notes, every field
 *     within 1e-4); (b) the full path on vocadito_10.wav (44.1 kHz → soxr HQ 22,050 Hz, nmp.onnx)
 *     reproduces model_output.npz and the same notes with start/end within one frame.
 * The npz pickles are converted with scripts/reference/bp_convert_fixtures.py (the .venv python) into
 * a temp folder, or read from $DIDACTIC_BP_FIXTURES when set. Skipped, saying which, when absent.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { createTranscriber, notesFromPosteriors, type NoteEvent } from '../../lib/models/basicPitch/index.js';
import { useTempDir } from '../helpers/tmp.js';
import { file, need, requires } from '../helpers/requires.js';

const root = join(import.meta.dirname, '..', '..');
const shared = join(root, '..', 'shared', 'basic-pitch');
const python = join(root, '.venv', 'bin', 'python');
const needs = [
  file(
    join(shared, 'vocadito_10', 'model_output.npz'),
    "the project's shared data (../shared) is not beside this checkout — clone next to shared/ (basic-pitch fixtures)",
  ),
  need(
    existsSync(python) || !!process.env.DIDACTIC_BP_FIXTURES,
    'no Python (.venv) to read the npz fixtures — run `npm run setup:reference` or set DIDACTIC_BP_FIXTURES',
  ),
];

interface RefNote {
  start: number;
  end: number;
  pitch: number;
  amplitude: number;
  bends: number[] | null;
}

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

let fixtureDir: string | undefined;
function fixtures(): { note: Float32Array; onset: Float32Array; contour: Float32Array; frames: number; notes: RefNote[] } {
  if (!fixtureDir) {
    fixtureDir = process.env.DIDACTIC_BP_FIXTURES ?? useTempDir('bp-fixtures-');
    if (!existsSync(join(fixtureDir, 'note_events.json'))) {
      execFileSync(python, [join(root, 'scripts/reference/bp_convert_fixtures.py'), shared, fixtureDir], { stdio: 'ignore' });
    }
  }
  const shapes = JSON.parse(readFileSync(join(fixtureDir, 'model_output.json'), 'utf8')) as Record<string, number[]>;
  return {
    note: readF32(join(fixtureDir, 'note.f32')),
    onset: readF32(join(fixtureDir, 'onset.f32')),
    contour: readF32(join(fixtureDir, 'contour.f32')),
    frames: shapes.note![0]!,
    notes: JSON.parse(readFileSync(join(fixtureDir, 'note_events.json'), 'utf8')) as RefNote[],
  };
}

function maxAbs(a: Float32Array, b: Float32Array, n = Math.min(a.length, b.length)): number {
  let m = 0;
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const FRAME = 256 / 22050;

describe('basic-pitch peer tests (vocadito_10)', requires(...needs), () => {
  it('(a) note creation on model_output.npz gives the 28 notes of note_events.npz, fields within 1e-4', async () => {
    const f = fixtures();
    expect(f.frames).toBe(787);
    const notes = await notesFromPosteriors(f);
    expect(notes).toHaveLength(f.notes.length);
    expect(notes).toHaveLength(28);
    let worst = 0;
    notes.forEach((n: NoteEvent, i) => {
      const r = f.notes[i]!;
      expect(n.pitch).toBe(r.pitch);
      expect(Math.abs(n.startTime - r.start)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(n.endTime - r.end)).toBeLessThanOrEqual(1e-4);
      expect(Math.abs(n.amplitude - r.amplitude)).toBeLessThanOrEqual(1e-4);
      expect(n.pitchBends).toEqual(r.bends);
      worst = Math.max(worst, Math.abs(n.startTime - r.start), Math.abs(n.endTime - r.end), Math.abs(n.amplitude - r.amplitude));
    });
    console.info(`basic-pitch note creation: 28/28 notes, worst field |diff| ${worst.toExponential(2)}`);
  });

  it('(a) parameters change the result: melodia off, higher thresholds, frequency limits', async () => {
    const f = fixtures();
    const base = await notesFromPosteriors(f);
    const noMelodia = await notesFromPosteriors(f, { melodiaTrick: false });
    expect(noMelodia.length).toBeLessThan(base.length);
    const limited = await notesFromPosteriors(f, { minimumFrequency: 150, maximumFrequency: 300 });
    expect(limited.length).toBeGreaterThan(0);
    expect(limited.length).toBeLessThan(base.length);
    for (const n of limited) {
      expect(n.pitch).toBeGreaterThanOrEqual(Math.round(12 * Math.log2(150 / 440) + 69));
      expect(n.pitch).toBeLessThan(Math.round(12 * Math.log2(300 / 440) + 69));
    }
    const long = await notesFromPosteriors(f, { minimumNoteLengthMs: 500 });
    expect(long.length).toBeGreaterThan(0);
    expect(long.length).toBeLessThan(base.length);
    for (const n of long) expect(n.endFrame - n.startFrame).toBeGreaterThan(43);
    const noBends = await notesFromPosteriors(f, { includePitchBends: false });
    expect(noBends.length).toBeGreaterThan(0);
    expect(base.some((n) => n.pitchBends !== undefined)).toBe(true);
    expect(noBends.every((n) => n.pitchBends === undefined)).toBe(true);
  });

  it('(a) silence gives zero notes', async () => {
    const frames = 500;
    const notes = await notesFromPosteriors({
      frames,
      note: new Float32Array(frames * 88),
      onset: new Float32Array(frames * 88),
      contour: new Float32Array(frames * 264),
    });
    expect(notes).toHaveLength(0);
  });

  it('(b) full path on vocadito_10.wav reproduces model_output.npz and the notes', { timeout: 120_000 }, async () => {
    const f = fixtures();
    const t = await createTranscriber({ model: join(shared, 'nmp.onnx'), intraOpThreads: 2 });
    const r = await t.transcribe(join(shared, 'vocadito_10.wav'), { posteriors: true });
    expect(r.frames).toBe(f.frames);
    const p = r.posteriors!;
    const dNote = maxAbs(p.note, f.note);
    const dOnset = maxAbs(p.onset, f.onset);
    const dContour = maxAbs(p.contour, f.contour);
    console.info(`basic-pitch full path: max |diff| note ${dNote.toExponential(2)}, onset ${dOnset.toExponential(2)}, contour ${dContour.toExponential(2)}`);
    expect(Math.max(dNote, dOnset, dContour)).toBeLessThanOrEqual(1e-3);
    expect(r.notes).toHaveLength(28);
    r.notes.forEach((n, i) => {
      const ref = f.notes[i]!;
      expect(n.pitch).toBe(ref.pitch);
      expect(Math.abs(n.startTime - ref.start)).toBeLessThanOrEqual(FRAME + 1e-9);
      expect(Math.abs(n.endTime - ref.end)).toBeLessThanOrEqual(FRAME + 1e-9);
    });
    // Batch size and the v0.4.0 trim do not change values, only the tail length.
    const r1 = await t.transcribe(join(shared, 'vocadito_10.wav'), { posteriors: true, batch: 1, trim: 'v0.4.0' });
    expect(r1.frames).toBe(782);
    expect(maxAbs(r1.posteriors!.note, p.note, 782 * 88)).toBeLessThanOrEqual(1e-6);
  });
});
