/** Types of build-corpus.mjs (used by run.mjs and test/unit/accuracy-corpus.test.ts). */
export declare const SR: number;
export declare const DEFAULT_CORPUS: string;
export interface MidiEvent {
  tick: number;
  bytes: number[];
  order?: number;
}
export interface ParsedMidi {
  division: number;
  tempos: { tick: number; uspq: number }[];
  timeSigs: { tick: number; num: number; den: number }[];
  noteOns: number[];
  events: MidiEvent[];
}
export declare function writeWav16(path: string, samples: Float32Array, sampleRate?: number): void;
export declare function readWav16(path: string): { samples: Float32Array; sampleRate: number };
export declare function parseMidi(buf: Uint8Array): ParsedMidi;
export declare function tickToSeconds(midi: ParsedMidi): (tick: number) => number;
export declare function gridShiftTicks(midi: ParsedMidi): number;
export declare function midiBeats(
  midi: ParsedMidi,
  options: { pickupTicks?: number; untilTick: number },
): { beats: number[]; positions: number[]; meters: string[]; beatsPerBar: number };
export declare function writeMidi(path: string, events: MidiEvent[], division?: number): void;
export declare function buildCorpus(options?: { out?: string; force?: boolean; log?: (s: string) => void; produced?: number }): Promise<unknown>;
/** Onset alignment of a beat grid per 8 s window, its median and the best-fitting lag (see build-corpus.mjs). */
export declare function gridAlignment(
  samples: Float32Array,
  sr: number,
  beats: number[],
  options?: { windowS?: number },
): { windows: number[]; median: number; lagMs: number };
/** A Hydrogen song's beat grid from its XML (see build-corpus.mjs). */
export declare function hydrogenGrid(xml: string): {
  bpm: number;
  timeline: boolean;
  grid: { t: number; position: number }[];
  barTicks: number[];
  seconds: number;
};
/** A ProTracker-family module's beat grid from its row clock, or why it has none (see build-corpus.mjs). */
export declare function modGrid(buf: Uint8Array): {
  error?: string;
  grid: { t: number; position: number }[];
  seconds: number;
  speeds: string[];
  channels: number;
  rowsPerBeat: number;
  bpm: number;
};
