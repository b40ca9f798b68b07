/**
 * Step 10: the Markdown note report (when there are notes) and a real ABC file per transcribed
 * stem. MIDI files are written in step 7, right after transcription, as in the original.
 */
import { abcNotesFromAlignment, writeAbc } from '../../reports/abc.js';
import { writeMidiMarkdown } from '../../reports/markdown.js';
import type { SongContext } from '../context.js';
import { barStartBeats } from './analyze.js';

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
    const abcNotes = stemEvents ? abcNotesFromAlignment(stemEvents.notes.pitch, stemEvents.alignment, firstDownbeat) : [];
    try {
      await writeAbc(staging.stage('reports', `${stem}.abc`), abcNotes, {
        title: `${cfg.songId} - ${stem}`,
        tempoBpm: ctx.rhythm.tempoBpm,
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
}
