/**
 * A stand-in model with the htdemucs ONNX signature (docs/models.md, "Demucs (htdemucs)"), built in
 * code for CI: every source is a fixed fraction of the mix, split between the spectral and the time
 * branch, so the stems must sum back to the mix after the whole segment / STFT / overlap-add path.
 */
import { buildModel, type NodeSpec } from '../onnxBuilder.js';

/** htdemucs' segment length in samples at 44,100 Hz (7.8 s), the stand-in's default. */
export const HTDEMUCS_SEGMENT = 343980;
/** htdemucs' sources in output order. */
export const HTDEMUCS_SOURCES = ['drums', 'bass', 'other', 'vocals'] as const;

/** Options of buildDemucsStandIn: source weights and names, spectral share, sample rate (Hz), segment (samples), batch dimension. */
export interface StandInOptions {
  /** Fraction of the mix in each source (default 0.4, 0.3, 0.2, 0.1). */
  weights?: number[];
  /** Share of each source carried by the spectral branch (default 0.5; the rest by the time branch). */
  spectralShare?: number | number[];
  /** Written into metadata "sources" (omit for none: the engine then uses htdemucs' order). */
  sourceNames?: string[];
  /** Written into metadata "sample_rate" when set. */
  sampleRate?: number;
  /** Segment length in samples (default 343,980). */
  segment?: number;
  /** Batch dimension: a number fixes it, a string makes it dynamic (default 'batch'). */
  batch?: number | string;
}

/** ONNX bytes of the stand-in: mix [B,2,L] and x [B,4,2048,T] in; x_out [B,S,4,2048,T], xt_out [B,S,2,L] out. */
export function buildDemucsStandIn(options: StandInOptions = {}): Uint8Array {
  const weights = options.weights ?? [0.4, 0.3, 0.2, 0.1];
  const S = weights.length;
  const segment = options.segment ?? HTDEMUCS_SEGMENT;
  const frames = Math.ceil(segment / 1024);
  const batch = options.batch ?? 'batch';
  const share = (i: number): number => (Array.isArray(options.spectralShare) ? (options.spectralShare[i] ?? 0.5) : (options.spectralShare ?? 0.5));
  const spec = new Float32Array(S);
  const time = new Float32Array(S);
  weights.forEach((w, i) => {
    spec[i] = w * share(i);
    time[i] = w * (1 - share(i));
  });
  const axis = new BigInt64Array([1n]);
  const nodes: NodeSpec[] = [
    { op: 'Unsqueeze', inputs: ['x', 'axis'], outputs: ['x5'] },
    { op: 'Mul', inputs: ['x5', 'w_spec'], outputs: ['x_out'] },
    { op: 'Unsqueeze', inputs: ['mix', 'axis'], outputs: ['mix4'] },
    { op: 'Mul', inputs: ['mix4', 'w_time'], outputs: ['xt_out'] },
  ];
  const metadata: Record<string, string> = {};
  if (options.sourceNames) metadata.sources = options.sourceNames.join(',');
  if (options.sampleRate !== undefined) metadata.sample_rate = String(options.sampleRate);
  return buildModel({
    nodes,
    inputs: [
      { name: 'mix', shape: [batch, 2, segment] },
      { name: 'x', shape: [batch, 4, 2048, frames] },
    ],
    outputs: [
      { name: 'x_out', shape: [batch, S, 4, 2048, frames] },
      { name: 'xt_out', shape: [batch, S, 2, segment] },
    ],
    initializers: [
      { name: 'axis', dims: [1], data: axis },
      { name: 'w_spec', dims: [1, S, 1, 1, 1], data: spec },
      { name: 'w_time', dims: [1, S, 1, 1], data: time },
    ],
    graphName: 'htdemucs_standin',
    metadata,
  });
}
