import { seededRandom } from './signals.js';

export interface ClickTrackOptions {
  sampleRate?: number;
  seconds: number;
  bpm: number;
  /** Beats per bar: the first beat of each bar is accented (louder, higher). */
  beatsPerBar?: number;
  /** Seconds of silence before the first click. */
  leadIn?: number;
  channels?: 1 | 2;
  seed?: number;
  /**
   * The click's sound: 'noise' (default) a 20 ms Hann-windowed noise burst; 'sine' a 1 kHz
   * (downbeat 1.5 kHz) tone with a 1 ms attack and 30 ms decay; 'woodblock' a pair of decaying
   * inharmonic partials (≈ 800 and 2,100 Hz) with an instant attack.
   */
  timbre?: 'noise' | 'sine' | 'woodblock';
  /**
   * Per-click amplitude within a bar, cycling (overrides beatsPerBar's accent): e.g. 6/8 as
   * eighths [0.9, 0.3, 0.3, 0.6, 0.3, 0.3] at the eighth rate. A click of 0.9 or more is a
   * downbeat (the sine and woodblock clicks sound higher).
   */
  accents?: number[];
}

/**
 * The original's test fixture idea: Hann-windowed 20 ms pulses on every beat (0.9 amplitude) plus
 * low seeded noise, here with an accent on each downbeat; stereo puts 0.5 × left on the right.
 * Returns interleaved samples.
 */
export function clickTrack(options: ClickTrackOptions): Float32Array {
  const sr = options.sampleRate ?? 22050;
  const channels = options.channels ?? 1;
  const n = Math.round(sr * options.seconds);
  const mono = new Float32Array(n);
  const random = seededRandom(options.seed ?? 42);
  for (let i = 0; i < n; i++) {
    // Box-Muller from the seeded uniform source: deterministic Gaussian noise, sigma 0.01.
    const u = Math.max(random(), 1e-12);
    const v = random();
    mono[i] = 0.01 * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
  const pulse = Math.round(0.02 * sr);
  const beat = 60 / options.bpm;
  const lead = options.leadIn ?? 0;
  if (lead > 0) mono.fill(0, 0, Math.min(n, Math.round(lead * sr)));
  const perBar = options.beatsPerBar ?? 4;
  for (let k = 0; ; k++) {
    const start = Math.round((lead + k * beat) * sr);
    if (start >= n) break;
    const pattern = options.accents;
    const amp = pattern?.length ? pattern[k % pattern.length]! : k % perBar === 0 ? 0.9 : 0.6;
    const accent = amp >= 0.9;
    const timbre = options.timbre ?? 'noise';
    if (timbre === 'noise') {
      // A broadband (noise) burst: it rises in every mel band, so beat_track's median-aggregated
      // onset envelope sees it (a narrow sine burst would not move the median).
      for (let j = 0; j < pulse && start + j < n; j++) {
        const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * j) / (pulse - 1));
        mono[start + j] = mono[start + j]! + amp * w * (2 * random() - 1);
      }
    } else {
      const len = Math.round(0.15 * sr);
      for (let j = 0; j < len && start + j < n; j++) {
        const t = j / sr;
        const v =
          timbre === 'sine'
            ? Math.min(1, t / 0.001) * Math.exp(-t / 0.03) * Math.sin(2 * Math.PI * (accent ? 1500 : 1000) * t)
            : Math.exp(-t / 0.012) * (0.7 * Math.sin(2 * Math.PI * (accent ? 950 : 800) * t) + 0.3 * Math.sin(2 * Math.PI * (accent ? 2470 : 2080) * t));
        mono[start + j] = mono[start + j]! + amp * v;
      }
    }
  }
  if (channels === 1) return mono;
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[2 * i] = mono[i]!;
    out[2 * i + 1] = 0.5 * mono[i]!;
  }
  return out;
}
