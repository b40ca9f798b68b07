/**
 * Beat This! fetched, converted and run without Python against the reference.
 * Random-init Lightning checkpoints written by beat-this 1.1.0's own model code (scripts/models/
 * beat_this_graph.py checkpoint: state_dict under "model.", PLBeatThis hyper_parameters) are
 * installed with `fetchModel --from` (converted in Node from the committed weightless graphs), then
 * on the same 22,050 Hz audio (the example song, 45 s: two 1500-frame chunks, the last shifted to
 * end at the song's end) our front end must match beat_this.preprocessing.LogMelSpect
 * (torchaudio, float64) within 1e-4, and on our spectrogram our logits must match
 * beat_this.inference's split_predict_aggregate within 1e-4 and our beats and downbeats its
 * minimal Postprocessor exactly. Needs .venv-torch (scripts/reference/setup-torch-env.sh).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { BeatThisTracker, beatThisSpectrogram } from '../../lib/models/beatThis.js';
import { fetchModel } from '../../lib/models/fetch.js';
import { exampleSong } from '../../scripts/example-song.mjs';

/** The example song (interleaved stereo) as mono. */
const monoSong = (seconds: number): Float32Array => {
  const s = exampleSong(22050, seconds, 120);
  return Float32Array.from({ length: s.length / 2 }, (_, i) => (s[2 * i]! + s[2 * i + 1]!) / 2);
};
import { file, requires } from '../helpers/requires.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(import.meta.dirname, '..', '..');
const python = join(root, '.venv-torch', 'bin', 'python');
const script = join(root, 'scripts', 'models', 'beat_this_graph.py');
const torch = requires(
  file(
    python,
    'the PyTorch Beat This! reference venv is missing (.venv-torch with beat-this 1.1.0) — run `bash scripts/reference/setup-torch-env.sh` (docs/models.md)',
  ),
);
// final0 (20M parameters) takes minutes in PyTorch 1.13 on a 2-core machine: opt in with DIDACTIC_PARITY_ARCHS=small0,final0.
const ARCHS = (process.env.DIDACTIC_PARITY_ARCHS ?? 'small0').split(',');
const NAME: Record<string, string> = { small0: 'beat-this-small', final0: 'beat-this' };

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('Beat This! converted in Node vs beat-this 1.1.0 in PyTorch', torch, () => {
  const dir = useTempDir('beat-this-parity-');
  const SR = 22050;
  const audio = monoSong(45);

  for (const arch of ARCHS) {
    it(`${arch}: spectrogram and logits within 1e-4, identical beats and downbeats`, { timeout: 1_800_000 }, async () => {
      const ck = join(dir, arch);
      mkdirSync(ck, { recursive: true });
      execFileSync(python, [script, 'checkpoint', '--arch', arch, '--seed', '5', '-o', join(ck, `${arch}.ckpt`)], { stdio: ['ignore', 'pipe', 'pipe'] });
      const models = join(dir, `${arch}-models`);
      const fetched = await fetchModel(NAME[arch]!, { modelsDir: models, from: ck });
      expect(fetched.path).toBe(join(models, `${NAME[arch]}.onnx`));

      const wav = join(ck, 'audio.f32');
      writeFileSync(wav, Buffer.from(audio.buffer, audio.byteOffset, audio.byteLength));
      const spect = await beatThisSpectrogram(audio, SR);
      const oursSpect = join(ck, 'ours-spect.f32');
      writeFileSync(oursSpect, Buffer.from(spect.data.buffer, spect.data.byteOffset, spect.data.byteLength));
      const out = join(ck, 'ref');
      execFileSync(python, [script, 'logits', '--ckpt', join(ck, `${arch}.ckpt`), '--audio', wav, '--spect', oursSpect, '-o', out], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const ref = JSON.parse(readFileSync(join(out, 'beats.json'), 'utf8')) as { beats: number[]; downbeats: number[]; frames: number };

      // Front end: within 1e-4 of torchaudio's exact (float64) transform. Its float32 run, which
      // beat-this uses, is itself 2e-4 from that in the quiet top bands (log1p(1000 x) of x ~ 1e-6
      // amplifies FFT rounding), so against it the bound is its own error.
      expect(spect.frames).toBe(ref.frames);
      expect(maxDiff(spect.data, readF32(join(out, 'spect64.f32')))).toBeLessThan(1e-4);
      expect(maxDiff(spect.data, readF32(join(out, 'spect.f32')))).toBeLessThan(5e-4);

      // Network, chunking and postprocessor on the same spectrogram: logits within 1e-4, the same
      // beats and downbeats. (A random-init network amplifies input differences ~60x: torch's own
      // logits from its float32 and float64 spectrograms differ by 1e-2.)
      await using tracker = await BeatThisTracker.open({ model: fetched.path, intraOpThreads: 2 });
      const r = await tracker.track(audio, SR, { returnLogits: true });
      expect(r.chunks).toBe(2);
      expect(maxDiff(r.beatLogits!, readF32(join(out, 'beat.f32')))).toBeLessThan(1e-4);
      expect(maxDiff(r.downbeatLogits!, readF32(join(out, 'downbeat.f32')))).toBeLessThan(1e-4);
      expect(Array.from(r.beats)).toEqual(ref.beats);
      expect(Array.from(r.downbeats)).toEqual(ref.downbeats);
      expect(ref.downbeats.length).toBeGreaterThan(0);
    });
  }
});
