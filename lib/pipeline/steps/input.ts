/** Steps 1–3: copy the input, decode it once and resample it once, preprocess at the analysis rate. */
import { copyFile, stat, utimes } from 'node:fs/promises';
import { basename } from 'node:path';

import { decodeAudio } from '../../audio/decode.js';
import { sampleLevels, signalOverview } from '../../audio/levels.js';
import { mixToMonoYielding } from '../../audio/mix.js';
import { resample } from '../../audio/resample.js';
import { writeWav } from '../../audio/write.js';
import { DidacticError } from '../../errors.js';
import { normalizePeak, silenceWindows, trimSilence } from '../../music/preprocess.js';
import { DEFAULT_PEAK_POINTS } from '../../reports/html/peaks.js';
import { toWriteError } from '../../util/atomic.js';
import type { SongContext } from '../context.js';
import { checkDecodedMemory } from '../memory.js';

/** Step 1: the input copy keeps its name, bytes and timestamps. This is where a missing input fails. */
export async function copyInput(ctx: SongContext): Promise<void> {
  const { config: cfg, staging } = ctx;
  const inputName = basename(cfg.inputWav);
  let info;
  try {
    info = await stat(cfg.inputWav);
  } catch (err) {
    throw new DidacticError('DE_FILE_NOT_FOUND', `Input file not found: ${cfg.inputWav}`, { op: 'copyInput', cause: err });
  }
  if (info.isDirectory()) {
    throw new DidacticError('DE_IS_DIRECTORY', `Input ${cfg.inputWav} is a directory, not an audio file`);
  }
  const staged = staging.stage('input', inputName);
  try {
    await copyFile(cfg.inputWav, staged);
    await utimes(staged, info.atime, info.mtime);
  } catch (err) {
    throw toWriteError(err, staged, 'copyInput');
  }
  staging.prehash(staged);
  ctx.results.input_copy = staging.final('input', inputName);
}

/** Step 2: decode once (native rate; all channels only when a later step needs them), mono, resample once. */
export async function ingest(ctx: SongContext): Promise<void> {
  const { config: cfg, signal } = ctx;
  // All channels are kept only for separation and native-format chunks; otherwise the decoder
  // mixes to mono block by block and the multichannel signal never exists in memory.
  const needChannels = cfg.useDemucsSeparation || (cfg.writeBarChunks && cfg.writeBarChunkWavs && cfg.preserveChunkAudio);
  // A WAV/AIFF cut short decodes what is present (as the original does), with a warning and
  // data_quality.truncated_input; --strict makes it a failure.
  const decoded = await decodeAudio(cfg.inputWav, { signal, mono: !needChannels, strict: ctx.strict, logger: ctx.log });
  // The header's length was checked before step 1; a compressed stream's is only an estimate.
  checkDecodedMemory(cfg, ctx.plan, { frames: decoded.frames, sampleRate: decoded.sampleRate, channels: decoded.sourceChannels });
  if (decoded.truncated) {
    ctx.quality.truncated_input = { expected_frames: decoded.truncated.expectedFrames, actual_frames: decoded.truncated.actualFrames };
  }
  const mono = await mixToMonoYielding(decoded.samples, decoded.channels);
  const analysisInput = decoded.sampleRate === cfg.analysisSr ? mono : await resample(mono, { inRate: decoded.sampleRate, outRate: cfg.analysisSr, signal });
  if (analysisInput.length === 0) throw new DidacticError('DE_CORRUPT_AUDIO', 'Invalid audio data: the input holds no samples');
  ctx.decoded = decoded;
  ctx.analysisInput = analysisInput;
  ctx.durationS = analysisInput.length / cfg.analysisSr;
  ctx.results.sample_rate = cfg.analysisSr;
  ctx.results.duration_s = ctx.durationS;
  ctx.log.info(`Loaded audio: duration=${ctx.durationS.toFixed(2)}s, sr=${cfg.analysisSr}`);
  ctx.quality.clipped_input_samples = (await sampleLevels(decoded.samples)).clipped;
  // One pass over the analysis input: the report's waveform (taken now: step 10 runs after the
  // audio is released) and the windows step 3's silence trim measures.
  const windows = cfg.usePydubPreprocess && cfg.preprocessTrimSilence ? silenceWindows(analysisInput.length, cfg.analysisSr) : null;
  const points = cfg.htmlReport ? Math.min(DEFAULT_PEAK_POINTS, analysisInput.length) : 0;
  if (points > 0 || windows) {
    const overview = await signalOverview(analysisInput, points, windows);
    if (points > 0) ctx.waveform = { durationS: analysisInput.length / cfg.analysisSr, min: overview.min, max: overview.max };
    if (overview.windowRms) ctx.silenceWindowRms = overview.windowRms;
  }
}

/** Step 3: trim and normalise in float at the analysis rate; remember the trim offset; write the file. */
export async function preprocess(ctx: SongContext): Promise<void> {
  await (await preprocessAudio(ctx))?.();
}

/**
 * Step 3 in two parts: trims and normalises the analysis audio (what step 4 reads) and returns the
 * preprocessed file's write (resampled to preprocess_target_sr), which reads nothing any later step
 * changes, so a run with cores to spare overlaps it with the rhythm analysis (run.ts). Null when
 * preprocessing is off. The result key is set here, before the write, so that the result's keys
 * keep the original's order whatever finishes first (a failed write fails the song all the same).
 */
export async function preprocessAudio(ctx: SongContext): Promise<(() => Promise<void>) | null> {
  const { config: cfg, signal, staging } = ctx;
  ctx.analysisAudio = ctx.analysisInput;
  if (!cfg.usePydubPreprocess) {
    ctx.log.info('Skipping preprocessing step per configuration');
    return null;
  }
  let audio = ctx.analysisInput;
  if (cfg.preprocessTrimSilence) {
    const windowRms = ctx.silenceWindowRms;
    ctx.silenceWindowRms = undefined;
    const trimmed = await trimSilence(audio, cfg.analysisSr, {
      silenceThreshDbfs: cfg.preprocessSilenceThreshDbfs,
      keepSilenceMs: cfg.preprocessKeepSilenceMs,
      ...(windowRms ? { windowRms } : {}),
    });
    audio = trimmed.audio;
    ctx.trimOffsetS = trimmed.offsetS;
  }
  if (cfg.preprocessNormalize) audio = (await normalizePeak(audio)).audio;
  ctx.analysisAudio = audio;
  const name = `${cfg.songId}.wav`;
  ctx.results.preprocessed_path = staging.final('preprocessed', name);
  // The write holds its own reference to the audio: step 4 may release the context's meanwhile.
  return async () => {
    const forFile =
      cfg.preprocessTargetSr === cfg.analysisSr ? audio : await resample(audio, { inRate: cfg.analysisSr, outRate: cfg.preprocessTargetSr, signal });
    await writeWav(staging.stage('preprocessed', name), forFile, { sampleRate: cfg.preprocessTargetSr });
    staging.prehash(staging.stage('preprocessed', name));
    ctx.log.info(`Saved preprocessed audio to ${ctx.results.preprocessed_path as string}`);
  };
}
