/**
 * The service's web page (`GET /`): upload a song (drag and drop or a file picker), watch the jobs
 * with live progress, open a finished job's HTML report, download its datasets. One self-contained
 * page: no external assets, same-origin requests only, and a CSP that runs only the page's own
 * inline script (by hash).
 *
 * Sessions: the page asks `GET /v1/session` whether a token is needed; a token the user enters goes
 * to `POST /v1/session`, which sets an HttpOnly, SameSite=Strict cookie (page script never writes
 * or reads it) that covers the GET requests: links to reports, audio and downloads, the job list and
 * the event stream. The token itself stays in the tab's sessionStorage for the Authorization header
 * of uploads and deletions, which the server never accepts on the cookie alone.
 *
 * The page's script is lib/service/browser/page.ts, compiled at build time (scripts/build-browser.mjs).
 *
 * Progress: one `EventSource` on `GET /v1/events` for all of the client's jobs (browsers allow six
 * connections per host; a stream per job stalled uploads past six live jobs), and a job listing
 * only when a stream (re)opens and, while jobs are queued, for their queue positions.
 */
import { createHash } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

import { browserScript } from '../util/browserScript.js';
import { inlineScriptHashes } from './files.js';

const STYLE = `
:root { color-scheme: light dark; --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --accent:#3358d4; --ok:#16803c; --bad:#c0362c; --bg:#fff; --panel:#f6f7f9; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e8ee; --muted:#98a2b3; --line:#344054; --accent:#7c9cff; --ok:#4ade80; --bad:#f87171; --bg:#11151c; --panel:#1a2029; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: .8rem 1.5rem; border-bottom: 1px solid var(--line); flex-wrap: wrap; }
header h1 { font-size: 1.05rem; margin: 0; font-weight: 600; }
header .spacer { flex: 1; }
main { max-width: 1100px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
#drop { border: 2px dashed var(--line); border-radius: 10px; padding: 1.6rem; text-align: center; background: var(--panel); cursor: pointer; }
#drop.over { border-color: var(--accent); }
#drop p { margin: .2rem 0; }
.muted { color: var(--muted); }
.error { color: var(--bad); }
details { margin: .6rem 0 1rem; }
textarea { width: 100%; min-height: 4.5rem; font: 12px ui-monospace, monospace; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: .4rem; }
input[type=password], input[type=text] { font: inherit; padding: .25rem .45rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: .25rem .7rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
button.confirm { border-color: var(--bad); color: var(--bad); }
table { width: 100%; border-collapse: collapse; margin-top: 1rem; table-layout: auto; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
td.actions { white-space: nowrap; }
td.actions button + button { margin-left: .3rem; }
.bar { height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; width: 160px; margin-top: .25rem; }
.bar > div { height: 100%; background: var(--accent); width: 0; transition: width .2s; }
.state-completed { color: var(--ok); font-weight: 600; }
.state-failed { color: var(--bad); font-weight: 600; }
.state-cancelled { color: var(--muted); font-weight: 600; }
.links { max-width: 430px; }
.links a { margin-right: .6rem; display: inline-block; }
.links .muted { overflow-wrap: anywhere; font-size: .85rem; }
a { color: var(--accent); }
#message { min-height: 1.4rem; margin: .6rem 0 0; }
code { font-size: 12px; }
`;

/** The service's web page: one self-contained HTML document (inline script and style, no external assets). */
export function servicePageHtml(): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>didactic-engine</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>didactic-engine</h1>
  <span class="muted">music → learning datasets</span>
  <span class="spacer"></span>
  <span id="identity" hidden></span>
  <button id="sign-out" type="button" hidden>Sign out</button>
  <form id="token-form" hidden><span id="auth" class="muted" role="status"></span> <label>Token <input id="token" type="password" autocomplete="off" size="18"></label> <button type="submit">Sign in</button></form>
</header>
<main>
  <div id="drop" role="button" tabindex="0">
    <p><strong>Drop audio files here</strong> or click to choose (WAV, FLAC, Ogg, AIFF, MP3)</p>
    <p class="muted">Each file becomes a job; outputs appear below when it completes.</p>
    <input id="file" type="file" accept="audio/*,.wav,.flac,.ogg,.aiff,.aif,.mp3" multiple hidden>
  </div>
  <p id="models-note" class="muted" hidden></p>
  <details><summary>Pipeline config (optional JSON, the original's keys)</summary>
    <textarea id="config" spellcheck="false" placeholder='{"use_demucs_separation": false}'></textarea>
  </details>
  <p id="message" role="status"></p>
  <table id="jobs"><thead><tr><th>job</th><th>song</th><th>state</th><th>progress</th><th>outputs</th><th></th></tr></thead><tbody></tbody></table>
  <p class="muted">API: <a href="/openapi.json">/openapi.json</a> · <a href="/readyz">/readyz</a></p>
</main>
<script>${browserScript(new URL('./browser/page.js', import.meta.url))}</script>
</body>
</html>
`;
}

/**
 * The page's CSP: its own inline script and style by hash (no 'unsafe-inline', no eval), requests to
 * this origin only, no plugins, no framing.
 */
export function servicePageCsp(html: string): string {
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!, 'utf8').digest('base64')}'`);
  return [
    "default-src 'none'",
    `script-src ${inlineScriptHashes(html).join(' ')}`,
    `style-src ${styles.join(' ')}`,
    "connect-src 'self'",
    'img-src data:',
    "form-action 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Registers `GET /` (the page): public, so that a browser without a token can load it and sign in. */
export function registerWebPage(app: FastifyInstance): void {
  const html = servicePageHtml();
  // Hashed once: the page never changes while the server runs.
  const csp = servicePageCsp(html);
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header('content-security-policy', csp);
    return html;
  });
}
