/**
 * The planned peak memory of one song, from its header (frames, rate, channels) and the config,
 * checked before step 1 against a budget, so that a long input is refused with DE_RESOURCE_LIMIT
 * before anything is copied, decoded or written (docs/architecture.md, "Memory").
 *
 * Each term is a buffer a step allocates (float32 audio: 4 bytes a sample) or a working set whose
 * size per second of audio was measured with bench/memory.mjs (and rounded up). ONNX Runtime's
 * arena keeps part of a session's working set while the session stays open, so the rhythm
 * network's (half of it) and the transcriber's count from their step to the end of the song.
 */
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';

import { probeAudio } from '../audio/probe.js';
import { DidacticError } from '../errors.js';
import { installedBeatThisModel } from '../models/beatThis.js';
import type { Logger } from '../util/logger.js';
import type { RunPlan } from './concurrency.js';
import type { PipelineConfig, PipelineConfigFields } from './config.js';

const MiB = 1024 * 1024;
const F32 = 4;
/** Demucs' rate: the engine's four stems come back as 44.1 kHz stereo. */
const DEMUCS_RATE = 44100;
const DEMUCS_STEMS = 4;
/** BeatNet's rate (lib/models/rhythm.ts); other analysis rates are resampled to it first. */
const RHYTHM_RATE = 22050;

/**
 * Measured constants (bench/memory.mjs, 2 and 6 minutes of 44.1 kHz stereo, rounded up):
 * the process before the song (Node, the addon, the logger) and the constant part of steps 8-11
 * (Parquet writers, the HTML report), the rhythm network (features, the
 * CRNN's tensors in ONNX Runtime's arena, the DBN), the bar-feature analysis per analysis sample
 * (one STFT of complex64 frames at hop 512, mel, chroma), Basic Pitch per second of a stem, and the
 * Demucs engine (one batch of segment tensors, bench/separation.mjs) plus its copy of the input.
 */
export const MEMORY_MODEL = {
  baseBytes: 160 * MiB,
  beatnetFixedBytes: 48 * MiB,
  beatnetBytesPerSecond: 0.45 * MiB,
  /**
   * Share of the rhythm network's working set still resident in later steps (ONNX Runtime's arena
   * keeps chunks; measured 1/3 to 2/3 at 6-30 minutes).
   */
  beatnetRetainedFraction: 0.5,
  /** librosa's beat_track at the analysis rate: onset envelope over mel frames (hop 512). */
  librosaBytesPerSample: 8,
  // Beat This! (final0) on one 1500-frame chunk: the frontend's time attention holds
  // 32 sequences x 1500^2 scores; an estimate, not measured on a run (see docs/models.md).
  beatThisFixedBytes: 768 * MiB,
  // Its 128-band spectrogram and logits at 50 frames/s.
  beatThisBytesPerSecond: 50 * 130 * 4,
  featureBytesPerSample: 20,
  transcriberFixedBytes: 48 * MiB,
  transcriberBytesPerSecond: 0.15 * MiB,
  demucsFixedBytes: 1024 * MiB,
  /** The engine's padded planar copy of its input and its overlap-add accumulators, per stereo sample at 44.1 kHz. */
  demucsBytesPerSample: 6,
} as const;

/** The input's shape as its header gives it (frames at sampleRate Hz, channels). */
export interface SongShape {
  frames: number;
  sampleRate: number;
  channels: number;
}

/** The config fields the plan depends on. */
export type MemoryPlanConfig = Pick<
  PipelineConfigFields,
  | 'analysisSr'
  | 'hopLength'
  | 'usePydubPreprocess'
  | 'preprocessTargetSr'
  | 'preprocessNormalize'
  | 'useDemucsSeparation'
  | 'useBasicPitchTranscription'
  | 'writeBarChunks'
  | 'writeBarChunkWavs'
  | 'preserveChunkAudio'
  | 'beatTracker'
>;

/** One step's planned bytes: what is held when it runs plus its own working set. */
export interface StepMemory {
  /** The step's number in the original's order (2..7; step 1 is a file copy and needs no audio memory). */
  step: number;
  name: string;
  bytes: number;
}

/** The planned memory of one song: bytes per step and the peak (process baseline included). */
export interface SongMemoryPlan {
  durationS: number;
  steps: StepMemory[];
  peakBytes: number;
  /** The step that reaches the peak. */
  peakStep: StepMemory;
}

/**
 * Plans a song's peak memory (bytes) from its shape and config, step by step: the audio each step
 * holds (decoded input, analysis audio, stems) plus its own working set. `stemConcurrency` is the
 * run plan's stems at once per song (step 7); `songConcurrency` its independent parts at once per
 * song: from 2, step 4 runs beside step 3's file write and the full mix's spectral analysis
 * (lib/pipeline/run.ts), so their working sets count in step 4 too.
 */
export function planSongMemory(shape: SongShape, cfg: MemoryPlanConfig, stemConcurrency = 1, songConcurrency = 1): SongMemoryPlan {
  const m = MEMORY_MODEL;
  const { frames, sampleRate: rate, channels } = shape;
  const dur = frames / rate;
  const A = cfg.analysisSr;
  const analysisFrames = Math.ceil(frames * (A / rate));
  const nativeChunks = cfg.writeBarChunks && cfg.writeBarChunkWavs && cfg.preserveChunkAudio;
  const separation = cfg.useDemucsSeparation;
  // Step 2 keeps every channel only for separation and native chunks (lib/pipeline/steps/input.ts).
  const decodedChannels = separation || nativeChunks ? channels : 1;
  const decoded = frames * decodedChannels * F32;
  const analysis = analysisFrames * F32;
  const mix = decodedChannels > 1 ? frames * F32 : 0;

  const steps: StepMemory[] = [];
  const add = (step: number, name: string, bytes: number) => steps.push({ step, name, bytes: m.baseBytes + bytes });

  // Step 2: the decoded input, its mono mix (when several channels are kept) and the analysis audio.
  add(2, 'ingest', decoded + mix + analysis);
  let held = decoded + analysis;

  // Step 3: the normalised copy, and the preprocessed file's audio at preprocess_target_sr.
  const normalised = cfg.usePydubPreprocess && cfg.preprocessNormalize ? analysis : 0;
  const forFile = cfg.usePydubPreprocess && cfg.preprocessTargetSr !== A ? Math.ceil(analysisFrames * (cfg.preprocessTargetSr / A)) * F32 : 0;
  add(3, 'preprocess', held + normalised + forFile);

  // Step 4: the rhythm tracker on the preprocessed audio; the network's arena stays.
  let rhythmArena = 0;
  let rhythmWork: number;
  const tracker = cfg.beatTracker === 'auto' ? (installedBeatThisModel() ? 'beat-this' : 'beatnet') : cfg.beatTracker;
  if (tracker === 'beatnet') {
    rhythmArena = m.beatnetFixedBytes + m.beatnetBytesPerSecond * dur;
    rhythmWork = (A !== RHYTHM_RATE ? Math.ceil(dur * RHYTHM_RATE) * F32 : 0) + rhythmArena;
  } else if (tracker === 'beat-this') {
    // The network runs on 30 s chunks, so its arena does not grow with the song; the spectrogram does.
    rhythmArena = m.beatThisFixedBytes;
    rhythmWork = (A !== RHYTHM_RATE ? Math.ceil(dur * RHYTHM_RATE) * F32 : 0) + rhythmArena + m.beatThisBytesPerSecond * dur;
  } else {
    rhythmWork = m.librosaBytesPerSample * analysisFrames;
  }
  const features = cfg.writeBarChunks ? m.featureBytesPerSample * analysisFrames * (512 / cfg.hopLength) : 0;
  // Overlapped (songConcurrency ≥ 2): beside the rhythm, step 3's write and, with separation off,
  // the full mix's spectral analysis; with 2 slots only the larger of the two at a time.
  const besides = [forFile, separation ? 0 : features].sort((a, b) => b - a);
  const overlapped = songConcurrency >= 3 ? besides[0]! + besides[1]! : songConcurrency === 2 ? besides[0]! : 0;
  add(4, 'analyzeRhythm', held + normalised + rhythmWork + overlapped);
  held += m.beatnetRetainedFraction * rhythmArena;

  // Step 5: Demucs returns four 44.1 kHz stereo stems; afterwards the decoded input is released
  // and the stems are kept as mono at analysis_sr (native when chunks or transcription need them).
  let stemCount = 1;
  let stemHeld = 0;
  if (separation) {
    stemCount = DEMUCS_STEMS;
    const demucsFrames = Math.ceil(frames * (DEMUCS_RATE / rate));
    const stems = DEMUCS_STEMS * demucsFrames * 2 * F32;
    add(5, 'separateStems', held + stems + m.demucsBytesPerSample * demucsFrames * 2 + m.demucsFixedBytes);
    const keepNative = nativeChunks || (cfg.useBasicPitchTranscription && A !== RHYTHM_RATE);
    stemHeld = keepNative ? stems : DEMUCS_STEMS * analysis;
    // The Demucs session stays open in the model cache with its arena.
    held = held - decoded - analysis + stemHeld + m.demucsFixedBytes;
  }

  // Step 7: per stem at once, one whole-stem analysis (bar features) and Basic Pitch (its arena stays).
  const atOnce = Math.max(1, Math.min(stemConcurrency, stemCount));
  const transcription = cfg.useBasicPitchTranscription ? m.transcriberFixedBytes + m.transcriberBytesPerSecond * dur : 0;
  add(7, 'processStems', held + atOnce * (features + transcription));

  const peakStep = steps.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return { durationS: dur, steps, peakBytes: peakStep.bytes, peakStep };
}

/**
 * The memory this process may use: the smaller of the machine's memory and the cgroup limit
 * (cgroup v2 `memory.max`, or v1 `memory.limit_in_bytes`) when one is set.
 */
export function availableMemoryBytes(): number {
  let limit = totalmem();
  for (const file of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const value = Number(readFileSync(file, 'utf8').trim());
      if (Number.isFinite(value) && value > 0) limit = Math.min(limit, value);
    } catch {
      // no such controller (or "max"): the machine's memory applies
    }
  }
  return limit;
}

/** Share of the available memory a song may plan to use by default, split between the songs run at once. */
export const DEFAULT_MEMORY_FRACTION = 0.5;

/**
 * The per-song budget in bytes: `memory_budget_mb` when set, else half the available memory
 * (availableMemoryBytes) divided by the songs this process runs at once (`jobs`).
 */
export function songMemoryBudgetBytes(memoryBudgetMb: number | null, jobs = 1): number {
  if (memoryBudgetMb !== null) return memoryBudgetMb * MiB;
  return Math.floor((DEFAULT_MEMORY_FRACTION * availableMemoryBytes()) / Math.max(1, jobs));
}

function mib(bytes: number): string {
  return `${Math.ceil(bytes / MiB)} MiB`;
}

function duration(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.round(seconds % 60);
  return h > 0 ? `${h} h ${m} min` : m > 0 ? `${m} min ${s} s` : `${seconds.toFixed(1)} s`;
}

/**
 * The longest input of this shape (seconds) whose plan fits `budgetBytes`, by bisection over the
 * duration (the plan grows with the duration).
 */
export function maxDurationWithin(
  shape: Omit<SongShape, 'frames'>,
  cfg: MemoryPlanConfig,
  budgetBytes: number,
  stemConcurrency = 1,
  songConcurrency = 1,
): number {
  const fits = (s: number) =>
    planSongMemory({ ...shape, frames: Math.ceil(s * shape.sampleRate) }, cfg, stemConcurrency, songConcurrency).peakBytes <= budgetBytes;
  if (!fits(1)) return 0;
  let lo = 1;
  let hi = 2;
  while (fits(hi) && hi < 1e7) {
    lo = hi;
    hi *= 2;
  }
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** What lowers each step's share, for the refusal's message. */
const STEP_HINTS: Record<number, string> = {
  4: ", use beat_tracker 'librosa' (--beat-tracker librosa)",
  5: ', turn separation off (use_demucs_separation false, --no-demucs)',
  7: ', run fewer stems at once (--stem-jobs 1) or turn transcription off (--no-transcription)',
};

/**
 * Throws DE_RESOURCE_LIMIT when the planned peak of `shape` under `cfg` exceeds `budgetBytes`; the
 * message names the duration, the planned bytes and step, the budget, the longest input that fits
 * and the setting to change. `what` names the input (its path).
 */
export function assertSongFits(
  what: string,
  shape: SongShape,
  cfg: MemoryPlanConfig,
  budgetBytes: number,
  stemConcurrency = 1,
  songConcurrency = 1,
): SongMemoryPlan {
  const plan = planSongMemory(shape, cfg, stemConcurrency, songConcurrency);
  if (plan.peakBytes <= budgetBytes) return plan;
  const longest = maxDurationWithin(shape, cfg, budgetBytes, stemConcurrency, songConcurrency);
  throw new DidacticError(
    'DE_RESOURCE_LIMIT',
    `${what}: ${duration(plan.durationS)} of audio (${shape.sampleRate} Hz, ${shape.channels} ch) would need about ${mib(plan.peakBytes)} ` +
      `(step ${plan.peakStep.step}, ${plan.peakStep.name}), over the memory budget of ${mib(budgetBytes)}; ` +
      `with this config at most ${duration(longest)} fits. Raise memory_budget_mb (CLI --memory-budget)${STEP_HINTS[plan.peakStep.step] ?? ''}, ` +
      `or cut the input shorter`,
    {
      op: 'planMemory',
      details: {
        duration_s: plan.durationS,
        planned_bytes: plan.peakBytes,
        peak_step: plan.peakStep.step,
        budget_bytes: budgetBytes,
        max_duration_s: longest,
      },
    },
  );
}

/**
 * Before step 1: reads the input's header and refuses the song (DE_RESOURCE_LIMIT) when its plan
 * exceeds the budget. An input whose header cannot be read, or gives no length, is left to the
 * steps, which report it as before (and step 2 checks the decoded length again).
 * @throws DidacticError DE_RESOURCE_LIMIT.
 */
export async function checkInputMemory(cfg: PipelineConfig, plan: RunPlan, log: Logger): Promise<SongMemoryPlan | null> {
  let probe;
  try {
    probe = await probeAudio(cfg.inputWav);
  } catch (err) {
    log.debug(`Memory plan skipped: the header could not be read (${(err as Error).message})`);
    return null;
  }
  if (probe.frames === null) return null;
  const budget = songMemoryBudgetBytes(cfg.memoryBudgetMb, plan.jobs);
  const shape = { frames: probe.frames, sampleRate: probe.sampleRate, channels: probe.channels };
  const planned = assertSongFits(cfg.inputWav, shape, cfg, budget, plan.stemConcurrency, plan.songConcurrency);
  log.debug(`Planned peak memory ${mib(planned.peakBytes)} (step ${planned.peakStep.step}) within the budget of ${mib(budget)}`);
  return planned;
}

/**
 * Step 2's check of the decoded length (a compressed file's header length is an estimate, or
 * missing): the same plan with the frames actually decoded.
 * @throws DidacticError DE_RESOURCE_LIMIT.
 */
export function checkDecodedMemory(cfg: PipelineConfig, plan: RunPlan, shape: SongShape): void {
  assertSongFits(cfg.inputWav, shape, cfg, songMemoryBudgetBytes(cfg.memoryBudgetMb, plan.jobs), plan.stemConcurrency, plan.songConcurrency);
}
