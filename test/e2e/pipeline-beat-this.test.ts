// beat_tracker 'auto' / 'beat-this' through the pipeline: with a Beat This! model installed in the
// models folder (a small0 network converted from a seeded checkpoint: the weights are random, so
// only the wiring is checked, not the beats), 'auto' runs it and combined.json's rhythm.tracker
// says so; without one, 'auto' is BeatNet and an explicit 'beat-this' completes degraded on
// librosa's tracker, naming the fetch command. With meter detection 'auto' decodes with the DBN (meter
// among [3, 4], bars of that length), without it with the minimal peak picking; confidence uncalibrated.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { convertBeatThis, readBeatThisCheckpoint } from '../../lib/models/convert/beatThis.js';
import { graphsDir } from '../../lib/models/fetch.js';
import { clickTrack } from '../helpers/clicks.js';
import { beatThisHparams, beatThisState, lightningCheckpoint } from '../helpers/lightningCheckpoint.js';
import { useTempDir } from '../helpers/tmp.js';

const noModels = { useDemucsSeparation: false, useBasicPitchTranscription: false } as const;

describe('Beat This! in the pipeline', () => {
  const dir = useTempDir('didactic-beat-this-e2e-');
  const saved = process.env.DIDACTIC_MODELS_DIR;
  afterEach(() => {
    if (saved === undefined) delete process.env.DIDACTIC_MODELS_DIR;
    else process.env.DIDACTIC_MODELS_DIR = saved;
  });

  it("'auto' runs Beat This! when installed, BeatNet otherwise; 'beat-this' without a model degrades naming the fetch command", async () => {
    const wav = join(dir, 'click.wav');
    await writeWav(wav, clickTrack({ sampleRate: 22050, seconds: 12, bpm: 120, beatsPerBar: 4 }), { sampleRate: 22050 });
    const summary = (out: string, id: string): Record<string, any> => JSON.parse(readFileSync(join(out, 'analysis', id, 'combined.json'), 'utf8'));

    const empty = join(dir, 'no-models');
    mkdirSync(empty);
    process.env.DIDACTIC_MODELS_DIR = empty;
    await new AudioPipeline({ songId: 'a', inputWav: wav, outDir: join(dir, 'o1'), ...noModels }).run();
    expect(summary(join(dir, 'o1'), 'a').rhythm.tracker).toBe('beatnet');
    await new AudioPipeline({ songId: 'b', inputWav: wav, outDir: join(dir, 'o2'), beatTracker: 'beat-this', ...noModels }).run();
    const degraded = summary(join(dir, 'o2'), 'b');
    expect(degraded.rhythm).toBeUndefined(); // librosa's tracker ran
    expect(degraded.data_quality.rhythm_fallback).toContain('npx didactic-engine models fetch beat-this');

    const models = join(dir, 'models');
    mkdirSync(models);
    const graph = readFileSync(join(graphsDir(), 'beat-this-small.onnx'));
    writeFileSync(
      join(models, 'beat-this-small.onnx'),
      convertBeatThis(graph, readBeatThisCheckpoint(lightningCheckpoint(beatThisState(graph, 4), beatThisHparams(128)))),
    );
    process.env.DIDACTIC_MODELS_DIR = models;
    await new AudioPipeline({ songId: 'c', inputWav: wav, outDir: join(dir, 'o3'), ...noModels }).run();
    const s = summary(join(dir, 'o3'), 'c');
    expect(s.rhythm.tracker).toBe('beat-this');
    expect(s.data_quality.degraded).toBe(false);
    // detect_meter (default) with beat_this_postprocess 'auto': the bar-pointer DBN among [3, 4].
    expect(s.rhythm.postprocess).toBe('dbn');
    expect(s.rhythm.meter_detected).toBe(true);
    expect(['3/4', '4/4']).toContain(s.rhythm.meter);
    expect(s.rhythm.beats_per_bar).toBe(Number(s.rhythm.meter.split('/')[0]));
    expect(s.rhythm.num_downbeats).toBeGreaterThan(0);
    // Uncalibrated (random weights or not): no low/high verdict, and it says so.
    expect(s.rhythm.confidence_calibrated).toBe(false);
    expect(s.rhythm.low_confidence).toBeNull();
    // The DBN's bars: every downbeat starts a bar of beats_per_bar beats (but the first and last).
    const beats: number[] = s.beat_times;
    const db: number[] = s.rhythm.downbeat_times;
    const idx = db.map((d) => beats.indexOf(d));
    expect(idx.every((i) => i >= 0)).toBe(true);
    for (let k = 1; k < idx.length; k++) expect(idx[k]! - idx[k - 1]!).toBe(s.rhythm.beats_per_bar);

    // 'minimal' on request; without meter detection 'auto' is 'minimal' too, bars from the configured meter.
    await new AudioPipeline({ songId: 'd', inputWav: wav, outDir: join(dir, 'o4'), beatThisPostprocess: 'minimal', ...noModels }).run();
    expect(summary(join(dir, 'o4'), 'd').rhythm.postprocess).toBe('minimal');
    // (13 beats per bar: more than the DBN takes, but peak picking takes no meter.)
    await new AudioPipeline({
      songId: 'e',
      inputWav: wav,
      outDir: join(dir, 'o5'),
      beatTracker: 'beat-this',
      detectMeter: false,
      timeSignatureNum: 13,
      ...noModels,
    }).run();
    const e = summary(join(dir, 'o5'), 'e');
    expect(e.rhythm).toMatchObject({ tracker: 'beat-this', postprocess: 'minimal', meter: '13/4', meter_detected: false });
    expect(e.data_quality.degraded).toBe(false);
    // 'dbn' without meter detection decodes in the configured meter.
    await new AudioPipeline({
      songId: 'f',
      inputWav: wav,
      outDir: join(dir, 'o6'),
      detectMeter: false,
      timeSignatureNum: 5,
      beatThisPostprocess: 'dbn',
      ...noModels,
    }).run();
    const f = summary(join(dir, 'o6'), 'f');
    expect(f.rhythm).toMatchObject({ tracker: 'beat-this', postprocess: 'dbn', meter: '5/4', meter_detected: false });
    const fb: number[] = f.beat_times;
    const fi = (f.rhythm.downbeat_times as number[]).map((d) => fb.indexOf(d));
    for (let k = 1; k < fi.length; k++) expect(fi[k]! - fi[k - 1]!).toBe(5);
  }, 300_000);
});
