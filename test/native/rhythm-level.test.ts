// Issue 24, item 3: the learned tracker's beats, meter and downbeats must not depend on the input's
// level. madmom's log10(1 + x) features are not scale-invariant, so before the fix the same song at
// another gain decoded another meter (example song at 97 BPM: 2 at gain 1, 4 at gain 0.25).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RhythmTracker } from '../../lib/index.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { clickTrack } from '../helpers/clicks.js';

const SR = 22050;
const FRAME = 0.02;
const GAINS = [0.25, 0.5, 2, 4];

function monoOf(stereo: Float32Array): Float32Array {
  const out = new Float32Array(stereo.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = 0.5 * (stereo[2 * i]! + stereo[2 * i + 1]!);
  return out;
}

/** Scaled so that its peak is `peak` (×4 stays below full scale). */
function atPeak(x: Float32Array, peak: number): Float32Array {
  let p = 0;
  for (const v of x) p = Math.max(p, Math.abs(v));
  return x.map((v) => (v * peak) / p);
}

const SIGNALS: Record<string, () => Float32Array> = {
  'example song, 97 BPM': () => monoOf(exampleSong(SR, 24, 97)),
  'example song, 150 BPM': () => monoOf(exampleSong(SR, 24, 150)),
  'noise-burst click, 3/4 at 90 BPM': () => clickTrack({ sampleRate: SR, seconds: 24, bpm: 90, beatsPerBar: 3, leadIn: 0.4 }),
};

describe('learned rhythm is independent of the input level (issue 24, item 3)', () => {
  let tracker: RhythmTracker;
  beforeAll(async () => {
    tracker = await RhythmTracker.open();
  });
  afterAll(() => tracker?.close());

  for (const [name, make] of Object.entries(SIGNALS)) {
    it(`${name}: gains 0.25, 0.5, 2 and 4 give the same beats (within a frame), meter and downbeats`, async () => {
      const base = atPeak(make(), 0.2);
      const ref = await tracker.track(base, SR);
      expect(ref.beats.length).toBeGreaterThan(20);
      for (const g of GAINS) {
        const r = await tracker.track(
          base.map((v) => v * g),
          SR,
        );
        const at = `${name}, gain ${g}`;
        expect(r.beatsPerBar, at).toBe(ref.beatsPerBar);
        expect(r.beats.length, at).toBe(ref.beats.length);
        for (let i = 0; i < ref.beats.length; i++) expect(Math.abs(r.beats[i]! - ref.beats[i]!), at).toBeLessThanOrEqual(FRAME);
        expect(Array.from(r.beatPositions), at).toEqual(Array.from(ref.beatPositions));
      }
    });
  }

  it('normalizeLevel: false keeps the features of the audio as given (BeatNet’s own behaviour)', async () => {
    const base = atPeak(monoOf(exampleSong(SR, 12, 120)), 0.2);
    const a = await tracker.track(base, SR, { normalizeLevel: false, returnActivations: true });
    const b = await tracker.track(
      base.map((v) => v * 4),
      SR,
      { normalizeLevel: false, returnActivations: true },
    );
    let diff = 0;
    for (let i = 0; i < a.activations!.length; i++) diff = Math.max(diff, Math.abs(a.activations![i]! - b.activations![i]!));
    expect(diff).toBeGreaterThan(1e-3);
    const c = await tracker.track(base, SR, { returnActivations: true });
    const d = await tracker.track(
      base.map((v) => v * 4),
      SR,
      { returnActivations: true },
    );
    let same = 0;
    for (let i = 0; i < c.activations!.length; i++) same = Math.max(same, Math.abs(c.activations![i]! - d.activations![i]!));
    expect(same).toBeLessThan(1e-4);
  });
});
