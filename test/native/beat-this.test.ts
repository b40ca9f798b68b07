/**
 * The Beat This! tracker in the addon (native/src/beat/beat_this.cc) without Python: its log-mel
 * front end against a float64 transcription of torchaudio's MelSpectrogram written here (direct
 * DFT, slaney mel filters), and the whole tracker on a small0 network converted from a seeded
 * checkpoint (test/helpers/lightningCheckpoint.ts): chunking (a 70 s song is 3 chunks of 1500
 * frames), beats sorted, every downbeat a beat, positions counted from the downbeats. PyTorch
 * parity of the front end, logits and postprocessor: test/parity/beat-this.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { BeatThisTracker, beatThisSpectrogram } from '../../lib/models/beatThis.js';
import { convertBeatThis, readBeatThisCheckpoint } from '../../lib/models/convert/beatThis.js';
import { graphsDir } from '../../lib/models/fetch.js';
import { exampleSong } from '../../scripts/example-song.mjs';

/** The example song (interleaved stereo) as mono. */
const monoSong = (seconds: number): Float32Array => {
  const s = exampleSong(22050, seconds, 120);
  return Float32Array.from({ length: s.length / 2 }, (_, i) => (s[2 * i]! + s[2 * i + 1]!) / 2);
};
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';

const SR = 22050;

/** torchaudio melscale_fbanks(513, 30, 11000, 128, 22050, norm=None, mel_scale='slaney') in float64. */
function melBank(): number[][] {
  const fSp = 200 / 3;
  const minLogMel = 1000 / fSp;
  const logStep = Math.log(6.4) / 27;
  const hz2mel = (f: number): number => (f >= 1000 ? minLogMel + Math.log(f / 1000) / logStep : f / fSp);
  const mel2hz = (m: number): number => (m >= minLogMel ? 1000 * Math.exp(logStep * (m - minLogMel)) : fSp * m);
  const [mMin, mMax] = [hz2mel(30), hz2mel(11000)];
  const pts = Array.from({ length: 130 }, (_, i) => mel2hz(mMin + ((mMax - mMin) * i) / 129));
  return Array.from({ length: 513 }, (_, k) => {
    const f = (11025 * k) / 512;
    return Array.from({ length: 128 }, (_, m) =>
      Math.max(0, Math.min((f - pts[m]!) / (pts[m + 1]! - pts[m]!), (pts[m + 2]! - f) / (pts[m + 2]! - pts[m + 1]!))),
    );
  });
}

/** One frame of log1p(1000 · mel(|STFT| / 32)), centred with reflect padding, periodic Hann. */
function referenceFrame(x: Float32Array, t: number, bank: number[][]): number[] {
  const mag = new Array<number>(513).fill(0);
  const frame = Array.from({ length: 1024 }, (_, i) => {
    let j = t * 441 - 512 + i;
    if (j < 0) j = -j;
    if (j >= x.length) j = 2 * (x.length - 1) - j;
    return x[j]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / 1024));
  });
  for (let k = 0; k < 513; k++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < 1024; i++) {
      re += frame[i]! * Math.cos((2 * Math.PI * k * i) / 1024);
      im -= frame[i]! * Math.sin((2 * Math.PI * k * i) / 1024);
    }
    mag[k] = Math.hypot(re, im) / 32;
  }
  return Array.from({ length: 128 }, (_, m) => Math.log1p(1000 * mag.reduce((a, v, k) => a + v * bank[k]![m]!, 0)));
}

describe('Beat This! in the addon', () => {
  it('the log-mel front end matches a float64 transcription of torchaudio within 1e-4', async () => {
    const x = monoSong(3);
    const s = await beatThisSpectrogram(x, SR);
    expect(s.mels).toBe(128);
    expect(s.frames).toBe(1 + Math.floor(x.length / 441));
    const bank = melBank();
    let worst = 0;
    for (const t of [0, 1, 37, 90, s.frames - 2, s.frames - 1]) {
      const ref = referenceFrame(x, t, bank);
      for (let m = 0; m < 128; m++) worst = Math.max(worst, Math.abs(s.data[t * 128 + m]! - ref[m]!));
    }
    expect(worst).toBeLessThan(1e-4);
    // Shorter than the reflect padding: no frame (torch.stft refuses such input).
    expect((await beatThisSpectrogram(new Float32Array(300), SR)).frames).toBe(0);
  });

  it('tracks a 70 s song in three chunks with a converted small0 network; downbeats are beats', { timeout: 300_000 }, async () => {
    const graph = readFileSync(join(graphsDir(), 'beat-this-small.onnx'));
    const onnx = convertBeatThis(graph, readBeatThisCheckpoint(lightningCheckpoint(beatThisState(graph, 3), beatThisHparams(128))));
    await using tracker = await BeatThisTracker.open({ model: new Uint8Array(onnx) });
    const x = monoSong(70);
    const r = await tracker.track(x, SR, { returnLogits: true });
    expect(r.frames).toBe(1 + Math.floor(x.length / 441));
    expect(r.chunks).toBe(3);
    expect(r.beatLogits!.length).toBe(r.frames);
    // Every frame is covered by some chunk (the reference leaves -1000 only where none is).
    expect(r.beatLogits!.every((v) => v > -1000 && Number.isFinite(v))).toBe(true);
    // Peaks: logit > 0 and the maximum within ±3 frames, at frame / 50 s (or between two frames).
    const L = r.beatLogits!;
    const peaks: number[] = [];
    for (let t = 0; t < L.length; t++) {
      let mx = -Infinity;
      for (let j = Math.max(0, t - 3); j <= Math.min(L.length - 1, t + 3); j++) mx = Math.max(mx, L[j]!);
      if (L[t]! > 0 && L[t] === mx) peaks.push(t);
    }
    const merged: number[] = [];
    for (const p of peaks) {
      const last = merged.at(-1);
      if (last !== undefined && p - last <= 1) merged[merged.length - 1] = (last + p) / 2;
      else merged.push(p);
    }
    expect(Array.from(r.beats)).toEqual(merged.map((f) => f / 50));
    const beats = new Set(r.beats);
    expect([...r.downbeats].every((d) => beats.has(d))).toBe(true);
    expect(r.beatPositions.length).toBe(r.beats.length);
    for (const [i, b] of r.beats.entries()) if (beats.has(b) && r.downbeats.includes(b)) expect(r.beatPositions[i]).toBe(1);
    expect(r.confidence).toBeGreaterThanOrEqual(0);
    expect(r.confidence).toBeLessThanOrEqual(1);
  });

  it('refuses a model that is not a Beat This! network, and a missing one names the fetch command', async () => {
    const e = await BeatThisTracker.open({ model: join(graphsDir(), '..', 'beatnet', 'beatnet_1.onnx') }).catch((err: unknown) => err);
    expect((e as { code: string }).code).toBe('DE_MODEL_INVALID');
    const missing = await BeatThisTracker.open({ model: '/nonexistent/beat-this.onnx' }).catch((err: unknown) => err);
    expect((missing as { code: string; message: string }).code).toBe('DE_MODEL_NOT_FOUND');
    expect((missing as Error).message).toContain('npx didactic-engine models fetch beat-this');
  });
});
