// `npm run example`: generates an example song (a 120 BPM 4/4 groove, 20 s, 44.1 kHz stereo) and
// runs the main job on it with the CLI, exactly as a user would. Output: example-output/.
// Stem separation and transcription use their models when installed (see README), and otherwise
// fall back as the original does.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { writeWav } from '../dist/index.js';
import { exampleSong } from './example-song.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'example-output');
mkdirSync(join(outDir, 'source'), { recursive: true });

const input = join(outDir, 'source', 'example_song.wav');
const EXAMPLE_BPM = 120;
await writeWav(input, exampleSong(44100, 20, EXAMPLE_BPM), { sampleRate: 44100, channels: 2 });
console.log(`example: wrote ${input}`);

const cli = join(root, 'dist', 'cli', 'main.js');
const result = spawnSync(process.execPath, [cli, '--wav', input, '--song-id', 'example_song', '--out', outDir, ...process.argv.slice(2)], {
  stdio: 'inherit',
});
if (result.status !== 0) process.exit(result.status ?? 1);

const summary = JSON.parse(readFileSync(join(outDir, 'analysis', 'example_song', 'combined.json'), 'utf8'));
const meter = summary.rhythm ? `, meter ${summary.rhythm.meter}` : '';
console.log(
  `example: the song was written at ${EXAMPLE_BPM} BPM in 4/4; detected tempo ${summary.tempo_bpm.toFixed(2)} BPM${meter}, ` +
    `${summary.num_beats} beats, ${summary.num_bars} bars, stems ${summary.stems.join(', ')}; files:\n  ${summary.files_generated.join('\n  ')}`,
);
