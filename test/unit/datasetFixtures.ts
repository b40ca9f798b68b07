/** Small deterministic inputs for the dataset tests (shared by the TS and the Python checks). */
import { type SongDatasetsInput, writeSongDatasets } from '../../lib/datasets/songSink.js';
import type { SongDatasetsResult, StemBarFeatures, StemEvents } from '../../lib/datasets/tables.js';
import { alignNotesToBeats } from '../../lib/music/align.js';

export const SONG_ID = 'song_é';
export const STEMS = ['bass', 'drums'] as const;
export const BEATS = Array.from({ length: 16 }, (_, i) => 1 + i * 0.5);
export const TEMPO = 120.0;

export function stemEvents(stem: string, starts: number[], pitches: number[]): StemEvents {
  const endS = starts.map((s) => s + 0.25);
  const notes = {
    pitch: pitches,
    velocity: pitches.map((p) => 40 + (p % 50)),
    startS: starts,
    endS,
    instrumentIndex: 0,
    instrumentName: 'Instrument_0',
    program: 4,
    isDrum: false,
  };
  return { songId: SONG_ID, stem, notes, alignment: alignNotesToBeats(notes, BEATS, TEMPO) };
}

export const EVENTS: StemEvents[] = [stemEvents('drums', [0.2, 1.1, 3.0, 5.5], [36, 38, 36, 42]), stemEvents('bass', [1.0, 2.2, 6.4], [40, 43, 45])];

export function stemBarFeatures(stem: string, bars: number): StemBarFeatures {
  const seq = (k: number) => Float64Array.from({ length: bars }, (_, i) => i * 0.1 + k);
  const mat = (width: number, k: number) => Float64Array.from({ length: bars * width }, (_, i) => i * 0.01 + k);
  return {
    songId: SONG_ID,
    stem,
    tempoBpm: TEMPO,
    features: {
      barIndex: Int32Array.from({ length: bars }, (_, i) => i),
      startS: Float64Array.from({ length: bars }, (_, i) => 1 + 2 * i),
      endS: Float64Array.from({ length: bars }, (_, i) => 3 + 2 * i),
      rms: seq(0.1),
      zcr: seq(0.2),
      energy: seq(3),
      spectralCentroidMean: seq(1000),
      spectralCentroidStd: seq(50),
      spectralRolloffMean: seq(3000),
      spectralRolloffStd: seq(60),
      spectralBandwidthMean: seq(1500),
      mfccMean: mat(13, -200),
      mfccStd: mat(13, 10),
      chromaMean: mat(12, 0.3),
    },
    chunkPath: Array.from({ length: bars }, (_, i) => (i % 2 ? '' : `chunks/${SONG_ID}/${stem}/bar_${String(i).padStart(4, '0')}.wav`)),
    audioSource: 'stem',
  };
}

/**
 * Writes this song's datasets into `datasetsDir`: the two stems, the beats, EVENTS, and bar features
 * of `bars` [bass, drums] bars (default [3, 2]); the other fields override any input field.
 */
export function writeFixtureSong(
  datasetsDir: string,
  { bars = [3, 2], ...extra }: Partial<SongDatasetsInput> & { bars?: [bass: number, drums: number] } = {},
): Promise<SongDatasetsResult> {
  return writeSongDatasets({
    datasetsDir,
    songId: SONG_ID,
    stems: [...STEMS],
    beatTimes: BEATS,
    tempoBpm: TEMPO,
    events: EVENTS,
    barFeatures: [stemBarFeatures('bass', bars[0]), stemBarFeatures('drums', bars[1])],
    ...extra,
  });
}
