/** The per-song HTML report: data extraction, the page, the `report` command's rebuild, PNG rendering. */
export { buildReportData, parseReportHtml, ReportDatasetsBuilder, readReportDatasets, REPORT_DATA_FORMAT, reportDataJson } from './data.js';
export type { ReportBarFeatures, ReportData, ReportDataInput, ReportDatasets, ReportNotes, ReportSummaryInput } from './data.js';
export { REPORT_HTML_NAME, renderReportHtml, writeReportHtml } from './page.js';
export { DEFAULT_PEAK_POINTS, waveformPeaks, waveformPeaksInterleaved, type WaveformPeaks } from './peaks.js';
export { CHROMIUM_CANDIDATES, CHROMIUM_FLAGS, findChromium, renderReportPng, type RenderPngOptions } from './png.js';
export { buildSongReport, findInputCopy, relativeAudioSrc, type SongReportResult } from './song.js';
