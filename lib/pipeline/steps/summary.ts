/** Step 11: combined.json with the original's keys, then our additive keys. */
import { filesGeneratedFromResults, pyFloat, writeCombinedJson as writeSummary } from '../../reports/combined.js';
import type { StepMetrics } from '../../util/metrics.js';
import type { SongContext } from '../context.js';
import { trackerBeatsPerBar } from '../config.js';
import { runFingerprint } from '../fingerprint.js';
import { isLowRhythmConfidence } from './analyze.js';

/** The run's step timings and resource figures so far (step 11 itself is still running). */
export interface StepRecords {
  stepTimings: Record<string, number>;
  stepMetrics: Record<string, StepMetrics>;
}

/** Step 11: combined.json into the staging folder; `summary_json` names its final path. */
export async function writeSummaryJson(ctx: SongContext, records: StepRecords): Promise<void> {
  const { config: cfg, staging, results, quality } = ctx;
  const { tempoBpm, beatTimes } = ctx.rhythm;
  const { events, transcriber } = ctx.stemResults;
  const stems = ctx.stems.names;
  quality.beats = beatTimes.length;
  quality.bars = ctx.bars.length;
  quality.stems_fell_back = stems.filter((s) => results[`stem_audio_fallback_${s}`] !== undefined);
  // Why a model step degraded (missing model, timeout, open circuit), where people look.
  quality.stem_separation_error = (results.stem_separation_error as string | undefined) ?? null;
  quality.transcription_errors = Object.fromEntries(
    stems.filter((s) => results[`transcription_error_${s}`] !== undefined).map((s) => [s, results[`transcription_error_${s}`]]),
  );
  // Degradation is never silent: every fallback the run took, in one list (combined.json, the
  // result, the batch summary, logs); --strict turns it into a failure.
  const reasons = degradationReasons(ctx);
  quality.degraded = reasons.length > 0;
  quality.degraded_reasons = reasons;
  results.degraded = reasons.length > 0;
  results.degraded_reasons = reasons;
  for (const reason of reasons) ctx.log.warn(`Degraded: ${reason}`);
  ctx.fingerprint = await runFingerprint(cfg);
  const modelInfo = { separator: ctx.stems.separatorDescription, transcriber: transcriber ? transcriber.description : null };
  const analysis = results.analysis as { beat_times?: number[] } | undefined;
  await writeSummary(staging.stage('analysis', 'combined.json'), {
    songId: cfg.songId,
    durationS: results.duration_s as number,
    tempoBpm,
    numBeats: beatTimes.length,
    numBars: ctx.bars.length,
    stems,
    notesPerStem: events.map((e) => [e.stem, e.notes.startS.length] as const),
    essentiaRequested: cfg.useEssentiaFeatures,
    essentiaAvailable: false,
    filesGenerated: filesGeneratedFromResults(results),
    stepTimings: { ...records.stepTimings },
    config: { ...cfg.toSummaryConfig() },
    // No external tools are probed: separation and transcription run in-process.
    capabilities: {
      demucs_on_path: false,
      basic_pitch_on_path: false,
      demucs_onnx: modelInfo.separator !== null,
      basic_pitch_onnx: modelInfo.transcriber !== null,
    },
    extra: {
      engine: 'didactic-engine (node)',
      beat_times: (analysis?.beat_times ?? []).map(pyFloat),
      trim_offset_s: pyFloat(ctx.trimOffsetS),
      models: modelInfo,
      step_metrics: Object.fromEntries(
        Object.entries(records.stepMetrics).map(([k, m]) => [
          k,
          {
            wall_s: pyFloat(m.wall_s),
            cpu_s: pyFloat(m.cpu_s),
            peak_rss_mib: pyFloat(m.peak_rss_mib),
            read_bytes: m.read_bytes,
            written_bytes: m.written_bytes,
          },
        ]),
      ),
      // The learned tracker's findings (additive; absent with the librosa tracker, whose outputs
      // stay the original's byte for byte).
      ...(ctx.rhythm.tracker !== 'librosa'
        ? {
            rhythm: {
              tracker: ctx.rhythm.tracker,
              tempo_bpm: pyFloat(tempoBpm),
              beats_per_bar: trackerBeatsPerBar(ctx.rhythm.meter.numerator, ctx.rhythm.meter.denominator),
              meter: `${ctx.rhythm.meter.numerator}/${ctx.rhythm.meter.denominator}`,
              meter_detected: ctx.rhythm.meterDetected,
              confidence: pyFloat(ctx.rhythm.confidence ?? 0),
              // Beat This!'s confidence is its mean beat probability at the beats, not calibrated:
              // no low/high verdict is drawn from it.
              confidence_calibrated: ctx.rhythm.confidenceCalibrated,
              low_confidence: ctx.rhythm.confidenceCalibrated ? isLowRhythmConfidence(ctx.rhythm) : null,
              ...(ctx.rhythm.postprocess ? { postprocess: ctx.rhythm.postprocess } : {}),
              num_downbeats: ctx.rhythm.downbeatTimes.length,
              downbeat_times: Array.from(ctx.rhythm.downbeatTimes, pyFloat),
              tempo_curve_bpm: Array.from(ctx.rhythm.tempoCurve, pyFloat),
            },
          }
        : {}),
      data_quality: quality,
      run_fingerprint: ctx.fingerprint,
    },
  });
  results.summary_json = staging.final('analysis', 'combined.json');
  ctx.log.info(`Wrote summary to ${results.summary_json as string}`);
}

/** What the run had to do without: separation, a stem's transcription, the learned rhythm tracker. */
export function degradationReasons(ctx: SongContext): string[] {
  const { config: cfg, results, quality } = ctx;
  const reasons: string[] = [];
  if (cfg.useDemucsSeparation && typeof results.stem_separation_error === 'string') {
    reasons.push(`stem separation fell back to full_mix: ${results.stem_separation_error}`);
  }
  if (cfg.useBasicPitchTranscription) {
    for (const stem of ctx.stems.names) {
      const error = results[`transcription_error_${stem}`];
      if (typeof error === 'string') reasons.push(`transcription of '${stem}' skipped: ${error}`);
    }
  }
  if (typeof quality.rhythm_fallback === 'string') reasons.push(`beat tracking fell back to librosa: ${quality.rhythm_fallback}`);
  if (quality.truncated_input) reasons.push(`the input file is truncated: decoded what is present`);
  return reasons;
}
