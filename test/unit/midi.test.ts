import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import tonejs from '@tonejs/midi';
import midiFile from 'midi-file';
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { encodeStemMidi, type MidiNote, pitchBendValue, writeStemMidi } from '../../lib/reports/midi.js';

const { Midi } = tonejs;

const notes: MidiNote[] = [
  { pitch: 60, velocity: 100, startS: 0.0, endS: 0.5 },
  { pitch: 60, velocity: 90, startS: 0.5, endS: 1.0 }, // re-attack exactly at the previous end
  { pitch: 64, velocity: 1, startS: 0.25, endS: 1.7523 },
  {
    pitch: 67,
    velocity: 127,
    startS: 2.0,
    endS: 3.0,
    pitchBends: [
      { timeS: 2.0, semitones: 0 },
      { timeS: 2.5, semitones: 1 },
      { timeS: 2.75, semitones: -2 },
      { timeS: 2.9, semitones: 5 },
    ],
  },
];

describe('pitch bend scaling', () => {
  it('maps semitones to signed 14-bit values for the announced range', () => {
    expect([0, 1, 2, -2, 0.5, 5, -5].map((s) => pitchBendValue(s, 2))).toEqual([0, 4096, 8191, -8192, 2048, 8191, -8192]);
    expect(pitchBendValue(6, 12)).toBe(4096);
  });
});

describe('writeStemMidi round trip', () => {
  it('writes a type-1 file at the detected tempo with 960 ppq, read back by midi-file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'de-midi-'));
    const path = join(dir, 'bass.mid');
    const info = await writeStemMidi(notes, 117.45383522727273, path, { trackName: 'bass', timeSignature: { numerator: 3, denominator: 4 } });
    expect(readdirSync(dir)).toEqual(['bass.mid']);
    expect(info).toMatchObject({ ticksPerBeat: 960, microsecondsPerBeat: 510839, notes: 4, pitchBends: 4 });

    const raw = midiFile.parseMidi(readFileSync(path));
    expect(raw.header).toMatchObject({ format: 1, numTracks: 2, ticksPerBeat: 960 });
    const conductor = raw.tracks[0]!;
    expect(conductor.find((e) => e.type === 'setTempo')).toMatchObject({ microsecondsPerBeat: 510839 });
    expect(conductor.find((e) => e.type === 'timeSignature')).toMatchObject({ numerator: 3, denominator: 4 });

    let tick = 0;
    const events = raw.tracks[1]!.map((e) => ({ ...e, tick: (tick += e.deltaTime) }));
    expect(events.find((e) => e.type === 'programChange')).toMatchObject({ programNumber: 4, channel: 0 });
    // RPN 0 announces ±2 semitones before any bend.
    const controllers = events.filter((e) => e.type === 'controller').map((e) => [(e as { controllerType: number }).controllerType, (e as { value: number }).value]);
    expect(controllers).toEqual([[101, 0], [100, 0], [6, 2], [38, 0], [101, 127], [100, 127]]);
    const bends = events.filter((e) => e.type === 'pitchBend').map((e) => (e as { value: number }).value);
    expect(bends).toEqual([0, 4096, -8192, 8191, 0]);
    // At tick 0.5 s the first C's note-off comes before the second C's note-on.
    const atHalf = events.filter((e) => (e.type === 'noteOn' || e.type === 'noteOff') && (e as { noteNumber: number }).noteNumber === 60);
    expect(atHalf.map((e) => e.type)).toEqual(['noteOn', 'noteOff', 'noteOn', 'noteOff']);
    expect(atHalf[1]!.tick).toBe(atHalf[2]!.tick);
  });

  it('reads back in @tonejs/midi with times within one tick and velocities intact', () => {
    const { bytes } = encodeStemMidi(notes, 117.45383522727273);
    const midi = new Midi(bytes);
    expect(midi.header.ppq).toBe(960);
    expect(midi.header.tempos[0]!.bpm).toBeCloseTo(117.4538, 3);
    const track = midi.tracks.find((t) => t.notes.length > 0)!;
    const tick = 510839 / 1e6 / 960;
    const read = track.notes.map((n) => ({ pitch: n.midi, velocity: Math.round(n.velocity * 127), startS: n.time, endS: n.time + n.duration }));
    read.sort((a, b) => a.startS - b.startS || a.pitch - b.pitch);
    const expected = [...notes].sort((a, b) => a.startS - b.startS || a.pitch - b.pitch);
    read.forEach((r, i) => {
      expect(r.pitch).toBe(expected[i]!.pitch);
      expect(r.velocity).toBe(expected[i]!.velocity);
      expect(Math.abs(r.startS - expected[i]!.startS)).toBeLessThanOrEqual(tick / 2 + 1e-12);
      expect(Math.abs(r.endS - expected[i]!.endS)).toBeLessThanOrEqual(tick + 1e-12);
    });
    // @tonejs/midi reads bends as raw/8192: ×2 semitones gives the bend back.
    const bends = track.pitchBends.map((b) => b.value * 2);
    expect(bends[1]).toBe(1);
    expect(bends[2]).toBe(-2);
  });

  it('uses 120 BPM when no tempo was detected, and validates notes', () => {
    expect(encodeStemMidi([], 0).info.microsecondsPerBeat).toBe(500000);
    expect(() => encodeStemMidi([{ pitch: 128, velocity: 10, startS: 0, endS: 1 }], 120)).toThrow(InvalidArgumentError);
    expect(() => encodeStemMidi([{ pitch: 60, velocity: Number.NaN, startS: 0, endS: 1 }], 120)).toThrow(/velocity/);
    const quiet = midiFile.parseMidi(encodeStemMidi([{ pitch: 60, velocity: 0, startS: 0, endS: 1 }, { pitch: 61, velocity: 300.4, startS: 0, endS: 1 }], 120).bytes);
    const ons = quiet.tracks[1]!.filter((e) => e.type === 'noteOn').map((e) => (e as { velocity: number }).velocity);
    expect(ons).toEqual([1, 127]);
    expect(() => encodeStemMidi([{ pitch: 60, velocity: 10, startS: 1, endS: 0.5 }], 120)).toThrow(/startS/);
  });

  it('gives a zero-length note one tick', () => {
    const raw = midiFile.parseMidi(encodeStemMidi([{ pitch: 50, velocity: 64, startS: 1, endS: 1 }], 120).bytes);
    const noteOff = raw.tracks[1]!.find((e) => e.type === 'noteOff')!;
    expect(noteOff.deltaTime).toBe(1);
  });
});
