import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import tonejs from '@tonejs/midi';
import midiFile from 'midi-file';
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { encodeStemMidi, type MidiNote, parseMidiNotes, pitchBendValue, writeStemMidi } from '../../lib/music/midi.js';

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
    const controllers = events
      .filter((e) => e.type === 'controller')
      .map((e) => [(e as { controllerType: number }).controllerType, (e as { value: number }).value]);
    expect(controllers).toEqual([
      [101, 0],
      [100, 0],
      [6, 2],
      [38, 0],
      [101, 127],
      [100, 127],
    ]);
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

  it('encodes exactly what midi-file would write for the same events', () => {
    const { bytes } = encodeStemMidi(notes, 97.3, { trackName: 'bässe', timeSignature: { numerator: 7, denominator: 8 } });
    expect(Uint8Array.from(midiFile.writeMidi(midiFile.parseMidi(bytes)))).toEqual(bytes);
  });

  it("is linear in the number of notes (midi-file's writer is quadratic)", () => {
    const many = Array.from({ length: 20_000 }, (_, i) => ({ pitch: 40 + (i % 40), velocity: 80, startS: i * 0.37, endS: i * 0.37 + 0.3 }));
    const t0 = performance.now();
    const { bytes } = encodeStemMidi(many, 120);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(parseMidiNotes(bytes).pitch.length).toBe(20_000);
  });

  it('uses 120 BPM when no tempo was detected, and validates notes', () => {
    expect(encodeStemMidi([], 0).info.microsecondsPerBeat).toBe(500000);
    expect(() => encodeStemMidi([{ pitch: 128, velocity: 10, startS: 0, endS: 1 }], 120)).toThrow(InvalidArgumentError);
    expect(() => encodeStemMidi([{ pitch: 60, velocity: Number.NaN, startS: 0, endS: 1 }], 120)).toThrow(/velocity/);
    const quiet = midiFile.parseMidi(
      encodeStemMidi(
        [
          { pitch: 60, velocity: 0, startS: 0, endS: 1 },
          { pitch: 61, velocity: 300.4, startS: 0, endS: 1 },
        ],
        120,
      ).bytes,
    );
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

describe('parseMidiNotes (pretty_midi rules)', () => {
  it('reads our files back: closing order, seconds through the tempo map, instrument fields', () => {
    const { bytes } = encodeStemMidi(notes, 117.45383522727273, { trackName: 'vocals' });
    const parsed = parseMidiNotes(bytes);
    // Closed in note-off order: C(0.5), C(1.0), E(1.75), G(3.0)
    expect(parsed.pitch).toEqual([60, 60, 64, 67]);
    expect(parsed.velocity).toEqual([100, 90, 1, 127]);
    const tick = 510839 / 1e6 / 960;
    expect(Math.abs(parsed.endS[2]! - 1.7523)).toBeLessThanOrEqual(tick / 2);
    expect(parsed.durS[0]).toBe(parsed.endS[0]! - parsed.startS[0]!);
    expect(new Set(parsed.instrumentName)).toEqual(new Set(['vocals']));
    expect(new Set(parsed.program)).toEqual(new Set([4]));
    expect(parsed.isDrum.every((d) => !d)).toBe(true);
    expect(parsed.tempoChanges[0]!.tempoBpm).toBeCloseTo(117.4538, 3);
  });

  it('closes all open notes of a pitch except those opened on the same tick, and drops zero-length notes', () => {
    const ev = (deltaTime: number, type: 'noteOn' | 'noteOff', noteNumber: number, velocity = 64, channel = 0) =>
      ({ deltaTime, type, channel, noteNumber, velocity }) as const;
    const bytes = midiFile.writeMidi({
      header: { format: 0, numTracks: 1, ticksPerBeat: 100 },
      tracks: [
        [
          ev(0, 'noteOn', 60, 10),
          ev(10, 'noteOn', 60, 20),
          ev(0, 'noteOff', 60), // closes the first only: the second opened on this tick
          ev(10, 'noteOn', 62, 30, 9),
          ev(0, 'noteOff', 62, 0, 9), // zero length: dropped
          ev(5, 'noteOn', 60, 0), // velocity-0 note-on closes the second C
          ev(5, 'noteOn', 64, 40),
          { deltaTime: 0, meta: true, type: 'endOfTrack' },
        ],
      ],
    });
    const parsed = parseMidiNotes(bytes);
    expect(parsed.pitch).toEqual([60, 60]);
    expect(parsed.velocity).toEqual([10, 20]);
    expect(parsed.startS).toEqual([0, 0.05]);
    expect(parsed.endS).toEqual([0.05, 0.125]); // 120 BPM default, 100 ticks per beat
    expect(parsed.instrumentName).toEqual(['Instrument_0', 'Instrument_0']);
  });

  it('rejects bytes that are not a MIDI file', () => {
    expect(() => parseMidiNotes(new Uint8Array([1, 2, 3, 4]))).toThrow(InvalidArgumentError);
  });
});
