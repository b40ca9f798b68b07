/** Deterministic test signals (no randomness unless seeded). */

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

/** Mulberry32: a tiny seeded PRNG for reproducible noise. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** A 120 BPM melody of sine notes (C4 E4 G4 C5 G4 E4, one per beat) over a kick, interleaved stereo 44.1 kHz. */
export function melodySong(seconds: number): Float32Array {
  const sr = 44100;
  const n = seconds * sr;
  const out = new Float32Array(n * 2);
  const midi = [60, 64, 67, 72, 67, 64];
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const beat = Math.floor(t * 2);
    const inBeat = t * 2 - beat;
    const f = 440 * 2 ** ((midi[beat % midi.length]! - 69) / 12);
    const env = Math.min(1, inBeat * 50) * Math.max(0, 1 - inBeat * 1.1);
    const kick = inBeat < 0.1 ? Math.sin(2 * Math.PI * 60 * t) * (1 - inBeat * 10) : 0;
    const s = 0.4 * env * Math.sin(2 * Math.PI * f * t) + 0.4 * kick;
    out[2 * i] = s;
    out[2 * i + 1] = 0.8 * s;
  }
  return out;
}
