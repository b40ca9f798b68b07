/** Types of example-song.mjs (used by benchmarks, `npm run example` and tests). */
export declare function exampleSong(sampleRate?: number, seconds?: number, bpm?: number): Float32Array;
