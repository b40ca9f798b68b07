import { describe, expect, it } from 'vitest';

import { InvalidArgumentError } from '../../lib/errors.js';
import { alignNotesToBeats, pythonFloatMod } from '../../lib/music/align.js';
import {
  barSampleRange,
  beatsPerBar,
  estimateBeatInterval,
  segmentBeatsIntoBars,
  timeToSampleIndex,
  barsFromDownbeats,
  downbeatIndices,
} from '../../lib/music/segmentation.js';

const steps = (from: number, to: number, step: number) => {
  const out: number[] = [];
  for (let t = from; t <= to + 1e-9; t += step) out.push(Math.round(t * 1e6) / 1e6);
  return out;
};
const asTuples = (bars: { barIndex: number; startS: number; endS: number }[]) => bars.map((b) => [b.barIndex, b.startS, b.endS]);

describe('segmentBeatsIntoBars: worked examples of the original’s bar grid', () => {
  const halfSecond = steps(0.5, 3.0, 0.5);
  it.each([
    [
      halfSecond,
      120,
      4,
      4,
      4.2,
      [
        [0, 0.5, 2.5],
        [1, 2.5, 4.2],
      ],
    ],
    [
      halfSecond,
      120,
      6,
      8,
      4.2,
      [
        [0, 0.5, 2.0],
        [1, 2.0, 3.5],
        [2, 3.5, 4.2],
      ],
    ],
    [
      halfSecond,
      120,
      7,
      8,
      4.2,
      [
        [0, 0.5, 2.0],
        [1, 2.0, 4.0],
        [2, 4.0, 4.2],
      ],
    ],
    [[1.0], 100, 4, 4, 3.0, [[0, 1.0, 3.0]]],
    [
      steps(0, 3.5, 0.5),
      120,
      4,
      4,
      4.0,
      [
        [0, 0.0, 2.0],
        [1, 2.0, 4.0],
      ],
    ],
    [[0.3, 0.8], 0, 4, 4, 1.0, [[0, 0.3, 1.0]]],
  ])('beats %j tempo %d %d/%d duration %d', (beats, tempo, num, den, duration, expected) => {
    expect(asTuples(segmentBeatsIntoBars(beats, tempo, num, den, duration))).toEqual(expected);
  });
});

describe('segmentBeatsIntoBars: the original’s own test cases', () => {
  it('8 beats 0..3.5 s, 120 BPM, 4/4, 4 s → exactly 2 bars of (int, float, float) with end > start', () => {
    const bars = segmentBeatsIntoBars(steps(0, 3.5, 0.5), 120, 4, 4, 4.0);
    expect(bars).toHaveLength(2);
    for (const b of bars) {
      expect(Number.isInteger(b.barIndex)).toBe(true);
      expect(b.endS).toBeGreaterThan(b.startS);
    }
  });
  it('empty beats → no bars', () => {
    expect(segmentBeatsIntoBars([], 120, 4, 4, 10)).toEqual([]);
  });
  it('single beat at 0 (120 BPM, 2 s) → at most 1 bar', () => {
    expect(segmentBeatsIntoBars([0], 120, 4, 4, 2).length).toBeLessThanOrEqual(1);
  });
  it('audio shorter than one bar: beats 0, .5, 1, duration 1.5 → one bar clamped to the end', () => {
    expect(asTuples(segmentBeatsIntoBars([0, 0.5, 1.0], 120, 4, 4, 1.5))).toEqual([[0, 0, 1.5]]);
  });
  it('12 beats every 0.5 s in 4/4, 3/4 and 6/8 cover 6 s contiguously', () => {
    for (const [num, den, count] of [
      [4, 4, 3],
      [3, 4, 4],
      [6, 8, 4],
    ] as const) {
      const bars = segmentBeatsIntoBars(steps(0, 5.5, 0.5), 120, num, den, 6.0);
      expect(bars).toHaveLength(count);
      for (let i = 1; i < bars.length; i++) expect(bars[i]!.startS).toBe(bars[i - 1]!.endS);
      expect(bars.at(-1)!.endS).toBe(6.0);
    }
  });
  it('bars start at the first detected beat and bar indices are consecutive', () => {
    const bars = segmentBeatsIntoBars(steps(1.25, 9.75, 0.5), 120, 4, 4, 10);
    expect(bars[0]!.startS).toBe(1.25);
    expect(bars.map((b) => b.barIndex)).toEqual(bars.map((_, i) => i));
  });
});

describe('segmentBeatsIntoBars: fixes', () => {
  it('extends past the last beat with the local interval (tempo drift), global on request', () => {
    // 16 beats at 0.5 s, then 8 at 0.4 s: the song ends faster than its median.
    const beats = [...steps(0, 7.5, 0.5), ...steps(7.9, 10.7, 0.4)];
    expect(estimateBeatInterval(beats, 0, 'end')).toBeCloseTo(0.4, 9);
    expect(estimateBeatInterval(beats, 0, 'end', { extrapolation: 'global' })).toBeCloseTo(0.5, 9);
    const local = segmentBeatsIntoBars(beats, 0, 4, 4, 14);
    const global = segmentBeatsIntoBars(beats, 0, 4, 4, 14, { extrapolation: 'global' });
    // Both grids agree on the detected beats; the extrapolated tail follows each interval.
    expect(local.slice(0, 5)).toEqual(global.slice(0, 5));
    const lastDetectedBar = local.find((b) => b.startS > 10.7)!;
    expect(lastDetectedBar.endS - lastDetectedBar.startS).toBeCloseTo(1.6, 9);
  });
  it('rejects NaN and unsorted beats, and a non-finite duration', () => {
    expect(() => segmentBeatsIntoBars([0, Number.NaN], 120, 4, 4, 2)).toThrow(InvalidArgumentError);
    expect(() => segmentBeatsIntoBars([1, 0.5], 120, 4, 4, 2)).toThrow(/ascending/);
    expect(() => segmentBeatsIntoBars([0], 120, 4, 4, Number.NaN)).toThrow(/duration/);
  });
  it('pickup option covers the audio before the first beat with negative bars', () => {
    const bars = segmentBeatsIntoBars(steps(3.0, 9.5, 0.5), 120, 4, 4, 10, { pickup: true });
    expect(asTuples(bars.slice(0, 3))).toEqual([
      [-2, 0, 1.0],
      [-1, 1.0, 3.0],
      [0, 3.0, 5.0],
    ]);
  });
  it('uses one time→sample rule (round half up)', () => {
    expect(timeToSampleIndex(0.5 / 22050, 22050)).toBe(1); // exactly half a sample rounds up, not to even
    expect(timeToSampleIndex(2.5 / 22050, 22050)).toBe(3);
    expect(timeToSampleIndex(-1, 22050)).toBe(0);
    expect(barSampleRange({ startS: 1, endS: 99 }, 100, 500)).toEqual([100, 500]);
  });
  it('beats per bar = num*4/den, 4 for invalid meters', () => {
    expect([beatsPerBar(4, 4), beatsPerBar(3, 4), beatsPerBar(6, 8), beatsPerBar(7, 8), beatsPerBar(5, 16), beatsPerBar(0, 4)]).toEqual([
      4, 3, 3, 3.5, 1.25, 4,
    ]);
  });
});

describe('alignNotesToBeats', () => {
  const beats = steps(0, 3.5, 0.5);

  it('adds the five columns for 3 notes (the original’s test)', () => {
    const a = alignNotesToBeats(
      [
        { startS: 0.1, endS: 0.4 },
        { startS: 1.0, endS: 1.6 },
        { startS: 2.3, endS: 3.0 },
      ],
      beats,
      120,
    );
    expect(Array.from(a.beatIndex)).toEqual([0, 2, 4]);
    expect(Array.from(a.barIndex)).toEqual([0, 0, 1]);
    expect(a.startBeatFloat[0]).toBeCloseTo(0.2, 12);
    expect(a.endBeatFloat[1]).toBeCloseTo(3.2, 12);
    expect(a.beatInBar[2]).toBeCloseTo(0.6, 12);
  });

  it('reference facts of the original: notes before the first beat', () => {
    const late = steps(5, 20, 0.5);
    const a = alignNotesToBeats({ startS: [4.0, 2.0, 4.5], endS: [4.2, 2.5, 5.0] }, late, 120);
    // 1 s before the first beat: beat −2, bar 0 (truncation), beat_in_bar 2 (floored modulo)
    expect([a.startBeatFloat[0], a.barIndex[0], a.beatInBar[0], a.beatIndex[0]]).toEqual([-2, 0, 2, 0]);
    // 3 s before: beat −6, bar −1, beat_in_bar 2
    expect([a.startBeatFloat[1], a.barIndex[1], a.beatInBar[1]]).toEqual([-6, -1, 2]);
    // −1 beat: bar 0 and beat_in_bar 3 (the original's contract); floor puts it in bar −1
    expect([a.barIndex[2], a.beatInBar[2]]).toEqual([0, 3]);
    const floored = alignNotesToBeats({ startS: [4.5], endS: [5] }, late, 120, 4, 4, { barIndexRounding: 'floor' });
    expect(floored.barIndex[0]).toBe(-1);
  });

  it('no beats: synthetic grid from 0 with 60/tempo, or 0.5 s for tempo 0 (committed sample row)', () => {
    const a = alignNotesToBeats(
      { startS: [0.011363636363636364, 1.6477272727272727, 3.286363636363636], endS: [1.6363636363636362, 3.286363636363636, 3.868181818181818] },
      [],
      0,
    );
    expect(Array.from(a.beatIndex)).toEqual([0, 3, 6]);
    expect(Array.from(a.barIndex)).toEqual([0, 0, 1]);
    expect(a.startBeatFloat[0]).toBeCloseTo(0.022727272727272728, 14);
    expect(a.endBeatFloat[0]).toBeCloseTo(3.2727272727272725, 14);
    expect(a.beatInBar[1]).toBeCloseTo(3.2954545454545454, 13);
    expect(a.beatInBar[2]).toBeCloseTo(2.5727272727272723, 13);
    const at90 = alignNotesToBeats({ startS: [1.0], endS: [2.0] }, [], 90);
    expect(at90.startBeatFloat[0]).toBeCloseTo(1.5, 12);
  });

  it('extends the grid past the last beat so late notes keep counting beats', () => {
    const a = alignNotesToBeats({ startS: [10.25], endS: [11.0] }, beats, 120);
    expect(a.beatIndex[0]).toBe(20);
    expect(a.startBeatFloat[0]).toBeCloseTo(20.5, 9);
    expect(a.barIndex[0]).toBe(5);
  });

  it('agrees with the bar grid for notes after the first beat (shared origin/interval/bpb)', () => {
    const grid = steps(0.75, 30, 0.5);
    const bars = segmentBeatsIntoBars(grid, 120, 3, 4, 31);
    const starts = [0.8, 2.3, 7.77, 15.0, 30.5];
    const a = alignNotesToBeats({ startS: starts, endS: starts.map((s) => s + 0.1) }, grid, 120, 3, 4);
    starts.forEach((s, k) => {
      const bar = bars.find((b) => s >= b.startS && s < b.endS)!;
      expect(a.barIndex[k]).toBe(bar.barIndex);
    });
  });

  it('handles empty input, zero-length grid gaps and mismatched columns', () => {
    expect(alignNotesToBeats({ startS: [], endS: [] }, beats, 120).barIndex.length).toBe(0);
    const dup = alignNotesToBeats({ startS: [1.0], endS: [1.0] }, [0, 1, 1, 2], 60);
    expect(Number.isFinite(dup.startBeatFloat[0]!)).toBe(true);
    expect(() => alignNotesToBeats({ startS: [1], endS: [] }, beats, 120)).toThrow(InvalidArgumentError);
    expect(() => alignNotesToBeats({ startS: [Number.NaN], endS: [1] }, beats, 120)).toThrow(/non-finite/);
  });

  it('python float modulo', () => {
    expect(pythonFloatMod(-0.5, 4)).toBe(3.5);
    expect(pythonFloatMod(-4, 4)).toBe(0);
    expect(pythonFloatMod(5.5, 3.5)).toBe(2);
  });
});

describe('bars from detected downbeats', () => {
  // 3/4 with a one-beat pickup: beats every 0.5 s from 0.25 s, the downbeat on the second beat.
  const beats = Float64Array.from({ length: 13 }, (_, i) => 0.25 + 0.5 * i);
  const positions = Int32Array.from({ length: 13 }, (_, i) => ((i + 2) % 3) + 1); // 3,1,2,3,1,2,...
  const grid = { beatTimes: beats, beatPositions: positions, beatsPerBar: 3 };

  it('bar 0 starts on the first downbeat and each bar runs to the next one', () => {
    expect(downbeatIndices(grid)).toEqual([1, 4, 7, 10]);
    const bars = barsFromDownbeats(grid, 120, 7);
    expect(bars.length).toBe(4);
    expect(bars.slice(0, 3)).toEqual([
      { barIndex: 0, startS: 0.75, endS: 2.25, beatsPerBar: 3 },
      { barIndex: 1, startS: 2.25, endS: 3.75, beatsPerBar: 3 },
      { barIndex: 2, startS: 3.75, endS: 5.25, beatsPerBar: 3 },
    ]);
    // From the last downbeat (5.25 s) on, bars of 3 beats at the local interval to the end (7 s);
    // the last 0.25 s (half a beat) joins bar 3 instead of being a bar of its own.
    expect(bars.slice(3)).toEqual([{ barIndex: 3, startS: 5.25, endS: 7, beatsPerBar: 3 }]);
    expect(barsFromDownbeats(grid, 120, 7.5).slice(3)).toEqual([
      { barIndex: 3, startS: 5.25, endS: 6.75, beatsPerBar: 3 },
      { barIndex: 4, startS: 6.75, endS: 7.5, beatsPerBar: 3 },
    ]);
  });

  it('bars cover a 60 s song: a late first downbeat gets pickup bars from 0 s, a 3 ms last bar is merged (issue 24, item 6)', () => {
    // The tracker's first beat and downbeat at 2.3 s (the true first downbeat is at 0.3 s), 4/4 at
    // 120 BPM to the end, and a grid that overshoots the last full bar by 3 ms.
    const b = Float64Array.from({ length: 116 }, (_, i) => 2.3 + 0.5 * i);
    const p = Int32Array.from(b, (_, i) => (i % 4) + 1);
    const bars = barsFromDownbeats({ beatTimes: b, beatPositions: p, beatsPerBar: 4 }, 120, 60.303, { pickup: true });
    expect(bars[0]).toMatchObject({ barIndex: -2, startS: 0 });
    expect(bars[1]).toMatchObject({ barIndex: -1, endS: 2.3, beatsPerBar: 4 });
    expect(bars[1]!.startS).toBeCloseTo(0.3, 9);
    for (let i = 1; i < bars.length; i++) expect(bars[i]!.startS).toBe(bars[i - 1]!.endS);
    const last = bars[bars.length - 1]!;
    expect(last.endS).toBe(60.303);
    expect(last.endS - last.startS).toBeCloseTo(2.003, 9);
    expect(bars.every((x) => x.endS - x.startS >= 0.3 - 1e-9)).toBe(true);
  });

  it('bars may differ in length (a 2-beat bar among 4-beat bars) and bar_grid records each', () => {
    const b = Float64Array.from({ length: 10 }, (_, i) => i * 0.5);
    const p = Int32Array.from([1, 2, 3, 4, 1, 2, 1, 2, 3, 4]);
    const bars = barsFromDownbeats({ beatTimes: b, beatPositions: p, beatsPerBar: 4 }, 120, 5);
    expect(bars.map((x) => [x.barIndex, x.startS, x.endS, x.beatsPerBar])).toEqual([
      [0, 0, 2, 4],
      [1, 2, 3, 2],
      [2, 3, 5, 4],
    ]);
  });

  it('with pickup, the audio before the first downbeat is bar −1', () => {
    const bars = barsFromDownbeats(grid, 120, 7, { pickup: true });
    expect(bars[0]).toEqual({ barIndex: -1, startS: 0, endS: 0.75, beatsPerBar: 1 });
    expect(bars[1]!.barIndex).toBe(0);
  });

  it('without any downbeat, falls back to counting beats from the first one', () => {
    const none = { beatTimes: beats, beatPositions: new Int32Array(13).fill(2), beatsPerBar: 3 };
    expect(barsFromDownbeats(none, 120, 7)[0]).toMatchObject({ barIndex: 0, startS: 0.25, endS: 1.75 });
    expect(barsFromDownbeats({ ...grid, beatTimes: new Float64Array(0), beatPositions: new Int32Array(0) }, 120, 7)).toEqual([]);
  });

  it('notes align to the bar of the preceding downbeat; the pickup note is bar −1', () => {
    const notes = { startS: [0.25, 0.75, 1.5, 2.3, 6.0], endS: [0.5, 1.0, 1.75, 2.5, 6.2] };
    const a = alignNotesToBeats(notes, beats, 120, 3, 4, { barStarts: downbeatIndices(grid) });
    expect(Array.from(a.barIndex)).toEqual([-1, 0, 0, 1, 3]);
    expect(Array.from(a.beatInBar, (x) => Math.round(x * 1e9) / 1e9)).toEqual([2, 0, 1.5, 0.1, 1.5]);
    // Without downbeats the original's count from the first beat puts the same notes elsewhere.
    const counted = alignNotesToBeats(notes, beats, 120, 3, 4);
    expect(Array.from(counted.barIndex)).toEqual([0, 0, 0, 1, 3]);
  });
});
