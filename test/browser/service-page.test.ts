// The service's web page in a real browser (system Chromium via puppeteer-core) against a real
// `didactic-engine serve` with a token. It loads without a token and says one is needed; a wrong
// token is "rejected", a right one "signed in" (the cookie is the server's HttpOnly one, never
// readable by page script); a clip uploaded through its file picker reaches "completed" and its
// report and dataset links open; status messages go away; deleting a finished job asks first; eight
// jobs share one event stream, queued jobs show their position, and a cancelled job reads
// "Cancelled", not the pipeline's wording. Screenshots go to test-artifacts/. Skipped when
// findChromium() finds no browser.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { CHROMIUM_FLAGS, findChromium } from '../../lib/reports/html/png.js';
import { inlineScriptHashes } from '../../lib/service/files.js';
import { getJson, sleep, startServe, stopAll, writeClip, type Server } from '../service/harness.js';
import { useTempDir } from '../helpers/tmp.js';
import { installedChromium, requires } from '../helpers/requires.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const artifacts = join(root, 'test-artifacts');
const chromium = findChromium();
const SECRET = 'alice-page-secret';
const AUTH = { authorization: `Bearer ${SECRET}` };

/** Text of the first element matching a selector, or null; evaluated in the page (the test project has no DOM types). */
const textOf = (page: Page, selector: string) =>
  page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); return e ? e.textContent : null; })()`) as Promise<string | null>;
const visible = (page: Page, selector: string) =>
  page.evaluate(`(() => { const e = document.querySelector(${JSON.stringify(selector)}); return !!e && !e.closest('[hidden]'); })()`) as Promise<boolean>;

/** Waits until the page's predicate (a JS expression) holds. */
const until = (page: Page, expression: string, timeout = 20_000) => page.waitForFunction(expression, { timeout, polling: 100 });

describe('the service web page in Chromium', requires(installedChromium()), () => {
  const dir = useTempDir('didactic-service-page-');
  let browser: Browser;
  let server: Server;
  let page: Page;
  const problems: string[] = [];
  /** Event-stream requests of the main page since it loaded. */
  const streams: string[] = [];
  /** Every request of the main page: method and path. */
  const requests: string[] = [];
  /** GET requests of the main page that carried an Authorization header (none should). */
  const tokenOnGet: string[] = [];
  const clipPath = join(dir, 'page_clip.wav');
  const shortClips = Array.from({ length: 8 }, (_, i) => join(dir, `short_${i + 1}.wav`));

  beforeAll(async () => {
    mkdirSync(artifacts, { recursive: true });
    await writeClip(clipPath, 4);
    for (const p of shortClips) await writeClip(p, 3);
    server = await startServe(['--data-dir', join(dir, 'data'), '--token', `alice:${SECRET}`, '--jobs', '1', '--max-queue', '20']);
    const puppeteer = await import('puppeteer-core');
    browser = await puppeteer.launch({ executablePath: chromium!, args: CHROMIUM_FLAGS });
    page = await browser.newPage();
    page.on('console', (m) => {
      // Failed requests the tests cause on purpose (a wrong token: 401) are logged by Chromium as errors;
      // so is /readyz's 503 on a test server that is not ready (the page reads its model list either way).
      const readyz = /\/readyz$/.test(m.location().url ?? '') && /status of 503/.test(m.text());
      if (m.type() === 'error' && !/status of 401/.test(m.text()) && !readyz) problems.push(m.text());
    });
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (r) => {
      const url = new URL(r.url());
      requests.push(`${r.method()} ${url.pathname}`);
      // GETs ride on the cookie; the token travels only as the header of changes.
      if (r.method() === 'GET' && r.headers().authorization !== undefined) tokenOnGet.push(url.pathname);
      if (r.resourceType() === 'eventsource' || /\/events$/.test(url.pathname)) streams.push(url.pathname);
    });
    await page.setViewport({ width: 1200, height: 760 });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await stopAll();
  });

  it('is served without a token, under a CSP that runs only its own inline script', async () => {
    const res = await fetch(server.url);
    expect(res.status).toBe(200);
    const html = await res.text();
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).not.toMatch(/unsafe-inline|unsafe-eval/);
    const scriptSrc = /script-src ([^;]+)/.exec(csp)?.[1]?.trim().split(/\s+/) ?? [];
    expect(scriptSrc).toEqual(inlineScriptHashes(html));
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // The cookie is the server's business: page script never writes it.
    expect(html).not.toContain('document.cookie');

    await page.goto(server.url, { waitUntil: 'load' });
    await page.waitForSelector('#token-form:not([hidden])');
    expect(await textOf(page, '#auth')).toBe('This server needs a token.');
    expect(await visible(page, '#identity')).toBe(false);
    expect(problems).toEqual([]);
  });

  it('says "Token rejected" for a wrong token and "Signed in as" for a right one; the cookie is HttpOnly', async () => {
    await page.type('#token', 'not-the-secret');
    await page.click('#token-form button');
    await until(page, `document.querySelector('#auth').textContent === 'Token rejected.'`);
    expect(await visible(page, '#token-form')).toBe(true);
    expect(await visible(page, '#identity')).toBe(false);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);

    await page.click('#token', { count: 3 });
    await page.type('#token', SECRET);
    await page.click('#token-form button');
    await until(page, `document.querySelector('#identity').textContent === 'Signed in as alice'`);
    expect(await visible(page, '#identity')).toBe(true);
    // The prompt went with the form.
    expect(await visible(page, '#token-form')).toBe(false);
    expect(await visible(page, '#auth')).toBe(false);

    // Page script cannot read the token cookie; the browser holds it as the server set it.
    expect(await page.evaluate('document.cookie')).toBe('');
    const cookies = await page.cookies();
    const cookie = cookies.find((c) => c.name === 'didactic_token');
    expect(cookie).toBeDefined();
    expect(cookie!.httpOnly).toBe(true);
    expect(cookie!.sameSite).toBe('Strict');
    expect(cookie!.path).toBe('/');

    // Another tab shares the cookie but not this tab's token: it knows who it is and asks for the token to act.
    const other = await browser.newPage();
    await other.goto(server.url, { waitUntil: 'load' });
    await until(other, `document.querySelector('#identity').textContent === 'Signed in as alice'`);
    expect(await visible(other, '#token-form')).toBe(true);
    expect(await textOf(other, '#auth')).toBe('Enter your token to upload or delete from this tab.');
    await other.close();
  });

  it('uploads a clip, follows it to completed, opens its report and datasets; the status line clears', async () => {
    const picker = await page.$('#file');
    await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(clipPath);
    await until(page, `document.querySelector('#message').textContent === 'Queued page_clip.wav'`);
    await page.waitForSelector('#jobs tbody tr[data-state]', { timeout: 20_000 });
    // The message is gone after about six seconds, not kept forever.
    await until(page, `document.querySelector('#message').textContent === ''`, 9_000);
    await page.waitForSelector('#jobs tbody tr[data-state="completed"]', { timeout: 90_000 });
    await page.screenshot({ path: join(artifacts, 'service-page.png') });

    const row = (await page.evaluate(`(() => {
      const tr = document.querySelector('#jobs tbody tr[data-state="completed"]');
      return {
        id: tr.dataset.id,
        song: tr.querySelector('.song').textContent,
        state: tr.querySelector('.state').textContent,
        width: tr.querySelector('.bar > div').style.width,
        links: [...tr.querySelectorAll('.links a')].map((a) => ({ text: a.textContent, href: a.href })),
      };
    })()`)) as { id: string; song: string; state: string; width: string; links: Array<{ text: string; href: string }> };
    expect(row.song).toBe('page_clip');
    expect(row.state).toBe('completed');
    expect(row.width).toBe('100%');
    expect(row.links.map((l) => l.text)).toEqual(expect.arrayContaining(['report', 'combined.json', 'bars.parquet']));
    for (const l of row.links) expect(l.href).not.toContain(SECRET);

    // The links work with the cookie alone (no token in the URL); the report draws.
    const report = await browser.newPage();
    const reportErrors: string[] = [];
    report.on('pageerror', (e) => reportErrors.push(String(e)));
    report.on('console', (m) => {
      if (m.type() === 'error') reportErrors.push(m.text());
    });
    const response = await report.goto(row.links.find((l) => l.text === 'report')!.href, { waitUntil: 'load' });
    expect(response?.status()).toBe(200);
    await report.waitForFunction('window.__reportRenderMs !== undefined', { timeout: 20_000 });
    await report.screenshot({ path: join(artifacts, 'service-page-report.png') });
    expect(reportErrors).toEqual([]);
    await report.close();
    const parquet = (await page.evaluate(
      `fetch(${JSON.stringify(row.links.find((l) => l.text === 'bars.parquet')!.href)}).then((r) => [r.status, r.headers.get('content-disposition')])`,
    )) as [number, string];
    expect(parquet[0]).toBe(200);
    expect(parquet[1]).toMatch(/^attachment/);
    expect(problems).toEqual([]);
  }, 150_000);

  it('asks before deleting a finished job, then deletes it', async () => {
    const id = (await page.evaluate(`document.querySelector('#jobs tbody tr[data-state="completed"]').dataset.id`)) as string;
    const sel = `#job-${id}`;
    await page.click(`${sel} button.delete`);
    // One click deletes nothing: it asks.
    await page.waitForSelector(`${sel} button.confirm`);
    expect(await textOf(page, `${sel} button.confirm`)).toBe('Delete files');
    expect((await getJson(`${server.url}/v1/jobs/${id}`, AUTH)).status).toBe(200);
    // "Keep" keeps it.
    await page.click(`${sel} button.keep`);
    await page.waitForSelector(`${sel} button.delete`);
    expect((await getJson(`${server.url}/v1/jobs/${id}`, AUTH)).status).toBe(200);

    await page.click(`${sel} button.delete`);
    await page.click(`${sel} button.confirm`);
    await until(page, `document.getElementById(${JSON.stringify(`job-${id}`)}) === null`);
    expect(await textOf(page, '#message')).toMatch(/^Deleted job .* and its files$/);
    expect((await getJson(`${server.url}/v1/jobs/${id}`, AUTH)).status).toBe(404);
  });

  it('says what a failure means, with the code in the title and no server path', async () => {
    // RIFF/WAVE in the first bytes (the upload is accepted), nothing decodable after them.
    const broken = Buffer.alloc(4096, 0x5a);
    broken.write('RIFF', 0, 'latin1');
    broken.writeUInt32LE(broken.length - 8, 4);
    broken.write('WAVEfmt ', 8, 'latin1');
    const brokenPath = join(dir, 'broken.wav');
    writeFileSync(brokenPath, broken);
    const picker = await page.$('#file');
    await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(brokenPath);
    await page.waitForSelector('#jobs tbody tr[data-state="failed"]', { timeout: 60_000 });
    const failed = (await page.evaluate(`(() => {
      const tr = document.querySelector('#jobs tbody tr[data-state="failed"]');
      return { id: tr.dataset.id, song: tr.querySelector('.song').textContent, state: tr.querySelector('.state').textContent, step: tr.querySelector('.step').textContent, title: tr.querySelector('.step').title, text: tr.textContent };
    })()`)) as { id: string; song: string; state: string; step: string; title: string; text: string };
    const status = (await getJson(`${server.url}/v1/jobs/${failed.id}`, AUTH)).body;
    expect(failed.song).toBe('broken');
    expect(failed.state).toBe('failed');
    expect(failed.title).toBe(status.error.code);
    expect(failed.step).toBe(
      (
        { DE_CORRUPT_AUDIO: 'The file could not be decoded', DE_UNSUPPORTED_FORMAT: 'The file is not in an audio format this server reads' } as Record<
          string,
          string
        >
      )[status.error.code],
    );
    expect(failed.text).not.toMatch(/DE_|\/tmp\/|\/home\/|<data>/);
    // Out of the way of the next test.
    await page.click(`#job-${failed.id} button.delete`);
    await page.click(`#job-${failed.id} button.confirm`);
    await until(page, `document.getElementById(${JSON.stringify(`job-${failed.id}`)}) === null`);
  }, 90_000);

  it('follows eight jobs on one event stream, answers every upload promptly; a cancel reads "Cancelled"', async () => {
    const posts = { answered: 0 };
    const onResponse = (r: { url(): string; request(): { method(): string } }) => {
      if (r.request().method() === 'POST' && new URL(r.url()).pathname === '/v1/jobs') posts.answered++;
    };
    page.on('response', onResponse);
    const statusReads = () => requests.filter((r) => /^GET \/v1\/jobs\/[^/]+$/.test(r)).length;
    const readsBefore = statusReads();
    const started = Date.now();
    const picker = await page.$('#file');
    await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...shortClips);
    // Every upload is answered promptly: no request waits behind open streams.
    while (posts.answered < 8 && Date.now() - started < 20_000) await sleep(100);
    page.off('response', onResponse);
    expect(posts.answered).toBe(8);
    await until(page, `document.querySelectorAll('#jobs tbody tr').length === 8`);

    // One stream for the whole page since it loaded; never one per job.
    expect(streams.filter((p) => p === '/v1/events')).toHaveLength(1);
    expect(streams.filter((p) => p !== '/v1/events')).toEqual([]);
    // The page does not poll each job: one status read per upload at most.
    expect(statusReads() - readsBefore).toBeLessThanOrEqual(8);

    // The running job: cancel it from the page; it ends "Cancelled" with its code in the title.
    // A short song may finish (or be committing) before the cancel lands: then try the next one.
    let running = '';
    for (let attempt = 0; attempt < 4 && running === ''; attempt++) {
      await page.waitForSelector('#jobs tbody tr[data-state="running"] button.cancel', { timeout: 30_000 });
      // Found and clicked in one step, so the button cannot change in between.
      const id = (await page.evaluate(`(() => {
        const tr = document.querySelector('#jobs tbody tr[data-state="running"]');
        const b = tr && tr.querySelector('button.cancel');
        if (!b) return '';
        b.click();
        return tr.dataset.id;
      })()`)) as string;
      if (id === '') continue;
      await until(page, `['failed', 'completed'].includes(document.getElementById(${JSON.stringify(`job-${id}`)}).dataset.state)`, 30_000);
      if ((await page.evaluate(`document.getElementById(${JSON.stringify(`job-${id}`)}).dataset.state`)) === 'failed') running = id;
    }
    expect(running).not.toBe('');
    const cancelled = (await page.evaluate(`(() => {
      const tr = document.getElementById(${JSON.stringify(`job-${running}`)});
      return { state: tr.querySelector('.state').textContent, step: tr.querySelector('.step').textContent, title: tr.querySelector('.step').title, text: tr.textContent };
    })()`)) as { state: string; step: string; title: string; text: string };
    expect(cancelled).toMatchObject({ state: 'cancelled', step: 'Cancelled', title: 'DE_ABORTED' });
    expect(cancelled.text).not.toMatch(/DE_|aborted|\/tmp\/|\/home\//);
    await page.screenshot({ path: join(artifacts, 'service-page-queue.png') });

    // Queued jobs: cancelled from the page, they leave the list.
    const queued = (await page.evaluate(`[...document.querySelectorAll('#jobs tbody tr[data-state="queued"]')].map((tr) => tr.dataset.id)`)) as string[];
    for (const id of queued.slice(0, 3)) {
      await page.click(`#job-${id} button.cancel`);
      await until(page, `document.getElementById(${JSON.stringify(`job-${id}`)}) === null`);
      expect((await getJson(`${server.url}/v1/jobs/${id}`, AUTH)).status).toBe(404);
    }
    expect(streams).toEqual(['/v1/events']);
    expect(tokenOnGet).toEqual([]);
    expect(requests.filter((r) => /^(POST|DELETE) \/v1\/jobs/.test(r)).length).toBeGreaterThan(8);
    expect(problems).toEqual([]);
  }, 120_000);

  it('shows a queued job’s place in the queue as the server reports it', async () => {
    // Refill the queue behind whatever runs now, then compare each queued row with the server.
    const picker = await page.$('#file');
    await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...shortClips);
    await until(page, `document.querySelectorAll('#jobs tbody tr[data-state="queued"]').length >= 3`, 30_000);
    const list = await getJson(`${server.url}/v1/jobs?limit=50`, AUTH);
    const withPosition = (list.body.jobs as Array<{ state: string; queue_position?: number }>).filter((j) => j.queue_position !== undefined);
    // Absent only while a retry waits out its backoff: these jobs all wait for a worker.
    expect(withPosition.length).toBeGreaterThan(0);
    type Listed = { id: string; state: string; queue_position?: number };
    // Positions move as jobs start: compare snapshots until the page and the server agree.
    // `drained`: after the head job starts, the others may all start or finish within the wait (short clips
    // on a quiet machine); then agreeing means no queued row on either side.
    const agree = async (drained = false): Promise<string> => {
      let mismatch = '';
      const deadline = Date.now() + 20_000;
      for (;;) {
        const jobs = (await getJson(`${server.url}/v1/jobs?limit=50`, AUTH)).body.jobs as Listed[];
        const shown = (await page.evaluate(
          `Object.fromEntries([...document.querySelectorAll('#jobs tbody tr')].map((tr) => [tr.dataset.id, tr.querySelector('.state').textContent]))`,
        )) as Record<string, string>;
        const expected = jobs.filter((j) => j.state === 'queued').map((j) => [j.id, `queued (#${j.queue_position})`] as const);
        mismatch = expected
          .filter(([id, label]) => shown[id] !== label)
          .map(([id, label]) => `${id}: ${shown[id]} ≠ ${label}`)
          .join('; ');
        if (expected.length > 0 && mismatch === '') return '';
        if (drained && expected.length === 0 && !Object.values(shown).some((label) => label.startsWith('queued'))) return '';
        if (Date.now() > deadline) return mismatch || 'no queued job';
        await sleep(250);
      }
    };
    let first = await agree();
    if (first === 'no queued job') {
      // The clips all started before a poll saw the page and the server agree (short clips, one
      // worker): refill once and compare again; a page that disagrees still fails with the mismatch.
      await (picker as unknown as { uploadFile(...p: string[]): Promise<void> }).uploadFile(...shortClips);
      first = await agree();
    }
    expect(first).toBe('');
    expect(await textOf(page, '#jobs tbody tr[data-state="queued"] .state')).toMatch(/^queued \(#\d+\)$/);
    // The job at the head of the queue starts: every other queued job moves up, on the page too.
    const next = (await getJson(`${server.url}/v1/jobs?limit=50`, AUTH)).body.jobs.find((j: Listed) => j.queue_position === 1) as Listed;
    await until(page, `document.querySelector(${JSON.stringify(`#job-${next.id}`)}).dataset.state !== 'queued'`, 60_000);
    expect(await agree(true)).toBe('');
  }, 90_000);

  it('on a server without tokens (loopback): no sign-in, the page follows jobs at once; it names the fix for a missing Demucs model', async () => {
    const models = join(dir, 'open-models');
    mkdirSync(models);
    const open = await startServe(['--data-dir', join(dir, 'open-data'), '--jobs', '1'], { DIDACTIC_MODELS_DIR: models });
    const tab = await browser.newPage();
    const tabStreams: string[] = [];
    tab.on('request', (r) => {
      if (r.resourceType() === 'eventsource') tabStreams.push(new URL(r.url()).pathname);
    });
    try {
      await tab.goto(open.url, { waitUntil: 'load' });
      const deadline = Date.now() + 10_000;
      while (tabStreams.length === 0 && Date.now() < deadline) await sleep(100);
      expect(tabStreams).toEqual(['/v1/events']);
      expect(await visible(tab, '#token-form')).toBe(false);
      expect(await visible(tab, '#identity')).toBe(false);
      expect(await visible(tab, '#sign-out')).toBe(false);
      // No model in its models folder: the page says what that means and the exact command.
      await tab.waitForSelector('#models-note:not([hidden])', { timeout: 30_000 });
      expect(await textOf(tab, '#models-note')).toContain('npx didactic-engine models fetch htdemucs');
      // Once one is installed, the note is gone.
      writeFileSync(join(models, 'htdemucs.onnx'), Buffer.alloc(16));
      const answered = tab.waitForResponse((r) => new URL(r.url()).pathname === '/readyz', { timeout: 30_000 });
      await tab.reload({ waitUntil: 'load' });
      expect((await (await answered).json()).models).toEqual([{ name: 'htdemucs', bytes: 16, sha256: null }]);
      await sleep(300);
      expect(await visible(tab, '#models-note')).toBe(false);
    } finally {
      await tab.close();
      await page.bringToFront();
    }
  });

  it('signs out: the server clears the cookie, the page forgets the token and the jobs', async () => {
    await page.click('#sign-out');
    await page.waitForSelector('#token-form:not([hidden])');
    expect(await textOf(page, '#auth')).toBe('This server needs a token.');
    expect(await visible(page, '#identity')).toBe(false);
    expect(await page.evaluate(`document.querySelectorAll('#jobs tbody tr').length`)).toBe(0);
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    expect((await page.cookies()).find((c) => c.name === 'didactic_token')).toBeUndefined();
    // Without the cookie the API refuses this browser again.
    expect(await page.evaluate(`fetch('/v1/jobs').then((r) => r.status)`)).toBe(401);
    expect(problems).toEqual([]);
  });
});
