/**
 * A PNG of a report page, rendered by a system Chromium driven by puppeteer-core (no browser is
 * downloaded). puppeteer-core is an optional peer dependency: without it the error is
 * DE_OPTIONAL_DEPENDENCY_MISSING with the install command; without a Chromium it is
 * DE_NO_BROWSER, with where it looked.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

import { DidacticError } from '../../errors.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { requireFeature } from '../../util/optional.js';

/** Where a Chromium is looked for, after `DIDACTIC_CHROMIUM`. */
export const CHROMIUM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome', '/usr/bin/google-chrome-stable'];

/** The flags every launch uses (headless, no sandbox: runs as root in containers and CI). */
export const CHROMIUM_FLAGS = ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'];

/** The Chromium executable to use, or null: `DIDACTIC_CHROMIUM` first, then the usual paths. */
export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  const fromEnv = env.DIDACTIC_CHROMIUM;
  if (fromEnv) return existsSync(fromEnv) ? fromEnv : null;
  return CHROMIUM_CANDIDATES.find((p) => existsSync(p)) ?? null;
}

function noBrowser(env: NodeJS.ProcessEnv): DidacticError {
  const where = env.DIDACTIC_CHROMIUM ? `DIDACTIC_CHROMIUM=${env.DIDACTIC_CHROMIUM} does not exist` : `none of ${CHROMIUM_CANDIDATES.join(', ')} exists`;
  return new DidacticError(
    'DE_NO_BROWSER',
    `report --png: no Chromium found (${where}); install one (Debian: apt-get install chromium) or set DIDACTIC_CHROMIUM to its path`,
    { op: 'renderReportPng' },
  );
}

/** Options of `renderReportPng`: the Chromium to use and the viewport (CSS pixels). */
export interface RenderPngOptions {
  /** CSS pixels of the viewport width (default 1280). */
  width?: number;
  /** Device scale factor (default 1). */
  scale?: number;
  /** Milliseconds to wait for the page to finish drawing (default 30 000). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/**
 * Renders `htmlPath` (a report page) to `pngPath`, full page, once the page says it is drawn.
 * @throws DidacticError DE_OPTIONAL_DEPENDENCY_MISSING without puppeteer-core, DE_NO_BROWSER without a Chromium that starts, DE_WRITE_FAILED when rendering fails.
 */
export async function renderReportPng(htmlPath: string, pngPath: string, options: RenderPngOptions = {}): Promise<void> {
  const env = options.env ?? process.env;
  requireFeature('png');
  const executablePath = findChromium(env);
  if (!executablePath) throw noBrowser(env);
  const { launch } = await import('puppeteer-core');
  let browser;
  try {
    browser = await launch({ executablePath, headless: true, args: CHROMIUM_FLAGS, defaultViewport: null });
  } catch (err) {
    throw new DidacticError('DE_NO_BROWSER', `report --png: Chromium at ${executablePath} did not start: ${(err as Error).message}`, {
      op: 'renderReportPng',
      cause: err,
    });
  }
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: options.width ?? 1280, height: 800, deviceScaleFactor: options.scale ?? 1 });
    await page.goto(pathToFileURL(htmlPath).href, { waitUntil: 'load', timeout: options.timeoutMs ?? 30_000 });
    await page.waitForFunction('window.__reportReady === true', { timeout: options.timeoutMs ?? 30_000 });
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    await writeFileAtomic(pngPath, png, { op: 'renderReportPng' });
  } catch (err) {
    if (err instanceof DidacticError) throw err;
    throw new DidacticError('DE_WRITE_FAILED', `report --png: rendering ${htmlPath} failed: ${(err as Error).message}`, { op: 'renderReportPng', cause: err });
  } finally {
    await browser.close();
  }
}
