/** Step 11: combined.json with the original's keys, then our additive keys. */
import { filesGeneratedFromResults, pyFloat, writeCombinedJson as writeSummary } from '../reports/combined.js';
import type { StepMetrics } from '../util/metrics.js';
import type { PipelineConfig } from './config.js';
import type { SongStaging } from './staging.js';

export interface SummaryInput {
  config: PipelineConfig;
  staging: SongStaging;
  results: Record<string, unknown>;
  stepTimings: Record<string, number>;
  stepMetrics: Record<string, StepMetrics>;
  tempoBpm: number;
  numBeats: number;
  numBars: number;
  stems: readonly string[];
  notesPerStem: ReadonlyArray<readonly [string, number]>;
  quality: Record<string, unknown>;
  trimOffsetS: number;
  fingerprint: string;
  modelInfo: Record<string, unknown>;
}

/** Writes combined.json into the staging folder; returns its final path. */
export async function writeCombinedJson(input: SummaryInput): Promise<string> {
  const { config: cfg, staging } = input;
  const analysis = input.results.analysis as { beat_times?: number[] } | undefined;
  await writeSummary(staging.stage('analysis', 'combined.json'), {
    songId: cfg.songId,
    durationS: input.results.duration_s as number,
    tempoBpm: input.tempoBpm,
    numBeats: input.numBeats,
    numBars: input.numBars,
    stems: input.stems,
    notesPerStem: input.notesPerStem,
    essentiaRequested: cfg.useEssentiaFeatures,
    essentiaAvailable: false,
    filesGenerated: filesGeneratedFromResults(input.results),
    stepTimings: input.stepTimings,
    config: { ...cfg.toSummaryConfig() },
    // No external tools are probed: separation and transcription run in-process.
    capabilities: {
      demucs_on_path: false,
      basic_pitch_on_path: false,
      demucs_onnx: input.modelInfo.separator !== null,
      basic_pitch_onnx: input.modelInfo.transcriber !== null,
    },
    extra: {
      engine: 'didactic-engine (node)',
      beat_times: (analysis?.beat_times ?? []).map(pyFloat),
      trim_offset_s: pyFloat(input.trimOffsetS),
      models: input.modelInfo,
      step_metrics: Object.fromEntries(
        Object.entries(input.stepMetrics).map(([k, m]) => [
          k,
          { wall_s: pyFloat(m.wall_s), cpu_s: pyFloat(m.cpu_s), peak_rss_mib: pyFloat(m.peak_rss_mib), read_bytes: m.read_bytes, written_bytes: m.written_bytes },
        ]),
      ),
      data_quality: input.quality,
      run_fingerprint: input.fingerprint,
    },
  });
  return staging.final('analysis', 'combined.json');
}
