/** The rhythm reference fixtures (test/fixtures/rhythm, made by scripts/reference): manifest and readers. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const rhythmFixtureDir = join(import.meta.dirname, '..', 'fixtures', 'rhythm');

export interface FixtureDbn {
  beats_per_bar: number[];
  beats: [number, number][];
  chosen_beats_per_bar: number;
  crop_frames: [number, number];
  log_prob: Record<string, number | null>;
}
export interface RhythmFixture {
  name: string;
  sr: number;
  length: number;
  input: { file: string; scale: number };
  true_beats?: [number, number][];
  features: { file: string; shape: [number, number] };
  activations: Record<string, { file: string; shape: [number, number] }>;
  dbn: FixtureDbn[];
}

export const rhythmManifest = JSON.parse(readFileSync(join(rhythmFixtureDir, 'manifest.json'), 'utf8')) as { fixtures: RhythmFixture[] };

/** A fixture's float32 array file. */
export function readFixtureF32(file: string): Float32Array {
  const b = readFileSync(join(rhythmFixtureDir, file));
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** A fixture's input audio (int16 scaled back to float). */
export function readFixtureInput(f: RhythmFixture): Float32Array {
  const b = readFileSync(join(rhythmFixtureDir, f.input.file));
  const i16 = new Int16Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  const out = new Float32Array(i16.length);
  for (let i = 0; i < i16.length; i++) out[i] = (i16[i] as number) * f.input.scale;
  return out;
}

/** Decode options for BeatNet and madmom as they are: the raw network's activations, none of this package's additions (refinement, bar cues, level, percussive evidence, section repair). */
export const RAW_BEATNET = {
  returnActivations: true,
  refine: false,
  barCues: false,
  normalizeLevel: false,
  percussiveObservation: false,
  percussiveGrid: false,
  percussiveBackbeat: false,
  sectionRepair: false,
} as const;
