// Issue 24, item 2: beats that hold on dense, distorted rock. A synthesised rock mix: kick on
// beats 1 and 3, snare on 2 and 4, and distorted power-chord stabs with open hats on every off-beat
// eighth (the held-out songs' "off-beat" failure: the guitars are loudest between the beats).
// Before the backbeat evidence the tracker followed the stabs, half a beat off on every beat.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { RhythmTracker } from '../../lib/index.js';
import { seededRandom } from '../helpers/signals.js';

const SR = 22050;

interface RockOptions {
  bpm: number;
  seconds: number;
  /** Sixteenth steps (0..15) of a 4/4 bar. */
  kick: number[];
  snare: number[];
  hat: number[];
  guitar: number[];
  /** How long each guitar hit rings, in sixteenths. */
  guitarSteps: number;
}

/** A mono rock mix at 22,050 Hz and its true beat times. */
function rockMix(o: RockOptions): { audio: Float32Array; beats: number[] } {
  const n = Math.round(o.seconds * SR);
  const drums = new Float32Array(n);
  const gtr = new Float32Array(n);
  const rng = seededRandom(24);
  const step = 60 / o.bpm / 4;
  const beats: number[] = [];
  const roots = [82.41, 98.0, 110.0, 73.42]; // E2 G2 A2 D2, one per bar
  for (let bar = 0; bar * 16 * step < o.seconds; bar++) {
    for (let s = 0; s < 16; s++) {
      const t = (bar * 16 + s) * step;
      const i0 = Math.round(t * SR);
      if (i0 >= n) break;
      if (s % 4 === 0) beats.push(t);
      if (o.kick.includes(s)) {
        // a pitch-dropping sine thump, 150 -> 50 Hz
        let ph = 0;
        for (let i = 0; i < 0.25 * SR && i0 + i < n; i++) {
          const u = i / SR;
          ph += (2 * Math.PI * (50 + 100 * Math.exp(-u / 0.03))) / SR;
          drums[i0 + i]! += 0.9 * Math.sin(ph) * Math.exp(-u / 0.08);
        }
      }
      if (o.snare.includes(s)) {
        for (let i = 0; i < 0.2 * SR && i0 + i < n; i++) {
          const u = i / SR;
          drums[i0 + i]! += (0.6 * (rng() * 2 - 1) + 0.3 * Math.sin(2 * Math.PI * 190 * u)) * Math.exp(-u / 0.05);
        }
      }
      if (o.hat.includes(s)) {
        let prev = 0;
        for (let i = 0; i < 0.12 * SR && i0 + i < n; i++) {
          const w = rng() * 2 - 1;
          drums[i0 + i]! += 0.25 * (w - prev) * Math.exp(-i / SR / 0.04); // first difference: high-passed noise
          prev = w;
        }
      }
      if (o.guitar.includes(s)) {
        // a power chord (root, fifth, octave) of detuned saws through a hard amp distortion
        const f0 = roots[bar % roots.length]!;
        const len = Math.round(o.guitarSteps * step * SR - 0.02 * SR);
        for (let i = 0; i < len && i0 + i < n; i++) {
          const u = i / SR;
          let x = 0;
          for (const [f, a] of [
            [f0, 1],
            [f0 * 1.003, 0.7],
            [f0 * 1.5, 0.8],
            [f0 * 2, 0.6],
          ] as const) {
            x += a * (2 * ((f * u) % 1) - 1);
          }
          const env = Math.min(1, u / 0.004) * Math.min(1, (len - i) / (0.01 * SR));
          gtr[i0 + i]! += Math.tanh(6 * x) * env;
        }
      }
    }
  }
  // the mix: guitars loud, as a metal mix has them, then a soft bus saturation
  const audio = new Float32Array(n);
  for (let i = 0; i < n; i++) audio[i] = 0.8 * Math.tanh(0.9 * drums[i]! + 0.7 * gtr[i]!);
  return { audio, beats: beats.filter((b) => b < o.seconds) };
}

/** Fraction of the estimated beats after 5 s within 70 ms of a true beat. */
function onBeat(est: Float64Array, truth: number[]): number {
  const e = Array.from(est).filter((t) => t > 5);
  if (!e.length) return 0;
  return e.filter((t) => truth.some((b) => Math.abs(b - t) <= 0.07)).length / e.length;
}

describe('beats on dense, distorted rock (issue 24, item 2)', () => {
  let tracker: RhythmTracker;
  beforeAll(async () => {
    tracker = await RhythmTracker.open();
  });
  afterAll(() => tracker?.close());

  it('off-beat guitar stabs and hats at 140 BPM, kick on 1 and 3, snare on 2 and 4: tracked on the beats', async () => {
    const { audio, beats } = rockMix({
      bpm: 140,
      seconds: 30,
      kick: [0, 8],
      snare: [4, 12],
      hat: [2, 6, 10, 14],
      guitar: [2, 6, 10, 14],
      guitarSteps: 2,
    });
    const r = await tracker.track(audio, SR);
    expect(Math.abs(r.tempoBpm - 140)).toBeLessThanOrEqual(3);
    expect(onBeat(r.beats, beats)).toBeGreaterThanOrEqual(0.9);
    // a backbeat bar: an even meter, downbeats on the kick beats (1 or 3), never on the snare's
    expect(r.beatsPerBar % 2).toBe(0);
    const kicks = beats.filter((_, i) => i % 2 === 0);
    expect(onBeat(r.downbeats, kicks)).toBeGreaterThanOrEqual(0.9);
  });

  it('punk at 184 BPM, kick on every beat, snare on 2 and 4, guitars on the eighths: 184 BPM, not half', async () => {
    const eighths = [0, 2, 4, 6, 8, 10, 12, 14];
    const { audio, beats } = rockMix({ bpm: 184, seconds: 30, kick: [0, 4, 8, 12], snare: [4, 12], hat: eighths, guitar: eighths, guitarSteps: 2 });
    const r = await tracker.track(audio, SR);
    expect(Math.abs(r.tempoBpm - 184)).toBeLessThanOrEqual(3);
    expect(onBeat(r.beats, beats)).toBeGreaterThanOrEqual(0.9);
  });
});
