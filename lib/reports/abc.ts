/**
 * A real ABC 2.1 writer for `reports/<song_id>/<stem>.abc`. The original wrote music21's object
 * repr (`<music21.stream.Score 0x…>`), which no ABC tool can read.
 *
 * Notes are placed on the beat grid (their `start_beat_float`/`end_beat_float` from alignment,
 * beats = quarter notes as in the bar grid), quantised to `subdivisionsPerBeat` steps (sixteenth
 * notes by default; L: is one step). Bars follow the configured meter and start at the first
 * detected beat (bar 0), or earlier when notes come before it. Polyphony is written as chords over
 * time slices: wherever any note starts or ends the slice changes, and a note that goes on past a
 * slice (or a bar line) is tied (`-`) into the next one. Empty bars become multi-bar rests `Z`.
 * Accidentals are sharps, written on every sharp note; naturals of a letter sharpened earlier in
 * the bar get `=`.
 */
import { InvalidArgumentError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';

/** A note in beats (quarter notes) from the first detected beat. */
export interface AbcNote {
  pitch: number;
  startBeat: number;
  endBeat: number;
}

export interface AbcOptions {
  /** T: field. */
  title: string;
  /** Q: in quarter notes per minute; ≤ 0 or non-finite → 120 (the grid used without beats). */
  tempoBpm: number;
  timeSignatureNum: number;
  timeSignatureDen: number;
  /** Grid steps per quarter-note beat: 1, 2, 4 (default), 8 or 16. Raised for meters like x/32. */
  subdivisionsPerBeat?: number;
  /** X: reference number. Default 1. */
  referenceNumber?: number;
  /** Bars per line of music. Default 4. */
  barsPerLine?: number;
}

const SHARP_SPELLING: readonly [string, boolean][] = [
  ['C', false],
  ['C', true],
  ['D', false],
  ['D', true],
  ['E', false],
  ['F', false],
  ['F', true],
  ['G', false],
  ['G', true],
  ['A', false],
  ['A', true],
  ['B', false],
];

/** ABC letter with octave marks for a MIDI pitch (60 → C, 72 → c, 48 → C,) and whether it is sharp. */
export function abcPitch(pitch: number): { letterWithOctave: string; sharp: boolean } {
  const [letter, sharp] = SHARP_SPELLING[((pitch % 12) + 12) % 12]!;
  const octave = Math.floor(pitch / 12) - 1; // MIDI octave: 60 is C4
  let text: string;
  if (octave >= 5) text = letter.toLowerCase() + "'".repeat(octave - 5);
  else text = letter + ','.repeat(4 - octave);
  return { letterWithOctave: text, sharp };
}

/** Lengths that read as one note value: powers of two and single-dotted values. */
function splitLength(units: number): number[] {
  const parts: number[] = [];
  let left = units;
  while (left > 0) {
    let best = 1;
    for (let p = 1; p <= left; p *= 2) {
      best = Math.max(best, p);
      if (p >= 2 && (p * 3) / 2 <= left) best = Math.max(best, (p * 3) / 2);
    }
    parts.push(best);
    left -= best;
  }
  return parts;
}

const lengthText = (units: number) => (units === 1 ? '' : String(units));

interface Interval {
  pitch: number;
  start: number;
  end: number;
}

/** Quantises and merges overlapping notes of the same pitch (a re-attack at an end stays separate). */
function quantise(notes: readonly AbcNote[], steps: number): Interval[] {
  const byPitch = new Map<number, Interval[]>();
  for (const n of notes) {
    if (!Number.isFinite(n.startBeat) || !Number.isFinite(n.endBeat) || !Number.isInteger(n.pitch) || n.pitch < 0 || n.pitch > 127) {
      throw new InvalidArgumentError(`renderAbc: invalid note ${JSON.stringify(n)}`, { op: 'renderAbc' });
    }
    const start = Math.floor(n.startBeat * steps + 0.5);
    const end = Math.max(start + 1, Math.floor(n.endBeat * steps + 0.5));
    const list = byPitch.get(n.pitch) ?? [];
    list.push({ pitch: n.pitch, start, end });
    byPitch.set(n.pitch, list);
  }
  const out: Interval[] = [];
  for (const list of byPitch.values()) {
    list.sort((a, b) => a.start - b.start);
    let current = list[0]!;
    for (const next of list.slice(1)) {
      if (next.start < current.end) current = { ...current, end: Math.max(current.end, next.end) };
      else {
        out.push(current);
        current = next;
      }
    }
    out.push(current);
  }
  return out.sort((a, b) => a.start - b.start || a.pitch - b.pitch);
}

function stepsPerBeat(options: AbcOptions): number {
  const requested = options.subdivisionsPerBeat ?? 4;
  if (![1, 2, 4, 8, 16].includes(requested)) {
    throw new InvalidArgumentError(`renderAbc: subdivisionsPerBeat must be 1, 2, 4, 8 or 16, got ${requested}`, { op: 'renderAbc' });
  }
  // A bar must hold a whole number of steps: num·4/den beats × steps.
  return Math.max(requested, options.timeSignatureDen / 4);
}

/** Renders one stem as an ABC 2.1 tune. */
export function renderAbc(notes: readonly AbcNote[], options: AbcOptions): string {
  const { timeSignatureNum: num, timeSignatureDen: den } = options;
  if (!(Number.isInteger(num) && num > 0) || ![1, 2, 4, 8, 16, 32].includes(den)) {
    throw new InvalidArgumentError(`renderAbc: unsupported meter ${num}/${den}`, { op: 'renderAbc' });
  }
  const steps = stepsPerBeat(options);
  const barLength = (num * 4 * steps) / den; // integer by construction
  const intervals = quantise(notes, steps);

  const firstBar = intervals.length > 0 ? Math.min(0, Math.floor(intervals[0]!.start / barLength)) : 0;
  const lastEnd = intervals.reduce((m, n) => Math.max(m, n.end), 0);
  const lastBar = Math.max(firstBar, Math.ceil(lastEnd / barLength) - 1);

  // Slice boundaries: bar lines plus every start and end.
  const cuts = new Set<number>();
  for (let b = firstBar; b <= lastBar + 1; b++) cuts.add(b * barLength);
  for (const n of intervals) {
    cuts.add(n.start);
    cuts.add(n.end);
  }
  const points = [...cuts].sort((a, b) => a - b);

  const bars: string[][] = [];
  let barTokens: string[] = [];
  let accidentals = new Map<string, boolean>(); // letter → sharpened earlier in this bar
  let active: Interval[] = [];
  let nextNote = 0;
  let barIndex = firstBar;

  // Every sharp is written out, and every natural of a letter sharpened earlier in the bar (in
  // any octave) gets `=`. Redundant for ABC 2.1 (accidentals hold for that pitch to the bar line)
  // but unambiguous for readers that carry accidentals to all octaves (abc2midi) or not at all
  // (music21).
  const noteText = (n: Interval, units: number, tie: boolean) => {
    const { letterWithOctave, sharp } = abcPitch(n.pitch);
    const letter = letterWithOctave[0]!.toUpperCase();
    let prefix = '';
    if (sharp) {
      prefix = '^';
      accidentals.set(letter, true);
    } else if (accidentals.get(letter)) {
      prefix = '=';
    }
    return `${prefix}${letterWithOctave}${lengthText(units)}${tie ? '-' : ''}`;
  };

  for (let k = 0; k + 1 < points.length; k++) {
    const a = points[k]!;
    const b = points[k + 1]!;
    if (a >= (barIndex + 1) * barLength) {
      bars.push(barTokens);
      barTokens = [];
      accidentals = new Map();
      barIndex++;
    }
    active = active.filter((n) => n.end > a);
    while (nextNote < intervals.length && intervals[nextNote]!.start <= a) active.push(intervals[nextNote++]!);
    active.sort((x, y) => x.pitch - y.pitch);
    const parts = splitLength(b - a);
    parts.forEach((units, p) => {
      const lastPart = p === parts.length - 1;
      if (active.length === 0) {
        barTokens.push(`z${lengthText(units)}`);
        return;
      }
      const texts = active.map((n) => noteText(n, units, !lastPart || n.end > b));
      barTokens.push(texts.length === 1 ? texts[0]! : `[${texts.join('')}]`);
    });
  }
  bars.push(barTokens);

  // A bar of rests only becomes Z; runs of them merge into Zn.
  const body: string[] = [];
  const barsPerLine = Math.max(1, options.barsPerLine ?? 4);
  let line: string[] = [];
  let barsOnLine = 0;
  const flush = () => {
    if (line.length > 0) body.push(line.join(' '));
    line = [];
    barsOnLine = 0;
  };
  for (let i = 0; i < bars.length; ) {
    const tokens = bars[i]!;
    if (tokens.every((t) => t.startsWith('z'))) {
      let run = 1;
      while (i + run < bars.length && bars[i + run]!.every((t) => t.startsWith('z'))) run++;
      line.push(`Z${lengthText(run)} |`);
      i += run;
    } else {
      line.push(`${tokens.join(' ')} |`);
      i++;
    }
    if (++barsOnLine >= barsPerLine) flush();
  }
  flush();
  const lastLine = body.length - 1;
  body[lastLine] = `${body[lastLine]!.slice(0, -1)}|]`;

  const tempo = Number.isFinite(options.tempoBpm) && options.tempoBpm > 0 ? Math.max(1, Math.round(options.tempoBpm)) : 120;
  // One line; `%` would start a comment in a field, so it is escaped as ABC text requires.
  const title = options.title.replace(/\s+/g, ' ').trim().replace(/%/g, '\\%') || 'Untitled';
  const header = [`X:${options.referenceNumber ?? 1}`, `T:${title}`, `M:${num}/${den}`, `L:1/${4 * steps}`, `Q:1/4=${tempo}`, 'K:C'];
  return `${[...header, ...body].join('\n')}\n`;
}

/** Writes `<stem>.abc` atomically; returns its path. */
export async function writeAbc(path: string, notes: readonly AbcNote[], options: AbcOptions): Promise<string> {
  await writeFileAtomic(path, renderAbc(notes, options), { op: 'writeAbc' });
  return path;
}

/** Builds AbcNotes from aligned note columns (pitch + start/end beat floats). */
export function abcNotesFromAlignment(
  pitch: ArrayLike<number>,
  alignment: { startBeatFloat: ArrayLike<number>; endBeatFloat: ArrayLike<number> },
  /** Beat index where bar lines start counting (the first downbeat; 0 = the first beat). */
  originBeat = 0,
): AbcNote[] {
  return Array.from({ length: pitch.length }, (_, i) => ({
    pitch: pitch[i]!,
    startBeat: alignment.startBeatFloat[i]! - originBeat,
    endBeat: alignment.endBeatFloat[i]! - originBeat,
  }));
}
