// `npm run example`: generates an example song (a 120 BPM 4/4 groove: kick, hi-hat, bass line
// and a melody, 20 s) and runs the main job on it. Output goes to example-output/.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeWav } from '../dist/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'example-output');
const inputDir = join(outDir, 'input');
mkdirSync(inputDir, { recursive: true });

/** A deterministic little song: drums on every beat, bass on the root, a melody over four bars. */
export function exampleSong(sampleRate = 44100, seconds = 20, bpm = 120) {
  const n = Math.round(sampleRate * seconds);
  const left = new Float32Array(n);
  const right = new Float32Array(n);
  const beat = 60 / bpm;
  const melody = [72, 74, 76, 79, 76, 74, 72, 67];
  const bass = [48, 48, 53, 55];
  const hz = (midi) => 440 * 2 ** ((midi - 69) / 12);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const b = Math.floor(t / beat);
    const tb = t - b * beat;
    // Kick on each beat: a decaying 60 Hz thump; hi-hat on the off-beats: decaying noise-like tone.
    const kick = 0.6 * Math.exp(-tb * 25) * Math.sin(2 * Math.PI * 60 * tb);
    const th = tb - beat / 2;
    const hat = th >= 0 ? 0.08 * Math.exp(-th * 60) * Math.sin(2 * Math.PI * 7000 * th + 3 * Math.sin(2 * Math.PI * 5100 * th)) : 0;
    const bar = Math.floor(b / 4);
    const bassNote = bass[bar % bass.length];
    const bassTone = 0.25 * Math.sin(2 * Math.PI * hz(bassNote) * t) * Math.min(1, tb * 50) * Math.exp(-tb * 2);
    const note = melody[b % melody.length];
    const mel = 0.2 * Math.sin(2 * Math.PI * hz(note) * t) * Math.min(1, tb * 80) * Math.exp(-tb * 3);
    left[i] = kick + hat + bassTone + 0.8 * mel;
    right[i] = kick + 0.7 * hat + bassTone + mel;
  }
  const inter = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) {
    inter[2 * i] = left[i];
    inter[2 * i + 1] = right[i];
  }
  return inter;
}

const input = join(inputDir, 'example_song.wav');
await writeWav(input, exampleSong(), { sampleRate: 44100, channels: 2 });
console.log(`example: wrote ${input}`);

const cli = join(root, 'dist', 'cli', 'main.js');
const result = spawnSync(process.execPath, [cli, 'info', input], { stdio: 'inherit' });
process.exit(result.status ?? 1);
