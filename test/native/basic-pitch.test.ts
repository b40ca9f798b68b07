/**
 * Basic Pitch engine behaviour that needs no shared fixtures: default model (converted from the npm
 * package into a temp cache), typed errors for bad models, silence, concurrent use of one session,
 * MIDI output.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ModelError } from '../../lib/errors.js';
import {
  createTranscriber,
  ensureBasicPitchModel,
  notesToMidi,
  resolveBasicPitchBackend,
  type Transcriber,
  writePosteriorsNpy,
} from '../../lib/models/basicPitch/index.js';
import { buildModel } from '../../lib/models/onnxBuilder.js';
import { parseMidiNotes } from '../../lib/music/midi.js';
import { useTempDir } from '../helpers/tmp.js';

let transcriber: Transcriber;
let dir: string;
const saved = process.env.DIDACTIC_MODELS_DIR;

beforeAll(async () => {
  dir = useTempDir('bp-native-');
  process.env.DIDACTIC_MODELS_DIR = join(dir, 'cache');
  transcriber = await createTranscriber();
}, 120_000);
afterAll(() => {
  if (saved === undefined) delete process.env.DIDACTIC_MODELS_DIR;
  else process.env.DIDACTIC_MODELS_DIR = saved;
});

function tone(seconds: number, rate: number, midi: number, channels = 1): Float32Array {
  const n = Math.round(seconds * rate);
  const f = 440 * 2 ** ((midi - 69) / 12);
  const out = new Float32Array(n * channels);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    const env = t > 0.5 && t < seconds - 0.5 ? 0.4 : 0;
    for (let c = 0; c < channels; c++) out[i * channels + c] = env * Math.sin(2 * Math.PI * f * t);
  }
  return out;
}

describe('basic pitch engine', () => {
  it('converts and caches the default model once', async () => {
    const path = await ensureBasicPitchModel();
    expect(path.startsWith(join(dir, 'cache'))).toBe(true);
    expect(transcriber.modelPath).toBe(path);
    expect(await ensureBasicPitchModel()).toBe(path);
  });

  it('silence gives zero notes', async () => {
    const r = await transcriber.transcribe({ samples: new Float32Array(44100 * 5), sampleRate: 44100, channels: 2 });
    expect(r.notes).toHaveLength(0);
    expect(r.frames).toBe(Math.trunc(((((44100 * 5) / 2 / 44100) * 22050) / 36164) * 142));
  });

  it('an A4 tone (stereo 48 kHz) gives a note at MIDI 69 within its time span', async () => {
    const r = await transcriber.transcribe({ samples: tone(4, 48000, 69, 2), sampleRate: 48000, channels: 2 }, { posteriors: true });
    expect(r.notes.length).toBeGreaterThan(0);
    const main = r.notes.reduce((a, b) => (b.endTime - b.startTime > a.endTime - a.startTime ? b : a));
    expect(main.pitch).toBe(69);
    expect(main.startTime).toBeGreaterThan(0.4);
    expect(main.endTime).toBeLessThan(3.6);
    expect(r.posteriors!.note.length).toBe(r.frames * 88);
    const midi = parseMidiNotes(notesToMidi(r.notes, 100));
    expect(midi.pitch).toContain(69);
    const paths = await writePosteriorsNpy(r.posteriors!, join(dir, 'npy'), 'tone_');
    expect(paths.map((p) => p.split('/').pop())).toEqual(['tone_note.npy', 'tone_onset.npy', 'tone_contour.npy']);
    const python = join(import.meta.dirname, '..', '..', '.venv', 'bin', 'python');
    if (existsSync(python)) {
      const out = execFileSync(python, ['-c', `import numpy as np,sys; a=np.load(sys.argv[1]); print(a.dtype, a.shape, float(a.max()))`, paths[2]!], {
        encoding: 'utf8',
      });
      expect(out.trim()).toBe(`float32 (${r.frames}, 264) ${String(Math.max(...r.posteriors!.contour))}`.replace(/ (\d+)$/, ' $1.0'));
    }
  });

  it('maps the original basic_pitch_backend values', () => {
    expect(resolveBasicPitchBackend('onnx')).toEqual({ backend: 'onnx' });
    expect(resolveBasicPitchBackend('tf').backend).toBe('onnx');
    expect(resolveBasicPitchBackend('coreml').note).toMatch(/runs as 'onnx'/);
    expect(() => resolveBasicPitchBackend('torch')).toThrow(/basic_pitch_backend must be one of/);
  });

  it('one session serves concurrent transcriptions with identical results', async () => {
    const audio = { samples: tone(6, 22050, 60), sampleRate: 22050, channels: 1 };
    const [a, b, c] = await Promise.all([
      transcriber.transcribe(audio, { batch: 1 }),
      transcriber.transcribe(audio, { batch: 3 }),
      transcriber.transcribe(audio),
    ]);
    expect(b.notes).toEqual(a.notes);
    expect(c.notes).toEqual(a.notes);
  });

  it('missing, corrupt and wrong-signature models give a ModelError naming the file and tensors', async () => {
    const missing = join(dir, 'nope.onnx');
    await expect(createTranscriber({ model: missing })).rejects.toThrow(ModelError);
    await expect(createTranscriber({ model: missing })).rejects.toThrow(/nope\.onnx.*serving_default_input_2:0/);
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, 'not a model');
    const e1 = await createTranscriber({ model: corrupt }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ModelError);
    expect(String((e1 as Error).message)).toMatch(/corrupt\.onnx/);
    const wrong = join(dir, 'wrong.onnx');
    writeFileSync(
      wrong,
      buildModel({
        nodes: [{ op: 'Identity', inputs: ['x'], outputs: ['y'] }],
        inputs: [{ name: 'x', shape: [1, 4] }],
        outputs: [{ name: 'y', shape: [1, 4] }],
      }),
    );
    const e2 = await createTranscriber({ model: wrong }).catch((e: unknown) => e);
    expect(e2).toBeInstanceOf(ModelError);
    expect(String((e2 as Error).message)).toMatch(/wrong\.onnx.*serving_default_input_2:0.*StatefulPartitionedCall:1/);
  });
});
