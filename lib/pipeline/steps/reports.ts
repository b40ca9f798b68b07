/**
 * Step 10: the Markdown note report (when there are notes), a real ABC file per transcribed
 * stem, and (ours, additive) the HTML report. MIDI files are written in step 7, right after
 * transcription, as in the original.
 */
import { dirname } from 'node:path';

import { abcNotesFromAlignment, writeAbc } from '../../reports/abc.js';
import { buildReportData, readReportDatasets, type ReportSummaryInput } from '../../reports/html/data.js';
import { REPORT_HTML_NAME, writeReportHtml } from '../../reports/html/page.js';
import { relativeAudioSrc } from '../../reports/html/song.js';
import { writeMidiMarkdown } from '../../reports/markdown.js';
import type { SongContext } from '../context.js';
import { barStartBeats, isLowRhythmConfidence, quartersPerBeat } from './analyze.js';
import { degradationReasons } from './summary.js';

export async function exportReports(ctx: SongContext): Promise<void> {
  const { config: cfg, staging, log } = ctx;
  const { events, notes } = ctx.stemResults;
  const resultKeys: Record<string, string> = {};
  const totalNotes = events.reduce((n, s) => n + s.notes.startS.length, 0);
  if (totalNotes > 0) {
    await writeMidiMarkdown(staging.stage('reports', 'midi_markdown.md'), cfg.songId, events);
    resultKeys.markdown_report = staging.final('reports', 'midi_markdown.md');
    log.info(`Wrote Markdown report to ${resultKeys.markdown_report}`);
  }
  const firstDownbeat = barStartBeats(ctx.rhythm)?.[0] ?? 0;
  // An ABC file per stem that has a MIDI file (transcription succeeded), in stem order.
  for (const stem of ctx.stems.names) {
    if (!notes.has(stem)) continue;
    const stemEvents = events.find((e) => e.stem === stem);
    // With downbeats the ABC bar lines fall on them: beats count from the first downbeat.
    // ABC counts quarter notes; the tracked beats of a detected 6/8 are dotted quarters (×1.5).
    const scale = quartersPerBeat(ctx.rhythm);
    const abcNotes = (stemEvents ? abcNotesFromAlignment(stemEvents.notes.pitch, stemEvents.alignment, firstDownbeat) : []).map((n) =>
      scale === 1 ? n : { ...n, startBeat: n.startBeat * scale, endBeat: n.endBeat * scale },
    );
    try {
      await writeAbc(staging.stage('reports', `${stem}.abc`), abcNotes, {
        title: `${cfg.songId} - ${stem}`,
        tempoBpm: ctx.rhythm.tempoBpm * scale,
        timeSignatureNum: ctx.rhythm.meter.numerator,
        timeSignatureDen: ctx.rhythm.meter.denominator,
      });
      resultKeys[`abc_${stem}`] = staging.final('reports', `${stem}.abc`);
      log.info(`Wrote ABC notation for '${stem}' to ${resultKeys[`abc_${stem}`]}`);
    } catch (err) {
      log.warn(`ABC export failed for '${stem}': ${(err as Error).message}`);
    }
  }
  Object.assign(ctx.results, resultKeys);
  ctx.quality.notes_per_stem = Object.fromEntries([...notes].map(([k, v]) => [k, v.length]));
  if (cfg.htmlReport) await exportHtmlReport(ctx);
}

/**
 * reports/<song_id>/report.html from what the run holds, including the rows of the datasets it
 * just wrote (collected as they were written, not decoded back from the files). An optional
 * view: when it fails the song still completes, with a warning and no `report_html` key (it never
 * marks the song degraded).
 */
async function exportHtmlReport(ctx: SongContext): Promise<void> {
  const { config: cfg, staging, log, rhythm } = ctx;
  try {
    const summary: ReportSummaryInput = {
      song_id: cfg.songId,
      duration_s: ctx.durationS,
      tempo_bpm: rhythm.tempoBpm,
      num_beats: rhythm.beatTimes.length,
      num_bars: ctx.bars.length,
      stems: [...ctx.stems.names],
      beat_times: Array.from(rhythm.beatTimes),
      ...(rhythm.tracker !== 'librosa'
        ? {
            rhythm: {
              tracker: rhythm.tracker,
              meter: `${rhythm.meter.numerator}/${rhythm.meter.denominator}`,
              confidence: rhythm.confidence ?? 0,
              ...(rhythm.confidenceCalibrated ? { low_confidence: isLowRhythmConfidence(rhythm) } : {}),
              confidence_calibrated: rhythm.confidenceCalibrated,
              downbeat_times: Array.from(rhythm.downbeatTimes),
              tempo_curve_bpm: Array.from(rhythm.tempoCurve),
            },
          }
        : {}),
      config: { time_signature_num: rhythm.meter.numerator, time_signature_den: rhythm.meter.denominator },
      data_quality: { degraded_reasons: degradationReasons(ctx) },
    };
    // The rows the sink just wrote, kept in memory; the files are read back only without them.
    const kept = ctx.reportRows?.complete ? ctx.reportRows.datasets() : undefined;
    const datasets = kept ?? (await readReportDatasets(dirname(staging.stage('datasets', 'events.parquet'))));
    ctx.reportRows = undefined;
    const inputCopy = ctx.results.input_copy;
    const data = buildReportData({
      summary,
      datasets,
      waveform: ctx.waveform,
      ...(ctx.waveform ? {} : { waveformNote: 'the waveform overview was not made in this run' }),
      audioSrc: typeof inputCopy === 'string' ? relativeAudioSrc(cfg.reportsDir, inputCopy) : null,
    });
    const bytes = await writeReportHtml(staging.stage('reports', REPORT_HTML_NAME), data);
    ctx.results.report_html = staging.final('reports', REPORT_HTML_NAME);
    log.info(`Wrote HTML report to ${ctx.results.report_html as string} (${(bytes / 1024).toFixed(0)} KiB)`);
  } catch (err) {
    if (ctx.signal?.aborted) throw err;
    log.warn(`HTML report not written: ${(err as Error)?.message ?? String(err)}`);
  }
}
