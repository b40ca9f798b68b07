/**
 * Preprocessing of the analysis signal in float: silence trim with pydub's detection rules and
 * peak normalisation with pydub's 0.1 dB headroom. Unlike the original (int16 via pydub, and a
 * resample to 44.1 kHz first), it works at the analysis rate and reports the trim offset, so the
 * pipeline can put every time it writes back on the input's timeline.
 */

import { forEachChunk, SAMPLE_CHUNK } from '../util/chunked.js';

export interface TrimOptions {
  /** dBFS; a 100 ms window is silent when its RMS is at or below this. */
  silenceThreshDbfs: number;
  /** Milliseconds of silence kept before the first and after the last non-silent region. */
  keepSilenceMs: number;
  /** pydub's window length and step (ms). */
  minSilenceMs?: number;
  seekStepMs?: number;
}

export interface TrimResult {
  audio: Float32Array;
  /** Seconds removed from the start (the offset to add to every time measured on `audio`). */
  offsetS: number;
  /** Whether anything was removed. */
  trimmed: boolean;
}

const INT16_FULL_SCALE = 32768;

/** Samples in the first `ms` milliseconds, as pydub slices (frame = ms * rate / 1000, truncated). */
function msToSamples(ms: number, sampleRate: number): number {
  return Math.floor((ms * sampleRate) / 1000);
}

/** Sum of squares (int16 scale, float64) of audio[a, b). */
function sumSquares(audio: Float32Array, a: number, b: number): number {
  let sum = 0;
  for (let i = a; i < b; i++) {
    const s = audio[i]! * INT16_FULL_SCALE;
    sum += s * s;
  }
  return sum;
}

/**
 * pydub's detect_nonsilent on float audio: 100 ms windows every 10 ms, RMS (on the int16 scale,
 * truncated like audioop.rms) compared with the threshold, silent windows merged into ranges.
 * Returns [startMs, endMs] ranges. Runs in event-loop-sized chunks (a 20-minute song is 26 M
 * samples at 22,050 Hz).
 */
export async function detectNonsilentMs(
  audio: Float32Array,
  sampleRate: number,
  silenceThreshDbfs: number,
  minSilenceMs = 100,
  seekStepMs = 10,
): Promise<Array<[number, number]>> {
  const lengthMs = Math.round((1000 * audio.length) / sampleRate);
  if (lengthMs < minSilenceMs) return [[0, lengthMs]];
  const threshold = 10 ** (silenceThreshDbfs / 20) * INT16_FULL_SCALE;
  const lastStart = lengthMs - minSilenceMs;
  const starts: number[] = [];
  for (let ms = 0; ms <= lastStart; ms += seekStepMs) starts.push(ms);
  if (lastStart % seekStepMs !== 0) starts.push(lastStart);
  const bound = (ms: number) => Math.min(audio.length, msToSamples(ms, sampleRate));
  const perChunk = (ms: number) => Math.max(1, Math.floor(SAMPLE_CHUNK / Math.max(1, msToSamples(ms, sampleRate))));
  // Windows on the step grid are sums of whole steps: sum each step once (a small table instead
  // of a per-sample prefix array), then each window adds minSilenceMs / seekStepMs of them.
  const onGrid = minSilenceMs % seekStepMs === 0;
  const perWindow = minSilenceMs / seekStepMs;
  const stepSums = new Float64Array(onGrid ? Math.ceil((lastStart + minSilenceMs) / seekStepMs) : 0);
  await forEachChunk(
    stepSums.length,
    (k0, k1) => {
      for (let k = k0; k < k1; k++) stepSums[k] = sumSquares(audio, bound(k * seekStepMs), bound((k + 1) * seekStepMs));
    },
    perChunk(seekStepMs),
  );
  const silenceStarts: number[] = [];
  await forEachChunk(
    starts.length,
    (i0, i1) => {
      for (let i = i0; i < i1; i++) {
        const ms = starts[i]!;
        const a = bound(ms);
        const n = bound(ms + minSilenceMs) - a;
        let sum = 0;
        if (onGrid && ms % seekStepMs === 0) {
          for (let k = ms / seekStepMs; k < ms / seekStepMs + perWindow; k++) sum += stepSums[k]!;
        } else {
          sum = sumSquares(audio, a, a + n);
        }
        const rms = n > 0 ? Math.floor(Math.sqrt(sum / n)) : 0;
        if (rms <= threshold) silenceStarts.push(ms);
      }
    },
    onGrid ? SAMPLE_CHUNK : perChunk(minSilenceMs),
  );
  if (silenceStarts.length === 0) return [[0, lengthMs]];

  const silent: Array<[number, number]> = [];
  let prev = silenceStarts[0]!;
  let rangeStart = prev;
  for (const s of silenceStarts.slice(1)) {
    const continuous = s === prev + seekStepMs;
    const hasGap = s > prev + minSilenceMs;
    if (!continuous && hasGap) {
      silent.push([rangeStart, prev + minSilenceMs]);
      rangeStart = s;
    }
    prev = s;
  }
  silent.push([rangeStart, prev + minSilenceMs]);

  if (silent[0]![0] === 0 && silent[0]![1] === lengthMs) return [];
  const nonsilent: Array<[number, number]> = [];
  let prevEnd = 0;
  let lastEnd = 0;
  for (const [start, end] of silent) {
    nonsilent.push([prevEnd, start]);
    prevEnd = end;
    lastEnd = end;
  }
  if (lastEnd !== lengthMs) nonsilent.push([prevEnd, lengthMs]);
  if (nonsilent[0]![0] === 0 && nonsilent[0]![1] === 0) nonsilent.shift();
  return nonsilent;
}

/** Trims leading and trailing silence; all-silent audio is returned untouched (as the original). */
export async function trimSilence(audio: Float32Array, sampleRate: number, options: TrimOptions): Promise<TrimResult> {
  const ranges = await detectNonsilentMs(audio, sampleRate, options.silenceThreshDbfs, options.minSilenceMs, options.seekStepMs);
  if (ranges.length === 0) return { audio, offsetS: 0, trimmed: false };
  const lengthMs = Math.round((1000 * audio.length) / sampleRate);
  const startMs = Math.max(0, ranges[0]![0] - options.keepSilenceMs);
  const endMs = Math.min(lengthMs, ranges[ranges.length - 1]![1] + options.keepSilenceMs);
  const a = Math.min(audio.length, msToSamples(startMs, sampleRate));
  const b = endMs >= lengthMs ? audio.length : Math.min(audio.length, msToSamples(endMs, sampleRate));
  if (a === 0 && b === audio.length) return { audio, offsetS: 0, trimmed: false };
  return { audio: audio.subarray(a, b), offsetS: a / sampleRate, trimmed: true };
}

/**
 * Peak normalisation to 0.1 dB below full scale (pydub's normalize(headroom=0.1)). Silence is
 * left alone. Returns the gain applied.
 */
export async function normalizePeak(audio: Float32Array, headroomDb = 0.1): Promise<{ audio: Float32Array; gain: number }> {
  let peak = 0;
  await forEachChunk(audio.length, (start, end) => {
    for (let i = start; i < end; i++) {
      const a = Math.abs(audio[i]!);
      if (a > peak) peak = a;
    }
  });
  if (peak === 0) return { audio, gain: 1 };
  const gain = 10 ** (-headroomDb / 20) / peak;
  const out = new Float32Array(audio.length);
  await forEachChunk(audio.length, (start, end) => {
    for (let i = start; i < end; i++) out[i] = Math.max(-1, Math.min(1, audio[i]! * gain));
  });
  return { audio: out, gain };
}
