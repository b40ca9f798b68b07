/**
 * Standard MIDI File writing for transcribed stems (`midi/<song_id>/<name>.mid`).
 *
 * Unlike the original (Basic Pitch's own files: fixed 120 BPM, 220 ticks per quarter, so every
 * time sits on a 1/440 s grid), the file is written at the detected tempo with
 * 960 ticks per quarter, and pitch bends are scaled to the 14-bit range with the bend range
 * announced by RPN 0.
 *
 * Encoded here, with midi-file's event types, rather than through @tonejs/midi's object model:
 * that fixes the resolution at 480 ppq and writes `addPitchBend` values unscaled (−1…1 becomes
 * raw 0/1); and midi-file's own writer copies its whole buffer for every delta time above 127
 * (quadratic: 7.8 s for 20,000 notes). Our encoder is linear, and the event order at equal ticks is
 * explicit (note-offs before note-ons, so a repeated note is never cut by its predecessor's
 * note-off). midi-file parses, and tests read our files back with midi-file and @tonejs/midi.
 */
import midiFile from 'midi-file';
import type { MidiData, MidiEvent } from 'midi-file';

import { InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

export interface PitchBendPoint {
  /** Seconds, on the same timeline as the note. */
  timeS: number;
  /** Bend in semitones (positive = up); clamped to ± the bend range. */
  semitones: number;
}

export interface MidiNote {
  pitch: number;
  /** 0–127; rounded, and raised to 1 (a note-on with velocity 0 would be a note-off). */
  velocity: number;
  startS: number;
  endS: number;
  pitchBends?: readonly PitchBendPoint[];
}

export interface StemMidiOptions {
  /** Ticks per quarter note. Default 960. */
  ticksPerBeat?: number;
  /** General MIDI program. Default 4 (what Basic Pitch writes, and the original's events show). */
  program?: number;
  /** 0–15. Default 0. */
  channel?: number;
  trackName?: string;
  timeSignature?: { numerator: number; denominator: number };
  /** Pitch-bend range in semitones announced by RPN 0 and used for scaling. Default 2. */
  pitchBendRangeSemitones?: number;
}

export interface StemMidiInfo {
  ticksPerBeat: number;
  microsecondsPerBeat: number;
  tempoBpm: number;
  notes: number;
  pitchBends: number;
}

/** A bend in semitones as the signed 14-bit value (−8192…8191) for a given range. */
export function pitchBendValue(semitones: number, rangeSemitones: number): number {
  return Math.min(8191, Math.max(-8192, Math.round((semitones / rangeSemitones) * 8192)));
}

function fail(message: string): never {
  throw new InvalidArgumentError(`writeStemMidi: ${message}`, { op: 'writeStemMidi' });
}

interface TimedEvent {
  tick: number;
  /** Order among events at the same tick: note-off 0, bend reset 1, controller 2, bend 3, note-on 4. */
  rank: number;
  seq: number;
  event: MidiEvent;
}

/** Encodes a stem's notes as a type-1 SMF: a conductor track and one note track. */
export function encodeStemMidi(notes: readonly MidiNote[], tempoBpm: number, options: StemMidiOptions = {}): { bytes: Uint8Array; info: StemMidiInfo } {
  const ppq = options.ticksPerBeat ?? 960;
  if (!Number.isInteger(ppq) || ppq < 24 || ppq > 32767) fail(`ticksPerBeat must be an integer in 24…32767, got ${ppq}`);
  const channel = options.channel ?? 0;
  if (!Number.isInteger(channel) || channel < 0 || channel > 15) fail(`channel must be 0…15, got ${channel}`);
  const program = options.program ?? 4;
  if (!Number.isInteger(program) || program < 0 || program > 127) fail(`program must be 0…127, got ${program}`);
  const bendRange = options.pitchBendRangeSemitones ?? 2;
  if (!(bendRange > 0 && bendRange < 128)) fail(`pitchBendRangeSemitones must be in (0, 128), got ${bendRange}`);
  const bpm = Number.isFinite(tempoBpm) && tempoBpm > 0 ? tempoBpm : 120;
  const microsecondsPerBeat = Math.min(0xffffff, Math.max(1, Math.round(60_000_000 / bpm)));
  // Ticks from the tempo exactly as the file states it, so readers recover the same seconds.
  const toTick = (s: number) => Math.round(((s * 1_000_000) / microsecondsPerBeat) * ppq);

  const timed: TimedEvent[] = [];
  const push = (tick: number, rank: number, event: MidiEvent) => timed.push({ tick, rank, seq: timed.length, event });
  let bendCount = 0;
  notes.forEach((note, i) => {
    const { pitch, startS, endS } = note;
    if (!Number.isInteger(pitch) || pitch < 0 || pitch > 127) fail(`note ${i}: pitch must be an integer 0…127, got ${pitch}`);
    if (!Number.isFinite(note.velocity)) fail(`note ${i}: velocity must be a number, got ${note.velocity}`);
    // A note-on with velocity 0 is a note-off: the quietest audible note is 1.
    const velocity = Math.min(127, Math.max(1, Math.round(note.velocity)));
    if (!Number.isFinite(startS) || !Number.isFinite(endS) || startS < 0 || endS < startS) {
      fail(`note ${i}: needs 0 ≤ startS ≤ endS, got ${startS}…${endS}`);
    }
    const on = toTick(startS);
    const off = Math.max(on + 1, toTick(endS));
    push(on, 4, { deltaTime: 0, type: 'noteOn', channel, noteNumber: pitch, velocity });
    push(off, 0, { deltaTime: 0, type: 'noteOff', channel, noteNumber: pitch, velocity: 0 });
    if (note.pitchBends && note.pitchBends.length > 0) {
      for (const bend of note.pitchBends) {
        if (!Number.isFinite(bend.timeS) || !Number.isFinite(bend.semitones)) fail(`note ${i}: pitch bend with a non-finite value`);
        const tick = Math.min(Math.max(toTick(bend.timeS), on), off);
        push(tick, 3, { deltaTime: 0, type: 'pitchBend', channel, value: pitchBendValue(bend.semitones, bendRange) });
        bendCount++;
      }
      push(off, 1, { deltaTime: 0, type: 'pitchBend', channel, value: 0 });
    }
  });

  const head: MidiEvent[] = [];
  if (options.trackName) head.push({ deltaTime: 0, meta: true, type: 'trackName', text: options.trackName });
  head.push({ deltaTime: 0, type: 'programChange', channel, programNumber: program });
  if (bendCount > 0) {
    // RPN 0 (pitch-bend sensitivity): semitones in data entry MSB, cents in LSB; then RPN null.
    const cents = Math.round((bendRange % 1) * 100);
    for (const [controllerType, value] of [
      [101, 0],
      [100, 0],
      [6, Math.floor(bendRange)],
      [38, cents],
      [101, 127],
      [100, 127],
    ] as const) {
      head.push({ deltaTime: 0, type: 'controller', channel, controllerType, value });
    }
  }

  timed.sort((a, b) => a.tick - b.tick || a.rank - b.rank || a.seq - b.seq);
  const noteTrack: MidiEvent[] = [...head];
  let last = 0;
  for (const t of timed) {
    noteTrack.push({ ...t.event, deltaTime: t.tick - last } as MidiEvent);
    last = t.tick;
  }
  noteTrack.push({ deltaTime: 0, meta: true, type: 'endOfTrack' });

  const ts = options.timeSignature ?? { numerator: 4, denominator: 4 };
  if (!Number.isInteger(ts.numerator) || ts.numerator < 1 || ![1, 2, 4, 8, 16, 32].includes(ts.denominator)) {
    fail(`unsupported time signature ${ts.numerator}/${ts.denominator}`);
  }
  const conductor: MidiEvent[] = [
    { deltaTime: 0, meta: true, type: 'setTempo', microsecondsPerBeat },
    { deltaTime: 0, meta: true, type: 'timeSignature', numerator: ts.numerator, denominator: ts.denominator, metronome: 24, thirtyseconds: 8 },
    { deltaTime: 0, meta: true, type: 'endOfTrack' },
  ];
  const data: MidiData = { header: { format: 1, numTracks: 2, ticksPerBeat: ppq }, tracks: [conductor, noteTrack] };
  return {
    bytes: encodeSmf(data),
    info: { ticksPerBeat: ppq, microsecondsPerBeat, tempoBpm: 60_000_000 / microsecondsPerBeat, notes: notes.length, pitchBends: bendCount },
  };
}

/** A growable byte buffer for the SMF encoder. */
class ByteWriter {
  private bytes = new Uint8Array(1024);
  length = 0;

  private reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.length + n) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }
  u8(...values: number[]): void {
    this.reserve(values.length);
    for (const v of values) this.bytes[this.length++] = v & 0xff;
  }
  u16(v: number): void {
    this.u8(v >> 8, v);
  }
  u32(v: number): void {
    this.u8(v >>> 24, v >>> 16, v >>> 8, v);
  }
  /** MIDI variable-length quantity (7 bits per byte, high bit = more). */
  varInt(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0x0fffffff) throw new InvalidArgumentError(`MIDI variable-length value out of range: ${v}`, { op: 'encodeSmf' });
    const groups = [v & 0x7f];
    for (let rest = v >>> 7; rest > 0; rest >>>= 7) groups.push((rest & 0x7f) | 0x80);
    this.u8(...groups.reverse());
  }
  raw(data: Uint8Array): void {
    this.reserve(data.length);
    this.bytes.set(data, this.length);
    this.length += data.length;
  }
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length);
  }
}

const textEncoder = new TextEncoder();

/** Encodes the event types this module emits as an SMF (no running status, 0x80 note-offs). */
function encodeSmf(data: MidiData): Uint8Array {
  const out = new ByteWriter();
  out.raw(textEncoder.encode('MThd'));
  out.u32(6);
  out.u16(data.header.format);
  out.u16(data.tracks.length);
  out.u16(data.header.ticksPerBeat! & 0x7fff);
  for (const track of data.tracks) {
    const t = new ByteWriter();
    for (const e of track) {
      t.varInt(e.deltaTime);
      switch (e.type) {
        case 'noteOn':
          t.u8(0x90 | e.channel, e.noteNumber, e.velocity);
          break;
        case 'noteOff':
          t.u8(0x80 | e.channel, e.noteNumber, e.velocity);
          break;
        case 'controller':
          t.u8(0xb0 | e.channel, e.controllerType, e.value);
          break;
        case 'programChange':
          t.u8(0xc0 | e.channel, e.programNumber);
          break;
        case 'pitchBend': {
          const v = e.value + 0x2000;
          t.u8(0xe0 | e.channel, v & 0x7f, (v >> 7) & 0x7f);
          break;
        }
        case 'trackName': {
          const text = textEncoder.encode(e.text);
          t.u8(0xff, 0x03);
          t.varInt(text.length);
          t.raw(text);
          break;
        }
        case 'setTempo':
          t.u8(0xff, 0x51, 0x03, e.microsecondsPerBeat >> 16, e.microsecondsPerBeat >> 8, e.microsecondsPerBeat);
          break;
        case 'timeSignature':
          t.u8(0xff, 0x58, 0x04, e.numerator, Math.log2(e.denominator), e.metronome, e.thirtyseconds);
          break;
        case 'endOfTrack':
          t.u8(0xff, 0x2f, 0x00);
          break;
        default:
          throw new InvalidArgumentError(`encodeSmf: unsupported event ${e.type}`, { op: 'encodeSmf' });
      }
    }
    out.raw(textEncoder.encode('MTrk'));
    out.u32(t.length);
    out.raw(t.view());
  }
  return out.view().slice();
}

/** Writes a stem's notes as a Standard MIDI File at the detected tempo, atomically. */
export async function writeStemMidi(
  notes: readonly MidiNote[],
  tempoBpm: number,
  path: string,
  options: StemMidiOptions = {},
): Promise<StemMidiInfo & { path: string }> {
  const { bytes, info } = encodeStemMidi(notes, tempoBpm, options);
  await writeFileAtomic(path, bytes, { op: 'writeStemMidi' });
  return { ...info, path };
}

/** Notes of a MIDI file read with pretty_midi's rules, column-major (the events dataset's note columns). */
export interface ParsedMidiNotes {
  pitch: number[];
  velocity: number[];
  startS: number[];
  endS: number[];
  durS: number[];
  instrumentIndex: number[];
  instrumentName: string[];
  program: number[];
  isDrum: boolean[];
  /** Tempo changes of track 0: seconds and BPM. */
  tempoChanges: { timeS: number; tempoBpm: number }[];
}

/**
 * Reads the notes of a Standard MIDI File as the original's parser (pretty_midi 0.2.10) does
 * (as pretty_midi reads it): ticks → seconds through track 0's tempo map; a note-off (or note-on with
 * velocity 0) closes every open note of that channel and pitch except ones opened on the same
 * tick (a zero-length note is dropped); notes are listed per instrument in closing order;
 * instruments are keyed by (program, channel, track) in creation order, named by their track's
 * name (as read when the instrument is created) or `Instrument_<index>` when it has none, and
 * channel 10 is drums.
 */
export function parseMidiNotes(bytes: ArrayLike<number>): ParsedMidiNotes {
  let data: MidiData;
  try {
    data = midiFile.parseMidi(bytes);
  } catch (err) {
    throw new InvalidArgumentError(`parseMidiNotes: not a Standard MIDI File: ${(err as Error).message}`, { op: 'parseMidiNotes', cause: err });
  }
  const ppq = data.header.ticksPerBeat;
  if (!ppq) throw new InvalidArgumentError('parseMidiNotes: SMPTE time division is not supported', { op: 'parseMidiNotes' });

  // Tempo map from track 0 (pretty_midi reads tempo changes there only), default 120 BPM.
  const tempos: { tick: number; usPerBeat: number }[] = [{ tick: 0, usPerBeat: 500000 }];
  let tick0 = 0;
  for (const e of data.tracks[0] ?? []) {
    tick0 += e.deltaTime;
    if (e.type === 'setTempo') {
      if (tick0 === 0) tempos[0] = { tick: 0, usPerBeat: e.microsecondsPerBeat };
      else tempos.push({ tick: tick0, usPerBeat: e.microsecondsPerBeat });
    }
  }
  const segmentStarts: number[] = [0];
  for (let i = 1; i < tempos.length; i++) {
    const prev = tempos[i - 1]!;
    segmentStarts.push(segmentStarts[i - 1]! + ((tempos[i]!.tick - prev.tick) * prev.usPerBeat) / 1e6 / ppq);
  }
  const tickToTime = (tick: number) => {
    let i = tempos.length - 1;
    while (i > 0 && tempos[i]!.tick > tick) i--;
    return segmentStarts[i]! + ((tick - tempos[i]!.tick) * tempos[i]!.usPerBeat) / 1e6 / ppq;
  };

  interface Instrument {
    program: number;
    channel: number;
    track: number;
    name: string;
    notes: { pitch: number; velocity: number; start: number; end: number }[];
  }
  const instruments: Instrument[] = [];
  const byKey = new Map<string, Instrument>();
  data.tracks.forEach((track, trackIndex) => {
    let tick = 0;
    let trackName = '';
    const programOf = new Map<number, number>();
    const open = new Map<string, { tick: number; velocity: number }[]>();
    for (const e of track) {
      tick += e.deltaTime;
      if (e.type === 'trackName') trackName = e.text;
      else if (e.type === 'programChange') programOf.set(e.channel, e.programNumber);
      else if (e.type === 'noteOn' && e.velocity > 0) {
        const key = `${e.channel}:${e.noteNumber}`;
        const list = open.get(key) ?? [];
        list.push({ tick, velocity: e.velocity });
        open.set(key, list);
      } else if (e.type === 'noteOff' || e.type === 'noteOn') {
        const key = `${e.channel}:${e.noteNumber}`;
        const list = open.get(key);
        if (!list) continue;
        const toClose = list.filter((n) => n.tick !== tick);
        const toKeep = list.filter((n) => n.tick === tick);
        if (toClose.length > 0) {
          const program = programOf.get(e.channel) ?? 0;
          const instrumentKey = `${program}:${e.channel}:${trackIndex}`;
          let instrument = byKey.get(instrumentKey);
          if (!instrument) {
            instrument = { program, channel: e.channel, track: trackIndex, name: trackName, notes: [] };
            byKey.set(instrumentKey, instrument);
            instruments.push(instrument);
          }
          for (const n of toClose) instrument.notes.push({ pitch: e.noteNumber, velocity: n.velocity, start: tickToTime(n.tick), end: tickToTime(tick) });
        }
        if (toClose.length > 0 && toKeep.length > 0) open.set(key, toKeep);
        else open.delete(key);
      }
    }
  });

  const out: ParsedMidiNotes = {
    pitch: [],
    velocity: [],
    startS: [],
    endS: [],
    durS: [],
    instrumentIndex: [],
    instrumentName: [],
    program: [],
    isDrum: [],
    tempoChanges: tempos.map((t) => ({ timeS: tickToTime(t.tick), tempoBpm: 60_000_000 / t.usPerBeat })),
  };
  instruments.forEach((instrument, index) => {
    for (const n of instrument.notes) {
      out.pitch.push(n.pitch);
      out.velocity.push(n.velocity);
      out.startS.push(n.start);
      out.endS.push(n.end);
      out.durS.push(n.end - n.start);
      out.instrumentIndex.push(index);
      out.instrumentName.push(instrument.name || `Instrument_${index}`);
      out.program.push(instrument.program);
      out.isDrum.push(instrument.channel === 9);
    }
  });
  return out;
}
