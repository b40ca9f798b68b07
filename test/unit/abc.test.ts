import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

import midiFile from 'midi-file';
import { describe, expect, it } from 'vitest';

import { abcPitch, type AbcNote, renderAbc, writeAbc } from '../../lib/reports/abc.js';
import { readAbc } from './abcChecker.js';
import { useTempDir } from '../helpers/tmp.js';
import { onPath, requires, venv, which } from '../helpers/requires.js';

const base = { title: 'song - bass', tempoBpm: 120, timeSignatureNum: 4, timeSignatureDen: 4 };
const n = (pitch: number, startBeat: number, endBeat: number): AbcNote => ({ pitch, startBeat, endBeat });

/**
 * `count` random notes (a fixed LCG from `seed`): pitches from `lowest` over `pitches` semitones,
 * starts on a quarter-beat grid `quarters` long from beat `from`, lengths from a quarter beat to
 * `longest` quarters more. Overlaps are the point: the stem is polyphonic.
 */
function randomStem(seed: number, count: number, o: { lowest: number; pitches: number; quarters: number; from: number; longest: number }): AbcNote[] {
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const notes: AbcNote[] = [];
  for (let i = 0; i < count; i++) {
    const start = Math.round(rand() * o.quarters) / 4 + o.from;
    notes.push(n(o.lowest + Math.floor(rand() * o.pitches), start, start + 0.25 + Math.round(rand() * o.longest) / 4));
  }
  return notes;
}

/** Notes as the checker reads them back, in beats, sorted. */
function readBack(text: string, stepsPerBeat = 4, originBeat = 0) {
  return readAbc(text)
    .notes.map((x) => ({ pitch: x.pitch, start: x.start / stepsPerBeat + originBeat, end: x.end / stepsPerBeat + originBeat }))
    .sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

describe('ABC pitch spelling', () => {
  it('maps MIDI pitches to ABC letters, octave marks and sharps', () => {
    expect([60, 61, 71, 72, 84, 48, 36, 59].map((p) => abcPitch(p))).toEqual([
      { letterWithOctave: 'C', sharp: false },
      { letterWithOctave: 'C', sharp: true },
      { letterWithOctave: 'B', sharp: false },
      { letterWithOctave: 'c', sharp: false },
      { letterWithOctave: "c'", sharp: false },
      { letterWithOctave: 'C,', sharp: false },
      { letterWithOctave: 'C,,', sharp: false },
      { letterWithOctave: 'B,', sharp: false },
    ]);
  });
});

describe('renderAbc', () => {
  it('writes the header fields in order and a simple melody', () => {
    const text = renderAbc([n(60, 0, 1), n(62, 1, 2), n(64, 2, 3), n(65, 3, 4)], { ...base, tempoBpm: 117.45 });
    expect(text).toBe('X:1\nT:song - bass\nM:4/4\nL:1/16\nQ:1/4=117\nK:C\nC4 D4 E4 F4 |]\n');
  });

  it('quantises to the sixteenth grid, ties across bar lines, fills rests', () => {
    const notes = [n(60, 0.02, 0.98), n(67, 3.0, 5.5), n(64, 6.26, 6.74)];
    const text = renderAbc(notes, base);
    expect(text.split('\n')[6]).toBe('C4 z8 G4- | G6 z3 E2 z4 z |]');
    expect(readBack(text)).toEqual([
      { pitch: 60, start: 0, end: 1 },
      { pitch: 67, start: 3, end: 5.5 },
      { pitch: 64, start: 6.25, end: 6.75 },
    ]);
  });

  it('writes polyphony as chords with per-note ties, and cancels accidentals within a bar', () => {
    const notes = [n(60, 0, 2), n(64, 0, 1), n(61, 2, 3), n(60, 3, 4), n(73, 3, 4)];
    const text = renderAbc(notes, base);
    const body = text.split('\n')[6];
    expect(body).toBe('[C4-E4] C4 ^C4 [=C4^c4] |]');
    expect(readBack(text)).toEqual([
      { pitch: 60, start: 0, end: 2 },
      { pitch: 64, start: 0, end: 1 },
      { pitch: 61, start: 2, end: 3 },
      { pitch: 60, start: 3, end: 4 },
      { pitch: 73, start: 3, end: 4 },
    ]);
  });

  it('marks naturals of a letter sharpened in another octave (abc2midi carries accidentals across octaves)', () => {
    expect(renderAbc([n(80, 0, 1), n(55, 1, 2)], base).split('\n')[6]).toBe('^g4 =G,4 z8 |]');
  });

  it('restates a sharp after the bar line on a tied note', () => {
    const text = renderAbc([n(66, 2, 6)], base);
    expect(text.split('\n')[6]).toBe('z8 ^F8- | ^F8 z8 |]');
  });

  it('merges empty bars into multi-bar rests and starts pickups before bar 0', () => {
    const text = renderAbc([n(48, -1, 0), n(50, 12, 13)], { ...base, barsPerLine: 8 });
    expect(text.split('\n')[6]).toBe('z12 C,4 | Z3 | D,4 z12 |]');
    expect(readBack(text, 4, -4)).toEqual([
      { pitch: 48, start: -1, end: 0 },
      { pitch: 50, start: 12, end: 13 },
    ]);
  });

  it('follows the meter: 3/4, 6/8, 7/8 and 5/32', () => {
    for (const [num, den, unitDen, barUnits] of [
      [3, 4, 16, 12],
      [6, 8, 16, 12],
      [7, 8, 16, 14],
      [5, 32, 32, 5],
    ] as const) {
      const notes = [n(60, 0, 0.5), n(62, 1, 7), n(64, 7.5, 8)];
      const text = renderAbc(notes, { ...base, timeSignatureNum: num, timeSignatureDen: den });
      const tune = readAbc(text);
      expect(tune.fields.M).toBe(`${num}/${den}`);
      expect(tune.fields.L).toBe(`1/${unitDen}`);
      expect(tune.barLength).toBe(barUnits);
      const steps = unitDen / 4;
      expect(readBack(text, steps).map((x) => [x.pitch, x.start, x.end])).toEqual([
        [60, 0, 0.5],
        [62, 1, 7],
        [64, 7.5, 8],
      ]);
    }
  });

  it('merges overlapping notes of one pitch, keeps re-attacks, and writes an empty tune as one bar rest', () => {
    expect(readBack(renderAbc([n(60, 0, 2), n(60, 1, 3), n(60, 3, 4)], base))).toEqual([
      { pitch: 60, start: 0, end: 3 },
      { pitch: 60, start: 3, end: 4 },
    ]);
    const empty = renderAbc([], { ...base, tempoBpm: 0, title: ' \n ' });
    expect(empty).toBe('X:1\nT:Untitled\nM:4/4\nL:1/16\nQ:1/4=120\nK:C\nZ |]\n');
    expect(readAbc(empty).bars).toBe(1);
    expect(renderAbc([], { ...base, title: '100% mix' }).split('\n')[1]).toBe('T:100\\% mix');
  });

  it('round-trips a dense random polyphonic stem through the strict reader', () => {
    const notes = randomStem(7, 300, { lowest: 30, pitches: 60, quarters: 400, from: -3, longest: 24 });
    const text = renderAbc(notes, { ...base, timeSignatureNum: 3 });
    const tune = readAbc(text);
    // Every quantised input note is covered by a read note of the same pitch.
    const read = readBack(text, 4, -3);
    for (const note of notes) {
      expect(read.some((r) => r.pitch === note.pitch && r.start <= note.startBeat && r.end >= note.endBeat)).toBe(true);
    }
    expect(tune.bars).toBeGreaterThan(30);
  });
});

const abc2midi = which('abc2midi');
const abc2midiInstalled = onPath('abc2midi', 'apt-get install abcmidi');
describe('abc2midi reads our ABC', requires(abc2midiInstalled), () => {
  const dir = useTempDir('de-abc-');
  /** Writes `notes` as ABC, converts it with abc2midi (which must report no error or warning) and returns the pitches it plays. */
  async function playedPitches(name: string, notes: AbcNote[], meta = base): Promise<number[]> {
    const path = join(dir, `${name}.abc`);
    await writeAbc(path, notes, meta);
    const out = join(dir, `${name}.mid`);
    const run = spawnSync(abc2midi!, [path, '-o', out], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(`${run.stdout}${run.stderr}`).not.toMatch(/error|warning/i);
    const midi = midiFile.parseMidi(readFileSync(out));
    return midi.tracks.flat().flatMap((e) => (e.type === 'noteOn' && e.velocity > 0 ? [e.noteNumber] : []));
  }

  it('converts without errors and plays the same pitches', async () => {
    const pitches = await playedPitches('bass', [n(60, 0, 2), n(64, 0, 1), n(61, 2, 3), n(66, 2, 6), n(48, 8, 9)]);
    expect(pitches.sort()).toEqual([48, 60, 61, 64, 66]);
  });

  it('reads 400 polyphonic notes of a dense random stem in 7/8 without errors or warnings, with every pitch present', async () => {
    const notes = randomStem(99, 400, { lowest: 24, pitches: 72, quarters: 600, from: -2, longest: 16 });
    const played = await playedPitches('dense', notes, { ...base, timeSignatureNum: 7, timeSignatureDen: 8 });
    expect(new Set(played)).toEqual(new Set(notes.map((x) => x.pitch)));
  });
});

const python = resolve(import.meta.dirname, '..', '..', '.venv', 'bin', 'python');
describe('music21 parses our ABC', requires(venv('music21')), () => {
  it('reads the same music: every note covered, nothing extra (music21 does not merge ties inside chords)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-abc-'));
    const path = join(dir, 'x.abc');
    const notes = [n(60, 0, 2), n(64, 0, 1), n(61, 2, 3), n(66, 2, 6), n(48, 8, 9.5), n(73, 3, 4), n(65, 3, 3.5)];
    writeFileSync(path, renderAbc(notes, base));
    const script = [
      'import json, sys',
      'from music21 import converter',
      "s = converter.parse(sys.argv[1], format='abc').stripTies()",
      'out = []',
      'for el in s.flatten().notes:',
      '    for p in el.pitches:',
      '        out.append([p.midi, float(el.offset), float(el.offset + el.quarterLength)])',
      'print(json.dumps(sorted(out)))',
    ].join('\n');
    const run = spawnSync(python, ['-c', script, path], { encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    const fragments = JSON.parse(run.stdout) as [number, number, number][];
    // Every fragment music21 reads lies inside an input note of the same pitch …
    for (const [pitch, start, end] of fragments) {
      expect(
        notes.some((x) => x.pitch === pitch && x.startBeat <= start && x.endBeat >= end),
        `${pitch} ${start}-${end}`,
      ).toBe(true);
    }
    // … and the fragments of each input note cover it without gaps.
    for (const x of notes) {
      const covered = fragments.filter(([p, s, e]) => p === x.pitch && s >= x.startBeat && e <= x.endBeat).reduce((sum, [, s, e]) => sum + (e - s), 0);
      expect(covered, `pitch ${x.pitch}`).toBeCloseTo(x.endBeat - x.startBeat, 9);
    }
  });
});
