/**
 * `didactic-engine/reports`: the per-song HTML report (`reports/<song_id>/report.html`) — its data,
 * the page, reading the data back, rebuilding it from the files on disk and PNG rendering through
 * a system Chromium.
 * @module didactic-engine/reports
 */
export {
  buildSongReport,
  buildReportData,
  parseReportHtml,
  readReportDatasets,
  renderReportHtml,
  writeReportHtml,
  waveformPeaks,
  findChromium,
  renderReportPng,
} from '../reports/html/index.js';
export type {
  ReportData,
  ReportDataInput,
  ReportDatasets,
  ReportSummaryInput,
  RenderPngOptions,
  SongReportResult,
  WaveformPeaks,
} from '../reports/html/index.js';
