// The HTML report in a real browser (system Chromium via puppeteer-core, pages opened by file://):
// it opens without console errors or failed requests, draws as many beat, downbeat, bar and note
// marks as its embedded data holds, copes with a song without beats, and draws a 20-minute song
// completely (its render time goes to test-artifacts/report-20min.json: a figure, not a timed test). Screenshots go to test-artifacts/. Skipped when findChromium() finds no browser.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { AudioPipeline, writeWav } from '../../lib/index.js';
import { parseReportHtml, type ReportData } from '../../lib/reports/html/data.js';
import { renderReportHtml } from '../../lib/reports/html/page.js';
import { CHROMIUM_FLAGS, findChromium } from '../../lib/reports/html/png.js';
import { exampleSong } from '../../scripts/example-song.mjs';
import { halfSecondNotes, syntheticReportData, twoStems } from '../helpers/reportSong.js';
import { useTempDir } from '../helpers/tmp.js';
import { installedChromium, requires } from '../helpers/requires.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-artifacts');
const cli = join(root, 'dist', 'cli', 'main.js');
const chromium = findChromium();

interface Drawn {
  regions: Record<string, number>;
  markElements: Record<string, number>;
  rolls: Record<string, number>;
  chroma: Record<string, number>;
  tempo: number;
  errors: string[];
  renderMs: number;
  measure: number;
  waveformBy: string | null;
  views: string[];
}

/** What the page drew, counted through wavesurfer's regions API and the views' data-marks. */
const COUNT_DRAWN = `(() => {
  const r = window.__report;
  const regions = { beat: 0, downbeat: 0, bar: 0 };
  for (const g of r.regions.getRegions()) regions[g.id.split('-')[0]]++;
  const markElements = { beat: 0, downbeat: 0, bar: 0 };
  // The markers live in wavesurfer's shadow DOM.
  const host = document.querySelector('#waveform > div');
  const rootNode = host && host.shadowRoot ? host.shadowRoot : document;
  for (const k of Object.keys(markElements)) markElements[k] = rootNode.querySelectorAll('[data-mark="' + k + '"]').length;
  const byStem = (sel) => Object.fromEntries([...document.querySelectorAll(sel)].map((e) => [e.dataset.stem, Number(e.dataset.marks)]));
  const m = performance.getEntriesByName('report-render')[0];
  return {
    regions, markElements,
    rolls: byStem('.roll[data-stem]'), chroma: byStem('.chroma[data-stem]'),
    tempo: Number(document.getElementById('tempo').dataset.marks),
    errors: r.errors, renderMs: window.__reportRenderMs, measure: m ? m.duration : -1,
    waveformBy: document.getElementById('waveform').getAttribute('data-waveform-by'),
    views: performance.getEntriesByType('measure').map((e) => e.name).filter((n) => n !== 'report-render'),
  };
})()`;

describe('the HTML report in Chromium', requires(installedChromium()), () => {
  const dir = useTempDir('didactic-report-browser-');
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    const { launch } = await import('puppeteer-core');
    browser = await launch({ executablePath: chromium!, headless: true, args: CHROMIUM_FLAGS });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a report page; returns the page and every console error, page error and failed request. */
  async function open(path: string): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warn') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${(e as Error).message}`));
    page.on('requestfailed', (q) => problems.push(`request failed: ${q.url()} ${q.failure()?.errorText ?? ''}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
    await page.goto(pathToFileURL(path).href, { waitUntil: 'load' });
    await page.waitForFunction('window.__reportReady === true', { timeout: 20_000 });
    return { page, problems };
  }

  function expectDrawnMatches(drawn: Drawn, data: ReportData): void {
    expect(drawn.errors).toEqual([]);
    // Ready on wavesurfer's own signal, not by waiting out the page's 1.5 s fallback.
    expect(['decode', 'ready']).toContain(drawn.waveformBy);
    expect(drawn.views).toEqual(['report-key numbers', 'report-tempo', 'report-piano roll', 'report-bar features', 'report-align', 'report-waveform']);
    const want = { beat: data.beats.length, downbeat: data.downbeats.length, bar: data.bars.start.length };
    expect(drawn.regions).toEqual(want);
    expect(drawn.markElements).toEqual(want);
    expect(drawn.rolls).toEqual(Object.fromEntries(data.notes.map((n) => [n.stem, n.pitch.length])));
    expect(drawn.chroma).toEqual(Object.fromEntries(data.bar_features.map((f) => [f.stem, f.chroma.reduce((n, c) => n + c.length, 0)])));
    expect(drawn.tempo).toBe(data.tempo_curve.time.length);
  }

  it('a pipeline run’s report opens cleanly and draws every beat, downbeat, bar and note', async () => {
    const input = join(dir, 'song.wav');
    const out = join(dir, 'out');
    await writeWav(input, exampleSong(44100, 12, 120), { sampleRate: 44100, channels: 2 });
    await new AudioPipeline({ songId: 'song', inputWav: input, outDir: out }, { services: { separator: twoStems, transcriber: halfSecondNotes } }).run();
    const path = join(out, 'reports', 'song', 'report.html');
    const data = parseReportHtml(readFileSync(path, 'utf8'));
    expect(data.beats.length).toBeGreaterThan(10);
    expect(data.notes.length).toBe(2);
    const { page, problems } = await open(path);
    const drawn = (await page.evaluate(COUNT_DRAWN)) as Drawn;
    expectDrawnMatches(drawn, data);
    expect(await page.$('audio#audio')).not.toBeNull();
    expect(await page.$eval('#degraded', (e) => e.textContent)).toMatch(/no step degraded/);
    expect(data.summary.low_confidence).toBe(false);
    expect(await page.$eval('#rhythm-note', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(true);
    await page.screenshot({ path: join(artifacts, 'report-song.png'), fullPage: true });
    expect(problems).toEqual([]);
    // Seeking moves the one cursor of every view.
    const before = await page.$eval('.cursor', (e) => (e as unknown as { style: { left: string } }).style.left);
    await page.evaluate('window.__report.wavesurfer.setTime(6)');
    await page.waitForFunction(`document.querySelector('.cursor').style.left !== ${JSON.stringify(before)}`, { timeout: 5000 });
    await page.close();
  });

  it('a song without beats (silence) opens cleanly and says there is no tempo curve', async () => {
    const input = join(dir, 'silence.wav');
    const out = join(dir, 'silence-out');
    await writeWav(input, new Float32Array(22050 * 4), { sampleRate: 22050 });
    await new AudioPipeline({ songId: 'silence', inputWav: input, outDir: out, useDemucsSeparation: false, useBasicPitchTranscription: false }).run();
    const path = join(out, 'reports', 'silence', 'report.html');
    const data = parseReportHtml(readFileSync(path, 'utf8'));
    expect(data.beats).toEqual([]);
    const { page, problems } = await open(path);
    const drawn = (await page.evaluate(COUNT_DRAWN)) as Drawn;
    expectDrawnMatches(drawn, data);
    expect(await page.$eval('#tempo', (e) => e.textContent)).toMatch(/No beats were found/);
    // No rhythm to trust: a visible note says so (issue 24, item 5), and it is not a degradation.
    expect(data.summary.low_confidence).toBe(true);
    expect(await page.$eval('#rhythm-note', (e) => (e as unknown as { hidden: boolean }).hidden)).toBe(false);
    expect(await page.$eval('#rhythm-note', (e) => e.textContent)).toMatch(/Low rhythm confidence/);
    expect(await page.$eval('#degraded', (e) => e.textContent)).toMatch(/no step degraded/);
    await page.screenshot({ path: join(artifacts, 'report-silence.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a 20-minute song renders completely', async () => {
    const data = syntheticReportData(20 * 60, 128);
    const path = join(dir, 'long', 'report.html');
    mkdirSync(dirname(path), { recursive: true });
    const html = renderReportHtml(data);
    writeFileSync(path, html);
    const { page, problems } = await open(path);
    const drawn = (await page.evaluate(COUNT_DRAWN)) as Drawn;
    expectDrawnMatches(drawn, data);
    writeFileSync(
      join(artifacts, 'report-20min.json'),
      `${JSON.stringify({ render_ms: drawn.renderMs, measure_ms: drawn.measure, bytes: Buffer.byteLength(html), beats: data.beats.length, notes: data.notes.reduce((n, s) => n + s.pitch.length, 0) }, null, 2)}\n`,
    );
    expect(drawn.measure).toBeGreaterThan(0);
    // Wall time depends on the machine's load (CONTRIBUTING: no timed tests); it is recorded above.
    expect(drawn.renderMs).toBeGreaterThan(0);
    await page.screenshot({ path: join(artifacts, 'report-20min.png') });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('`report --png` renders the page to a PNG', () => {
    const png = join(artifacts, 'report-cli.png');
    const r = spawnSync(process.execPath, [cli, 'report', join(dir, 'out'), 'song', '--png', png], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(png).subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  });
});
