/**
 * Note → beat/bar alignment (the original's `align_notes_to_beats`).
 *
 * Data-contract conventions kept on purpose (downstream readers and the committed datasets rely
 * on them; see docs/compatibility.md):
 * - the grid's origin is the first detected beat, so notes before it get `beat_index` 0 and a
 *   negative `start_beat_float` extrapolated backwards;
 * - `bar_index` = trunc(start_beat_float / bpb) (toward zero: bar 0 spans beats −bpb…+bpb), while
 *   `beat_in_bar` is the floored modulo, always in [0, bpb). `barIndexRounding: 'floor'` gives the
 *   consistent alternative (bar −1 for a note half a beat before the first beat);
 * - with no detected beats the grid is k·Δ from 0 s (Δ = 60/tempo, or 0.5 s for tempo ≤ 0).
 *
 * Changed: the grid beyond the detected beats uses the local interval at that edge (shared with
 * segmentation.ts), and the work is columnar (typed arrays, one binary search per note) instead of
 * a per-row loop over a DataFrame.
 */
import { InvalidArgumentError } from '../errors.js';
import { assertValidBeatTimes, beatsPerBar, type BeatGridOptions, estimateBeatInterval, extendBeatGrid, intervalFromTempo } from './segmentation.js';

/** Note times, column-major. */
export interface NoteTimeColumns {
  startS: ArrayLike<number>;
  endS: ArrayLike<number>;
}

/** The five columns the original adds to the notes table, one entry per note, in note order. */
export interface NoteAlignment {
  beatIndex: Int32Array;
  barIndex: Int32Array;
  beatInBar: Float64Array;
  startBeatFloat: Float64Array;
  endBeatFloat: Float64Array;
}

export interface AlignOptions extends BeatGridOptions {
  /** 'trunc' (default, the original's contract) or 'floor' (consistent with beat_in_bar). */
  barIndexRounding?: 'trunc' | 'floor';
  /**
   * Bars from detected downbeats: the indices (into `beatTimes`) of the beats that start bars 0,
   * 1, 2, … (see barsFromDownbeats). A note's bar is then the one whose downbeat precedes it and
   * `beat_in_bar` counts from that downbeat; before the first and after the last downbeat, bars of
   * `num × 4 / den` beats continue the grid (indices floor, so a pickup is bar −1).
   */
  barStarts?: readonly number[];
}

/** Python's float `%`: the result has the sign of the divisor (−0.5 % 4 == 3.5). */
export function pythonFloatMod(a: number, b: number): number {
  let m = a % b;
  if (m !== 0) {
    if (b < 0 !== m < 0) m += b;
  } else {
    m = b < 0 ? -0 : 0;
  }
  return m;
}

/** Index of the last grid point ≤ t, clamped to ≥ 0 (upper-bound bisection minus one). */
function lastGridIndexAtOrBefore(grid: Float64Array, t: number): number {
  let lo = 0;
  let hi = grid.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (grid[mid]! <= t) lo = mid + 1;
    else hi = mid;
  }
  return Math.max(0, lo - 1);
}

function toColumns(notes: NoteTimeColumns | readonly { startS: number; endS: number }[]): NoteTimeColumns {
  if (!Array.isArray(notes)) return notes as NoteTimeColumns;
  const list = notes as readonly { startS: number; endS: number }[];
  return { startS: list.map((n) => n.startS), endS: list.map((n) => n.endS) };
}

/**
 * Aligns notes to the beat grid. `notes` is either columns `{startS, endS}` or an array of objects
 * with `startS`/`endS`. Returns typed columns in note order (empty arrays for no notes).
 */
export function alignNotesToBeats(
  notes: NoteTimeColumns | readonly { startS: number; endS: number }[],
  beatTimes: ArrayLike<number>,
  tempoBpm: number,
  timeSignatureNum = 4,
  timeSignatureDen = 4,
  options: AlignOptions = {},
): NoteAlignment {
  const op = 'alignNotesToBeats';
  const { startS, endS } = toColumns(notes);
  const n = startS.length;
  if (endS.length !== n) {
    throw new InvalidArgumentError(`${op}: startS has ${n} notes but endS has ${endS.length}`, { op });
  }
  assertValidBeatTimes(beatTimes, op);
  const out: NoteAlignment = {
    beatIndex: new Int32Array(n),
    barIndex: new Int32Array(n),
    beatInBar: new Float64Array(n),
    startBeatFloat: new Float64Array(n),
    endBeatFloat: new Float64Array(n),
  };
  if (n === 0) return out;

  let maxEnd = -Infinity;
  for (let i = 0; i < n; i++) {
    const s = startS[i]!;
    const e = endS[i]!;
    if (!Number.isFinite(s) || !Number.isFinite(e)) {
      throw new InvalidArgumentError(`${op}: note ${i} has a non-finite time (start ${s}, end ${e})`, { op });
    }
    if (e > maxEnd) maxEnd = e;
  }

  let grid: Float64Array;
  let startInterval: number; // used to extrapolate before the first grid point
  if (beatTimes.length > 0) {
    grid = extendBeatGrid(beatTimes, maxEnd, estimateBeatInterval(beatTimes, tempoBpm, 'end', options));
    startInterval = estimateBeatInterval(beatTimes, tempoBpm, 'start', options);
  } else {
    const interval = intervalFromTempo(tempoBpm);
    const count = Math.max(0, Math.ceil(maxEnd / interval)) + 1;
    grid = new Float64Array(count);
    for (let k = 0; k < count; k++) grid[k] = k * interval;
    startInterval = interval;
  }
  const extrapolateLocally = (options.extrapolation ?? 'local') === 'local';
  const lastIndex = grid.length - 1;

  const beatFloat = (t: number): [number, number] => {
    const i = lastGridIndexAtOrBefore(grid, t);
    if (i === lastIndex) return [i, i];
    const g0 = grid[i]!;
    // Before the first beat the original divides by the first grid interval; 'local' uses the
    // median of the first few intervals (identical on a steady tempo).
    const gap = t < g0 && extrapolateLocally ? startInterval : grid[i + 1]! - g0;
    const fraction = gap === 0 ? 0 : (t - g0) / gap;
    return [i, i + fraction];
  };

  const bpb = beatsPerBar(timeSignatureNum, timeSignatureDen);
  const floorBars = options.barIndexRounding === 'floor';
  const barStarts = options.barStarts && options.barStarts.length > 0 ? options.barStarts : null;
  for (let k = 0; k < n; k++) {
    const [index, startBeat] = beatFloat(startS[k]!);
    const [, endBeat] = beatFloat(endS[k]!);
    out.beatIndex[k] = index;
    out.startBeatFloat[k] = startBeat;
    out.endBeatFloat[k] = endBeat;
    if (barStarts) {
      [out.barIndex[k], out.beatInBar[k]] = barOfBeat(startBeat, barStarts, bpb);
    } else {
      out.barIndex[k] = floorBars ? Math.floor(startBeat / bpb) : Math.trunc(startBeat / bpb);
      out.beatInBar[k] = pythonFloatMod(startBeat, bpb);
    }
  }
  return out;
}

/** Bar index and beat in bar of a (fractional) beat index, with bars starting at `barStarts`. */
function barOfBeat(beat: number, barStarts: readonly number[], bpb: number): [number, number] {
  const first = barStarts[0]!;
  if (beat < first) {
    const bars = Math.floor((beat - first) / bpb);
    return [bars, beat - first - bars * bpb];
  }
  // Last bar start ≤ beat.
  let lo = 0;
  let hi = barStarts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (barStarts[mid]! <= beat) lo = mid + 1;
    else hi = mid;
  }
  const j = lo - 1;
  if (j < barStarts.length - 1) return [j, beat - barStarts[j]!];
  const past = Math.floor((beat - barStarts[j]!) / bpb);
  return [j + past, beat - barStarts[j]! - past * bpb];
}
