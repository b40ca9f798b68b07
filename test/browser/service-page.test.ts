// The service's web page in a real browser (system Chromium via puppeteer-core) against a real
// `didactic-engine serve` with a token: it loads without console errors, takes the token, uploads a
// clip through its file picker, shows live progress until "completed", and its report and dataset
// links open. Screenshots go to test-artifacts/. Skipped when findChromium() finds no browser.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CHROMIUM_FLAGS, findChromium } from '../../lib/reports/html/png.js';
import { startServe, stopAll, writeClip, type Server } from '../service/harness.js';
import { useTempDir } from '../helpers/tmp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-artifacts');
const chromium = findChromium();

describe.skipIf(!chromium)('the service web page in Chromium', () => {
  const dir = useTempDir('didactic-service-page-');
  let browser: Browser;
  let server: Server;
  const clipPath = join(dir, 'page_clip.wav');

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    await writeClip(clipPath, 4);
    server = await startServe(['--data-dir', join(dir, 'data'), '--token', 'page-secret', '--jobs', '1']);
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: chromium!, args: CHROMIUM_FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('uploads a clip, follows it to completed, and opens its report and datasets', async () => {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      // The first listing before the token is entered is an expected 401.
      if (m.type() === 'error' && !/401/.test(m.text())) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.setViewport({ width: 1200, height: 700 });
    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForSelector('#token-form:not([hidden])');
    await page.type('#token', 'page-secret');
    await page.click('#token-form button');

    const picker = await page.$('#file');
    await (picker as unknown as { uploadFile(p: string): Promise<void> }).uploadFile(clipPath);
    await page.waitForSelector('#jobs tbody tr[data-state]', { timeout: 20_000 });
    await page.waitForSelector('#jobs tbody tr[data-state="completed"]', { timeout: 90_000 });
    await page.screenshot({ path: join(artifacts, 'service-page.png') });

    // Evaluated in the page (a string: the test project has no DOM types).
    const row = (await page.evaluate(`(() => {
      const tr = document.querySelector('#jobs tbody tr[data-state="completed"]');
      return {
        song: tr.querySelector('.song').textContent,
        width: tr.querySelector('.bar > div').style.width,
        links: [...tr.querySelectorAll('.links a')].map((a) => ({ text: a.textContent, href: a.href })),
      };
    })()`)) as { song: string; width: string; links: Array<{ text: string; href: string }> };
    expect(row.song).toBe('page_clip');
    expect(row.width).toBe('100%');
    expect(row.links.map((l) => l.text)).toEqual(expect.arrayContaining(['report', 'combined.json', 'bars.parquet']));

    // The links work with the page's cookie (no token in the URL); the report draws.
    const report = await browser.newPage();
    const reportErrors: string[] = [];
    report.on('pageerror', (e) => reportErrors.push(String(e)));
    const response = await report.goto(row.links.find((l) => l.text === 'report')!.href, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await report.waitForFunction('window.__reportRenderMs !== undefined', { timeout: 20_000 });
    await report.screenshot({ path: join(artifacts, 'service-page-report.png') });
    expect(reportErrors).toEqual([]);
    const parquet = await page.evaluate(async (href) => (await fetch(href)).status, row.links.find((l) => l.text === 'bars.parquet')!.href);
    expect(parquet).toBe(200);
    expect(problems).toEqual([]);
  }, 150_000);
});
