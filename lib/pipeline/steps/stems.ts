/**
 * Step 7: per stem, bar features and chunk WAVs, transcription to MIDI, and notes aligned to beats
 * and bars. Stems run concurrently within the plan's budget; each stem's rows go to the dataset
 * writers as soon as it and every stem before it are done (row order = a sequential run's), and
 * result keys are merged in stem order, so the outputs equal a sequential run's.
 */
import { mkdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import pLimit from 'p-limit';

import { mixToMonoYielding } from '../../audio/mix.js';
import { resample } from '../../audio/resample.js';
import { writeWav } from '../../audio/write.js';
import { SongDatasetSink } from '../../datasets/songSink.js';
import type { StemBarFeatures, StemEvents } from '../../datasets/tables.js';
import { AbortError, DidacticError } from '../../errors.js';
import type { Posteriors } from '../../models/basicPitch/index.js';
import { alignNotesToBeats } from '../../music/align.js';
import { computeStemBarFeatures } from '../../music/barFeatures.js';
import { barSampleRange } from '../../music/segmentation.js';
import { ReportDatasetsBuilder } from '../../reports/html/data.js';
import { anySignal } from '../../util/signals.js';
import { transcriberThreads } from '../concurrency.js';
import { FULL_MIX, type SongContext } from '../context.js';
import { barStartBeats, meterBeatsPerBar, quartersPerBeat } from './analyze.js';
import { withTimeout } from '../resilience.js';
import type { NoteTranscriber, TranscribedNote } from '../services.js';

/** One stem's audio as step 7 reads it. */
interface StemAudio {
  name: string;
  /** Mono at analysis_sr (features, default chunks). */
  mono: Float32Array;
  /** The stem in its native form (preserve_chunk_audio chunks, transcription). */
  native: { samples: Float32Array; sampleRate: number; channels: number };
  source: 'stem' | 'analysis_fallback';
  /** Where the stem came from on disk (the input file for full_mix). */
  fileStem: string;
}

interface StemOutcome {
  features?: StemBarFeatures;
  events?: StemEvents;
  notes?: TranscribedNote[];
  /** Result keys of this stem, merged in stem order. */
  keys: Record<string, unknown>;
}

/** The transcriber is opened on first use and shared by the song's stems. */
class LazyTranscriber {
  #promise: Promise<NoteTranscriber | null> | undefined;
  #noticeLogged = false;
  resolved: NoteTranscriber | null = null;

  constructor(private readonly ctx: SongContext) {}

  async get(): Promise<NoteTranscriber> {
    const { services, config, models, plan, stems } = this.ctx;
    this.#promise ??=
      services.transcriber !== undefined ? Promise.resolve(services.transcriber) : models.transcriber(config, transcriberThreads(plan, stems.names.length));
    const t = await this.#promise;
    if (!t) throw new DidacticError('DE_MODEL_NOT_FOUND', 'Basic Pitch transcription is not available (no transcriber configured)');
    this.resolved = t;
    if (t.notice && !this.#noticeLogged) {
      this.#noticeLogged = true;
      this.ctx.log.info(t.notice);
    }
    return t;
  }
}

export async function processStems(ctx: SongContext): Promise<void> {
  const { config: cfg, stems } = ctx;
  const { tempoBpm, beatTimes } = ctx.rhythm;
  // The report's rows are kept as they are written: step 10 need not decode the files again.
  ctx.reportRows = cfg.htmlReport ? new ReportDatasetsBuilder() : undefined;
  ctx.sink = new SongDatasetSink(ctx.staging.stage('datasets'), cfg.songId, stems.names, beatTimes, tempoBpm, ctx.reportRows);
  const sink = ctx.sink;
  const transcriber = new LazyTranscriber(ctx);
  let featureRows = 0;
  const limit = pLimit(Math.max(1, ctx.plan.stemConcurrency));
  const perStem = await Promise.all(
    stems.names.map((stemName, stemIndex) =>
      limit(async () => {
        const outcome = await processStem(ctx, stemName, transcriber);
        // The stem's audio is written and transcribed: let it go before the others finish (four
        // 44.1 kHz stereo stems of a 20-minute song are 1.6 GB).
        const done = stems.separated?.find((s) => s.name === stemName);
        if (done) done.samples = new Float32Array(0);
        await sink.stemDone(stemIndex, {
          ...(outcome.events ? { events: outcome.events } : {}),
          ...(outcome.features ? { features: outcome.features } : {}),
        });
        featureRows += outcome.features?.features.barIndex.length ?? 0;
        delete outcome.features; // written; only the notes stay for the reports
        return outcome;
      }),
    ),
  );
  const events: StemEvents[] = [];
  const notes = new Map<string, TranscribedNote[]>();
  stems.names.forEach((stemName, i) => {
    const o = perStem[i]!;
    Object.assign(ctx.results, o.keys);
    if (o.notes) notes.set(stemName, o.notes);
    if (o.events) events.push(o.events);
  });
  ctx.releaseAllAudio();
  ctx.stemResults = { events, notes, featureRows, transcriber: transcriber.resolved };
}

async function processStem(ctx: SongContext, stemName: string, transcriber: LazyTranscriber): Promise<StemOutcome> {
  const { config: cfg, log } = ctx;
  const outcome: StemOutcome = { keys: {} };
  log.info(`Processing stem '${stemName}'`);
  const stem = await loadStem(ctx, stemName);
  if (cfg.writeBarChunks) {
    const features = await barFeaturesAndChunks(ctx, stem);
    if (features) outcome.features = features;
  } else {
    log.info(`Bar chunking disabled; skipping chunk export for '${stemName}'`);
  }
  if (!cfg.useBasicPitchTranscription) {
    log.info(`MIDI transcription disabled by configuration; skipping for stem '${stemName}'`);
    return outcome;
  }
  await transcribeStem(ctx, stem, transcriber, outcome);
  return outcome;
}

async function loadStem(ctx: SongContext, stemName: string): Promise<StemAudio> {
  const { config: cfg, stems } = ctx;
  if (stemName === FULL_MIX || !stems.separated) {
    // The decoded input is the full mix: no second read of the file.
    const decoded = ctx.decoded;
    return {
      name: stemName,
      mono: ctx.analysisInput,
      native: { samples: decoded.samples, sampleRate: decoded.sampleRate, channels: decoded.channels },
      source: 'stem',
      fileStem: basename(cfg.inputWav, extname(cfg.inputWav)),
    };
  }
  const stem = stems.separated.find((s) => s.name === stemName)!;
  const mono = await mixToMonoYielding(stem.samples, stem.channels);
  const atRate = stem.sampleRate === cfg.analysisSr ? mono : await resample(mono, { inRate: stem.sampleRate, outRate: cfg.analysisSr });
  return { name: stemName, mono: atRate, native: stem, source: 'stem', fileStem: stemName };
}

/** bar_0007.wav; a pickup bar (negative index) is bar_-001.wav, which sorts before bar 0. */
export function chunkFileName(barIndex: number): string {
  return barIndex < 0 ? `bar_-${String(-barIndex).padStart(3, '0')}.wav` : `bar_${String(barIndex).padStart(4, '0')}.wav`;
}

async function barFeaturesAndChunks(ctx: SongContext, stem: StemAudio): Promise<StemBarFeatures | null> {
  const { config: cfg, log, staging, signal, bars } = ctx;
  const { tempoBpm } = ctx.rhythm;
  await mkdir(staging.stage('chunks', stem.name), { recursive: true });
  if (bars.length === 0) return null;
  const writeWavs = cfg.writeBarChunkWavs && stem.source === 'stem';
  if (writeWavs) {
    log.info(
      `Writing bar chunks to ${staging.final('chunks', stem.name)} (${cfg.preserveChunkAudio ? 'original audio' : `analysis audio (mono @ ${cfg.analysisSr}Hz)`})`,
    );
  } else if (!cfg.writeBarChunkWavs) {
    log.info('Computing bar features without writing chunk WAVs (write_bar_chunk_wavs=False)');
  }
  // The full mix's frame features may have been computed while step 4 ran (run.ts): same samples.
  const early = stem.name === FULL_MIX && stem.mono === ctx.analysisInput ? ctx.fullMixFrames : undefined;
  ctx.fullMixFrames = undefined;
  const features = await computeStemBarFeatures(stem.mono, cfg.analysisSr, bars, cfg.hopLength, signal, early);
  const chunkPaths: string[] = new Array<string>(features.barIndex.length).fill('');
  const writeLimit = pLimit(Math.max(1, ctx.chunkWriteConcurrency));
  let done = 0;
  await Promise.all(
    Array.from(features.barIndex, (barIndex, i) =>
      writeLimit(async () => {
        if (writeWavs) {
          if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled while writing chunks`);
          const name = chunkFileName(barIndex);
          const bar = { startS: features.startS[i]!, endS: features.endS[i]! };
          if (cfg.preserveChunkAudio) {
            const { samples, sampleRate, channels } = stem.native;
            const [a, b] = barSampleRange(bar, sampleRate, samples.length / channels);
            await writeWav(staging.stage('chunks', stem.name, name), samples.subarray(a * channels, b * channels), { sampleRate, channels });
          } else {
            const [a, b] = barSampleRange(bar, cfg.analysisSr, stem.mono.length);
            await writeWav(staging.stage('chunks', stem.name, name), stem.mono.subarray(a, b), { sampleRate: cfg.analysisSr });
          }
          staging.prehash(staging.stage('chunks', stem.name, name));
          chunkPaths[i] = staging.final('chunks', stem.name, name);
        }
        done++;
        ctx.onProgress?.({ kind: 'bars', songId: cfg.songId, stem: stem.name, done, total: features.barIndex.length });
      }),
    ),
  );
  return { songId: cfg.songId, stem: stem.name, tempoBpm, features, chunkPath: chunkPaths, audioSource: stem.source };
}

/** Transcription, MIDI and alignment of one stem; a failure degrades the stem (as the original does). */
async function transcribeStem(ctx: SongContext, stem: StemAudio, transcriber: LazyTranscriber, outcome: StemOutcome): Promise<void> {
  const { config: cfg, log, staging, signal, breakers, rhythm } = ctx;
  const { tempoBpm, beatTimes } = rhythm;
  const stemName = stem.name;
  const keys = outcome.keys;
  try {
    const notes = await breakers.basicPitch.execute(async () => {
      const t = await transcriber.get();
      // The stem as decoded or separated: the transcriber does its own mono mix and resampling,
      // as basic-pitch does when it reads the stem file.
      const { samples, sampleRate, channels } = stem.native;
      const onPosteriors = ctx.savePosteriors
        ? async (p: Posteriors) => {
            const { writePosteriorsNpy } = await import('../../models/basicPitch/index.js');
            const files = await writePosteriorsNpy(p, staging.stage('midi'), `${stem.fileStem}.`);
            keys[`posteriors_${stemName}`] = files.map((f) => staging.finalFor(f));
          }
        : undefined;
      return withTimeout(
        'Basic Pitch',
        cfg.basicPitchTimeoutS,
        (timeout) => t.transcribe({ samples, sampleRate, channels, signal: anySignal(timeout, signal)!, ...(onPosteriors ? { onPosteriors } : {}) }),
        signal,
      );
    }, signal);
    outcome.notes = notes;
    const midiName = `${stem.fileStem}.mid`;
    // The MIDI tempo counts quarter notes: a detected 6/8's dotted-quarter beat is 1.5 of them.
    // Imported here: a run without transcription never loads the MIDI writer (midi-file).
    const { writeStemMidi } = await import('../../music/midi.js');
    await writeStemMidi(notes, tempoBpm * quartersPerBeat(rhythm), staging.stage('midi', midiName), {
      timeSignature: rhythm.meter,
      trackName: stemName,
    });
    keys[`midi_${stemName}`] = staging.final('midi', midiName);
    log.info(`Transcribed ${stemName} to MIDI at ${keys[`midi_${stemName}`] as string}`);
    if (notes.length === 0) {
      log.info(`No notes detected for stem '${stemName}'`);
      return;
    }
    const columns = notesToColumns(notes);
    // With downbeats, a note's bar is the one whose downbeat precedes it; otherwise the original's
    // count of num × 4 / den beats from the first beat.
    const barStarts = barStartBeats(rhythm);
    const alignment = barStarts
      ? alignNotesToBeats(columns, beatTimes, tempoBpm, meterBeatsPerBar(rhythm, cfg), 4, { barStarts })
      : alignNotesToBeats(columns, beatTimes, tempoBpm, cfg.timeSignatureNum, cfg.timeSignatureDen);
    outcome.events = { songId: cfg.songId, stem: stemName, notes: columns, alignment };
    log.info(`Aligned ${notes.length} notes for stem '${stemName}'`);
  } catch (err) {
    if (signal?.aborted) throw err;
    keys[`transcription_error_${stemName}`] = (err as Error).message;
    log.warn(`MIDI transcription skipped for stem '${stemName}' (circuit state: ${breakers.basicPitch.state}): ${(err as Error).message}`);
  }
}

function notesToColumns(unordered: TranscribedNote[]) {
  // The original's events come from pretty_midi, which yields notes in closing (note-off) order.
  const notes = [...unordered].sort((a, b) => a.endS - b.endS || a.startS - b.startS);
  const n = notes.length;
  const startS = new Float64Array(n);
  const endS = new Float64Array(n);
  const pitch = new Float64Array(n);
  const velocity = new Float64Array(n);
  notes.forEach((note, i) => {
    startS[i] = note.startS;
    endS[i] = note.endS;
    pitch[i] = note.pitch;
    velocity[i] = note.velocity;
  });
  // Basic Pitch's MIDI holds one unnamed instrument, program 4, non-drum, as basic-pitch writes it.
  return { pitch, velocity, startS, endS, instrumentIndex: 0, instrumentName: 'Instrument_0', program: 4, isDrum: false };
}
