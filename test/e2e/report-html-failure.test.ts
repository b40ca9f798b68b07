// The HTML report is an optional view: when building it fails, the song still completes, is not
// marked degraded, logs a warning and has no report_html key.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { clickTrack } from '../helpers/clicks.js';
import { useTempDir } from '../helpers/tmp.js';

vi.mock('../../lib/reports/html/page.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../../lib/reports/html/page.js')>()),
  writeReportHtml: async () => {
    throw new Error('the page could not be built (test)');
  },
}));

describe('a failing HTML report', () => {
  const dir = useTempDir();

  it('never fails or degrades the song', async () => {
    const input = join(dir, 'click.wav');
    await writeWav(input, clickTrack({ sampleRate: 22050, seconds: 6, bpm: 120 }), { sampleRate: 22050 });
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, error() {}, warn: (m: string) => void warnings.push(m) };
    const r = await new AudioPipeline(
      { songId: 'click', inputWav: input, outDir: join(dir, 'out'), useDemucsSeparation: false, useBasicPitchTranscription: false },
      { logger },
    ).run();
    expect(r.report_html).toBeUndefined();
    expect(r.degraded).toBe(false);
    expect(warnings).toContainEqual(expect.stringMatching(/HTML report not written: the page could not be built \(test\)/));
    expect(existsSync(join(dir, 'out', 'analysis', 'click', 'combined.json'))).toBe(true);
    expect(existsSync(join(dir, 'out', 'reports', 'click', 'report.html'))).toBe(false);
  });
});
