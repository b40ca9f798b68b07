/**
 * AudioPipeline: the original's eleven steps on one song, with one time base. The input is decoded
 * once and resampled once to `analysis_sr`; preprocessing (trim, normalise) happens in float and
 * its trim offset is added back, so every time written anywhere is on the input's timeline.
 * Outputs are staged and committed together (see staging.ts).
 */
import { copyFile, mkdir, stat, utimes } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import pLimit from 'p-limit';

import { decodeAudio, type DecodedAudio } from '../audio/decode.js';
import { resample } from '../audio/resample.js';
import { writeWav } from '../audio/write.js';
import { alignNotesToBeats } from './align.js';
import { analyzeMix, computeStemBarFeatures, type StemBarFeatureResult } from './analysisStep.js';
import { PipelineConfig, type PipelineConfigInput } from './config.js';
import { normalizePeak, trimSilence } from './preprocess.js';
import { PIPELINE_BREAKER_DEFAULTS, ServiceBreaker, withTimeout } from './resilience.js';
import { segmentBeatsIntoBars, type BarBoundary, barSampleRange } from './segmentation.js';
import { ortIntraOpThreads, planConcurrency } from './concurrency.js';
import type { PipelineServices, SeparatedStem, StemSeparator, Transcriber, TranscribedNote } from './services.js';
import { SongStaging } from './staging.js';
import { SongDatasetSink } from '../datasets/songSink.js';
import type { StemBarFeatures, StemEvents } from '../datasets/tables.js';
import { AbortError, DidacticError, fromNative } from '../errors.js';
import { forEachChunk } from '../util/chunked.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { startStepMetrics, type StepMetrics } from '../util/metrics.js';
import { writeSongReports } from './reportsStep.js';
import { writeCombinedJson } from './summaryStep.js';
import { runFingerprint } from './fingerprint.js';
import { writeStemMidi } from '../reports/midi.js';
import { writePosteriorsNpy, type Posteriors } from '../models/basicPitch/index.js';

export const FULL_MIX = 'full_mix';

/** The original's step names; the timing key is derived from each (see timingKey). */
export const STEP_NAMES = [
  'Step 1: Copy input file',
  'Step 2: Ingest WAV file',
  'Step 3: Preprocess audio',
  'Step 4: Analyze audio',
  'Step 5: Separate stems (Demucs)',
  'Step 6: Compute bar boundaries',
  'Step 7: Process stems (chunks/transcription/align)',
  'Step 8: Build datasets',
  'Step 9: Write Parquet datasets',
  'Step 10: Export reports',
  'Step 11: Write summary JSON',
] as const;

/** `Step 5: Separate stems (Demucs)` → `step_5_separate_stems_(demucs)`, as the original derives keys. */
export function timingKey(stepName: string): string {
  return stepName.toLowerCase().replace(/:/g, '').replace(/ /g, '_').replace(/_+/g, '_');
}

/** Per-run circuit breakers (the original's are process-global; see docs/compatibility.md). */
export interface PipelineBreakers {
  demucs: ServiceBreaker;
  basicPitch: ServiceBreaker;
}

export function createPipelineBreakers(): PipelineBreakers {
  return {
    demucs: new ServiceBreaker('demucs', PIPELINE_BREAKER_DEFAULTS),
    basicPitch: new ServiceBreaker('basic_pitch', PIPELINE_BREAKER_DEFAULTS),
  };
}

export type ProgressEvent =
  | { kind: 'step'; songId: string; step: string; index: number; total: number }
  | { kind: 'bars'; songId: string; stem: string; done: number; total: number };

export interface PipelineOptions {
  logger?: Logger;
  signal?: AbortSignal;
  services?: PipelineServices;
  breakers?: PipelineBreakers;
  onProgress?: (event: ProgressEvent) => void;
  /** Stems processed at once inside this song (default: planConcurrency(), i.e. the cores, at most 4). See concurrency.ts. */
  stemConcurrency?: number;
  /** Chunk WAV writes in flight at once per stem (default 4). */
  chunkWriteConcurrency?: number;
  /**
   * Also write each stem's raw Basic Pitch posteriors as `midi/<song_id>/<stem>.{note,onset,contour}.npy`
   * (float32, frames × 88/88/264; result key `posteriors_<stem>`). Default off.
   */
  savePosteriors?: boolean;
}

/** The returned result: the original's keys in its insertion order, plus additive keys. */
export type PipelineResult = Record<string, unknown> & {
  song_id: string;
  input_path: string;
  output_dir: string;
  summary_json: string;
};

interface StemAudio {
  name: string;
  /** Mono at analysis_sr (features, transcription, default chunks). */
  mono: Float32Array;
  /** The stem in its native form (preserve_chunk_audio chunks). */
  native: { samples: Float32Array; sampleRate: number; channels: number };
  source: 'stem' | 'analysis_fallback';
  /** Where the stem came from on disk (the input file for full_mix). */
  fileStem: string;
}

/** Basic Pitch's model rate (lib/models/basicPitch). */
const BASIC_PITCH_RATE = 22050;

/** Mixes interleaved audio to mono (mean of the channels, float64 per frame). */
export function mixToMono(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const out = new Float32Array(samples.length / channels);
  mixFrames(samples, channels, out, 0, out.length);
  return out;
}

/** mixToMono in chunks that yield to the event loop between them. */
export async function mixToMonoYielding(samples: Float32Array, channels: number): Promise<Float32Array> {
  if (channels === 1) return samples;
  const out = new Float32Array(samples.length / channels);
  await forEachChunk(out.length, (start, end) => mixFrames(samples, channels, out, start, end));
  return out;
}

function mixFrames(samples: Float32Array, channels: number, out: Float32Array, from: number, to: number): void {
  const scale = 1 / channels;
  for (let f = from; f < to; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    out[f] = sum * scale;
  }
}

export class AudioPipeline {
  readonly config: PipelineConfig;
  /** Seconds per step (3 decimals), all eleven keys after a run, also for a failed step. */
  stepTimings: Record<string, number> = {};
  /** Wall/CPU time, peak RSS and bytes read/written per step (additive to the original). */
  stepMetrics: Record<string, StepMetrics> = {};
  readonly #options: PipelineOptions;
  readonly #log: Logger;

  constructor(config: PipelineConfig | PipelineConfigInput, options: PipelineOptions = {}) {
    this.config = config instanceof PipelineConfig ? config : new PipelineConfig(config);
    this.#options = options;
    this.#log = options.logger ?? silentLogger;
  }

  /** The original's static process_batch; see batch.ts for the options (jobs, resume, ...). */
  static async processBatch(
    inputFiles: readonly string[],
    outDir: string,
    options: import('./batch.js').BatchOptions = {},
  ): Promise<import('./batch.js').BatchResult> {
    const { processBatch } = await import('./batch.js');
    return processBatch(inputFiles, outDir, options);
  }

  async run(runOptions: { signal?: AbortSignal } = {}): Promise<PipelineResult> {
    const cfg = this.config;
    const log = this.#log;
    const signal = anySignal(runOptions.signal, this.#options.signal);
    const breakers = this.#options.breakers ?? createPipelineBreakers();
    const services = this.#options.services ?? {};
    const progress = this.#options.onProgress;
    this.stepTimings = {};
    this.stepMetrics = {};
    const staging = new SongStaging(cfg.outDir, cfg.songId);
    const results: Record<string, unknown> = {
      song_id: cfg.songId,
      input_path: cfg.inputWav,
      output_dir: cfg.outDir,
    };
    const quality: Record<string, unknown> = {};
    log.info(`Starting audio processing pipeline for ${cfg.inputWav} (song_id=${cfg.songId})`);

    let stepIndex = 0;
    const step = async <T>(name: (typeof STEP_NAMES)[number], body: () => Promise<T>): Promise<T> => {
      if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled before ${name}`);
      stepIndex++;
      progress?.({ kind: 'step', songId: cfg.songId, step: name, index: stepIndex, total: STEP_NAMES.length });
      log.info(name);
      const started = performance.now();
      const finish = startStepMetrics();
      const key = timingKey(name);
      const record = () => {
        const seconds = (performance.now() - started) / 1000;
        this.stepTimings[key] = round3(seconds);
        this.stepMetrics[key] = finish();
        return seconds;
      };
      try {
        const value = await body();
        const seconds = record();
        log.info(`${name} completed in ${seconds.toFixed(2)}s`, { step: key, song_id: cfg.songId, ...this.stepMetrics[key] });
        return value;
      } catch (err) {
        const seconds = record();
        log.error(`${name} failed after ${seconds.toFixed(2)}s`, { err, step: key, song_id: cfg.songId });
        throw err;
      }
    };

    await staging.create();
    let sink: SongDatasetSink | undefined;
    try {
      // Step 1: the input copy keeps its name, bytes and timestamps.
      const inputName = basename(cfg.inputWav);
      await step('Step 1: Copy input file', async () => {
        const staged = staging.stage('input', inputName);
        let info;
        try {
          info = await stat(cfg.inputWav);
        } catch (err) {
          throw fromNative(Object.assign(new Error(`Audio file not found: ${cfg.inputWav}`), { code: 'DE_FILE_NOT_FOUND' }), undefined, 'copyInput');
        }
        if (info.isDirectory()) {
          throw new DidacticError('DE_IS_DIRECTORY', `Input ${cfg.inputWav} is a directory, not an audio file`);
        }
        await copyFile(cfg.inputWav, staged);
        await utimes(staged, info.atime, info.mtime);
        results.input_copy = staging.final('input', inputName);
      });

      // Step 2: decode once (native rate, all channels kept for stems/chunks), mono, resample once.
      let decoded!: DecodedAudio;
      let ingested!: Float32Array;
      await step('Step 2: Ingest WAV file', async () => {
        // All channels are kept only when something needs them (separation, native-format
        // chunks); otherwise the decoder mixes to mono block by block and the multichannel
        // signal never exists in memory.
        const needChannels = cfg.useDemucsSeparation || (cfg.writeBarChunks && cfg.writeBarChunkWavs && cfg.preserveChunkAudio);
        decoded = await decodeAudio(cfg.inputWav, { signal, mono: !needChannels });
        const mono = await mixToMonoYielding(decoded.samples, decoded.channels);
        ingested =
          decoded.sampleRate === cfg.analysisSr
            ? mono
            : await resample(mono, { inRate: decoded.sampleRate, outRate: cfg.analysisSr, signal });
        if (ingested.length === 0) throw new DidacticError('DE_CORRUPT_AUDIO', 'Invalid audio data: the input holds no samples');
        results.sample_rate = cfg.analysisSr;
        results.duration_s = ingested.length / cfg.analysisSr;
        log.info(`Loaded audio: duration=${(ingested.length / cfg.analysisSr).toFixed(2)}s, sr=${cfg.analysisSr}`);
      });
      const durationS = results.duration_s as number;
      quality.clipped_input_samples = await countClipped(decoded.samples);

      // Step 3: trim and normalise in float at the analysis rate; remember the trim offset.
      let analysisAudio = ingested;
      let trimOffsetS = 0;
      await step('Step 3: Preprocess audio', async () => {
        if (!cfg.usePydubPreprocess) {
          log.info('Skipping preprocessing step per configuration');
          return;
        }
        if (cfg.preprocessTrimSilence) {
          const trimmed = await trimSilence(analysisAudio, cfg.analysisSr, {
            silenceThreshDbfs: cfg.preprocessSilenceThreshDbfs,
            keepSilenceMs: cfg.preprocessKeepSilenceMs,
          });
          analysisAudio = trimmed.audio;
          trimOffsetS = trimmed.offsetSeconds;
        }
        if (cfg.preprocessNormalize) analysisAudio = (await normalizePeak(analysisAudio)).audio;
        const forFile =
          cfg.preprocessTargetSr === cfg.analysisSr
            ? analysisAudio
            : await resample(analysisAudio, { inRate: cfg.analysisSr, outRate: cfg.preprocessTargetSr, signal });
        const name = `${cfg.songId}.wav`;
        await writeWav(staging.stage('preprocessed', name), forFile, { sampleRate: cfg.preprocessTargetSr });
        results.preprocessed_path = staging.final('preprocessed', name);
        log.info(`Saved preprocessed audio to ${results.preprocessed_path as string}`);
      });

      // Step 4: tempo and beats at analysis_sr; beat times moved back onto the input's timeline.
      let tempoBpm = 0;
      let beatTimes = new Float64Array(0);
      await step('Step 4: Analyze audio', async () => {
        const analysis = await analyzeMix(analysisAudio, cfg.analysisSr, signal);
        tempoBpm = analysis.tempoBpm;
        beatTimes = Float64Array.from(analysis.beatTimes, (t: number) => t + trimOffsetS);
        results.analysis = {
          tempo_bpm: tempoBpm,
          num_beats: beatTimes.length,
          duration_s: durationS,
          essentia_available: false,
          beat_times: Array.from(beatTimes),
          trim_offset_s: trimOffsetS,
        };
        log.info(`Detected tempo ${tempoBpm.toFixed(2)} BPM with ${beatTimes.length} beats (duration ${durationS.toFixed(2)}s)`);
      });

      // Step 5: stems, or the full mix when separation is off or unavailable.
      let separated: SeparatedStem[] | null = null;
      let separatorModel = cfg.demucsModel;
      let separatorUsed: string | null = null;
      await step('Step 5: Separate stems (Demucs)', async () => {
        if (!cfg.useDemucsSeparation) {
          log.info('Stem separation disabled by configuration; using full_mix');
          results.stems = [FULL_MIX];
          results.stem_separation_error = 'disabled by configuration';
          return;
        }
        try {
          separated = await breakers.demucs.execute(async () => {
            const separator = await resolveSeparator(services, cfg);
            separatorModel = separator.modelName;
            separatorUsed = separator.description ?? separator.modelName;
            for (const w of separator.warnings ?? []) log.warn(w);
            return withTimeout('Demucs', cfg.demucsTimeoutS, (s) =>
              separator.separate({ samples: decoded.samples, sampleRate: decoded.sampleRate, channels: decoded.channels, signal: anySignal(s, signal)! }),
            signal);
          }, signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          const message = (err as Error).message;
          log.warn(`Stem separation skipped (circuit state: ${breakers.demucs.state}): ${message}`);
          results.stems = [FULL_MIX];
          results.stem_separation_error = message;
          return;
        }
        const stems = [...separated!].sort((a, b) => a.name.localeCompare(b.name));
        separated = stems;
        const inputStem = basename(cfg.inputWav, extname(cfg.inputWav));
        for (const s of stems) {
          await writeWav(staging.stage('stems', separatorModel, inputStem, `${s.name}.wav`), s.samples, {
            sampleRate: s.sampleRate,
            channels: s.channels,
          }).catch(async (err: unknown) => {
            if ((err as DidacticError).code === 'DE_FILE_NOT_FOUND') {
              await mkdir(staging.stage('stems', separatorModel, inputStem), { recursive: true });
              return writeWav(staging.stage('stems', separatorModel, inputStem, `${s.name}.wav`), s.samples, {
                sampleRate: s.sampleRate,
                channels: s.channels,
              });
            }
            throw err;
          });
        }
        results.stems = stems.map((s) => s.name);
        log.info(`Separated into ${stems.length} stems: [${stems.map((s) => `'${s.name}'`).join(', ')}]`);
        // From here on only the stems are used. Unless chunks keep native audio, every later
        // consumer reads a stem as mono at analysis_sr (transcription too when that is Basic
        // Pitch's 22,050 Hz: the same mono mix + soxr HQ it would do itself), so keep only that:
        // a quarter of the 44.1 kHz stereo stems (1.6 GB for four stems of a 20-minute song).
        const nativeChunks = cfg.writeBarChunks && cfg.writeBarChunkWavs && cfg.preserveChunkAudio;
        if (!nativeChunks && (!cfg.useBasicPitchTranscription || cfg.analysisSr === BASIC_PITCH_RATE)) {
          for (const s of stems) {
            const mono = await mixToMonoYielding(s.samples, s.channels);
            s.samples = s.sampleRate === cfg.analysisSr ? mono : await resample(mono, { inRate: s.sampleRate, outRate: cfg.analysisSr, signal });
            s.sampleRate = cfg.analysisSr;
            s.channels = 1;
          }
        }
        decoded = { ...decoded, samples: new Float32Array(0) };
        ingested = new Float32Array(0);
      });
      const stemNames = results.stems as string[];

      // Step 6: the bar grid on the input's timeline.
      let bars: BarBoundary[] = [];
      await step('Step 6: Compute bar boundaries', async () => {
        bars = segmentBeatsIntoBars(beatTimes, tempoBpm, cfg.timeSignatureNum, cfg.timeSignatureDen, durationS);
        results.num_bars = bars.length;
        log.info(`Computed ${bars.length} bars (beats_per_bar=${cfg.beatsPerBar.toFixed(2)})`);
      });

      // Step 7: per stem: bar features and chunks, transcription, alignment.
      const stemEvents: StemEvents[] = [];
      const stemNotes = new Map<string, TranscribedNote[]>();
      let transcriber: Transcriber | null | undefined;
      let transcriberPromise: Promise<Transcriber | null> | undefined;
      let transcriberNoticeLogged = false;
      sink = new SongDatasetSink(staging.stage('datasets'), cfg.songId, stemNames, beatTimes, tempoBpm);
      const datasets = sink;
      type StemOutcome = { features?: StemBarFeatures; events?: StemEvents; notes?: TranscribedNote[]; keys: Record<string, unknown> };
      const processStem = async (stemName: string): Promise<StemOutcome> => {
        const keys: Record<string, unknown> = {};
        const outcome: { features?: StemBarFeatures; events?: StemEvents; notes?: TranscribedNote[]; keys: typeof keys } = { keys };
        log.info(`Processing stem '${stemName}'`);
        const stem = await this.#loadStem(stemName, separated, decoded, ingested);

        if (cfg.writeBarChunks) {
          const features = await this.#barFeaturesAndChunks(stem, bars, tempoBpm, staging, signal);
          if (features) outcome.features = features;
        } else {
          log.info(`Bar chunking disabled; skipping chunk export for '${stemName}'`);
        }

        if (!cfg.useBasicPitchTranscription) {
          log.info(`MIDI transcription disabled by configuration; skipping for stem '${stemName}'`);
          return outcome;
        }
        try {
          const notes = await breakers.basicPitch.execute(async () => {
            if (transcriberPromise === undefined) {
              // Fewer stems than stem slots (e.g. only full_mix): the idle slots' cores go to the
              // model's intra-op threads instead.
              const slots = Math.max(1, this.#options.stemConcurrency ?? planConcurrency().stemConcurrency);
              const spare = Math.max(1, Math.floor(slots / Math.min(slots, stemNames.length)));
              transcriberPromise = resolveTranscriber(services, cfg, ortIntraOpThreads() * spare);
            }
            transcriber = await transcriberPromise;
            if (!transcriber) throw new DidacticError('DE_MODEL_NOT_FOUND', 'Basic Pitch transcription is not available (no transcriber configured)');
            const t = transcriber;
            if (t.notice && !transcriberNoticeLogged) {
              transcriberNoticeLogged = true;
              log.info(t.notice);
            }
            // The stem as decoded or separated: the transcriber does its own mono mix and
            // resampling, as basic-pitch does when it reads the stem file.
            const { samples, sampleRate, channels } = stem.native;
            const onPosteriors = this.#options.savePosteriors
              ? async (p: Posteriors) => {
                  const files = await writePosteriorsNpy(p, staging.stage('midi'), `${stem.fileStem}.`);
                  keys[`posteriors_${stemName}`] = files.map((f) => staging.finalFor(f));
                }
              : undefined;
            return withTimeout('Basic Pitch', cfg.basicPitchTimeoutS, (s) =>
              t.transcribe({ samples, sampleRate, channels, signal: anySignal(s, signal)!, ...(onPosteriors ? { onPosteriors } : {}) }),
            signal);
          }, signal);
          outcome.notes = notes;
          const midiName = `${stem.fileStem}.mid`;
          await writeStemMidi(notes, tempoBpm, staging.stage('midi', midiName), {
            timeSignature: { numerator: cfg.timeSignatureNum, denominator: cfg.timeSignatureDen },
            trackName: stemName,
          });
          keys[`midi_${stemName}`] = staging.final('midi', midiName);
          log.info(`Transcribed ${stemName} to MIDI at ${keys[`midi_${stemName}`] as string}`);
          if (notes.length === 0) {
            log.info(`No notes detected for stem '${stemName}'`);
            return outcome;
          }
          const columns = notesToColumns(notes);
          const alignment = alignNotesToBeats(columns, beatTimes, tempoBpm, cfg.timeSignatureNum, cfg.timeSignatureDen);
          outcome.events = { songId: cfg.songId, stem: stemName, notes: columns, alignment };
          log.info(`Aligned ${notes.length} notes for stem '${stemName}'`);
        } catch (err) {
          if (signal?.aborted) throw err;
          keys[`transcription_error_${stemName}`] = (err as Error).message;
          log.warn(`MIDI transcription skipped for stem '${stemName}' (circuit state: ${breakers.basicPitch.state}): ${(err as Error).message}`);
        }
        return outcome;
      };

      let featureRows = 0;
      await step('Step 7: Process stems (chunks/transcription/align)', async () => {
        // Stems run concurrently within the budget. Each stem's rows go to the Parquet writers as
        // soon as it and every stem before it are done (row order = a sequential run's), and
        // result keys are merged in stem order, so the outputs equal a sequential run's.
        const limit = pLimit(Math.max(1, this.#options.stemConcurrency ?? planConcurrency().stemConcurrency));
        const perStem = await Promise.all(
          stemNames.map((stemName, stemIndex) =>
            limit(async () => {
              const outcome = await processStem(stemName);
              // The stem's audio is written and transcribed: let it go before the others finish
              // (four 44.1 kHz stereo stems of a 20-minute song are 1.6 GB).
              const done = (separated as SeparatedStem[] | null)?.find((s) => s.name === stemName);
              if (done) done.samples = new Float32Array(0);
              await datasets.stemDone(stemIndex, {
                ...(outcome.events ? { events: outcome.events } : {}),
                ...(outcome.features ? { features: outcome.features } : {}),
              });
              featureRows += outcome.features?.features.barIndex.length ?? 0;
              delete outcome.features; // written; only the notes stay for the reports
              return outcome;
            }),
          ),
        );
        stemNames.forEach((stemName, i) => {
          const o = perStem[i]!;
          Object.assign(results, o.keys);
          if (o.notes) stemNotes.set(stemName, o.notes);
          if (o.events) stemEvents.push(o.events);
        });
      });

      // Step 8: the datasets were built while the stems were processed; report their shapes.
      await step('Step 8: Build datasets', async () => {
        const events = stemEvents.reduce((n, s) => n + s.notes.startS.length, 0);
        const noteBars = new Set(stemEvents.flatMap((s) => Array.from(s.alignment.barIndex, (b) => `${s.stem}\u0000${b}`))).size;
        log.info(`Dataset shapes - events: ${events}, beats: ${beatTimes.length * stemNames.length}, bars: ${noteBars}, bar_features: ${featureRows}`);
      });

      await step('Step 9: Write Parquet datasets', async () => {
        const written = await datasets.finish({ bars, beatsPerBar: cfg.beatsPerBar });
        for (const name of ['events', 'beats', 'bars', 'bar_features', 'bar_grid'] as const) {
          const w = written[name];
          if (!w) continue;
          results[`${name}_parquet`] = staging.finalFor(w.path);
          log.info(`Wrote ${name} dataset to ${results[`${name}_parquet`] as string} (${w.rows} rows)`);
        }
      });

      await step('Step 10: Export reports', async () => {
        const written = await writeSongReports({
          config: cfg,
          staging,
          stems: stemNames,
          transcribedStems: [...stemNotes.keys()],
          events: stemEvents,
          tempoBpm,
          logger: log,
        });
        Object.assign(results, written.resultKeys);
        quality.notes_per_stem = Object.fromEntries([...stemNotes].map(([k, v]) => [k, v.length]));
      });

      await step('Step 11: Write summary JSON', async () => {
        quality.beats = beatTimes.length;
        quality.bars = bars.length;
        quality.stems_fell_back = stemNames.filter((s) => results[`stem_audio_fallback_${s}`] !== undefined);
        // Why a model step degraded (missing model, timeout, open circuit), where people look.
        quality.stem_separation_error = (results.stem_separation_error as string | undefined) ?? null;
        quality.transcription_errors = Object.fromEntries(
          stemNames.filter((s) => results[`transcription_error_${s}`] !== undefined).map((s) => [s, results[`transcription_error_${s}`]]),
        );
        const path = await writeCombinedJson({
          config: cfg,
          staging,
          results,
          stepTimings: { ...this.stepTimings },
          stepMetrics: { ...this.stepMetrics },
          tempoBpm,
          numBeats: beatTimes.length,
          numBars: bars.length,
          stems: stemNames,
          notesPerStem: stemEvents.map((e) => [e.stem, e.notes.startS.length] as const),
          quality,
          trimOffsetS,
          fingerprint: await runFingerprint(cfg),
          modelInfo: {
            separator: separatorUsed,
            transcriber: transcriber ? transcriber.description : null,
          },
        });
        results.summary_json = path;
        log.info(`Wrote summary to ${path}`);
      });

      if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled`);
      await staging.commit();
      log.info(`Pipeline completed successfully for ${cfg.songId}`);
      return results as PipelineResult;
    } catch (err) {
      await sink?.abort();
      await staging.discard();
      throw err;
    }
  }

  async #loadStem(
    stemName: string,
    separated: SeparatedStem[] | null,
    decoded: DecodedAudio,
    ingested: Float32Array,
  ): Promise<StemAudio> {
    const cfg = this.config;
    if (stemName === FULL_MIX || !separated) {
      // The decoded input is the full mix: no second read of the file.
      return {
        name: stemName,
        mono: ingested,
        native: { samples: decoded.samples, sampleRate: decoded.sampleRate, channels: decoded.channels },
        source: 'stem',
        fileStem: basename(cfg.inputWav, extname(cfg.inputWav)),
      };
    }
    const stem = separated.find((s) => s.name === stemName)!;
    const mono = await mixToMonoYielding(stem.samples, stem.channels);
    const atRate =
      stem.sampleRate === cfg.analysisSr ? mono : await resample(mono, { inRate: stem.sampleRate, outRate: cfg.analysisSr });
    return { name: stemName, mono: atRate, native: stem, source: 'stem', fileStem: stemName };
  }

  async #barFeaturesAndChunks(
    stem: StemAudio,
    bars: BarBoundary[],
    tempoBpm: number,
    staging: SongStaging,
    signal: AbortSignal | undefined,
  ): Promise<StemBarFeatures | null> {
    const cfg = this.config;
    const log = this.#log;
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
    const features: StemBarFeatureResult = await computeStemBarFeatures(stem.mono, cfg.analysisSr, bars, cfg.hopLength, signal);
    const chunkPaths: string[] = new Array<string>(features.barIndex.length).fill('');
    const writeLimit = pLimit(Math.max(1, this.#options.chunkWriteConcurrency ?? 4));
    let done = 0;
    await Promise.all(
      Array.from(features.barIndex, (barIndex, i) =>
        writeLimit(async () => {
          if (writeWavs) {
            if (signal?.aborted) throw new AbortError(`${cfg.songId}: cancelled while writing chunks`);
            const name = `bar_${String(barIndex).padStart(4, '0')}.wav`;
            const bar = { startS: features.startS[i]!, endS: features.endS[i]! };
            if (cfg.preserveChunkAudio) {
              const { samples, sampleRate, channels } = stem.native;
              const [a, b] = barSampleRange(bar, sampleRate, samples.length / channels);
              await writeWav(staging.stage('chunks', stem.name, name), samples.subarray(a * channels, b * channels), { sampleRate, channels });
            } else {
              const [a, b] = barSampleRange(bar, cfg.analysisSr, stem.mono.length);
              await writeWav(staging.stage('chunks', stem.name, name), stem.mono.subarray(a, b), { sampleRate: cfg.analysisSr });
            }
            chunkPaths[i] = staging.final('chunks', stem.name, name);
          }
          done++;
          this.#options.onProgress?.({ kind: 'bars', songId: cfg.songId, stem: stem.name, done, total: features.barIndex.length });
        }),
      ),
    );
    return { songId: cfg.songId, stem: stem.name, tempoBpm, features, chunkPath: chunkPaths, audioSource: stem.source };
  }
}

/** Constructs and runs a pipeline (the original's run_all). */
export async function runAll(config: PipelineConfig | PipelineConfigInput, options: PipelineOptions = {}): Promise<PipelineResult> {
  return new AudioPipeline(config, options).run();
}

async function resolveSeparator(services: PipelineServices, cfg: PipelineConfig): Promise<StemSeparator> {
  if (services.separator) return services.separator;
  if (services.separator === null) {
    throw new DidacticError('DE_MODEL_NOT_FOUND', 'Demucs separation is not available (no separator configured)');
  }
  const { resolveDefaultSeparator } = await import('./modelServices.js');
  return resolveDefaultSeparator(cfg);
}

async function resolveTranscriber(services: PipelineServices, cfg: PipelineConfig, intraOpThreads: number): Promise<Transcriber | null> {
  if (services.transcriber !== undefined) return services.transcriber;
  const { resolveDefaultTranscriber } = await import('./modelServices.js');
  return resolveDefaultTranscriber(cfg, { intraOpThreads });
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
  // Basic Pitch's MIDI holds one unnamed instrument, program 4, non-drum (spec §4.3).
  return { pitch, velocity, startS, endS, instrumentIndex: 0, instrumentName: 'Instrument_0', program: 4, isDrum: false };
}

/** Samples at or beyond full scale, counted in chunks that leave the event loop free in between. */
async function countClipped(samples: Float32Array): Promise<number> {
  let n = 0;
  await forEachChunk(samples.length, (start, end) => {
    for (let i = start; i < end; i++) {
      const s = samples[i]!;
      if (s >= 1 || s <= -1) n++;
    }
  });
  return n;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** An AbortSignal that fires when any of the given ones does. */
export function anySignal(...signals: Array<AbortSignal | undefined>): AbortSignal | undefined {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length <= 1) return present[0];
  return AbortSignal.any(present);
}
