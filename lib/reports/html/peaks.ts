/**
 * The waveform overview of the HTML report: the audio reduced to a few thousand min/max pairs
 * (what wavesurfer.js draws from precomputed peaks), so a 20-minute song costs kilobytes, not the
 * megabytes of its samples, and the report never decodes audio in the browser.
 */
import { signalOverview } from '../../audio/levels.js';
import { InvalidArgumentError } from '../../errors.js';
import { forEachChunk } from '../../util/chunked.js';

/** Peaks of a song: `min[i]`/`max[i]` of the i-th of `min.length` equal slices of the audio. */
export interface WaveformPeaks {
  /** Seconds the peaks span (the audio's length on the input's timeline). */
  durationS: number;
  min: Float32Array;
  max: Float32Array;
}

/** Points of the overview by default: enough for a wide screen, small in the page. */
export const DEFAULT_PEAK_POINTS = 3000;

/**
 * Min/max peaks of mono `samples` in `points` equal slices (fewer when the audio is shorter),
 * measured in the addon so a long song does not hold the event loop.
 */
export async function waveformPeaks(samples: Float32Array, sampleRate: number, points = DEFAULT_PEAK_POINTS): Promise<WaveformPeaks> {
  if (!(sampleRate > 0)) throw new InvalidArgumentError(`waveformPeaks: sampleRate (${sampleRate}) must be positive`, { op: 'waveformPeaks' });
  if (!Number.isInteger(points) || points < 1) {
    throw new InvalidArgumentError(`waveformPeaks: points (${points}) must be a positive integer`, { op: 'waveformPeaks' });
  }
  // The addon walks the samples on a worker thread; the slices are those of min(points, n) equal parts.
  const { min, max } = await signalOverview(samples, Math.min(points, samples.length), null);
  const n = samples.length;
  return { durationS: n / sampleRate, min, max };
}

/** Mono peaks of interleaved `channels`-channel samples (their per-frame mean). */
export async function waveformPeaksInterleaved(
  samples: Float32Array,
  channels: number,
  sampleRate: number,
  points = DEFAULT_PEAK_POINTS,
): Promise<WaveformPeaks> {
  if (channels <= 1) return waveformPeaks(samples, sampleRate, points);
  const frames = Math.floor(samples.length / channels);
  const mono = new Float32Array(frames);
  await forEachChunk(frames, (start, end) => {
    for (let f = start; f < end; f++) {
      let sum = 0;
      for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
      mono[f] = sum / channels;
    }
  });
  return waveformPeaks(mono, sampleRate, points);
}
