/**
 * The bar grid (the original's `segment_beats_into_bars`) and the beat-grid
 * helpers shared with note alignment (align.ts), so both always agree on origin, interval and
 * beats per bar.
 *
 * Kept from the original: bar 0 starts at the first detected beat; beats per bar = num × 4 / den
 * (7/8 → 3.5, alternating 3- and 4-beat bars); the grid is extended past the last detected beat
 * to cover the audio; the last bar is clamped to the duration; a bar with end ≤ start is skipped
 * but still consumes its index.
 *
 * Fixed (see docs/compatibility.md): the extension past the last detected beat uses
 * the median of the last few intervals rather than of the whole song (#7; identical on a steady
 * tempo), the bar cursor is k·bpb instead of a running float sum, inputs are validated (NaN,
 * unsorted beats), one time→sample rounding rule is exported for every slicing path (#18), and an
 * optional pickup (#9) covers the audio before the first beat with negative bar indices.
 */
import { InvalidArgumentError } from '../errors.js';

/** One bar of the grid: `[startS, endS)` in seconds on the input's timeline. */
export interface BarBoundary {
  barIndex: number;
  startS: number;
  endS: number;
  /** Beats in this bar when bars come from detected downbeats (they may vary); else the meter's. */
  beatsPerBar?: number;
}

export type BeatExtrapolation = 'local' | 'global';

export interface BeatGridOptions {
  /**
   * Interval used to extend the grid beyond the detected beats. 'local' (default): median of the
   * `localWindow` intervals nearest that edge, which follows a drifting tempo. 'global': median
   * of all intervals (the original).
   */
  extrapolation?: BeatExtrapolation;
  /** Number of edge intervals for 'local' extrapolation. Default 8 (two 4/4 bars). */
  localWindow?: number;
}

export interface SegmentOptions extends BeatGridOptions {
  /**
   * Also cover the audio before the first detected beat with bars -1, -2, … of the same length
   * (the first one clamped to 0 s). Default false: bar 0 at the first beat is the first bar, as
   * in the original, so bar_features keeps non-negative indices.
   */
  pickup?: boolean;
}

export const DEFAULT_LOCAL_WINDOW = 8;

/** Fallback beat interval when there are too few beats: 60/tempo, or 0.5 s for tempo ≤ 0. */
export function intervalFromTempo(tempoBpm: number): number {
  return Number.isFinite(tempoBpm) && tempoBpm > 0 ? 60 / tempoBpm : 0.5;
}

/** Beats per bar as the original computes it: num × 4 / den, 4.0 when either is ≤ 0. */
export function beatsPerBar(timeSignatureNum: number, timeSignatureDen: number): number {
  if (!(timeSignatureNum > 0) || !(timeSignatureDen > 0)) return 4.0;
  return (timeSignatureNum * 4) / timeSignatureDen;
}

function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function diffs(beats: ArrayLike<number>, from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = Math.max(1, from); i < to; i++) out.push(beats[i]! - beats[i - 1]!);
  return out;
}

/**
 * The beat interval Δ (seconds) used to extrapolate the grid at one edge. 'global' is the
 * original's rule: median of successive differences with ≥ 2 beats, else 60/tempo (0.5 s for
 * tempo ≤ 0), and the same fallback when the median is ≤ 0.
 */
export function estimateBeatInterval(beatTimes: ArrayLike<number>, tempoBpm: number, edge: 'start' | 'end' = 'end', options: BeatGridOptions = {}): number {
  const n = beatTimes.length;
  if (n < 2) return intervalFromTempo(tempoBpm);
  const global = median(diffs(beatTimes, 1, n));
  let interval = global;
  if ((options.extrapolation ?? 'local') === 'local') {
    const window = Math.max(1, Math.floor(options.localWindow ?? DEFAULT_LOCAL_WINDOW));
    const local = edge === 'end' ? median(diffs(beatTimes, n - window, n)) : median(diffs(beatTimes, 1, Math.min(n, window + 1)));
    // A degenerate edge (repeated beats) falls back to the song-wide estimate.
    interval = local > 0 ? local : global;
  }
  return interval > 0 ? interval : intervalFromTempo(tempoBpm);
}

/**
 * Copies the detected beats and, when the last one is before `untilS`, appends
 * last + k·Δ for k = 1 … ceil((untilS − last)/Δ) + 1 (the original's count: it always reaches
 * past `untilS`).
 */
export function extendBeatGrid(beatTimes: ArrayLike<number>, untilS: number, interval: number): Float64Array {
  const n = beatTimes.length;
  const last = n > 0 ? beatTimes[n - 1]! : 0;
  const extra = n > 0 && last < untilS ? Math.ceil((untilS - last) / interval) + 1 : 0;
  const grid = new Float64Array(n + extra);
  for (let i = 0; i < n; i++) grid[i] = beatTimes[i]!;
  for (let k = 1; k <= extra; k++) grid[n + k - 1] = last + k * interval;
  return grid;
}

/** Throws unless every beat is finite and the list is non-decreasing. */
export function assertValidBeatTimes(beatTimes: ArrayLike<number>, op: string): void {
  for (let i = 0; i < beatTimes.length; i++) {
    const t = beatTimes[i]!;
    if (!Number.isFinite(t)) {
      throw new InvalidArgumentError(`${op}: beat time ${i} is not a finite number (${t})`, { op });
    }
    if (i > 0 && t < beatTimes[i - 1]!) {
      throw new InvalidArgumentError(`${op}: beat times must be in ascending order (beat ${i} at ${t}s precedes beat ${i - 1})`, { op });
    }
  }
}

/**
 * Groups beats into bars (the original's `segment_beats_into_bars`). Returns bars in index order;
 * empty when there are no beats.
 */
export function segmentBeatsIntoBars(
  beatTimes: ArrayLike<number>,
  tempoBpm: number,
  timeSignatureNum: number,
  timeSignatureDen: number,
  audioDurationS: number,
  options: SegmentOptions = {},
): BarBoundary[] {
  const op = 'segmentBeatsIntoBars';
  if (!Number.isFinite(audioDurationS)) {
    throw new InvalidArgumentError(`${op}: audio duration must be a finite number of seconds, got ${audioDurationS}`, { op });
  }
  assertValidBeatTimes(beatTimes, op);
  if (beatTimes.length === 0) return [];

  const interval = estimateBeatInterval(beatTimes, tempoBpm, 'end', options);
  const grid = extendBeatGrid(beatTimes, audioDurationS, interval);
  const bpb = beatsPerBar(timeSignatureNum, timeSignatureDen);
  const lastIndex = grid.length - 1;

  const bars: BarBoundary[] = options.pickup ? pickupBars(beatTimes, tempoBpm, bpb, audioDurationS, options) : [];
  for (let barIndex = 0; ; barIndex++) {
    // k·bpb rather than a running sum: bpb is a binary fraction (den is a power of two), so
    // both agree exactly, but this form cannot drift.
    const cursor = barIndex * bpb;
    const startIndex = Math.trunc(cursor);
    if (startIndex >= grid.length) break;
    const endIndex = Math.min(Math.trunc(cursor + bpb), lastIndex);
    const startS = grid[startIndex]!;
    const endS = Math.min(grid[endIndex]!, audioDurationS);
    if (endS > startS) bars.push({ barIndex, startS, endS });
  }
  return bars;
}

/** Beats and downbeats as a learned tracker reports them (seconds on the input's timeline). */
export interface DownbeatGrid {
  /** Every beat, ascending. */
  beatTimes: ArrayLike<number>;
  /** Position of each beat in its bar (1 = downbeat). */
  beatPositions: ArrayLike<number>;
  /** The detected (or configured) beats per bar; used past the last downbeat and before the first. */
  beatsPerBar: number;
}

/**
 * Indices (into `beatTimes`) of the beats that start bars: every downbeat, in order. Empty when no
 * beat is a downbeat.
 */
export function downbeatIndices(grid: Pick<DownbeatGrid, 'beatPositions'>): number[] {
  const out: number[] = [];
  for (let i = 0; i < grid.beatPositions.length; i++) if (grid.beatPositions[i] === 1) out.push(i);
  return out;
}

/**
 * The bar grid from detected downbeats: bar 0 starts at the first downbeat and each bar runs to the
 * next downbeat, so bars follow the music's own bar lines and may differ in length (a 2/4 bar in a
 * 4/4 song, a tempo change). Past the last downbeat the grid continues with bars of
 * `beatsPerBar` beats at the local beat interval, to the end of the audio, as the beat-counting
 * grid does; with `pickup`, the audio before the first downbeat becomes bar −1 (and −2, … of
 * `beatsPerBar` beats when it is longer than one bar). A last bar shorter than one beat (the local
 * interval) is merged into the bar before it. Without downbeats, falls back to counting
 * beats from the first one (segmentBeatsIntoBars with `beatsPerBar`).
 */
export function barsFromDownbeats(grid: DownbeatGrid, tempoBpm: number, audioDurationS: number, options: SegmentOptions = {}): BarBoundary[] {
  const op = 'barsFromDownbeats';
  const { beatTimes, beatsPerBar: meter } = grid;
  if (!Number.isFinite(audioDurationS)) {
    throw new InvalidArgumentError(`${op}: audio duration must be a finite number of seconds, got ${audioDurationS}`, { op });
  }
  if (grid.beatPositions.length !== beatTimes.length) {
    throw new InvalidArgumentError(`${op}: ${beatTimes.length} beats but ${grid.beatPositions.length} beat positions`, { op });
  }
  if (!(meter >= 1)) throw new InvalidArgumentError(`${op}: beats per bar must be ≥ 1, got ${meter}`, { op });
  assertValidBeatTimes(beatTimes, op);
  const starts = downbeatIndices(grid);
  if (starts.length === 0) {
    return segmentBeatsIntoBars(beatTimes, tempoBpm, meter, 4, audioDurationS, options).map((b) => ({ ...b, beatsPerBar: meter }));
  }
  const bars: BarBoundary[] = [];
  const first = beatTimes[starts[0]!]!;
  if (options.pickup && first > 0) {
    const startInterval = estimateBeatInterval(beatTimes, tempoBpm, 'start', options);
    // The pickup is what the tracker heard before the first downbeat: its beats, else one bar.
    const barLengthS = meter * startInterval;
    for (let k = Math.max(1, Math.ceil(first / barLengthS - 1e-9)); k >= 1; k--) {
      const startS = Math.max(0, first - k * barLengthS);
      const endS = Math.min(first - (k - 1) * barLengthS, audioDurationS);
      const beatsInBar = k === 1 ? Math.min(meter, starts[0]! || Math.round((endS - startS) / startInterval)) : meter;
      if (endS > startS) bars.push({ barIndex: -k, startS, endS, beatsPerBar: beatsInBar });
    }
  }
  let barIndex = 0;
  for (let j = 0; j + 1 < starts.length; j++, barIndex++) {
    const startS = beatTimes[starts[j]!]!;
    const endS = Math.min(beatTimes[starts[j + 1]!]!, audioDurationS);
    if (endS > startS) bars.push({ barIndex, startS, endS, beatsPerBar: starts[j + 1]! - starts[j]! });
  }
  // From the last downbeat on: its detected beats, then the grid extended at the local interval.
  const last = starts[starts.length - 1]!;
  const interval = estimateBeatInterval(beatTimes, tempoBpm, 'end', options);
  const tail = extendBeatGrid(
    Array.from({ length: beatTimes.length - last }, (_, i) => beatTimes[last + i]!),
    audioDurationS,
    interval,
  );
  for (let k = 0; k < tail.length - 1; k += meter, barIndex++) {
    const startS = tail[k]!;
    if (startS >= audioDurationS) break;
    const endS = Math.min(tail[Math.min(k + meter, tail.length - 1)]!, audioDurationS);
    if (endS > startS) bars.push({ barIndex, startS, endS, beatsPerBar: meter });
  }
  // A last bar shorter than a beat is the grid overshooting the audio by a hair, not a bar: its
  // audio joins the bar before it (which otherwise would end a few ms before the song does).
  const lastBar = bars[bars.length - 1];
  const prevBar = bars[bars.length - 2];
  if (lastBar && prevBar && prevBar.endS === lastBar.startS && lastBar.endS - lastBar.startS < interval - 1e-9) {
    prevBar.endS = lastBar.endS;
    bars.pop();
  }
  return bars;
}

/** Bars −1, −2, … of bpb beats (local interval at the start) back to 0 s, in ascending order. */
function pickupBars(beatTimes: ArrayLike<number>, tempoBpm: number, bpb: number, audioDurationS: number, options: BeatGridOptions): BarBoundary[] {
  const first = beatTimes[0]!;
  const barLengthS = bpb * estimateBeatInterval(beatTimes, tempoBpm, 'start', options);
  const out: BarBoundary[] = [];
  for (let k = 1; first - (k - 1) * barLengthS > 0; k++) {
    const endS = Math.min(first - (k - 1) * barLengthS, audioDurationS);
    const startS = Math.max(0, first - k * barLengthS);
    if (endS > startS) out.push({ barIndex: -k, startS, endS });
  }
  return out.reverse();
}

/**
 * The one time→sample rule for every slicing path (the original rounded differently for chunks and features): round half up,
 * floor(t·sr + 0.5), clamped to [0, length].
 */
export function timeToSampleIndex(timeS: number, sampleRate: number, length = Infinity): number {
  const index = Math.floor(timeS * sampleRate + 0.5);
  return Math.min(Math.max(index, 0), length);
}

/** Sample range `[start, end)` of a bar in a buffer of `length` samples (end ≤ start: empty). */
export function barSampleRange(bar: Pick<BarBoundary, 'startS' | 'endS'>, sampleRate: number, length: number): [number, number] {
  return [timeToSampleIndex(bar.startS, sampleRate, length), timeToSampleIndex(bar.endS, sampleRate, length)];
}
