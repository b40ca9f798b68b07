// Deterministic signals shared by `npm run example`, the benchmarks and the tests (test/helpers/signals.ts
// re-exports them): the example song, a small melody over a kick, and a seeded PRNG.

// The example song: kick on every beat, hi-hat on the off-beats, a bass line that changes every bar
// and a melody, 4/4. Returns interleaved stereo float samples.
export function exampleSong(sampleRate = 44100, seconds = 20, bpm = 120) {
  const n = Math.round(sampleRate * seconds);
  const out = new Float32Array(n * 2);
  const beat = 60 / bpm;
  const melody = [72, 74, 76, 79, 76, 74, 72, 67];
  const bass = [48, 48, 53, 55];
  const hz = (midi) => 440 * 2 ** ((midi - 69) / 12);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const b = Math.floor(t / beat);
    const tb = t - b * beat;
    // Kick: a decaying 60 Hz thump on each beat; hi-hat: a decaying bright FM tone on the off-beats.
    const kick = 0.6 * Math.exp(-tb * 25) * Math.sin(2 * Math.PI * 60 * tb);
    const th = tb - beat / 2;
    const hat = th >= 0 ? 0.08 * Math.exp(-th * 60) * Math.sin(2 * Math.PI * 7000 * th + 3 * Math.sin(2 * Math.PI * 5100 * th)) : 0;
    const bassNote = bass[Math.floor(b / 4) % bass.length];
    const bassTone = 0.25 * Math.sin(2 * Math.PI * hz(bassNote) * t) * Math.min(1, tb * 50) * Math.exp(-tb * 2);
    const note = melody[b % melody.length];
    const mel = 0.2 * Math.sin(2 * Math.PI * hz(note) * t) * Math.min(1, tb * 80) * Math.exp(-tb * 3);
    out[2 * i] = kick + hat + bassTone + 0.8 * mel;
    out[2 * i + 1] = kick + 0.7 * hat + bassTone + mel;
  }
  return out;
}

// A 120 BPM melody of sine notes (C4 E4 G4 C5 G4 E4 moved up `transpose` semitones, one per beat)
// over a kick, interleaved stereo 44.1 kHz.
export function melodySong(seconds, transpose = 0) {
  const sr = 44100;
  const n = Math.round(seconds * sr);
  const out = new Float32Array(n * 2);
  const notes = [60, 64, 67, 72, 67, 64].map((m) => m + transpose);
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const beat = Math.floor(t * 2);
    const inBeat = t * 2 - beat;
    const f = 440 * 2 ** ((notes[beat % notes.length] - 69) / 12);
    const env = Math.min(1, inBeat * 50) * Math.max(0, 1 - inBeat * 1.1);
    const kick = inBeat < 0.1 ? Math.sin(2 * Math.PI * 60 * t) * (1 - inBeat * 10) : 0;
    const s = 0.4 * env * Math.sin(2 * Math.PI * f * t) + 0.4 * kick;
    out[2 * i] = s;
    out[2 * i + 1] = 0.8 * s;
  }
  return out;
}

// Mulberry32: a tiny seeded PRNG for reproducible noise; uniform in [0, 1).
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
