// The corpus builder's annotation code (bench/accuracy/build-corpus.mjs): beats and downbeats
// from a MIDI tempo map and time signatures, compound meters, pickups, the note-grid shift, WAV I/O.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { gridAlignment, gridShiftTicks, midiBeats, parseMidi, readWav16, tickToSeconds, writeMidi, writeWav16 } from '../../bench/accuracy/build-corpus.mjs';
import { clickTrack } from '../helpers/clicks.js';

const dir = mkdtempSync(join(tmpdir(), 'accuracy-corpus-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tempo = (tick: number, bpm: number) => ({ tick, order: -2, bytes: [0xff, 0x51, 3, ...[16, 8, 0].map((s) => (Math.round(60e6 / bpm) >> s) & 0xff)] });
const timeSig = (tick: number, num: number, den: number) => ({ tick, order: -2, bytes: [0xff, 0x58, 4, num, Math.log2(den), 24, 8] });
const note = (tick: number, key = 60) => [
  { tick, order: 1, bytes: [0x90, key, 100] },
  { tick: tick + 100, order: 0, bytes: [0x80, key, 0] },
];

describe('corpus annotations from MIDI', () => {
  it('reads tempo changes and time signatures; 6/8 counts dotted quarters', () => {
    const path = join(dir, 'a.mid');
    // 480 ticks per quarter: two bars of 4/4 at 120, then 6/8 at 90 (quarter) from tick 3840
    const ev = [tempo(0, 120), timeSig(0, 4, 4), tempo(3840, 90), timeSig(3840, 6, 8)];
    for (let t = 0; t < 3840 + 4 * 1440; t += 240) ev.push(...note(t));
    writeMidi(path, ev);
    const midi = parseMidi(readFileSync(path));
    expect(midi.division).toBe(480);
    expect(midi.timeSigs).toEqual([
      { tick: 0, num: 4, den: 4 },
      { tick: 3840, num: 6, den: 8 },
    ]);
    const toSec = tickToSeconds(midi);
    expect(toSec(3840)).toBeCloseTo(4, 9); // 8 quarters at 120
    expect(toSec(3840 + 480)).toBeCloseTo(4 + 60 / 90, 5); // 666,667 µs per quarter
    const g = midiBeats(midi, { untilTick: 3840 + 4 * 1440 });
    expect(g.meters).toEqual(['4/4', '6/8']);
    expect(g.positions.slice(0, 12)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 1, 2]);
    // the 6/8 beat is a dotted quarter: 720 ticks at 90 BPM (quarter) = 1 s
    expect(g.beats[9] - g.beats[8]).toBeCloseTo(1, 5);
    expect(g.beats[8]).toBeCloseTo(4, 9);
  });

  it('puts a pickup before the first downbeat and counts it from the end of the bar', () => {
    const path = join(dir, 'b.mid');
    const ev = [tempo(0, 60), timeSig(0, 3, 4)];
    for (let t = 0; t < 480 * 10; t += 480) ev.push(...note(t));
    writeMidi(path, ev);
    const midi = parseMidi(readFileSync(path));
    const g = midiBeats(midi, { pickupTicks: 480, untilTick: 4800 });
    expect(g.beats.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(g.positions.slice(0, 5)).toEqual([3, 1, 2, 3, 1]);
  });

  it('finds a sequencer offset of the note grid (notes 20 of 192 ticks late)', () => {
    const path = join(dir, 'c.mid');
    const ev = [tempo(0, 120), timeSig(0, 4, 4)];
    for (let t = 0; t < 192 * 32; t += 96) ev.push(...note(t + 20));
    ev.push(...note(48 + 20 * 4)); // a stray note off the grid
    writeMidi(path, ev, 192);
    const midi = parseMidi(readFileSync(path));
    expect(midi.noteOns.length).toBeGreaterThan(60);
    expect(gridShiftTicks(midi)).toBe(20);
  });

  it('writes and reads 16-bit WAV', () => {
    const path = join(dir, 'x.wav');
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i / 10));
    writeWav16(path, x, 22050);
    const back = readWav16(path);
    expect(back.sampleRate).toBe(22050);
    expect(back.samples.length).toBe(1000);
    // peak-normalised to 0.89
    for (let i = 0; i < 1000; i += 37) expect(back.samples[i]).toBeCloseTo(x[i] * 0.89, 3);
  });
});

describe('grid verification of produced pieces (issue 24, item 1)', () => {
  const audio = clickTrack({ sampleRate: 22050, seconds: 24, bpm: 125, beatsPerBar: 4, timbre: 'woodblock' });
  const grid = (bpm: number, offset: number) => Array.from({ length: Math.floor((24 - offset) * (bpm / 60)) }, (_, k) => offset + (k * 60) / bpm);

  it('a grid on the attacks aligns (onset ratio well above 1, lag 0); the off-beat, a wrong tempo and a 50 ms shift do not', () => {
    const right = gridAlignment(audio, 22050, grid(125, 0));
    expect(right.median).toBeGreaterThan(2);
    expect(right.windows.length).toBe(3);
    expect(Math.abs(right.lagMs)).toBeLessThanOrEqual(10);
    expect(gridAlignment(audio, 22050, grid(125, 0.24)).median).toBeLessThan(1.2);
    expect(gridAlignment(audio, 22050, grid(117, 0)).median).toBeLessThan(1.2);
    expect(Math.abs(gridAlignment(audio, 22050, grid(125, 0.03)).lagMs)).toBeGreaterThan(10);
  });
});
