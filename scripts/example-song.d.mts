/** Types of example-song.mjs (used by benchmarks, `npm run example` and tests). */
export declare function exampleSong(sampleRate?: number, seconds?: number, bpm?: number): Float32Array;
/** A 120 BPM melody of sine notes (C4 E4 G4 C5 G4 E4, up `transpose` semitones, one per beat) over a kick, interleaved stereo 44.1 kHz. */
export declare function melodySong(seconds: number, transpose?: number): Float32Array;
/** Mulberry32: a tiny seeded PRNG for reproducible noise; uniform in [0, 1). */
export declare function seededRandom(seed: number): () => number;
