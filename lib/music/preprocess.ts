/**
 * Preprocessing of the analysis signal in float: silence trim with pydub's detection rules and
 * peak normalisation with pydub's 0.1 dB headroom. Unlike the original (int16 via pydub, and a
 * resample to 44.1 kHz first), it works at the analysis rate and reports the trim offset, so the
 * pipeline can put every time it writes back on the input's timeline.
 */

import type { NativeSilenceWindows } from '../../binding.js';
import { InvalidArgumentError } from '../errors.js';
import { normalizeToPeak, signalOverview } from '../audio/levels.js';

export interface TrimOptions {
  /** dBFS; a 100 ms window is silent when its RMS is at or below this. */
  silenceThreshDbfs: number;
  /** Milliseconds of silence kept before the first and after the last non-silent region. */
  keepSilenceMs: number;
  /** pydub's window length and step (ms). */
  minSilenceMs?: number;
  seekStepMs?: number;
  /**
   * The windows' RMS when already measured over the same audio (signalOverview with
   * silenceWindows(audio.length, sampleRate, minSilenceMs, seekStepMs)), so the samples are read once.
   */
  windowRms?: Float64Array;
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

function lengthMsOf(samples: number, sampleRate: number): number {
  return Math.round((1000 * samples) / sampleRate);
}

/**
 * The windows pydub's detect_nonsilent measures on `samples` samples at `sampleRate`: one every
 * `seekStepMs` and a last one flush with the end, each `minSilenceMs` long. Null when the audio is
 * shorter than one window (it is never silent then).
 */
export function silenceWindows(samples: number, sampleRate: number, minSilenceMs = 100, seekStepMs = 10): NativeSilenceWindows | null {
  const lengthMs = lengthMsOf(samples, sampleRate);
  if (lengthMs < minSilenceMs) return null;
  const lastStart = lengthMs - minSilenceMs;
  const starts: number[] = [];
  for (let ms = 0; ms <= lastStart; ms += seekStepMs) starts.push(ms);
  if (lastStart % seekStepMs !== 0) starts.push(lastStart);
  return { sampleRate, minSilenceMs, seekStepMs, starts: Float64Array.from(starts) };
}

/**
 * pydub's detect_nonsilent on float audio: 100 ms windows every 10 ms, RMS (on the int16 scale,
 * truncated like audioop.rms) compared with the threshold, silent windows merged into ranges.
 * Returns [startMs, endMs] ranges. The windows are measured in the addon, off the event loop
 * (a 20-minute song is 26 M samples at 22,050 Hz), unless `windowRms` brings them.
 */
export async function detectNonsilentMs(
  audio: Float32Array,
  sampleRate: number,
  silenceThreshDbfs: number,
  minSilenceMs = 100,
  seekStepMs = 10,
  windowRms?: Float64Array,
): Promise<Array<[number, number]>> {
  const lengthMs = lengthMsOf(audio.length, sampleRate);
  const windows = silenceWindows(audio.length, sampleRate, minSilenceMs, seekStepMs);
  if (!windows) return [[0, lengthMs]];
  const threshold = 10 ** (silenceThreshDbfs / 20) * INT16_FULL_SCALE;
  const rms = windowRms ?? (await signalOverview(audio, 0, windows)).windowRms!;
  if (rms.length !== windows.starts.length) {
    throw new InvalidArgumentError(`detectNonsilentMs: windowRms has ${rms.length} windows, the audio has ${windows.starts.length}`, {
      op: 'detectNonsilentMs',
    });
  }
  const silenceStarts: number[] = [];
  for (let i = 0; i < rms.length; i++) if (rms[i]! <= threshold) silenceStarts.push(windows.starts[i]!);
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
  const ranges = await detectNonsilentMs(audio, sampleRate, options.silenceThreshDbfs, options.minSilenceMs, options.seekStepMs, options.windowRms);
  if (ranges.length === 0) return { audio, offsetS: 0, trimmed: false };
  const lengthMs = lengthMsOf(audio.length, sampleRate);
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
  const scaled = await normalizeToPeak(audio, 10 ** (-headroomDb / 20));
  return scaled.audio ? { audio: scaled.audio, gain: scaled.gain } : { audio, gain: 1 };
}
