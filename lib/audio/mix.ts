/** The one mono mix of interleaved audio in TypeScript (mean of the channels, summed in float64). */
import { forEachChunk } from '../util/chunked.js';

/** Mixes interleaved audio to mono; returns the input itself when it is already mono. */
export function mixToMono(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const out = new Float32Array(samples.length / channels);
  mixFrames(samples, channels, out, 0, out.length);
  return out;
}

/** mixToMono in chunks that yield to the event loop between them. */
export async function mixToMonoYielding(samples: Float32Array, channels: number): Promise<Float32Array> {
  if (channels === 1) return samples;
  const out = new Float32Array(samples.length / channels);
  await forEachChunk(out.length, (start, end) => mixFrames(samples, channels, out, start, end));
  return out;
}

function mixFrames(samples: Float32Array, channels: number, out: Float32Array, from: number, to: number): void {
  const scale = 1 / channels;
  for (let f = from; f < to; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = sum * scale;
  }
}
