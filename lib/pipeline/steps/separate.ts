/** Step 5: stems from Demucs, or the full mix when separation is off or unavailable. */
import { mkdir } from 'node:fs/promises';
import { basename, extname } from 'node:path';

import { mixToMonoYielding } from '../../audio/mix.js';
import { resample } from '../../audio/resample.js';
import { writeWav } from '../../audio/write.js';
import { DidacticError } from '../../errors.js';
import { anySignal } from '../../util/signals.js';
import { BASIC_PITCH_RATE, FULL_MIX, type SongContext } from '../context.js';
import { withTimeout } from '../resilience.js';
import type { StemSeparator } from '../services.js';

export async function separateStems(ctx: SongContext): Promise<void> {
  const { config: cfg, log, signal, breakers } = ctx;
  let separator: StemSeparator | undefined;
  const fullMixOnly = (reason: string) => {
    ctx.results.stems = [FULL_MIX];
    ctx.results.stem_separation_error = reason;
    ctx.stems = { names: [FULL_MIX], separated: null, separatorModel: cfg.demucsModel, separatorDescription: describe(separator) };
  };
  if (!cfg.useDemucsSeparation) {
    log.info('Stem separation disabled by configuration; using full_mix');
    fullMixOnly('disabled by configuration');
    return;
  }
  let separated;
  try {
    separated = await breakers.demucs.execute(async () => {
      separator = await resolveSeparator(ctx);
      for (const w of separator.warnings ?? []) log.warn(w);
      const input = ctx.decoded;
      const s = separator;
      return withTimeout(
        'Demucs',
        cfg.demucsTimeoutS,
        (timeout) => s.separate({ samples: input.samples, sampleRate: input.sampleRate, channels: input.channels, signal: anySignal(timeout, signal)! }),
        signal,
      );
    }, signal);
  } catch (err) {
    if (signal?.aborted) throw err;
    const message = (err as Error).message;
    log.warn(`Stem separation skipped (circuit state: ${breakers.demucs.state}): ${message}`);
    fullMixOnly(message);
    return;
  }
  const stems = [...separated].sort((a, b) => a.name.localeCompare(b.name));
  const modelName = separator!.modelName;
  const inputStem = basename(cfg.inputWav, extname(cfg.inputWav));
  await mkdir(ctx.staging.stage('stems', modelName, inputStem), { recursive: true });
  for (const s of stems) {
    const staged = ctx.staging.stage('stems', modelName, inputStem, `${s.name}.wav`);
    await writeWav(staged, s.samples, { sampleRate: s.sampleRate, channels: s.channels });
    ctx.staging.prehash(staged);
  }
  ctx.results.stems = stems.map((s) => s.name);
  log.info(`Separated into ${stems.length} stems: [${stems.map((s) => `'${s.name}'`).join(', ')}]`);
  // From here on only the stems are used. Unless chunks keep native audio, every later consumer
  // reads a stem as mono at analysis_sr (transcription too when that is Basic Pitch's 22,050 Hz:
  // the same mono mix + soxr HQ it would do itself), so keep only that: a quarter of the 44.1 kHz
  // stereo stems (1.6 GB for four stems of a 20-minute song).
  const nativeChunks = cfg.writeBarChunks && cfg.writeBarChunkWavs && cfg.preserveChunkAudio;
  if (!nativeChunks && (!cfg.useBasicPitchTranscription || cfg.analysisSr === BASIC_PITCH_RATE)) {
    for (const s of stems) {
      const mono = await mixToMonoYielding(s.samples, s.channels);
      s.samples = s.sampleRate === cfg.analysisSr ? mono : await resample(mono, { inRate: s.sampleRate, outRate: cfg.analysisSr, signal });
      s.sampleRate = cfg.analysisSr;
      s.channels = 1;
    }
  }
  ctx.releaseInputAudio();
  ctx.stems = {
    names: stems.map((s) => s.name),
    separated: stems,
    separatorModel: modelName,
    separatorDescription: describe(separator),
  };
}

/** combined.json's `models.separator`: the model that was opened, also when its run then failed. */
function describe(separator: StemSeparator | undefined): string | null {
  return separator ? (separator.description ?? separator.modelName) : null;
}

async function resolveSeparator(ctx: SongContext): Promise<StemSeparator> {
  const { services } = ctx;
  if (services.separator) return services.separator;
  if (services.separator === null) {
    throw new DidacticError('DE_MODEL_NOT_FOUND', 'Demucs separation is not available (no separator configured)');
  }
  return ctx.models.separator(ctx.config, ctx.plan.separatorThreads);
}
