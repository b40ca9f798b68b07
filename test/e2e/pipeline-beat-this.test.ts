// beat_tracker 'auto' / 'beat-this' through the pipeline: with a Beat This! model installed in the
// models folder (a small0 network converted from a seeded checkpoint: the weights are random, so
// only the wiring is checked, not the beats), 'auto' runs it and combined.json's rhythm.tracker
// says so; without one, 'auto' is BeatNet and an explicit 'beat-this' completes degraded on
// librosa's tracker, naming the fetch command.
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
  }, 300_000);
});
