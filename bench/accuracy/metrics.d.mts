/** Types of metrics.mjs (used by run.mjs and test/unit/accuracy-metrics.test.ts). */
export declare const F_WINDOW: number;
export declare const TRIM_S: number;
export declare function trimBeats(beats: ArrayLike<number>, minBeatTime?: number): number[];
export declare function matchEvents(ref: number[], est: number[], window: number): Array<[number, number]>;
export declare function fMeasure(ref: number[], est: number[], window?: number): number;
export declare function continuity(ref: number[], est: number[]): { cmlc: number; cmlt: number; amlc: number; amlt: number };
export declare function beatOffsets(ref: number[], est: number[], window?: number): number[];
export declare function referenceTempo(beats: number[], nominal?: number | null): number | null;
export interface PieceMetrics {
  beatF: number;
  downbeatF: number;
  cmlc: number;
  cmlt: number;
  amlc: number;
  amlt: number;
  medianOffsetMs: number | null;
  medianAbsOffsetMs: number | null;
  refTempo: number | null;
  estTempo: number | null;
  tempoErrPct: number | null;
  tempoAcc1: boolean;
  tempoAcc2: boolean;
  meterRight: boolean | null;
}
export declare function evaluatePiece(
  ref: { beats: number[]; downbeats: number[]; beatsPerBar: number | null; tempo: number | null },
  est: { beats: number[]; downbeats?: number[]; beatsPerBar?: number | null; tempoBpm?: number | null },
): PieceMetrics;
