/**
 * The JavaScript loops the addon's level passes replaced (lib/audio/levels.ts), kept as the
 * reference the native results must equal exactly: same float64 order, same slices, same rounding.
 */

const INT16_FULL_SCALE = 32768;

/** step 2's countClipped and audioInfo's peak / sum of squares. */
export function referenceLevels(samples: Float32Array): { clipped: number; peak: number; sumSquares: number } {
  let clipped = 0;
  let peak = 0;
  let sumSquares = 0;
  for (const s of samples) {
    if (s >= 1 || s <= -1) clipped++;
    const a = Math.abs(s);
    if (a > peak) peak = a;
    sumSquares += s * s;
  }
  return { clipped, peak, sumSquares };
}

/** The report's waveformPeaks loop. */
export function referencePeaks(samples: Float32Array, points: number): { min: Float32Array; max: Float32Array } {
  const n = samples.length;
  const count = Math.max(0, Math.min(points, n));
  const min = new Float32Array(count).fill(Infinity);
  const max = new Float32Array(count).fill(-Infinity);
  const perPoint = n / count;
  for (let i = 0; i < n; i++) {
    const p = Math.min(count - 1, Math.floor(i / perPoint));
    const s = samples[i]!;
    if (s < min[p]!) min[p] = s;
    if (s > max[p]!) max[p] = s;
  }
  return { min, max };
}

function msToSamples(ms: number, sampleRate: number): number {
  return Math.floor((ms * sampleRate) / 1000);
}

function sumSquares(audio: Float32Array, a: number, b: number): number {
  let sum = 0;
  for (let i = a; i < b; i++) {
    const s = audio[i]! * INT16_FULL_SCALE;
    sum += s * s;
  }
  return sum;
}

/** detectNonsilentMs's window measurement: the truncated RMS of each window start, in order. */
export function referenceWindowRms(audio: Float32Array, sampleRate: number, starts: ArrayLike<number>, minSilenceMs: number, seekStepMs: number): number[] {
  const lastStart = starts[starts.length - 1]!;
  const bound = (ms: number) => Math.min(audio.length, msToSamples(ms, sampleRate));
  const onGrid = minSilenceMs % seekStepMs === 0;
  const perWindow = minSilenceMs / seekStepMs;
  const stepSums = new Float64Array(onGrid ? Math.ceil((lastStart + minSilenceMs) / seekStepMs) : 0);
  for (let k = 0; k < stepSums.length; k++) stepSums[k] = sumSquares(audio, bound(k * seekStepMs), bound((k + 1) * seekStepMs));
  return Array.from(starts, (ms) => {
    const a = bound(ms);
    const n = bound(ms + minSilenceMs) - a;
    let sum = 0;
    if (onGrid && ms % seekStepMs === 0) {
      for (let k = ms / seekStepMs; k < ms / seekStepMs + perWindow; k++) sum += stepSums[k]!;
    } else {
      sum = sumSquares(audio, a, a + n);
    }
    return n > 0 ? Math.floor(Math.sqrt(sum / n)) : 0;
  });
}

/** normalizePeak's loops. */
export function referenceNormalize(audio: Float32Array, headroomDb = 0.1): { audio: Float32Array; gain: number } {
  let peak = 0;
  for (let i = 0; i < audio.length; i++) {
    const a = Math.abs(audio[i]!);
    if (a > peak) peak = a;
  }
  if (peak === 0) return { audio, gain: 1 };
  const gain = 10 ** (-headroomDb / 20) / peak;
  const out = new Float32Array(audio.length);
  for (let i = 0; i < audio.length; i++) out[i] = Math.max(-1, Math.min(1, audio[i]! * gain));
  return { audio: out, gain };
}

/** aggregateBarFeatures's per-bar energy loop. */
export function referenceEnergies(samples: Float32Array | Float64Array, ranges: ArrayLike<number>): number[] {
  const out: number[] = [];
  for (let r = 0; r < ranges.length; r += 2) {
    let energy = 0;
    for (let k = ranges[r]!; k < ranges[r + 1]!; k++) energy += samples[k]! * samples[k]!;
    out.push(energy);
  }
  return out;
}
