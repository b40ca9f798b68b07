// A deterministic example song generator shared by `npm run example` and the benchmarks: kick on
// every beat, hi-hat on the off-beats, a bass line that changes every bar and a melody, 4/4.
// Returns interleaved stereo float samples.
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
