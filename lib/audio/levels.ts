/**
 * The whole-signal level passes (clipping count, peak, energy, the report's waveform, the silence
 * trim's windows, peak normalisation) in the addon, on a worker thread: a long song's tens of
 * millions of samples never hold the event loop, and V8 compiles no per-sample loops. Each float64
 * sum adds in sample order, as the JavaScript loops they replaced did, so the numbers are the same.
 */
import type { NativeSampleLevels, NativeSignalOverview, NativeSilenceWindows } from '../../binding.js';
import { InvalidArgumentError } from '../errors.js';
import { callNative } from '../native/call.js';

function requireFloat32(op: string, samples: unknown): void {
  if (!(samples instanceof Float32Array)) throw new InvalidArgumentError(`${op}: samples must be a Float32Array`, { op });
}

/** Samples at or beyond full scale (|x| ≥ 1), the largest |x| and the float64 sum of x², in one pass. */
export async function sampleLevels(samples: Float32Array): Promise<NativeSampleLevels> {
  const context = new Error();
  requireFloat32('sampleLevels', samples);
  return callNative('sampleLevels', context, undefined, (binding) => binding.sampleLevels(samples));
}

/**
 * The waveform overview (min/max of `points` equal slices; 0 for none) and the silence windows'
 * truncated RMS (see NativeSilenceWindows), from one pass over `samples`.
 */
export async function signalOverview(samples: Float32Array, points: number, windows: NativeSilenceWindows | null): Promise<NativeSignalOverview> {
  const context = new Error();
  requireFloat32('signalOverview', samples);
  return callNative('signalOverview', context, undefined, (binding) => binding.signalOverview(samples, { points, windows }));
}

/** Peak and gain (targetPeak / peak); `audio` is the input scaled by gain and clamped to ±1, null when silent. */
export async function normalizeToPeak(samples: Float32Array, targetPeak: number): Promise<{ peak: number; gain: number; audio: Float32Array | null }> {
  const context = new Error();
  requireFloat32('normalizePeak', samples);
  return callNative('normalizePeak', context, undefined, (binding) => binding.normalizePeak(samples, { targetPeak }));
}

/** Float64 sums of x² over the sample ranges [ranges[2i], ranges[2i+1]). */
export async function rangeEnergies(samples: Float32Array | Float64Array, ranges: Float64Array): Promise<Float64Array> {
  const context = new Error();
  if (!(samples instanceof Float32Array || samples instanceof Float64Array)) {
    throw new InvalidArgumentError('rangeEnergies: samples must be a Float32Array or Float64Array', { op: 'rangeEnergies' });
  }
  return callNative('rangeEnergies', context, undefined, (binding) => binding.rangeEnergies(samples, ranges));
}
