/**
 * `didactic-engine report <out_dir> <song_id> [--png <file>]`: (re)builds a song's HTML report
 * from its outputs on disk and, with --png, renders it with a system Chromium.
 */
import { resolve } from 'node:path';

import type { Command } from 'commander';

/** Exit code of `report --png` when no Chromium can be found or started (DE_NO_BROWSER). */
export const EXIT_NO_BROWSER = 3;

export function addReportCommand(program: Command): void {
  program
    .command('report')
    .description("(re)build reports/<song_id>/report.html from a run's outputs (combined.json, datasets, input copy)")
    .argument('<out_dir>', 'the output root the song was written to')
    .argument('<song_id>', 'the song')
    .option('--png <file>', 'also render the page to a PNG with headless Chromium (DIDACTIC_CHROMIUM or /usr/bin/chromium)')
    .option('--json', 'print what was written as JSON')
    .action(async (outDir: string, songId: string, opts: { png?: string; json?: boolean }) => {
      // Loaded when the command runs, not on every start of the CLI.
      const { buildSongReport } = await import('../reports/html/song.js');
      const { refreshManifestEntry } = await import('../pipeline/manifest.js');
      const report = await buildSongReport(outDir, songId);
      // A report rebuilt in place must not make --resume redo the song: its manifest entry follows.
      await refreshManifestEntry(outDir, songId, report.path);
      let png: string | null = null;
      if (opts.png) {
        png = resolve(opts.png);
        const { renderReportPng } = await import('../reports/html/png.js');
        await renderReportPng(report.path, png);
      }
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ report_html: report.path, bytes: report.bytes, png, audio: report.audioPath }, null, 2)}\n`);
        return;
      }
      const lines = [`report: wrote ${report.path} (${(report.bytes / 1024).toFixed(0)} KiB)`];
      if (!report.data.waveform) lines.push(`report: ${report.data.waveform_note ?? 'no waveform'}`);
      if (png) lines.push(`report: wrote ${png}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
