/**
 * The `report` command's half: (re)builds `reports/<song_id>/report.html` from what a run left on
 * disk — combined.json, the Parquet datasets and the input copy (decoded for the waveform).
 */
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

import { decodeAudio } from '../../audio/decode.js';
import { DidacticError } from '../../errors.js';
import { buildReportData, readReportDatasets, type ReportData, type ReportSummaryInput } from './data.js';
import { REPORT_HTML_NAME, writeReportHtml } from './page.js';
import { waveformPeaksInterleaved, type WaveformPeaks } from './peaks.js';

/** `path` relative to the report's folder, '/'-separated, each part URL-encoded (for `<audio src>`). */
export function relativeAudioSrc(reportDir: string, audioPath: string): string {
  return relative(reportDir, audioPath).split(sep).map(encodeURIComponent).join('/');
}

/** The input copy of a song (`input/<song_id>/<file>`), or null when there is none. */
export async function findInputCopy(outDir: string, songId: string): Promise<string | null> {
  const dir = join(outDir, 'input', songId);
  if (!existsSync(dir)) return null;
  const files = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name);
  files.sort();
  return files.length > 0 ? join(dir, files[0]!) : null;
}

/** Where `buildSongReport` wrote the page (and the PNG, when asked) and what it drew. */
export interface SongReportResult {
  path: string;
  bytes: number;
  data: ReportData;
  /** The audio the waveform came from, or null. */
  audioPath: string | null;
}

/** Rebuilds a song's report from its outputs under `outDir`; throws DE_FILE_NOT_FOUND without a combined.json. */
export async function buildSongReport(outDir: string, songId: string): Promise<SongReportResult> {
  const summaryPath = join(outDir, 'analysis', songId, 'combined.json');
  let summary: ReportSummaryInput;
  try {
    // combined.json may hold NaN/Infinity the way Python writes them.
    const text = (await readFile(summaryPath, 'utf8')).replace(/\b(-?Infinity|NaN)\b/g, 'null');
    summary = JSON.parse(text) as ReportSummaryInput;
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DidacticError(
      missing ? 'DE_FILE_NOT_FOUND' : 'DE_INVALID_ARGUMENT',
      missing
        ? `report: no combined.json for song '${songId}' under ${outDir} (run the pipeline first)`
        : `report: ${summaryPath} is not readable JSON: ${(err as Error).message}`,
      { op: 'report', cause: err },
    );
  }
  const datasets = await readReportDatasets(join(outDir, 'datasets', songId));
  const reportDir = join(outDir, 'reports', songId);
  const audioPath = await findInputCopy(outDir, songId);
  let waveform: WaveformPeaks | null = null;
  let waveformNote: string | undefined;
  if (audioPath) {
    try {
      // Mixed to mono block by block in the decoder: the stereo signal of a long song never exists.
      const decoded = await decodeAudio(audioPath, { mono: true });
      waveform = await waveformPeaksInterleaved(decoded.samples, decoded.channels, decoded.sampleRate);
    } catch (err) {
      waveformNote = `the input copy could not be decoded (${(err as Error).message}), so the waveform is not drawn`;
    }
  } else {
    waveformNote = `no input copy under input/${songId}/, so the waveform is not drawn`;
  }
  const data = buildReportData({
    summary,
    datasets,
    waveform,
    ...(waveformNote !== undefined ? { waveformNote } : {}),
    audioSrc: audioPath ? relativeAudioSrc(reportDir, audioPath) : null,
  });
  const path = join(reportDir, REPORT_HTML_NAME);
  await mkdir(reportDir, { recursive: true });
  const bytes = await writeReportHtml(path, data);
  return { path, bytes, data, audioPath };
}
