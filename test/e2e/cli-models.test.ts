/** `didactic-engine transcribe` and `didactic-engine separate` as a user runs them (the built CLI). */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { decodeAudio, writeWav } from '../../lib/index.js';
import { buildDemucsStandIn } from '../../lib/testing.js';
import { parseMidiNotes } from '../../lib/music/midi.js';
import { melodySong } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const cli = join(root, 'dist', 'cli', 'main.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });

describe('didactic-engine transcribe / separate', () => {
  const dir = useTempDir();
  const input = join(dir, 'tune.wav');
  const model = join(dir, 'standin.onnx');
  beforeAll(async () => {
    await writeWav(input, melodySong(6), { sampleRate: 44100, channels: 2 });
    writeFileSync(model, buildDemucsStandIn({ spectralShare: 0 }));
  });

  it('transcribe writes a MIDI file with the melody at the given tempo, and posteriors when asked', () => {
    const out = join(dir, 'midi', 'tune.mid');
    const summary = JSON.parse(
      execFileSync(process.execPath, [cli, 'transcribe', input, '-o', out, '--midi-tempo', '100', '--save-posteriors', join(dir, 'post'), '--json'], {
        encoding: 'utf8',
      }),
    ) as { notes: number; posteriors: string[] };
    const midi = parseMidiNotes(readFileSync(out));
    expect(midi.pitch.length).toBe(summary.notes);
    expect(new Set(midi.pitch)).toEqual(new Set([60, 64, 67, 72]));
    expect(midi.tempoChanges[0]!.tempoBpm).toBeCloseTo(100, 6);
    expect(summary.posteriors.map((p) => p.split('/').pop())).toEqual(['note.npy', 'onset.npy', 'contour.npy']);
    expect(readFileSync(summary.posteriors[0]!).subarray(1, 6).toString('latin1')).toBe('NUMPY');
  });

  it('transcribe names the missing model file and exits 1', () => {
    const r = run('transcribe', input, '-o', join(dir, 'x.mid'), '--model', join(dir, 'nope.onnx'));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('DE_MODEL_NOT_FOUND');
    expect(r.stderr).toContain('nope.onnx');
    expect(existsSync(join(dir, 'x.mid'))).toBe(false);
  });

  it('separate writes one 44.1 kHz stereo WAV per source', async () => {
    const out = join(dir, 'stems');
    const r = run('separate', input, '-o', out, '--model', model, '--subtype', 'FLOAT');
    expect(r.status, r.stderr).toBe(0);
    expect(readdirSync(out).sort()).toEqual(['bass.wav', 'drums.wav', 'other.wav', 'vocals.wav']);
    const vocals = await decodeAudio(join(out, 'vocals.wav'));
    expect(vocals).toMatchObject({ sampleRate: 44100, channels: 2, frames: 6 * 44100 });
  });

  it('separate with a bad model exits 1 and writes nothing', () => {
    const bad = join(dir, 'bad.onnx');
    writeFileSync(bad, 'not a model');
    const out = join(dir, 'stems-bad');
    const r = run('separate', input, '-o', out, '--model', bad);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('DE_MODEL_INVALID');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });
});
