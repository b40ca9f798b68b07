/**
 * Beat This!'s 'dbn' postprocessor (native/src/beat/beat_this.cc beatThisDecode) on constructed
 * logits: the network's beat class covers every beat and its downbeat class the downbeats, while the
 * bar-pointer DBN (BeatNet's, madmom's) takes exclusive (beat-not-downbeat, downbeat) probabilities;
 * beat_this maps them as (max(p_b − p_d, 5e-6), p_d). Fed as is, the DBN's no-beat observation
 * 1 − (p_b + p_d) would be negative at every confident downbeat. Then decoding constructed logits of
 * known beats, downbeats and meter, validation, and the tracker with 'dbn' on a converted small0.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

import { BeatThisTracker, beatThisPostprocess } from '../../lib/models/beatThis.js';
import { convertBeatThis, readBeatThisCheckpoint } from '../../lib/models/convert/beatThis.js';
import { graphsDir } from '../../lib/models/fetch.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';

const FPS = 50;

/** Logits of a steady piece: `hi` at the beat frames (every `period` frames from `first`), `lo` elsewhere; downbeat logits `hi` on every `meter`-th beat from `phase`. */
function logits(o: { frames: number; period: number; first: number; meter: number; phase: number; hi: number; lo: number }) {
  const beat = new Float32Array(o.frames).fill(o.lo);
  const downbeat = new Float32Array(o.frames).fill(o.lo);
  const beatFrames: number[] = [];
  const downbeatFrames: number[] = [];
  for (let f = o.first, k = 0; f < o.frames; f += o.period, k++) {
    beat[f] = o.hi;
    beatFrames.push(f);
    if ((k - o.phase) % o.meter === 0) {
      downbeat[f] = o.hi;
      downbeatFrames.push(f);
    }
  }
  return { beat, downbeat, beatFrames, downbeatFrames };
}

const sigmoid = (x: number): number => 1 / (1 + Math.exp(-x));

describe("Beat This!'s DBN postprocessor", () => {
  it('maps logits to the DBN input as beat_this does: (max(p_b − p_d, 5e-6), p_d), p squeezed into [5e-6, 1 − 5e-6]', async () => {
    const beat = Float32Array.of(8, 8, -8, 0, 1000, -1000, 2, -3);
    const downbeat = Float32Array.of(8, -8, -8, 0, 1000, -1000, 3, 1);
    const r = await beatThisPostprocess(beat, downbeat, { postprocess: 'dbn', returnActivations: true });
    const p = (x: number) => sigmoid(x) * (1 - 1e-5) + 5e-6;
    const expected = Array.from(beat).flatMap((b, t) => [Math.max(p(b) - p(downbeat[t]!), 5e-6), p(downbeat[t]!)]);
    expect(r.activations!.length).toBe(2 * beat.length);
    for (const [i, v] of r.activations!.entries()) expect(v).toBeCloseTo(expected[i]!, 6);
    // A downbeat is no beat-not-downbeat: its beat column is at the floor, its downbeat column near 1.
    expect(r.activations![0]).toBeCloseTo(5e-6, 9);
    expect(r.activations![1]).toBeGreaterThan(0.999);
    // Saturated logits stay inside (0, 1): the DBN takes logs of them.
    expect(r.activations![8]).toBeGreaterThan(0);
    expect(r.activations![9]).toBeLessThan(1);
    expect(r.activations![11]).toBeGreaterThan(0);
  });

  it('decodes constructed 3/4 logits at 120 BPM into their beats, downbeats and meter', async () => {
    // 40 s, a beat every 25 frames from frame 10, downbeats on beats 1, 4, 7, … (phase 1).
    const L = logits({ frames: 2000, period: 25, first: 10, meter: 3, phase: 1, hi: 8, lo: -8 });
    const r = await beatThisPostprocess(L.beat, L.downbeat, { postprocess: 'dbn' });
    expect(r.postprocess).toBe('dbn');
    expect(r.beatsPerBar).toBe(3);
    expect(Array.from(r.beats)).toEqual(L.beatFrames.map((f) => f / FPS));
    expect(Array.from(r.downbeats)).toEqual(L.downbeatFrames.map((f) => f / FPS));
    expect(Array.from(r.beatPositions)).toEqual(L.beatFrames.map((_, k) => ((((k - 1) % 3) + 3) % 3) + 1));
    expect(r.meters.map((m) => m.beatsPerBar)).toEqual([3, 4]);
    const [m3, m4] = r.meters.map((m) => m.logProbability!);
    expect(m3).toBeGreaterThan(m4!);
    // The mean beat probability at the beats: sigmoid(8).
    expect(r.confidence).toBeCloseTo(sigmoid(8), 6);
  });

  it('4/4 and a fixed meter; saturated logits (±1000) stay decodable (the probabilities are squeezed off 0 and 1)', async () => {
    const L = logits({ frames: 1500, period: 30, first: 5, meter: 4, phase: 0, hi: 1000, lo: -1000 });
    const r = await beatThisPostprocess(L.beat, L.downbeat, { postprocess: 'dbn', meters: [2, 3, 4] });
    expect(r.beatsPerBar).toBe(4);
    expect(Array.from(r.beats)).toEqual(L.beatFrames.map((f) => f / FPS));
    expect(Array.from(r.downbeats)).toEqual(L.downbeatFrames.map((f) => f / FPS));
    expect(r.confidence).toBeCloseTo(1, 6);
    // One candidate: that meter, whatever the logits say.
    const fixed = await beatThisPostprocess(L.beat, L.downbeat, { postprocess: 'dbn', meters: [3] });
    expect(fixed.beatsPerBar).toBe(3);
    expect(fixed.meters).toHaveLength(1);
    expect(Array.from(fixed.beats)).toEqual(L.beatFrames.map((f) => f / FPS));
  });

  it("'minimal' on the same logits: peaks and the most common bar length, no DBN scores", async () => {
    const L = logits({ frames: 2000, period: 25, first: 10, meter: 3, phase: 1, hi: 8, lo: -8 });
    const r = await beatThisPostprocess(L.beat, L.downbeat);
    expect(r.postprocess).toBe('minimal');
    expect(Array.from(r.beats)).toEqual(L.beatFrames.map((f) => f / FPS));
    expect(Array.from(r.downbeats)).toEqual(L.downbeatFrames.map((f) => f / FPS));
    expect(r.beatsPerBar).toBe(3);
    expect(r.meters).toEqual([]);
  });

  it('validates its options and inputs', async () => {
    const x = new Float32Array(100);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: { code?: string }) => e.code,
      );
    expect(await code(beatThisPostprocess(x, x, { postprocess: 'viterbi' as 'dbn' }))).toBe('DE_INVALID_ARGUMENT');
    expect(await code(beatThisPostprocess(x, x, { meters: [] }))).toBe('DE_INVALID_ARGUMENT');
    expect(await code(beatThisPostprocess(x, x, { meters: [13] }))).toBe('DE_INVALID_ARGUMENT');
    expect(await code(beatThisPostprocess(x, x, { meters: [2.5] }))).toBe('DE_INVALID_ARGUMENT');
    expect(await code(beatThisPostprocess(x, new Float32Array(99), { postprocess: 'dbn' }))).toBe('DE_INVALID_ARGUMENT');
    expect(await code(beatThisPostprocess(x, Float32Array.of(...x.subarray(1), Number.NaN), { postprocess: 'dbn' }))).toBe('DE_INVALID_ARGUMENT');
    // Empty logits decode to nothing.
    const empty = await beatThisPostprocess(new Float32Array(0), new Float32Array(0), { postprocess: 'dbn' });
    expect(empty.beats.length).toBe(0);
  });

  it("the tracker with 'dbn' on a converted small0 network: its logits decoded by the DBN, positions counted in the chosen meter", {
    timeout: 300_000,
  }, async () => {
    const graph = readFileSync(join(graphsDir(), 'beat-this-small.onnx'));
    const onnx = convertBeatThis(graph, readBeatThisCheckpoint(lightningCheckpoint(beatThisState(graph, 3), beatThisHparams(128))));
    await using tracker = await BeatThisTracker.open({ model: new Uint8Array(onnx) });
    const s = exampleSong(22050, 20, 120);
    const x = Float32Array.from({ length: s.length / 2 }, (_, i) => (s[2 * i]! + s[2 * i + 1]!) / 2);
    const r = await tracker.track(x, 22050, { postprocess: 'dbn', returnLogits: true });
    expect(r.postprocess).toBe('dbn');
    expect(r.meters.map((m) => m.beatsPerBar)).toEqual([3, 4]);
    // The same decoding as the postprocessor alone on the returned logits.
    const alone = await beatThisPostprocess(r.beatLogits!, r.downbeatLogits!, { postprocess: 'dbn' });
    expect(Array.from(r.beats)).toEqual(Array.from(alone.beats));
    expect(Array.from(r.beatPositions)).toEqual(Array.from(alone.beatPositions));
    expect(r.beatsPerBar).toBe(alone.beatsPerBar);
    // Random weights still give probabilities near 0.5, which the DBN decodes into a beat grid.
    expect(r.beats.length).toBeGreaterThan(0);
    expect([3, 4]).toContain(r.beatsPerBar);
    for (const p of r.beatPositions) expect(p >= 1 && p <= r.beatsPerBar).toBe(true);
    for (const [i, b] of r.beats.entries()) expect(r.downbeats.includes(b)).toBe(r.beatPositions[i] === 1);
    expect(await tracker.track(x, 22050, { postprocess: 'dbn', meters: [0] }).catch((e: { code: string }) => e.code)).toBe('DE_INVALID_ARGUMENT');
  });
});
