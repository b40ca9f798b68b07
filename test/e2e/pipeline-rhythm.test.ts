// The default rhythm: BeatNet's learned beats and downbeats, the meter detected, a precise tempo,
// and bars that start on downbeats, through the whole pipeline (bar grid, chunks, bar_grid.parquet,
// combined.json). The librosa tracker's outputs are pinned by pipeline-golden.test.ts.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

import { readParquetTable } from '../../lib/entries/datasets.js';
import { AudioPipeline, decodeAudio, writeWav } from '../../lib/index.js';
import { clickTrack } from '../helpers/clicks.js';
import { rockSong, seededRandom } from '../helpers/signals.js';
import { useTempDir } from '../helpers/tmp.js';

const noModels = { useDemucsSeparation: false, useBasicPitchTranscription: false } as const;

describe('learned rhythm in the pipeline (default)', () => {
  const dir = useTempDir('didactic-rhythm-e2e-');
  const click44 = join(dir, 'click120_44.wav');
  const click34 = join(dir, 'click100_34.wav');

  beforeAll(async () => {
    // 4/4 at 120 BPM from 0 s, accented downbeats; 3/4 at 100 BPM after 0.3 s of silence.
    await writeWav(click44, clickTrack({ sampleRate: 44100, seconds: 24, bpm: 120, beatsPerBar: 4 }), { sampleRate: 44100 });
    await writeWav(click34, clickTrack({ sampleRate: 22050, seconds: 24, bpm: 100, beatsPerBar: 3, leadIn: 0.3 }), { sampleRate: 22050 });
  });

  it('a 120 BPM 4/4 click: tempo 120.0 ± 0.5, meter 4/4, bars of four beats starting on clicks', async () => {
    const out = join(dir, 'out44');
    const r = await new AudioPipeline({ songId: 'c44', inputWav: click44, outDir: out, ...noModels }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'c44', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm).toMatchObject({
      tracker: 'beatnet',
      meter: '4/4',
      beats_per_bar: 4,
      meter_detected: true,
      confidence_calibrated: true,
      low_confidence: false,
    });
    expect(Math.abs(summary.tempo_bpm - 120)).toBeLessThanOrEqual(0.5);
    expect(summary.data_quality.degraded).toBe(false);
    const beats = summary.beat_times as number[];
    expect(beats.length).toBeGreaterThanOrEqual(44);
    // Within 10 ms of the clicks (every 0.5 s), past the first 5 s.
    const late = beats.filter((t) => t > 5);
    expect(late.length).toBeGreaterThan(30);
    for (const t of late) expect(Math.abs(t - Math.round(t * 2) / 2)).toBeLessThan(0.01);
    const grid = await readParquetTable(join(out, 'datasets', 'c44', 'bar_grid.parquet'));
    const starts = Array.from(grid.getChild('start_s')!.toArray() as Float64Array);
    const bpb = Array.from(grid.getChild('beats_per_bar')!.toArray() as Float64Array);
    expect(starts.length).toBeGreaterThanOrEqual(5);
    // Bars start on clicks and are four beats (2 s) long. (Which click is the downbeat is the
    // tracker's call: on this noise-burst click BeatNet hears the bar one beat late; the
    // accuracy harness measures downbeats over a corpus, bench/accuracy.)
    // The audio before the first downbeat is a pickup bar (negative index) from 0 s.
    const index = Array.from(grid.getChild('bar_index')!.toArray() as BigInt64Array, Number);
    expect(starts[0]).toBe(0);
    const first = index.indexOf(0);
    expect(index.slice(0, first).every((i) => i < 0)).toBe(true);
    const full = starts.slice(first);
    for (const s of full.slice(0, 8)) expect(Math.abs(s - Math.round(s * 2) / 2)).toBeLessThan(0.03);
    for (let i = 1; i < 8; i++) expect(full[i]! - full[i - 1]!).toBeCloseTo(2, 1);
    expect(bpb.slice(first, first + 8).every((b) => b === 4)).toBe(true);
    expect(r.num_bars).toBe(starts.length);
    // The first chunk begins at the first downbeat's attack.
    const chunk = await decodeAudio(join(out, 'chunks', 'c44', 'full_mix', 'bar_0000.wav'));
    expect(chunk.duration).toBeCloseTo(2, 1);
  }, 60_000);

  it('a 100 BPM 3/4 click after a lead-in: meter 3 detected, bars start on the downbeats', async () => {
    const out = join(dir, 'out34');
    await new AudioPipeline({ songId: 'c34', inputWav: click34, outDir: out, ...noModels, usePydubPreprocess: false }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'c34', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm.beats_per_bar).toBe(3);
    expect(Math.abs(summary.tempo_bpm - 100)).toBeLessThanOrEqual(0.5);
    const downbeats = summary.rhythm.downbeat_times as number[];
    expect(downbeats.length).toBeGreaterThanOrEqual(5);
    // Downbeats at 0.3 + k · 1.8 s.
    for (const t of downbeats.filter((x) => x > 3)) expect(Math.abs(((t - 0.3 + 0.9) % 1.8) - 0.9)).toBeLessThan(0.03);
  }, 60_000);

  it('--no-detect-meter constrains the bars to the configured meter', async () => {
    const out = join(dir, 'fixed');
    await new AudioPipeline({ songId: 'f', inputWav: click34, outDir: out, ...noModels, detectMeter: false, timeSignatureNum: 3 }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'f', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm).toMatchObject({ meter: '3/4', meter_detected: false, beats_per_bar: 3 });
  }, 60_000);
});

describe('learned rhythm on a rock mix (issue 24)', () => {
  const dir = useTempDir('didactic-rhythm-rock-');
  // 20 s of dense 4/4 rock at 138 BPM after 1.3 s of guitar alone, at a -14 dBFS peak (×4 stays
  // below full scale in 16-bit).
  const rock = rockSong({ seconds: 20, bpm: 138, leadIn: 1.3 });
  const at = (gain: number) => rock.map((v) => v * gain * (0.2 / 0.9));
  const summaries: Record<string, Record<string, any>> = {};
  // Rock at 120 BPM from its first downbeat, after a second of digital silence (which the
  // preprocessing trims).
  const rock120 = rockSong({ seconds: 20, bpm: 120 });
  const padded = (gain: number) => {
    const x = new Float32Array(22050 + rock120.length);
    x.set(
      rock120.map((v) => v * gain * 0.3),
      22050,
    );
    return x;
  };
  const run = async (name: string, gain: number, config: Record<string, unknown> = {}, pad = false) => {
    const wav = join(dir, `${name}.wav`);
    await writeWav(wav, pad ? padded(gain) : at(gain), { sampleRate: 22050 });
    const out = join(dir, name);
    await new AudioPipeline({ songId: name, inputWav: wav, outDir: out, ...noModels, ...config }).run();
    summaries[name] = JSON.parse(readFileSync(join(out, 'analysis', name, 'combined.json'), 'utf8')) as Record<string, any>;
    return out;
  };

  beforeAll(async () => {
    await run('base', 1);
    await run('raw', 1, { usePydubPreprocess: false });
    await run('quiet', 0.25);
    await run('loud_raw', 4, { usePydubPreprocess: false });
    await run('padded', 1, {}, true);
    await run('padded_raw', 1, { usePydubPreprocess: false }, true);
  }, 240_000);

  it('the level and --no-preprocess do not change the beats (within a frame), meter or downbeats', () => {
    const ref = summaries.base!;
    expect((ref.beat_times as number[]).length).toBeGreaterThan(30);
    for (const name of ['raw', 'quiet', 'loud_raw']) {
      const s = summaries[name]!;
      expect(s.rhythm.beats_per_bar, name).toBe(ref.rhythm.beats_per_bar);
      const a = ref.beat_times as number[];
      const b = s.beat_times as number[];
      expect(b.length, name).toBe(a.length);
      for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!), `${name} beat ${i}`).toBeLessThanOrEqual(0.02);
      const da = ref.rhythm.downbeat_times as number[];
      const db = s.rhythm.downbeat_times as number[];
      expect(db.length, name).toBe(da.length);
      for (let i = 0; i < da.length; i++) expect(Math.abs(da[i]! - db[i]!), `${name} downbeat ${i}`).toBeLessThanOrEqual(0.02);
    }
  });

  it('the bar is found with the whole song’s evidence: 4/4 with downbeats on beat 1, not 2/4 on the kicks', () => {
    // Before the harmonic-change cue: 2 beats per bar (kick on 1 and 3, snare on 2 and 4).
    const s = summaries.base!;
    expect(s.rhythm.beats_per_bar).toBe(4);
    const bar = (4 * 60) / 138;
    const downbeats = (s.rhythm.downbeat_times as number[]).filter((t) => t > 3);
    expect(downbeats.length).toBeGreaterThan(5);
    for (const t of downbeats) expect(Math.abs(((t - 1.3 + bar / 2) % bar) - bar / 2)).toBeLessThan(0.03);
  });

  it('leading silence trimmed or not (--no-preprocess): the same beats, meter and downbeats', () => {
    // Before the meter choice preferred the longer of two nested bars, the trimmed song came out
    // 2/4 and the untrimmed one 4/4.
    const a = summaries.padded!;
    const b = summaries.padded_raw!;
    expect(a.trim_offset_s).toBeGreaterThan(0.5);
    expect(b.rhythm.beats_per_bar).toBe(a.rhythm.beats_per_bar);
    expect(a.rhythm.beats_per_bar).toBe(4);
    const ta = a.beat_times as number[];
    const tb = b.beat_times as number[];
    expect(tb.length).toBe(ta.length);
    for (let i = 0; i < ta.length; i++) expect(Math.abs(ta[i]! - tb[i]!)).toBeLessThanOrEqual(0.02);
    const da = a.rhythm.downbeat_times as number[];
    const db = b.rhythm.downbeat_times as number[];
    expect(db.length).toBe(da.length);
    for (let i = 0; i < da.length; i++) expect(Math.abs(da[i]! - db[i]!)).toBeLessThanOrEqual(0.02);
  });

  it('bars cover the song: the audio before the first downbeat is a pickup bar with its chunk and features', async () => {
    const out = join(dir, 'base');
    const grid = await readParquetTable(join(out, 'datasets', 'base', 'bar_grid.parquet'));
    const index = Array.from(grid.getChild('bar_index')!.toArray() as BigInt64Array, Number);
    const starts = Array.from(grid.getChild('start_s')!.toArray() as Float64Array);
    const ends = Array.from(grid.getChild('end_s')!.toArray() as Float64Array);
    const beat = 60 / 138;
    expect(starts[0]).toBe(0);
    expect(index[0]).toBeLessThan(0);
    for (let i = 1; i < starts.length; i++) expect(starts[i]).toBeCloseTo(ends[i - 1]!, 9);
    expect(ends[ends.length - 1]).toBeCloseTo(20, 6);
    expect(ends[ends.length - 1]! - starts[starts.length - 1]!).toBeGreaterThanOrEqual(beat - 0.03);
    const features = await readParquetTable(join(out, 'datasets', 'base', 'bar_features.parquet'));
    const featureBars = Array.from(features.getChild('bar_index')!.toArray() as BigInt64Array, Number);
    expect(featureBars).toEqual(index);
    const chunks = readdirSync(join(out, 'chunks', 'base', 'full_mix')).sort();
    expect(chunks).toContain('bar_-001.wav');
    expect(chunks.length).toBe(index.length);
    expect(existsSync(join(out, 'chunks', 'base', 'full_mix', 'bar_0000.wav'))).toBe(true);
  });
});

describe('rhythm confidence (issue 24, item 5)', () => {
  const dir = useTempDir('didactic-rhythm-conf-');

  it('noise has no rhythm to trust: low_confidence in combined.json and a warning, but the song completes undegraded', async () => {
    const random = seededRandom(3);
    const noise = Float32Array.from({ length: 22050 * 15 }, () => 0.3 * (2 * random() - 1));
    const wav = join(dir, 'noise.wav');
    await writeWav(wav, noise, { sampleRate: 22050 });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
    const out = join(dir, 'noise');
    await new AudioPipeline({ songId: 'noise', inputWav: wav, outDir: out, ...noModels }, { logger }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'noise', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm.low_confidence).toBe(true);
    expect(summary.rhythm.confidence).toBeLessThan(0.7);
    expect(summary.data_quality.degraded).toBe(false);
    expect(warnings.some((w) => /Low rhythm confidence/.test(w))).toBe(true);
  }, 60_000);
});

// Issue 24, item 4: a detected compound meter reaches every output that writes a meter.
describe('a detected 6/8 through the pipeline', () => {
  const dir = useTempDir('didactic-rhythm-68-');
  const input = join(dir, 'jig68.wav');

  beforeAll(async () => {
    // Eighth clicks at 240 per minute (80 dotted quarters), accented in two groups of three.
    await writeWav(input, clickTrack({ sampleRate: 22050, seconds: 24, bpm: 240, leadIn: 0.25, timbre: 'sine', accents: [0.9, 0.3, 0.3, 0.6, 0.3, 0.3] }), {
      sampleRate: 22050,
    });
  });

  it('combined.json says 6/8 with two beats a bar, bar_grid counts two, ABC M:6/8 and the MIDI time signature 6/8', async () => {
    const out = join(dir, 'out');
    // With the default preprocessing: its trim moves the clicks against the feature frames, which
    // once turned this 6/8 into 9/8 (test/native/rhythm-meters.test.ts checks the trims one by one).
    await new AudioPipeline({ songId: 'jig', inputWav: input, outDir: out, useDemucsSeparation: false }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'jig', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm).toMatchObject({ meter: '6/8', beats_per_bar: 2, meter_detected: true });
    expect(Math.abs(summary.tempo_bpm - 80)).toBeLessThanOrEqual(1);
    const grid = await readParquetTable(join(out, 'datasets', 'jig', 'bar_grid.parquet'));
    const index = Array.from(grid.getChild('bar_index')!.toArray() as BigInt64Array, Number);
    const bpb = Array.from(grid.getChild('beats_per_bar')!.toArray() as Float64Array);
    expect(bpb.filter((_, i) => index[i]! >= 0).every((b) => b === 2)).toBe(true);
    const abc = readFileSync(join(out, 'reports', 'jig', 'full_mix.abc'), 'utf8');
    expect(abc).toMatch(/^M:6\/8$/m);
    // The ABC tempo counts quarters: 80 dotted quarters are 120 quarters.
    expect(abc).toMatch(/^Q:1\/4=12[01]$/m);
    const midi = readFileSync(join(out, 'midi', 'jig', 'jig68.mid'));
    const ts = midi.indexOf(Buffer.from([0xff, 0x58, 0x04]));
    expect(ts).toBeGreaterThan(0);
    expect([midi[ts + 3], midi[ts + 4]]).toEqual([6, 3]);
  }, 120_000);

  it('--no-detect-meter keeps the configured 4/4', async () => {
    const out = join(dir, 'fixed');
    await new AudioPipeline({ songId: 'jigf', inputWav: input, outDir: out, ...noModels, detectMeter: false }).run();
    const summary = JSON.parse(readFileSync(join(out, 'analysis', 'jigf', 'combined.json'), 'utf8')) as Record<string, any>;
    expect(summary.rhythm).toMatchObject({ meter: '4/4', meter_detected: false, beats_per_bar: 4 });
  }, 60_000);
});
