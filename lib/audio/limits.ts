/**
 * Bounds shared by every public entry point, mirrored in native/src/common/limits.h (the C++ side
 * checks them again). A caller's absurd number must fail as a coded error, never crash the process.
 */
import { z } from 'zod';

/** Plausible audio sample rates: 1 kHz .. 768 kHz (the highest rate common converters offer). */
export const MIN_SAMPLE_RATE = 1000;
/** Highest accepted sample rate: 768,000 Hz. */
export const MAX_SAMPLE_RATE = 768_000;
/** libsndfile's channel ceiling. */
export const MAX_CHANNELS = 1024;
/** Largest FFT / frame length in samples, and largest hop. */
export const MAX_FFT_SIZE = 1 << 16;
/** Largest hop between frames: 2^20 samples. */
export const MAX_HOP = 1 << 20;

/** A sample rate in Hz within MIN_SAMPLE_RATE .. MAX_SAMPLE_RATE. */
export const SampleRateSchema = z.number().finite().min(MIN_SAMPLE_RATE).max(MAX_SAMPLE_RATE);

/** True for a finite rate inside the plausible range. */
export function isPlausibleSampleRate(rate: unknown): rate is number {
  return typeof rate === 'number' && Number.isFinite(rate) && rate >= MIN_SAMPLE_RATE && rate <= MAX_SAMPLE_RATE;
}
