/**
 * The service's web page (`GET /`): upload a song (drag and drop or a file picker), watch the jobs
 * with live progress (server-sent events), open a finished job's HTML report, download its
 * datasets. One self-contained page: no external assets, same-origin requests only, and
 * token-aware (the token goes in the Authorization header for API calls and in a SameSite=Strict
 * cookie that the server accepts for GET requests, so report, audio and download links work).
 */
import type { FastifyInstance } from 'fastify';

const STYLE = `
:root { color-scheme: light dark; --fg:#1d2330; --muted:#667085; --line:#d0d5dd; --accent:#3358d4; --ok:#16803c; --bad:#c0362c; --bg:#fff; --panel:#f6f7f9; }
@media (prefers-color-scheme: dark) { :root { --fg:#e6e8ee; --muted:#98a2b3; --line:#344054; --accent:#7c9cff; --ok:#4ade80; --bad:#f87171; --bg:#11151c; --panel:#1a2029; } }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; align-items: center; gap: 1rem; padding: .8rem 1.5rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.05rem; margin: 0; font-weight: 600; }
header .spacer { flex: 1; }
main { max-width: 1100px; margin: 0 auto; padding: 1.2rem 1.5rem 3rem; }
#drop { border: 2px dashed var(--line); border-radius: 10px; padding: 1.6rem; text-align: center; background: var(--panel); cursor: pointer; }
#drop.over { border-color: var(--accent); }
#drop p { margin: .2rem 0; }
.muted { color: var(--muted); }
details { margin: .6rem 0 1rem; }
textarea { width: 100%; min-height: 4.5rem; font: 12px ui-monospace, monospace; background: var(--bg); color: var(--fg); border: 1px solid var(--line); border-radius: 6px; padding: .4rem; }
input[type=password], input[type=text] { font: inherit; padding: .25rem .45rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: .25rem .7rem; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); cursor: pointer; }
table { width: 100%; border-collapse: collapse; margin-top: 1rem; }
th, td { text-align: left; padding: .45rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: .85rem; }
.bar { height: 6px; background: var(--line); border-radius: 3px; overflow: hidden; width: 160px; margin-top: .25rem; }
.bar > div { height: 100%; background: var(--accent); width: 0; transition: width .2s; }
.state-completed { color: var(--ok); font-weight: 600; }
.state-failed { color: var(--bad); font-weight: 600; }
.links { max-width: 430px; }
.links a { margin-right: .6rem; display: inline-block; }
.links .muted { overflow-wrap: anywhere; font-size: .85rem; }
table { table-layout: auto; }
a { color: var(--accent); }
#message { min-height: 1.4rem; margin: .6rem 0 0; }
#message.error { color: var(--bad); }
code { font-size: 12px; }
`;

const SCRIPT = `
'use strict';
const $ = (s) => document.querySelector(s);
let token = sessionStorage.getItem('didactic-token') || '';
const streams = new Map();
const known = new Map();

function setToken(value) {
  token = value.trim();
  sessionStorage.setItem('didactic-token', token);
  // GET links (report, audio, downloads) carry the token as a same-site cookie.
  document.cookie = 'didactic_token=' + encodeURIComponent(token) + '; path=/; SameSite=Strict' + (token ? '' : '; max-age=0');
  refresh();
}

function api(path, init) {
  init = init || {};
  init.headers = Object.assign({}, init.headers, token ? { authorization: 'Bearer ' + token } : {});
  return fetch(path, init);
}

function say(text, isError) {
  const m = $('#message');
  m.textContent = text;
  m.className = isError ? 'error' : '';
}

function upload(file) {
  const form = new FormData();
  const config = $('#config').value.trim();
  if (config) form.set('config', config);
  form.set('audio', file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/v1/jobs');
  if (token) xhr.setRequestHeader('authorization', 'Bearer ' + token);
  xhr.upload.onprogress = (e) => { if (e.lengthComputable) say('Uploading ' + file.name + ': ' + Math.round((100 * e.loaded) / e.total) + ' %'); };
  xhr.onload = () => {
    let body = {};
    try { body = JSON.parse(xhr.responseText); } catch (e) {}
    if (xhr.status === 202 || xhr.status === 200) {
      say('Queued ' + file.name + ' as job ' + body.id + (body.duplicate ? ' (already known)' : ''));
      refresh();
    } else if (xhr.status === 401) {
      say('This server needs a token: enter it above.', true);
    } else {
      say((body.error && body.error.code ? body.error.code + ': ' + body.error.message : 'Upload failed (' + xhr.status + ')'), true);
    }
  };
  xhr.onerror = () => say('Upload failed: the server did not answer', true);
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

function render(job) {
  known.set(job.id, job);
  let row = document.getElementById('job-' + job.id);
  if (!row) {
    row = document.createElement('tr');
    row.id = 'job-' + job.id;
    row.dataset.id = job.id;
    row.innerHTML = '<td class="id"><code></code></td><td class="song"></td><td class="state"></td><td class="progress"><span class="step"></span><div class="bar"><div></div></div></td><td class="links"></td><td><button class="delete" type="button">Delete</button></td>';
    row.querySelector('.delete').onclick = () => remove(job.id);
    const body = $('#jobs tbody');
    body.insertBefore(row, body.firstChild);
  }
  row.dataset.state = job.state;
  row.querySelector('.id code').textContent = job.id.length > 13 ? job.id.slice(0, 8) + '…' : job.id;
  row.querySelector('.id code').title = job.id;
  row.querySelector('.song').textContent = job.song_id;
  const state = row.querySelector('.state');
  state.textContent = job.state + (job.attempts > 1 ? ' (attempt ' + job.attempts + ')' : '');
  state.className = 'state state-' + job.state;
  const step = job.state === 'failed' && job.error ? job.error.code + ': ' + job.error.message : job.progress.step;
  row.querySelector('.step').textContent = step;
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
  if ((job.state === 'queued' || job.state === 'running') && !streams.has(job.id)) watch(job.id);
}

function watch(id) {
  const url = '/v1/jobs/' + encodeURIComponent(id) + '/events' + (token ? '?access_token=' + encodeURIComponent(token) : '');
  const source = new EventSource(url);
  streams.set(id, source);
  source.addEventListener('status', (e) => {
    const job = JSON.parse(e.data);
    render(job);
    if (job.state === 'completed' || job.state === 'failed') { source.close(); streams.delete(id); }
  });
  source.onerror = () => { source.close(); streams.delete(id); };
}

async function remove(id) {
  const res = await api('/v1/jobs/' + encodeURIComponent(id), { method: 'DELETE' });
  if (res.status === 200) { const row = document.getElementById('job-' + id); if (row) row.remove(); known.delete(id); }
  else if (res.status === 202) say('Cancelling job ' + id);
  else say('Could not delete job ' + id + ' (' + res.status + ')', true);
}

async function refresh() {
  let res;
  try { res = await api('/v1/jobs?limit=50'); } catch (e) { say('The server does not answer', true); return; }
  $('#token-form').hidden = res.status !== 401 && !token;
  if (res.status === 401) { say('This server needs a token.', true); return; }
  if (!res.ok) return;
  const body = await res.json();
  for (const job of body.jobs.slice().reverse()) render(job);
}

const drop = $('#drop');
const picker = $('#file');
drop.onclick = () => picker.click();
drop.onkeydown = (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); picker.click(); } };
picker.onchange = () => { for (const f of picker.files) upload(f); picker.value = ''; };
drop.ondragover = (e) => { e.preventDefault(); drop.classList.add('over'); };
drop.ondragleave = () => drop.classList.remove('over');
drop.ondrop = (e) => { e.preventDefault(); drop.classList.remove('over'); for (const f of e.dataTransfer.files) upload(f); };
$('#token').value = token;
$('#token-form').onsubmit = (e) => { e.preventDefault(); setToken($('#token').value); };
if (token) document.cookie = 'didactic_token=' + encodeURIComponent(token) + '; path=/; SameSite=Strict';
refresh();
setInterval(refresh, 5000);
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
  <form id="token-form" hidden><label>Token <input id="token" type="password" autocomplete="off" size="18"></label> <button type="submit">Use</button></form>
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

/** Registers `GET /` (the page). */
export function registerWebPage(app: FastifyInstance): void {
  const html = servicePageHtml();
  app.get('/', { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8');
    reply.header(
      'content-security-policy',
      "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    );
    return html;
  });
}
