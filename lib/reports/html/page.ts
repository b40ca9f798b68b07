/**
 * `reports/<song_id>/report.html`: one self-contained page (no network: the libraries' minified
 * browser bundles, the styles and the data are inlined) that draws a song's outputs.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

import { DidacticError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { browserScript } from '../../util/browserScript.js';
import { reportDataJson, type ReportData } from './data.js';

export const REPORT_HTML_NAME = 'report.html';

interface ReportAssets {
  scripts: string[];
  styles: string[];
}

let assets: ReportAssets | undefined;

/** The libraries' browser bundles from node_modules, read once per process. */
export function reportAssets(): ReportAssets {
  if (assets) return assets;
  const require = createRequire(import.meta.url);
  try {
    // wavesurfer.js exports only its module entries; its UMD bundles lie beside the CommonJS one.
    const wavesurferDist = dirname(require.resolve('wavesurfer.js'));
    const uplotDist = join(dirname(require.resolve('uplot/package.json')), 'dist');
    const read = (path: string) => readFileSync(path, 'utf8');
    assets = {
      scripts: [
        read(join(wavesurferDist, 'wavesurfer.min.js')),
        read(join(wavesurferDist, 'plugins', 'regions.min.js')),
        read(join(wavesurferDist, 'plugins', 'timeline.min.js')),
        read(join(uplotDist, 'uPlot.iife.min.js')),
      ],
      styles: [read(join(uplotDist, 'uPlot.min.css'))],
    };
  } catch (err) {
    throw new DidacticError('DE_INTERNAL', `HTML report: the chart libraries (wavesurfer.js, uplot) cannot be read: ${(err as Error).message}`, {
      op: 'reportAssets',
      cause: err,
    });
  }
  return assets;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A bundle inside `<script>`: a literal `</script` in it would end the element early. */
function inlineScript(source: string): string {
  return `<script>${source.replace(/<\/(script)/gi, '<\\/$1')}</script>`;
}

const PAGE_STYLE = `
body{font:14px/1.45 "DejaVu Sans",system-ui,sans-serif;margin:0 auto;padding:12px 20px 40px;max-width:1400px;color:#222;background:#fff}
h1{font-size:20px;margin:4px 0 10px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd}h3{font-size:13px;margin:10px 0 2px;color:#444}
.top{display:flex;gap:28px;flex-wrap:wrap}table.keys th{text-align:left;font-weight:600;padding:1px 14px 1px 0;color:#555}table.keys td{padding:1px 0}
p.note{margin:8px 0;padding:6px 10px;border-left:4px solid #c80;background:#fff6e0;color:#630}ul.degraded{margin:4px 0;padding-left:18px}ul.degraded li{color:#a33}ul.degraded li.ok{color:#383}
.note{color:#777;font-style:italic;margin:4px 0}#errors{color:#b00}#player audio{width:100%;margin:6px 0}
.uplot{margin:0}.u-over{cursor:pointer}.cursor{position:absolute;top:0;bottom:0;width:0;border-left:2px solid rgba(204,0,0,.8);pointer-events:none}
.legend{color:#666;font-size:12px}.legend b{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px;vertical-align:middle}
`;

/** The page's HTML for `data`. */
export function renderReportHtml(data: ReportData): string {
  const { scripts, styles } = reportAssets();
  const title = `${data.song_id} — didactic-engine report`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; media-src * blob: data: file:">
<title>${escapeHtml(title)}</title>
<style>${styles.join('\n')}${PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(data.song_id)}</h1>
<div class="top">
<table class="keys" id="key-numbers"></table>
<div><b>Degraded steps</b><ul class="degraded" id="degraded"></ul></div>
</div>
<p class="note" id="rhythm-note" hidden></p>
<ul id="errors" hidden></ul>
<h2>Waveform, beats and bars</h2>
<div class="legend"><b style="background:rgba(0,0,0,.35)"></b>beat<b style="background:#d62728"></b>downbeat<b style="background:#1f77b4"></b>bar start</div>
<p class="note" id="waveform-note"></p>
<div id="waveform"></div>
<div id="player"></div>
<h2>Tempo</h2>
<div id="tempo"></div>
<h2>Notes per stem</h2>
<div id="piano-rolls"></div>
<h2>Per-bar chroma and RMS</h2>
<div id="bar-features"></div>
<script type="application/json" id="report-data">${reportDataJson(data)}</script>
${scripts.map(inlineScript).join('\n')}
${inlineScript(browserScript(new URL('./browser/report.js', import.meta.url)))}
</body>
</html>
`;
}

/** Writes the page atomically (into a song's staging folder during a run). */
export async function writeReportHtml(path: string, data: ReportData): Promise<number> {
  const html = renderReportHtml(data);
  await writeFileAtomic(path, html, { op: 'writeReportHtml' });
  return Buffer.byteLength(html);
}
