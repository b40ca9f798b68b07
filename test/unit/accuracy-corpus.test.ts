// The corpus builder's annotation code (bench/accuracy/build-corpus.mjs): beats and downbeats
// from a MIDI tempo map and time signatures, compound meters, pickups, the note-grid shift, WAV I/O.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  gridAlignment,
  gridShiftTicks,
  hydrogenGrid,
  midiBeats,
  modGrid,
  parseMidi,
  readWav16,
  tickToSeconds,
  writeMidi,
  writeWav16,
} from '../../bench/accuracy/build-corpus.mjs';
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

describe('grids of Hydrogen songs and tracker modules (issue 24, item 1)', () => {
  const song = (bpm: number, sizes: Record<string, number>, sequence: string[][], timeline = false) =>
    `<song><bpm>${bpm}</bpm><isTimelineActivated>${timeline}</isTimelineActivated><BPMTimeLine>${timeline ? '<newBPM><BAR>4</BAR><BPM>90</BPM></newBPM>' : ''}</BPMTimeLine>` +
    `<patternList>${Object.entries(sizes)
      .map(([name, size]) => `<pattern><name>${name}</name><info/><category>x</category><size>${size}</size><denominator>4</denominator><noteList/></pattern>`)
      .join('')}</patternList>` +
    `<patternSequence>${sequence.map((g) => (g.length ? `<group>${g.map((id) => `<patternID>${id}</patternID>`).join('')}</group>` : '<group/>')).join('')}</patternSequence></song>`;

  it('Hydrogen: a column lasts its longest pattern (48 ticks a quarter); a downbeat at each column', () => {
    const h = hydrogenGrid(song(120, { a: 192, b: 96, c: 192 }, [['a'], ['b', 'c'], ['b'], []]));
    expect(h.bpm).toBe(120);
    expect(h.timeline).toBe(false);
    // 4 + 4 + 2 + 4 (an empty column plays as a 4/4 bar) quarters at 0.5 s
    expect(h.grid.map((b) => b.position)).toEqual([1, 2, 3, 4, 1, 2, 3, 4, 1, 2, 1, 2, 3, 4]);
    expect(h.grid[9].t).toBeCloseTo(4.5, 12);
    expect(h.grid[10].t).toBeCloseTo(5, 12);
    expect(h.seconds).toBeCloseTo(7, 12);
    expect(hydrogenGrid(song(120, { a: 192 }, [['a']], true)).timeline).toBe(true);
  });

  // A 4-channel M.K. module: 31 empty samples, the order list, then 64-row patterns of 4-byte cells.
  const mod = (orders: number[], effects: { pat: number; row: number; ch?: number; fx: number; param: number }[]) => {
    const patterns = Math.max(...orders) + 1;
    const buf = new Uint8Array(1084 + patterns * 64 * 4 * 4);
    buf[950] = orders.length;
    orders.forEach((p, i) => {
      buf[952 + i] = p;
    });
    buf.set([0x4d, 0x2e, 0x4b, 0x2e], 1080);
    for (const e of effects) {
      const o = 1084 + ((e.pat * 64 + e.row) * 4 + (e.ch ?? 0)) * 4;
      buf[o + 2] = e.fx;
      buf[o + 3] = e.param;
    }
    return buf;
  };

  it('MOD: the row clock from speed and tempo, 4 rows a beat, a bar from each pattern start; breaks followed', () => {
    // speed 6, tempo 125: 0.12 s a row, 125 BPM; pattern 0 breaks at row 48 into row 16 of the next
    const m = modGrid(
      mod(
        [0, 1],
        [
          { pat: 0, row: 0, fx: 0xf, param: 6 },
          { pat: 0, row: 47, ch: 2, fx: 0xd, param: 0x16 },
        ],
      ),
    );
    expect(m.error).toBeUndefined();
    expect(m.rowsPerBeat).toBe(4);
    expect(m.bpm).toBeCloseTo(125, 9);
    expect(m.grid.length).toBe(12 + 12);
    expect(m.grid[12].t).toBeCloseTo(48 * 0.12, 9);
    // row 16 of pattern 1 is beat 1 of its second bar
    expect(m.grid.slice(10, 15).map((b) => b.position)).toEqual([3, 4, 1, 2, 3]);
    expect(m.seconds).toBeCloseTo((48 + 48) * 0.12, 9);
  });

  it('MOD: speed 3 counts 8 rows a beat (4 would be 250 BPM); a loop back ends the song', () => {
    const m = modGrid(
      mod(
        [0, 1],
        [
          { pat: 0, row: 0, fx: 0xf, param: 3 },
          { pat: 1, row: 63, fx: 0xb, param: 0 },
        ],
      ),
    );
    expect(m.rowsPerBeat).toBe(8);
    expect(m.bpm).toBeCloseTo(125, 9);
    expect(m.seconds).toBeCloseTo(128 * 0.06, 9);
    expect(m.grid.filter((b) => b.position === 1).length).toBe(4);
  });

  it('MOD: tempo changes, pattern loops and breaks off the beat grid are refused', () => {
    expect(modGrid(mod([0, 1], [{ pat: 1, row: 0, fx: 0xf, param: 0x90 }])).error).toMatch(/speed\/tempo changes/);
    expect(modGrid(mod([0], [{ pat: 0, row: 8, fx: 0xe, param: 0x62 }])).error).toMatch(/loop/);
    expect(modGrid(mod([0, 1], [{ pat: 0, row: 10, fx: 0xd, param: 0x02 }])).error).toMatch(/off the beat grid/);
    expect(modGrid(new Uint8Array(2000)).error).toMatch(/not a 31-sample MOD/);
  });
});
