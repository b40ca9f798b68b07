/** Steps 4 and 6: tempo and beats of the (preprocessed) mix, and the bar grid from them. */
import { beatTrack } from '../../analysis/beat.js';
import { segmentBeatsIntoBars } from '../../music/segmentation.js';
import type { SongContext } from '../context.js';

/**
 * Step 4: librosa.beat.beat_track with its defaults (hop 512, start_bpm 120, tightness 100, trim)
 * at the analysis rate; beat times moved back onto the input's timeline.
 */
export async function analyzeRhythm(ctx: SongContext): Promise<void> {
  const { config: cfg, signal } = ctx;
  const result = await beatTrack(ctx.analysisAudio, cfg.analysisSr, signal ? { signal } : undefined);
  ctx.releaseAnalysisAudio();
  const tempoBpm = result.tempo;
  const beatTimes = Float64Array.from(result.beatTimes, (t: number) => t + ctx.trimOffsetS);
  ctx.rhythm = { tempoBpm, beatTimes };
  ctx.results.analysis = {
    tempo_bpm: tempoBpm,
    num_beats: beatTimes.length,
    duration_s: ctx.durationS,
    essentia_available: false,
    beat_times: Array.from(beatTimes),
    trim_offset_s: ctx.trimOffsetS,
  };
  ctx.log.info(`Detected tempo ${tempoBpm.toFixed(2)} BPM with ${beatTimes.length} beats (duration ${ctx.durationS.toFixed(2)}s)`);
}

/** Step 6: the bar grid on the input's timeline. */
export async function computeBars(ctx: SongContext): Promise<void> {
  const { config: cfg } = ctx;
  const { tempoBpm, beatTimes } = ctx.rhythm;
  ctx.bars = segmentBeatsIntoBars(beatTimes, tempoBpm, cfg.timeSignatureNum, cfg.timeSignatureDen, ctx.durationS);
  ctx.results.num_bars = ctx.bars.length;
  ctx.log.info(`Computed ${ctx.bars.length} bars (beats_per_bar=${cfg.beatsPerBar.toFixed(2)})`);
}
