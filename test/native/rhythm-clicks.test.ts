// Issue 24, item 4: clicks of several timbres and the 3/4 click that failed. Before: a 3/4 sine
// click at 90 BPM came out 60 BPM with 2 beats per bar (half of its beats between the clicks), and
// a noise-burst click at 90 BPM had every beat 80 ms early.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RhythmTracker } from '../../lib/index.js';
import { clickTrack } from '../helpers/clicks.js';

const SR = 22050;
const LEAD = 0.25;

function offsetsMs(beats: Float64Array, bpm: number): number[] {
  const beat = 60 / bpm;
  return Array.from(beats.filter((t) => t > 5)).map((t) => {
    const k = Math.round((t - LEAD) / beat);
    return (t - LEAD - k * beat) * 1000;
  });
}

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

describe('clicks of several timbres (issue 24, item 4)', () => {
  let tracker: RhythmTracker;
  beforeAll(async () => {
    tracker = await RhythmTracker.open();
  });
  afterAll(() => tracker?.close());

  for (const timbre of ['sine', 'noise', 'woodblock'] as const) {
    it(`a 3/4 ${timbre} click at 90 BPM: 90 BPM, 3 beats per bar, beats within 5 ms (median) of the clicks`, async () => {
      const r = await tracker.track(clickTrack({ sampleRate: SR, seconds: 30, bpm: 90, beatsPerBar: 3, leadIn: LEAD, timbre }), SR);
      expect(Math.abs(r.tempoBpm - 90)).toBeLessThanOrEqual(0.5);
      expect(r.beatsPerBar).toBe(3);
      const off = offsetsMs(r.beats, 90);
      expect(off.length).toBeGreaterThan(30);
      expect(Math.abs(median(off))).toBeLessThanOrEqual(5);
      // The beats are the clicks (within 20 ms, a frame), not a grid between them.
      expect(off.filter((o) => Math.abs(o) <= 20).length).toBeGreaterThanOrEqual(0.95 * off.length);
    });

    it(`a 4/4 ${timbre} click at 120 BPM: 120 BPM, beats within 5 ms (median) of the clicks`, async () => {
      const r = await tracker.track(clickTrack({ sampleRate: SR, seconds: 24, bpm: 120, beatsPerBar: 4, leadIn: LEAD, timbre }), SR);
      expect(Math.abs(r.tempoBpm - 120)).toBeLessThanOrEqual(0.5);
      const off = offsetsMs(r.beats, 120);
      expect(Math.abs(median(off))).toBeLessThanOrEqual(5);
    });
  }
});
