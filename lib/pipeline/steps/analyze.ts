/** Steps 4 and 6: the rhythm of the (preprocessed) mix, and the bar grid from it. */
import { beatTrack } from '../../analysis/beat.js';
import { barsFromDownbeats, downbeatIndices, segmentBeatsIntoBars } from '../../music/segmentation.js';
import { BEAT_THIS_DBN_METERS, installedBeatThisModel } from '../../models/beatThis.js';
import { trackerBeatsPerBar, type PipelineConfig } from '../config.js';
import type { SongContext, SongRhythm } from '../context.js';

export { trackerBeatsPerBar };

/**
 * Below this rhythm confidence the song's beats and bars are likely wrong. The confidence is
 * calibrated on the accuracy corpus to read as the expected beat F (bench/accuracy/README.md shows
 * the curve): of its 40 pieces, those under 0.7 had a mean beat F of 0.64, the others 0.86. The
 * song still completes; the log warns and combined.json and the HTML report say so
 * (`rhythm.low_confidence`).
 */
export const LOW_RHYTHM_CONFIDENCE = 0.7;

/**
 * True when the learned tracker's calibrated confidence is below LOW_RHYTHM_CONFIDENCE; never for
 * librosa (no confidence) nor for Beat This! (its confidence is not calibrated: the threshold,
 * fitted to BeatNet's, would mean nothing; combined.json writes `low_confidence: null` for it).
 */
export function isLowRhythmConfidence(rhythm: Pick<SongRhythm, 'confidence' | 'confidenceCalibrated'>): boolean {
  return rhythm.confidence !== null && rhythm.confidenceCalibrated && rhythm.confidence < LOW_RHYTHM_CONFIDENCE;
}

/**
 * Beat This!'s postprocessor for a config: `beat_this_postprocess`, where 'auto' is the bar-pointer
 * DBN with `detect_meter` (a meter among the candidates and bars of constant length, as BeatNet's;
 * beat_this's authors offer its `dbn` flag for this) and the minimal peak picking without (the
 * reference's default; the configured meter counts the bars).
 */
export function resolveBeatThisPostprocess(cfg: Pick<PipelineConfig, 'beatThisPostprocess' | 'detectMeter'>): 'minimal' | 'dbn' {
  if (cfg.beatThisPostprocess !== 'auto') return cfg.beatThisPostprocess;
  return cfg.detectMeter ? 'dbn' : 'minimal';
}

/** The tracker `beat_tracker` names; 'auto' is Beat This! when its model is installed, else BeatNet. */
export function resolveBeatTracker(cfg: Pick<PipelineConfig, 'beatTracker'>): SongRhythm['tracker'] {
  if (cfg.beatTracker !== 'auto') return cfg.beatTracker;
  return installedBeatThisModel() ? 'beat-this' : 'beatnet';
}

/**
 * Starts opening the learned tracker's model without waiting for it, so that loading ONNX Runtime
 * and creating the session overlap steps 1-3 instead of opening step 4. Step 4 then gets that model
 * (or its error, and falls back as always) from the model cache; a cache that already holds it
 * returns it at once.
 */
export function prefetchRhythmModel(ctx: SongContext): void {
  const tracker = resolveBeatTracker(ctx.config);
  if (tracker === 'librosa') return;
  // Same arguments as step 4's calls (one intra-op thread), hence the same cache entry.
  const opening = tracker === 'beat-this' ? ctx.models.beatThis(1) : ctx.models.rhythm(1);
  // Reported by step 4, which asks again.
  opening.catch(() => undefined);
}

/**
 * Step 4: tempo and beats, moved back onto the input's timeline. 'auto' (default): Beat This! when
 * installed, else BeatNet; 'beatnet': BeatNet's CRNN and the bar-pointer DBN give beats, downbeats
 * and the meter; 'beat-this': Beat This!'s network and its postprocessor (resolveBeatThisPostprocess) give them; 'librosa':
 * the original's beat_track with its defaults (hop 512, start_bpm 120, tightness 100, trim) at the
 * analysis rate.
 */
export async function analyzeRhythm(ctx: SongContext): Promise<void> {
  const { config: cfg, log, signal } = ctx;
  let rhythm: SongRhythm;
  const tracker = resolveBeatTracker(cfg);
  if (tracker === 'librosa') {
    rhythm = await librosaRhythm(ctx);
  } else {
    try {
      rhythm = tracker === 'beat-this' ? await beatThisRhythm(ctx) : await learnedRhythm(ctx);
    } catch (err) {
      if (signal?.aborted) throw err;
      // Never silent: the song completes on the original's tracker and is marked degraded.
      const reason = (err as Error)?.message ?? String(err);
      log.warn(`Learned beat tracking failed (${reason}); using librosa's beat_track`);
      ctx.quality.rhythm_fallback = reason;
      rhythm = await librosaRhythm(ctx);
    }
  }
  ctx.releaseAnalysisAudio();
  ctx.rhythm = rhythm;
  const { tempoBpm, beatTimes } = rhythm;
  ctx.results.analysis = {
    tempo_bpm: tempoBpm,
    num_beats: beatTimes.length,
    duration_s: ctx.durationS,
    essentia_available: false,
    beat_times: Array.from(beatTimes),
    trim_offset_s: ctx.trimOffsetS,
    // Ours, additive:
    beat_tracker: rhythm.tracker,
    beats_per_bar: rhythm.beatPositions ? trackerBeatsPerBar(rhythm.meter.numerator, rhythm.meter.denominator) : rhythm.meter.numerator,
    meter_detected: rhythm.meterDetected,
    rhythm_confidence: rhythm.confidence,
    downbeat_times: Array.from(rhythm.downbeatTimes),
  };
  log.info(`Detected tempo ${tempoBpm.toFixed(2)} BPM with ${beatTimes.length} beats (duration ${ctx.durationS.toFixed(2)}s)`);
  if (rhythm.tracker !== 'librosa') {
    const how = rhythm.meterDetected ? 'detected' : 'configured';
    log.info(
      `Meter ${rhythm.meter.numerator}/${rhythm.meter.denominator} (${how}), ${rhythm.downbeatTimes.length} downbeats, ${rhythm.confidenceCalibrated ? 'confidence' : 'mean beat probability (uncalibrated)'} ${(rhythm.confidence ?? 0).toFixed(2)}${rhythm.postprocess ? ` (${rhythm.postprocess} postprocessor)` : ''}`,
    );
    if (isLowRhythmConfidence(rhythm)) {
      log.warn(
        `Low rhythm confidence (${(rhythm.confidence ?? 0).toFixed(2)} < ${LOW_RHYTHM_CONFIDENCE}): the beats, downbeats and bars of this song are likely wrong; check them before using the bar-level outputs`,
      );
    }
  }
}

async function librosaRhythm(ctx: SongContext): Promise<SongRhythm> {
  const { config: cfg, signal } = ctx;
  const result = await beatTrack(ctx.analysisAudio, cfg.analysisSr, signal ? { signal } : undefined);
  const beatTimes = Float64Array.from(result.beatTimes, (t: number) => t + ctx.trimOffsetS);
  return {
    tracker: 'librosa',
    tempoBpm: result.tempo,
    beatTimes,
    beatPositions: null,
    downbeatTimes: new Float64Array(0),
    meter: { numerator: cfg.timeSignatureNum, denominator: cfg.timeSignatureDen },
    meterDetected: false,
    confidence: null,
    confidenceCalibrated: false,
    postprocess: null,
    tempoCurve: tempoCurveOf(beatTimes),
  };
}

async function learnedRhythm(ctx: SongContext): Promise<SongRhythm> {
  const { config: cfg, signal } = ctx;
  // One intra-op thread: the CRNN is small, and songs and stems already fill the cores.
  const tracker = await ctx.models.rhythm(1);
  const configured = trackerBeatsPerBar(cfg.timeSignatureNum, cfg.timeSignatureDen);
  const r = await tracker.track(ctx.analysisAudio, cfg.analysisSr, {
    detectMeter: cfg.detectMeter,
    beatsPerBar: configured,
    ...(signal ? { signal } : {}),
  });
  const detected = cfg.detectMeter && r.beatsPerBar > 0;
  return onInputTimeline(ctx, r, {
    tracker: 'beatnet',
    beatPositions: r.beatPositions,
    // A detected meter as the tracker spells it (6/8 when the beat divides in three, 7/8 for seven
    // fast beats: native/src/beat/meter.h); a configured one keeps its own spelling.
    meter: detected ? r.meter : { numerator: cfg.timeSignatureNum, denominator: cfg.timeSignatureDen },
    meterDetected: detected,
    confidenceCalibrated: true,
    postprocess: null,
  });
}

async function beatThisRhythm(ctx: SongContext): Promise<SongRhythm> {
  const { config: cfg, signal } = ctx;
  // One intra-op thread, as for BeatNet: songs and stems already fill the cores.
  const tracker = await ctx.models.beatThis(1);
  const postprocess = resolveBeatThisPostprocess(cfg);
  // The DBN decodes among [3, 4] (beat_this's own dbn setting) when detecting the meter, else in
  // the configured meter alone (at most 12 beats per bar, checked at the door), as BeatNet's does;
  // the minimal postprocessor takes no meter, and any configured one counts its bars.
  const meters = postprocess === 'dbn' && !cfg.detectMeter ? [trackerBeatsPerBar(cfg.timeSignatureNum, cfg.timeSignatureDen)] : [...BEAT_THIS_DBN_METERS];
  const r = await tracker.track(ctx.analysisAudio, cfg.analysisSr, { postprocess, meters, ...(signal ? { signal } : {}) });
  // Its downbeats give the bars when meter detection is on, and with the DBN in a configured
  // meter; the minimal postprocessor without meter detection counts bars from the first beat with
  // the configured meter, as with librosa (peak picking cannot be told a meter).
  const detected = cfg.detectMeter && r.beatsPerBar > 0;
  const positioned = detected || (postprocess === 'dbn' && r.beatsPerBar > 0);
  return onInputTimeline(ctx, r, {
    tracker: 'beat-this',
    beatPositions: positioned ? r.beatPositions : null,
    meter: detected ? { numerator: r.beatsPerBar, denominator: 4 } : { numerator: cfg.timeSignatureNum, denominator: cfg.timeSignatureDen },
    meterDetected: detected,
    confidenceCalibrated: false,
    postprocess,
  });
}

/** What a learned tracker measured (on the trimmed analysis audio). */
interface LearnedTrack {
  tempoBpm: number;
  beats: ArrayLike<number>;
  downbeats: ArrayLike<number>;
  confidence: number;
  tempoCurve: Float64Array;
}

/**
 * A learned tracker's result as the song's rhythm, its beat and downbeat times moved back onto
 * the input's timeline (by the trim offset); `how` is what the two trackers decide differently.
 */
function onInputTimeline(
  ctx: SongContext,
  r: LearnedTrack,
  how: Pick<SongRhythm, 'tracker' | 'beatPositions' | 'meter' | 'meterDetected' | 'confidenceCalibrated' | 'postprocess'>,
): SongRhythm {
  const shift = (t: number) => t + ctx.trimOffsetS;
  return {
    tracker: how.tracker,
    tempoBpm: r.tempoBpm,
    beatTimes: Float64Array.from(r.beats, shift),
    beatPositions: how.beatPositions,
    downbeatTimes: Float64Array.from(r.downbeats, shift),
    meter: how.meter,
    meterDetected: how.meterDetected,
    confidence: r.confidence,
    confidenceCalibrated: how.confidenceCalibrated,
    postprocess: how.postprocess,
    tempoCurve: r.tempoCurve,
  };
}

/** 60 / centred inter-beat interval per beat (the librosa path's tempo curve). */
function tempoCurveOf(beats: Float64Array): Float64Array {
  const n = beats.length;
  const out = new Float64Array(n);
  if (n < 2) return out;
  for (let i = 0; i < n; i++) {
    const a = beats[Math.max(0, i - 1)]!;
    const b = beats[Math.min(n - 1, i + 1)]!;
    const span = Math.min(n - 1, i + 1) - Math.max(0, i - 1);
    out[i] = b > a ? (60 * span) / (b - a) : 0;
  }
  return out;
}

/** Beats per bar of the song's meter as the bar grid counts it (num × 4 / den; detected: the count). */
export function meterBeatsPerBar(rhythm: SongRhythm, cfg: PipelineConfig): number {
  if (rhythm.beatPositions) return trackerBeatsPerBar(rhythm.meter.numerator, rhythm.meter.denominator);
  return cfg.beatsPerBar;
}

/**
 * Quarter notes per tracked beat of a detected meter (6/8: 1.5, the dotted quarter; 7/8: 0.5, the
 * eighth; simple meters 1), for what counts in quarters (MIDI tempo, ABC); 1 for a configured
 * meter, whose beats the original counted as they are.
 */
export function quartersPerBeat(rhythm: Pick<SongRhythm, 'meter' | 'meterDetected'>): number {
  const { numerator, denominator } = rhythm.meter;
  if (!rhythm.meterDetected || !(numerator > 0) || !(denominator > 0)) return 1;
  return (numerator * 4) / denominator / trackerBeatsPerBar(numerator, denominator);
}

/** Indices of the beats that start bars (downbeats); null when bars are counted from the first beat. */
export function barStartBeats(rhythm: SongRhythm): number[] | null {
  return rhythm.beatPositions ? downbeatIndices({ beatPositions: rhythm.beatPositions }) : null;
}

/**
 * Step 6: the bar grid on the input's timeline. With downbeats, bars start on them (and may vary
 * in length), the audio before the first downbeat is a pickup bar (−1, −2, …) so that chunks and
 * bar features cover the whole song as the notes do, and a last bar shorter than a beat joins the
 * one before it; otherwise the original's grid: bar 0 at the first beat, num × 4 / den beats per bar.
 */
export async function computeBars(ctx: SongContext): Promise<void> {
  const { config: cfg, rhythm } = ctx;
  const bpb = meterBeatsPerBar(rhythm, cfg);
  ctx.bars = rhythm.beatPositions
    ? barsFromDownbeats({ beatTimes: rhythm.beatTimes, beatPositions: rhythm.beatPositions, beatsPerBar: bpb }, rhythm.tempoBpm, ctx.durationS, {
        pickup: true,
      })
    : segmentBeatsIntoBars(rhythm.beatTimes, rhythm.tempoBpm, cfg.timeSignatureNum, cfg.timeSignatureDen, ctx.durationS);
  ctx.results.num_bars = ctx.bars.length;
  ctx.log.info(`Computed ${ctx.bars.length} bars (beats_per_bar=${bpb.toFixed(2)})`);
}
