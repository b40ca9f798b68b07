/** Deterministic test signals (no randomness unless seeded). */

import { melodySong, seededRandom } from '../../scripts/example-song.mjs';

// Shared with the benchmarks and `npm run example` (scripts/example-song.mjs).
export { melodySong, seededRandom };

export function sine(sampleRate: number, seconds: number, freq: number, amplitude = 0.5): Float32Array {
  const n = Math.round(sampleRate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / sampleRate);
  return out;
}

/** Interleaves equal-length channels. */
export function interleave(...channels: Float32Array[]): Float32Array {
  const frames = channels[0]?.length ?? 0;
  const out = new Float32Array(frames * channels.length);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels.length; c++) out[f * channels.length + c] = channels[c]![f]!;
  }
  return out;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Options of rockSong. */
export interface RockSongOptions {
  sampleRate?: number;
  seconds: number;
  bpm: number;
  /** Seconds of audio before the first downbeat (a pickup of eighth-note guitar, no drums). */
  leadIn?: number;
  seed?: number;
}

/**
 * A dense rock mix, 4/4: kick on 1 and 3 (and the "and" of 3), a loud snare with a body on 2 and
 * 4, closed hi-hat eighths, and distorted (tanh-saturated) eighth-note power chords with bass
 * whose root changes on every downbeat (E A D G), then bus compression as a mix would have. Mono.
 * Beats at leadIn + k · 60 / bpm; downbeats every fourth beat from leadIn.
 */
export function rockSong(options: RockSongOptions): Float32Array {
  const sr = options.sampleRate ?? 22050;
  const n = Math.round(sr * options.seconds);
  const out = new Float32Array(n);
  const random = seededRandom(options.seed ?? 7);
  const beat = 60 / options.bpm;
  const lead = options.leadIn ?? 0;
  const roots = [40, 45, 38, 43];
  const hz = (m: number) => 440 * 2 ** ((m - 69) / 12);
  const add = (t0: number, dur: number, f: (t: number) => number) => {
    const a = Math.max(0, Math.round(t0 * sr));
    const b = Math.min(n, Math.round((t0 + dur) * sr));
    for (let i = a; i < b; i++) out[i] = out[i]! + f(i / sr - t0);
  };
  const kick = (t: number) => 0.9 * Math.exp(-t * 18) * Math.sin(2 * Math.PI * (50 + 90 * Math.exp(-t * 40)) * t);
  const snare = (t: number) => Math.exp(-t * 22) * (0.35 * Math.sin(2 * Math.PI * 190 * t) + 0.5 * (2 * random() - 1));
  const hat = (t: number) => 0.12 * Math.exp(-t * 90) * (2 * random() - 1);
  // Eighth notes from the lead-in's start (guitar alone there), the band from leadIn.
  const firstEighth = -Math.floor(lead / (beat / 2));
  const totalEighths = Math.ceil((options.seconds - lead) / (beat / 2));
  for (let e = firstEighth; e < totalEighths; e++) {
    const t0 = lead + (e * beat) / 2;
    const bar = Math.floor(e / 8);
    const root = roots[((bar % 4) + 4) % 4]!;
    const f0 = hz(root);
    // Power chord (root, fifth, octave), saturated; palm-muted decay inside each eighth.
    add(t0, beat / 2, (t) => {
      const s = Math.sin(2 * Math.PI * f0 * t) + Math.sin(2 * Math.PI * f0 * 1.5 * t) + 0.7 * Math.sin(2 * Math.PI * f0 * 2 * t);
      return 0.35 * Math.tanh(4 * s) * Math.min(1, t * 400) * Math.exp(-t * 3);
    });
    if (e < 0) continue;
    add(t0, beat / 2, (t) => 0.4 * Math.tanh(2 * Math.sin(2 * Math.PI * (f0 / 2) * t)) * Math.min(1, t * 300));
    add(t0, 0.05, hat);
    const inBar = e % 8;
    if (inBar === 0 || inBar === 4 || inBar === 5) add(t0, 0.3, kick);
    if (inBar === 2 || inBar === 6) add(t0, 0.25, snare);
  }
  // Bus compression: a fast peak follower with 4:1 above -12 dBFS of the running peak, then make-up.
  let env = 0;
  const attack = Math.exp(-1 / (0.002 * sr));
  const release = Math.exp(-1 / (0.1 * sr));
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(out[i]!));
  const threshold = 0.25 * peak;
  for (let i = 0; i < n; i++) {
    const a = Math.abs(out[i]!);
    env = a > env ? attack * env + (1 - attack) * a : release * env + (1 - release) * a;
    const gain = env > threshold ? (threshold + (env - threshold) / 4) / env : 1;
    out[i] = out[i]! * gain;
  }
  let p2 = 0;
  for (let i = 0; i < n; i++) p2 = Math.max(p2, Math.abs(out[i]!));
  for (let i = 0; i < n; i++) out[i] = (0.9 * out[i]!) / p2;
  return out;
}
