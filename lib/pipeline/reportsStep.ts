/**
 * Step 10: the Markdown note report (when there are notes) and a real ABC file per transcribed
 * stem. MIDI files are written in step 7, right after transcription, as in the original.
 */
import type { StemEvents } from '../datasets/tables.js';
import { abcNotesFromAlignment, writeAbc } from '../reports/abc.js';
import { writeMidiMarkdown } from '../reports/markdown.js';
import type { Logger } from '../util/logger.js';
import type { PipelineConfig } from './config.js';
import type { SongStaging } from './staging.js';

export interface ReportsInput {
  config: PipelineConfig;
  staging: SongStaging;
  stems: readonly string[];
  /** Stems that have a MIDI file (transcription succeeded), in stem order. */
  transcribedStems: readonly string[];
  events: readonly StemEvents[];
  tempoBpm: number;
  logger: Logger;
}

export async function writeSongReports(input: ReportsInput): Promise<{ resultKeys: Record<string, string> }> {
  const { config: cfg, staging, logger: log } = input;
  const resultKeys: Record<string, string> = {};
  const totalNotes = input.events.reduce((n, s) => n + s.notes.startS.length, 0);
  if (totalNotes > 0) {
    await writeMidiMarkdown(staging.stage('reports', 'midi_markdown.md'), cfg.songId, input.events);
    resultKeys.markdown_report = staging.final('reports', 'midi_markdown.md');
    log.info(`Wrote Markdown report to ${resultKeys.markdown_report}`);
  }
  for (const stem of input.stems) {
    if (!input.transcribedStems.includes(stem)) continue;
    const events = input.events.find((e) => e.stem === stem);
    const notes = events ? abcNotesFromAlignment(events.notes.pitch, events.alignment) : [];
    try {
      await writeAbc(staging.stage('reports', `${stem}.abc`), notes, {
        title: `${cfg.songId} - ${stem}`,
        tempoBpm: input.tempoBpm,
        timeSignatureNum: cfg.timeSignatureNum,
        timeSignatureDen: cfg.timeSignatureDen,
      });
      resultKeys[`abc_${stem}`] = staging.final('reports', `${stem}.abc`);
      log.info(`Wrote ABC notation for '${stem}' to ${resultKeys[`abc_${stem}`]}`);
    } catch (err) {
      log.warn(`ABC export failed for '${stem}': ${(err as Error).message}`);
    }
  }
  return { resultKeys };
}
