// Issue 23's "done when", as a user without Python runs it: a Demucs checkpoint in the official
// package format (written here in Node with seeded weights: the real ones cannot be downloaded in
// CI) installed with `models fetch htdemucs --from <file> --unverified`, then the main job on a
// song: four real stems from the converted model, per-stem MIDI, nothing degraded.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { writeWav } from '../../lib/index.js';
import { demucsCheckpoint } from '../helpers/lightningCheckpoint.js';
import { melodySong } from '../helpers/signals.js';
import { runCliAsync } from '../helpers/cliRun.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const dir = useTempDir('models-fetch-pipeline-');

const run = runCliAsync;

describe('models fetch htdemucs --from, then the main job', () => {
  it('separates with the converted model and transcribes every stem', async () => {
    const models = join(dir, 'models');
    mkdirSync(models, { recursive: true });
    const env = { ...process.env, DIDACTIC_MODELS_DIR: models, DIDACTIC_MODELS_MIRROR: '' };
    const checkpoint = join(dir, 'htdemucs-seeded.th');
    writeFileSync(checkpoint, demucsCheckpoint(new Uint8Array(readFileSync(join(root, 'models', 'graphs', 'htdemucs.onnx')))));

    // Not an official file: refused by hash unless the user accepts it.
    const refused = await run(env, 'models', 'fetch', 'htdemucs', '--from', checkpoint);
    expect(refused.status).toBe(1);
    expect(existsSync(join(models, 'htdemucs.onnx'))).toBe(false);
    const fetched = await run(env, 'models', 'fetch', 'htdemucs', '--from', checkpoint, '--unverified');
    expect(fetched.status, fetched.stderr).toBe(0);
    expect(fetched.stderr).toMatch(/installed htdemucs/);

    const song = join(dir, 'song.wav');
    await writeWav(song, melodySong(6), { sampleRate: 44100, channels: 2 });
    const out = join(dir, 'out');
    const r = await run(env, '--wav', song, '--song-id', 'song', '--out', out, '--no-progress');
    expect(r.status, r.stderr).toBe(0);
    const combined = JSON.parse(readFileSync(join(out, 'analysis', 'song', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(combined.stems).toEqual(['bass', 'drums', 'other', 'vocals']);
    expect(combined.data_quality.degraded).toBe(false);
    for (const stem of combined.stems as string[]) {
      expect(existsSync(join(out, 'stems', 'song', 'htdemucs', 'song', `${stem}.wav`)), stem).toBe(true);
      expect(existsSync(join(out, 'midi', 'song', `${stem}.mid`)), stem).toBe(true);
    }
  }, 300_000);
});
