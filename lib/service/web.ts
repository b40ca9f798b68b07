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
 * Progress: one `EventSource` on `GET /v1/events` for all of the client's jobs (browsers allow six
 * connections per host; a stream per job stalled uploads past six live jobs), and a job listing
 * only when a stream (re)opens and, while jobs are queued, for their queue positions.
 */
import { createHash } from 'node:crypto';

import type { FastifyInstance } from 'fastify';

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

// Plain ES2017 in a template literal: no backticks and no dollar-brace inside.
const SCRIPT = `
'use strict';
const $ = (s) => document.querySelector(s);
const TOKEN_KEY = 'didactic-token';
// This tab's token, for the Authorization header of POST and DELETE only (GETs carry the cookie).
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let session = null;
let stream = null;
let messageTimer = 0;
let positionsTimer = 0;
let positionsPoll = 0;
const MESSAGE_MS = 6000;
const known = new Map();

// What a failed job's code means to a person (the code itself goes in the title attribute).
const FAILURES = {
  DE_ABORTED: 'Cancelled',
  DE_CORRUPT_AUDIO: 'The file could not be decoded',
  DE_UNSUPPORTED_FORMAT: 'The file is not in an audio format this server reads',
  DE_EMPTY_FILE: 'The file is empty',
  DE_NON_FINITE_SAMPLES: 'The audio holds invalid samples',
  DE_FILE_NOT_FOUND: 'The input file is missing',
  DE_PERMISSION_DENIED: 'The server cannot read the input file',
  DE_UNSAFE_PATH: 'The input path is not allowed',
  DE_INVALID_CONFIG: 'The pipeline config is not valid',
  DE_INVALID_ARGUMENT: 'A setting is not valid',
  DE_TIMEOUT: 'A step took longer than the server allows',
  DE_RESOURCE_LIMIT: 'The song is larger than this server allows',
  DE_OUT_OF_MEMORY: 'The server ran out of memory',
  DE_DISK_FULL: 'The server ran out of disk space',
  DE_WRITE_FAILED: 'The outputs could not be written',
  DE_MODEL_NOT_FOUND: 'A model is not installed on the server',
  DE_MODEL_INVALID: 'A model on the server is damaged',
  DE_INFERENCE_FAILED: 'A model failed on this song',
  DE_RESAMPLE_FAILED: 'The audio could not be resampled',
  DE_WORKER_LOST: 'The worker running it stopped, on every attempt',
  DE_RETRY_EXHAUSTED: 'It failed on every attempt',
  DE_CIRCUIT_OPEN: 'A model failed too often; try again later',
};

function failureText(error) {
  const text = FAILURES[error.code] || 'Failed (a server error)';
  // Config and argument errors name the key at fault; the server keeps paths out of messages.
  return error.code === 'DE_INVALID_CONFIG' || error.code === 'DE_INVALID_ARGUMENT' ? text + ': ' + error.message : text;
}

// The status line: one message at a time, gone after MESSAGE_MS (upload progress stays until its outcome).
function say(text, kind) {
  const m = $('#message');
  m.textContent = text;
  m.className = kind === 'error' ? 'error' : '';
  clearTimeout(messageTimer);
  if (text && kind !== 'progress') messageTimer = setTimeout(() => { m.textContent = ''; m.className = ''; }, MESSAGE_MS);
}

function authorization() {
  return token ? { authorization: 'Bearer ' + token } : {};
}

function forgetToken() {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
}

// Header: who is signed in, and the token form while this tab cannot act.
function showSession(prompt, isError) {
  const needs = !!(session && session.token_required);
  const who = session && session.identity;
  $('#identity').hidden = !who;
  $('#identity').textContent = who ? 'Signed in as ' + who.name + (who.admin ? ' (admin)' : '') : '';
  $('#sign-out').hidden = !(needs && who);
  $('#token-form').hidden = !(needs && (!who || !token));
  const p = $('#auth');
  p.textContent = prompt || (who ? 'Enter your token to upload or delete from this tab.' : 'This server needs a token.');
  p.className = isError ? 'error' : 'muted';
}

async function loadSession() {
  let res;
  try { res = await fetch('/v1/session'); } catch (e) { say('The server does not answer', 'error'); return; }
  if (!res.ok) { say('The server answered ' + res.status, 'error'); return; }
  session = await res.json();
  // A cookie that expired, or a server that restarted: renew it from this tab's token.
  if (session.token_required && !session.identity && token && (await signIn(token, true))) return;
  showSession();
  if (!session.token_required || session.identity) start();
  else stop();
}

async function signIn(candidate, quiet) {
  let res;
  try { res = await fetch('/v1/session', { method: 'POST', headers: { authorization: 'Bearer ' + candidate } }); }
  catch (e) { showSession('The server does not answer; try again.', true); return false; }
  if (res.status === 200) {
    session = await res.json();
    token = candidate;
    sessionStorage.setItem(TOKEN_KEY, token);
    $('#token').value = '';
    showSession();
    start();
    return true;
  }
  if (res.status === 401) forgetToken();
  if (!quiet || res.status !== 401) {
    const wait = res.headers.get('retry-after');
    showSession(res.status === 401 ? 'Token rejected.' : res.status === 429 ? 'Too many attempts; retry in ' + (wait || 'a few') + ' s.' : 'Sign-in failed (' + res.status + ').', true);
  }
  return false;
}

async function signOut() {
  forgetToken();
  stop();
  try { await fetch('/v1/session', { method: 'DELETE' }); } catch (e) {}
  for (const row of [...document.querySelectorAll('#jobs tbody tr')]) row.remove();
  known.clear();
  await loadSession();
  say('Signed out');
}

// One event stream for all of this client's jobs.
function start() {
  if (stream) return;
  const source = new EventSource('/v1/events?limit=50');
  stream = source;
  source.addEventListener('status', (e) => render(JSON.parse(e.data)));
  source.onopen = () => reconcile();
  source.onerror = () => {
    // CONNECTING: the browser retries by itself. CLOSED: refused (an expired cookie, a server
    // shutting down); ask again after a pause.
    if (source.readyState !== EventSource.CLOSED || stream !== source) return;
    stream = null;
    setTimeout(loadSession, 3000);
  };
}

function stop() {
  if (stream) stream.close();
  stream = null;
}

async function listJobs() {
  try {
    const res = await fetch('/v1/jobs?limit=50');
    if (res.status === 401) { loadSession(); return null; }
    return res.ok ? (await res.json()).jobs : null;
  } catch (e) { return null; }
}

// After the stream (re)opens: drop rows of jobs that are gone (deleted elsewhere, expired).
async function reconcile() {
  const before = new Set(known.keys());
  const jobs = await listJobs();
  if (!jobs) return;
  const present = new Set(jobs.map((j) => j.id));
  for (const id of before) if (!present.has(id)) drop(id);
  for (const job of jobs) if (!known.has(job.id)) render(job);
}

// Queue positions move when any job (also another client's) starts: re-read them while jobs wait.
function schedulePositions(delay) {
  clearTimeout(positionsTimer);
  positionsTimer = setTimeout(refreshPositions, delay);
}

async function refreshPositions() {
  const jobs = await listJobs();
  if (!jobs) return;
  // Only rows still queued here: the stream may already have told a newer state.
  for (const job of jobs) { const k = known.get(job.id); if (k && k.state === 'queued') render(job); }
}

function queuedCount() {
  let n = 0;
  for (const job of known.values()) if (job.state === 'queued') n++;
  return n;
}

function pollPositions() {
  const waiting = queuedCount() > 0;
  if (waiting && !positionsPoll) positionsPoll = setInterval(refreshPositions, 5000);
  if (!waiting && positionsPoll) { clearInterval(positionsPoll); positionsPoll = 0; }
}

function upload(file) {
  if (session && session.token_required && !token) {
    showSession(session.identity ? 'Enter your token to upload from this tab.' : 'This server needs a token.', true);
    say('Sign in to upload ' + file.name, 'error');
    return;
  }
  const form = new FormData();
  const config = $('#config').value.trim();
  if (config) form.set('config', config);
  form.set('audio', file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/v1/jobs');
  if (token) xhr.setRequestHeader('authorization', 'Bearer ' + token);
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) say('Uploading ' + file.name + ': ' + Math.round((100 * e.loaded) / e.total) + ' %', 'progress'); };
  xhr.onload = () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) {}
    const error = body.error || {};
    if (xhr.status === 202 || xhr.status === 200) {
      say('Queued ' + file.name + (body.duplicate ? ' (already submitted as job ' + body.id + ')' : ''));
      // The stream reports changes; the new job's first state comes from its status document.
      fetch(body.status_url).then((r) => (r.ok ? r.json() : null)).then((job) => { if (job && !known.has(job.id)) render(job); }).catch(() => {});
    } else if (xhr.status === 401) {
      forgetToken();
      loadSession().then(() => showSession('Token rejected: sign in again.', true));
      say('Upload of ' + file.name + ' refused: sign in again', 'error');
    } else if (error.code === 'DE_QUEUE_FULL' || error.code === 'DE_RATE_LIMITED') {
      say('The server is busy; retry ' + file.name + ' in ' + (xhr.getResponseHeader('retry-after') || 'a few') + ' s', 'error');
    } else if (error.code === 'DE_UPLOAD_TOO_LARGE') {
      say(file.name + ' is larger than this server accepts', 'error');
    } else if (error.code) {
      say(file.name + ': ' + failureText(error), 'error');
    } else {
      say('Upload of ' + file.name + ' failed (' + xhr.status + ')', 'error');
    }
  };
  xhr.onerror = () => say('Upload of ' + file.name + ' failed: the server did not answer', 'error');
  xhr.send(form);
}

function fileLink(job, path, label) {
  const a = document.createElement('a');
  a.href = '/v1/jobs/' + encodeURIComponent(job.id) + '/files/' + path.split('/').map(encodeURIComponent).join('/');
  a.textContent = label;
  a.target = '_blank';
  a.rel = 'noopener';
  return a;
}

function button(text, className, onclick) {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.onclick = onclick;
  return b;
}

const finished = (job) => job.state === 'completed' || job.state === 'failed';

// Cancel for a live job; Delete for a finished one, which asks first (its files are gone for good).
function showActions(row, job) {
  const cell = row.querySelector('.actions');
  cell.textContent = '';
  if (!finished(job)) { cell.appendChild(button('Cancel', 'cancel', () => remove(job.id))); return; }
  cell.appendChild(button('Delete', 'delete', () => {
    cell.textContent = '';
    const revert = setTimeout(() => showActions(row, known.get(job.id) || job), 8000);
    cell.appendChild(button('Delete files', 'confirm', () => { clearTimeout(revert); remove(job.id); }));
    cell.appendChild(button('Keep', 'keep', () => { clearTimeout(revert); showActions(row, known.get(job.id) || job); }));
  }));
}

function render(job) {
  const before = known.get(job.id);
  known.set(job.id, job);
  let row = document.getElementById('job-' + job.id);
  if (!row) {
    row = document.createElement('tr');
    row.id = 'job-' + job.id;
    row.dataset.id = job.id;
    row.dataset.submitted = job.submitted_at;
    for (const name of ['id', 'song', 'state', 'progress', 'links', 'actions']) {
      const td = document.createElement('td');
      td.className = name;
      row.appendChild(td);
    }
    row.querySelector('.id').appendChild(document.createElement('code'));
    const step = document.createElement('span');
    step.className = 'step';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.appendChild(document.createElement('div'));
    row.querySelector('.progress').append(step, bar);
    // Newest first, by submission time.
    const rows = [...document.querySelectorAll('#jobs tbody tr')];
    const next = rows.find((r) => r.dataset.submitted < job.submitted_at);
    $('#jobs tbody').insertBefore(row, next || null);
  }
  row.dataset.state = job.state;
  const id = row.querySelector('.id code');
  id.textContent = job.id.length > 13 ? job.id.slice(0, 8) + '…' : job.id;
  id.title = job.id;
  row.querySelector('.song').textContent = job.song_id;
  const cancelled = job.state === 'failed' && job.error && job.error.code === 'DE_ABORTED';
  const state = row.querySelector('.state');
  let label = cancelled ? 'cancelled' : job.state;
  if (job.state === 'queued' && job.queue_position) label += ' (#' + job.queue_position + ')';
  if (job.attempts > 1 && !finished(job)) label += ' (attempt ' + job.attempts + ')';
  state.textContent = label;
  state.className = 'state state-' + (cancelled ? 'cancelled' : job.state);
  const step = row.querySelector('.step');
  if (job.state === 'failed' && job.error) {
    step.textContent = failureText(job.error);
    step.title = job.error.code;
  } else {
    step.textContent = job.state === 'queued' ? 'waiting for a worker' : job.progress.step;
    step.removeAttribute('title');
  }
  row.querySelector('.bar > div').style.width = Math.round(job.progress.fraction * 100) + '%';
  const links = row.querySelector('.links');
  links.textContent = '';
  if (job.state === 'completed' && job.result) {
    const files = job.result.files;
    const report = files.find((f) => f.endsWith('/report.html'));
    if (report) links.appendChild(fileLink(job, report, 'report'));
    const combined = files.find((f) => f.endsWith('/combined.json'));
    if (combined) links.appendChild(fileLink(job, combined, 'combined.json'));
    for (const f of files.filter((f) => f.startsWith('datasets/'))) links.appendChild(fileLink(job, f, f.split('/').pop()));
    if (job.result.degraded) {
      const d = document.createElement('div');
      d.className = 'muted';
      d.textContent = 'degraded: ' + job.result.degraded_reasons.join('; ');
      links.appendChild(d);
    }
  }
  if (!before || finished(before) !== finished(job) || !row.querySelector('.actions button')) showActions(row, job);
  // A job left the queue: the others moved up.
  if (before && before.state === 'queued' && job.state !== 'queued') schedulePositions(300);
  pollPositions();
}

function drop(id) {
  const row = document.getElementById('job-' + id);
  if (row) row.remove();
  known.delete(id);
  pollPositions();
}

async function remove(id) {
  let res;
  try { res = await fetch('/v1/jobs/' + encodeURIComponent(id), { method: 'DELETE', headers: authorization() }); }
  catch (e) { say('Could not reach the server to delete job ' + id, 'error'); return; }
  let body = {};
  try { body = await res.json(); } catch (e) {}
  if (res.status === 200) {
    const was = known.get(id);
    drop(id);
    schedulePositions(300);
    say(body.outcome === 'removed' ? 'Removed queued job ' + id : 'Deleted job ' + id + (was && was.song_id ? ' (' + was.song_id + ') and its files' : ' and its files'));
  } else if (res.status === 202) {
    say('Cancelling job ' + id);
  } else if (res.status === 401) {
    forgetToken();
    await loadSession();
    showSession('Sign in again to delete jobs.', true);
  } else if (res.status === 404) {
    drop(id);
    say('Job ' + id + ' was already gone');
  } else {
    say('Could not delete job ' + id + ' (' + (body.error ? body.error.code : res.status) + ')', 'error');
  }
}

const dropZone = $('#drop');
const picker = $('#file');
dropZone.onclick = () => picker.click();
dropZone.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); picker.click(); } };
picker.onchange = () => { for (const f of picker.files) upload(f); picker.value = ''; };
dropZone.ondragover = (e) => { e.preventDefault(); dropZone.classList.add('over'); };
dropZone.ondragleave = () => dropZone.classList.remove('over');
dropZone.ondrop = (e) => { e.preventDefault(); dropZone.classList.remove('over'); for (const f of e.dataTransfer.files) upload(f); };
$('#token-form').onsubmit = (e) => {
  e.preventDefault();
  const value = $('#token').value.trim();
  if (value) signIn(value, false);
};
$('#sign-out').onclick = () => signOut();
loadSession();
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
  <details><summary>Pipeline config (optional JSON, the original's keys)</summary>
    <textarea id="config" spellcheck="false" placeholder='{"use_demucs_separation": false}'></textarea>
  </details>
  <p id="message" role="status"></p>
  <table id="jobs"><thead><tr><th>job</th><th>song</th><th>state</th><th>progress</th><th>outputs</th><th></th></tr></thead><tbody></tbody></table>
  <p class="muted">API: <a href="/openapi.json">/openapi.json</a> · <a href="/readyz">/readyz</a></p>
</main>
<script>${SCRIPT}</script>
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
