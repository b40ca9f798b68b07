// The synthetic song of bench/analysis.mjs and bench/rhythm.mjs: a 118 BPM drum pattern over
// changing triads and noise, steady enough for a beat and busy enough for features. Mono float.
export function song(seconds, sr) {
  const n = Math.round(seconds * sr);
  const x = new Float32Array(n);
  let seed = 11;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32 - 0.5;
  const beat = 60 / 118;
  const chords = [
    [57, 61, 64],
    [62, 66, 69],
    [64, 68, 71],
    [55, 59, 62],
  ];
  for (let i = 0; i < n; i++) {
    const t = i / sr;
    const bar = Math.floor(t / (4 * beat));
    let v = 0;
    for (const m of chords[bar % 4]) v += 0.05 * Math.sin(2 * Math.PI * 440 * 2 ** ((m - 69) / 12) * t);
    const tb = t % (beat / 2);
    v += 0.4 * Math.exp(-tb / 0.01) * rnd();
    if (Math.floor(t / (beat / 2)) % 2 === 0) v += 0.5 * Math.exp(-tb / 0.04) * Math.sin(2 * Math.PI * 55 * tb);
    x[i] = v + 0.01 * rnd();
  }
  return x;
}
