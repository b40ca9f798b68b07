// `npm run example`: generates an example song (a 120 BPM 4/4 groove: kick, hi-hat, bass line
// and a melody, 20 s) and runs the main job on it. Output goes to example-output/.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeWav } from '../dist/index.js';
import { exampleSong } from './example-song.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'example-output');
const inputDir = join(outDir, 'input');
mkdirSync(inputDir, { recursive: true });

const input = join(inputDir, 'example_song.wav');
await writeWav(input, exampleSong(), { sampleRate: 44100, channels: 2 });
console.log(`example: wrote ${input}`);

const cli = join(root, 'dist', 'cli', 'main.js');
const result = spawnSync(process.execPath, [cli, 'info', input], { stdio: 'inherit' });
process.exit(result.status ?? 1);
