/**
 * The service page's own script (runs in the browser; web.ts inlines it and allows it by hash).
 * Sessions, uploads, the job table fed by one event stream, deletions: see web.ts for the design.
 *
 * Compiled by tsconfig.browser.json (DOM types, no Node types); types only may be imported
 * (scripts/build-browser.mjs refuses any other import).
 */

/** A job's error as the API reports it. */
interface JobError {
  code: string;
  message: string;
}

/** The fields of a job's status document (`GET /v1/jobs/:id`, the `status` events) the page reads. */
interface Job {
  id: string;
  song_id: string;
  state: 'queued' | 'running' | 'completed' | 'failed';
  submitted_at: string;
  queue_position?: number | null;
  attempts: number;
  progress: { step: string; fraction: number };
  error?: JobError | null;
  result?: { files: string[]; degraded: boolean; degraded_reasons: string[] } | null;
}

/** `GET /v1/session`. */
interface Session {
  token_required: boolean;
  identity: { name: string; admin: boolean } | null;
}

/** The element for `selector`, which the page's HTML always holds. */
const $ = <T extends HTMLElement = HTMLElement>(s: string): T => document.querySelector<T>(s)!;
const TOKEN_KEY = 'didactic-token';
// This tab's token, for the Authorization header of POST and DELETE only (GETs carry the cookie).
let token = sessionStorage.getItem(TOKEN_KEY) || '';
let session: Session | null = null;
let stream: EventSource | null = null;
let messageTimer = 0;
let positionsTimer = 0;
let positionsPoll = 0;
const MESSAGE_MS = 6000;
const known = new Map<string, Job>();

// What a failed job's code means to a person (the code itself goes in the title attribute).
const FAILURES: Record<string, string> = {
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

function failureText(error: JobError): string {
  const text = FAILURES[error.code] || 'Failed (a server error)';
  // Config and argument errors name the key at fault; the server keeps paths out of messages.
  return error.code === 'DE_INVALID_CONFIG' || error.code === 'DE_INVALID_ARGUMENT' ? text + ': ' + error.message : text;
}

// The status line: one message at a time, gone after MESSAGE_MS (upload progress stays until its outcome).
function say(text: string, kind?: 'error' | 'progress'): void {
  const m = $('#message');
  m.textContent = text;
  m.className = kind === 'error' ? 'error' : '';
  clearTimeout(messageTimer);
  if (text && kind !== 'progress') {
    messageTimer = setTimeout(() => {
      m.textContent = '';
      m.className = '';
    }, MESSAGE_MS);
  }
}

function authorization(): Record<string, string> {
  return token ? { authorization: 'Bearer ' + token } : {};
}

function forgetToken(): void {
  token = '';
  sessionStorage.removeItem(TOKEN_KEY);
}

// Header: who is signed in, and the token form while this tab cannot act.
function showSession(prompt?: string, isError?: boolean): void {
  const needs = !!session?.token_required;
  const who = session?.identity;
  $('#identity').hidden = !who;
  $('#identity').textContent = who ? 'Signed in as ' + who.name + (who.admin ? ' (admin)' : '') : '';
  $('#sign-out').hidden = !(needs && who);
  $('#token-form').hidden = !(needs && (!who || !token));
  const p = $('#auth');
  p.textContent = prompt || (who ? 'Enter your token to upload or delete from this tab.' : 'This server needs a token.');
  p.className = isError ? 'error' : 'muted';
}

async function loadSession(): Promise<void> {
  let res: Response;
  try {
    res = await fetch('/v1/session');
  } catch {
    say('The server does not answer', 'error');
    return;
  }
  if (!res.ok) {
    say('The server answered ' + res.status, 'error');
    return;
  }
  const current = (await res.json()) as Session;
  session = current;
  // A cookie that expired, or a server that restarted: renew it from this tab's token.
  if (current.token_required && !current.identity && token && (await signIn(token, true))) return;
  showSession();
  if (!current.token_required || current.identity) start();
  else stop();
}

async function signIn(candidate: string, quiet: boolean): Promise<boolean> {
  let res: Response;
  try {
    res = await fetch('/v1/session', { method: 'POST', headers: { authorization: 'Bearer ' + candidate } });
  } catch {
    showSession('The server does not answer; try again.', true);
    return false;
  }
  if (res.status === 200) {
    session = (await res.json()) as Session;
    token = candidate;
    sessionStorage.setItem(TOKEN_KEY, token);
    $<HTMLInputElement>('#token').value = '';
    showSession();
    start();
    return true;
  }
  if (res.status === 401) forgetToken();
  if (!quiet || res.status !== 401) {
    const wait = res.headers.get('retry-after');
    showSession(
      res.status === 401
        ? 'Token rejected.'
        : res.status === 429
          ? 'Too many attempts; retry in ' + (wait || 'a few') + ' s.'
          : 'Sign-in failed (' + res.status + ').',
      true,
    );
  }
  return false;
}

async function signOut(): Promise<void> {
  forgetToken();
  stop();
  try {
    await fetch('/v1/session', { method: 'DELETE' });
  } catch {}
  for (const row of [...document.querySelectorAll('#jobs tbody tr')]) row.remove();
  known.clear();
  await loadSession();
  say('Signed out');
}

// One event stream for all of this client's jobs.
function start(): void {
  if (stream) return;
  const source = new EventSource('/v1/events?limit=50');
  stream = source;
  source.addEventListener('status', (e) => render(JSON.parse(e.data) as Job));
  source.onopen = () => reconcile();
  source.onerror = () => {
    // CONNECTING: the browser retries by itself. CLOSED: refused (an expired cookie, a server
    // shutting down); ask again after a pause.
    if (source.readyState !== EventSource.CLOSED || stream !== source) return;
    stream = null;
    setTimeout(loadSession, 3000);
  };
}

function stop(): void {
  if (stream) stream.close();
  stream = null;
}

async function listJobs(): Promise<Job[] | null> {
  try {
    const res = await fetch('/v1/jobs?limit=50');
    if (res.status === 401) {
      loadSession();
      return null;
    }
    return res.ok ? ((await res.json()) as { jobs: Job[] }).jobs : null;
  } catch {
    return null;
  }
}

// After the stream (re)opens: drop rows of jobs that are gone (deleted elsewhere, expired).
async function reconcile(): Promise<void> {
  const before = new Set(known.keys());
  const jobs = await listJobs();
  if (!jobs) return;
  const present = new Set(jobs.map((j) => j.id));
  for (const id of before) if (!present.has(id)) drop(id);
  for (const job of jobs) if (!known.has(job.id)) render(job);
}

// Queue positions move when any job (also another client's) starts: re-read them while jobs wait.
function schedulePositions(delay: number): void {
  clearTimeout(positionsTimer);
  positionsTimer = setTimeout(refreshPositions, delay);
}

async function refreshPositions(): Promise<void> {
  const jobs = await listJobs();
  if (!jobs) return;
  // Only rows still queued here: the stream may already have told a newer state.
  for (const job of jobs) {
    const k = known.get(job.id);
    if (k && k.state === 'queued') render(job);
  }
}

function queuedCount(): number {
  let n = 0;
  for (const job of known.values()) if (job.state === 'queued') n++;
  return n;
}

function pollPositions(): void {
  const waiting = queuedCount() > 0;
  if (waiting && !positionsPoll) positionsPoll = setInterval(refreshPositions, 5000);
  if (!waiting && positionsPoll) {
    clearInterval(positionsPoll);
    positionsPoll = 0;
  }
}

function upload(file: File): void {
  if (session?.token_required && !token) {
    showSession(session.identity ? 'Enter your token to upload from this tab.' : 'This server needs a token.', true);
    say('Sign in to upload ' + file.name, 'error');
    return;
  }
  const form = new FormData();
  const config = $<HTMLTextAreaElement>('#config').value.trim();
  if (config) form.set('config', config);
  form.set('audio', file, file.name);
  const xhr = new XMLHttpRequest();
  xhr.open('POST', '/v1/jobs');
  if (token) xhr.setRequestHeader('authorization', 'Bearer ' + token);
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) say('Uploading ' + file.name + ': ' + Math.round((100 * e.loaded) / e.total) + ' %', 'progress');
  };
  xhr.onload = () => {
    let body: { id?: string; duplicate?: boolean; status_url?: string; error?: JobError } = {};
    try {
      body = JSON.parse(xhr.responseText);
    } catch {}
    const error: Partial<JobError> = body.error || {};
    if (xhr.status === 202 || xhr.status === 200) {
      say('Queued ' + file.name + (body.duplicate ? ' (already submitted as job ' + body.id + ')' : ''));
      // The stream reports changes; the new job's first state comes from its status document.
      fetch(body.status_url!)
        .then((r) => (r.ok ? (r.json() as Promise<Job>) : null))
        .then((job) => {
          if (job && !known.has(job.id)) render(job);
        })
        .catch(() => {});
    } else if (xhr.status === 401) {
      forgetToken();
      loadSession().then(() => showSession('Token rejected: sign in again.', true));
      say('Upload of ' + file.name + ' refused: sign in again', 'error');
    } else if (error.code === 'DE_QUEUE_FULL' || error.code === 'DE_RATE_LIMITED') {
      say('The server is busy; retry ' + file.name + ' in ' + (xhr.getResponseHeader('retry-after') || 'a few') + ' s', 'error');
    } else if (error.code === 'DE_UPLOAD_TOO_LARGE') {
      say(file.name + ' is larger than this server accepts', 'error');
    } else if (error.code) {
      say(file.name + ': ' + failureText(error as JobError), 'error');
    } else {
      say('Upload of ' + file.name + ' failed (' + xhr.status + ')', 'error');
    }
  };
  xhr.onerror = () => say('Upload of ' + file.name + ' failed: the server did not answer', 'error');
  xhr.send(form);
}

function fileLink(job: Job, path: string, label: string): HTMLAnchorElement {
  const a = document.createElement('a');
  a.href = '/v1/jobs/' + encodeURIComponent(job.id) + '/files/' + path.split('/').map(encodeURIComponent).join('/');
  a.textContent = label;
  a.target = '_blank';
  a.rel = 'noopener';
  return a;
}

function button(text: string, className: string, onclick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.type = 'button';
  b.className = className;
  b.textContent = text;
  b.onclick = onclick;
  return b;
}

const finished = (job: Job): boolean => job.state === 'completed' || job.state === 'failed';

// Cancel for a live job; Delete for a finished one, which asks first (its files are gone for good).
function showActions(row: HTMLElement, job: Job): void {
  const cell = row.querySelector<HTMLElement>('.actions')!;
  cell.textContent = '';
  if (!finished(job)) {
    cell.appendChild(button('Cancel', 'cancel', () => remove(job.id)));
    return;
  }
  cell.appendChild(
    button('Delete', 'delete', () => {
      cell.textContent = '';
      const revert = setTimeout(() => showActions(row, known.get(job.id) || job), 8000);
      cell.appendChild(
        button('Delete files', 'confirm', () => {
          clearTimeout(revert);
          remove(job.id);
        }),
      );
      cell.appendChild(
        button('Keep', 'keep', () => {
          clearTimeout(revert);
          showActions(row, known.get(job.id) || job);
        }),
      );
    }),
  );
}

function render(job: Job): void {
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
    row.querySelector('.id')!.appendChild(document.createElement('code'));
    const step = document.createElement('span');
    step.className = 'step';
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.appendChild(document.createElement('div'));
    row.querySelector('.progress')!.append(step, bar);
    // Newest first, by submission time.
    const rows = [...document.querySelectorAll<HTMLElement>('#jobs tbody tr')];
    const next = rows.find((r) => r.dataset.submitted! < job.submitted_at);
    $('#jobs tbody').insertBefore(row, next || null);
  }
  row.dataset.state = job.state;
  const id = row.querySelector<HTMLElement>('.id code')!;
  id.textContent = job.id.length > 13 ? job.id.slice(0, 8) + '…' : job.id;
  id.title = job.id;
  row.querySelector('.song')!.textContent = job.song_id;
  const cancelled = job.state === 'failed' && job.error?.code === 'DE_ABORTED';
  const state = row.querySelector<HTMLElement>('.state')!;
  let label = cancelled ? 'cancelled' : job.state;
  if (job.state === 'queued' && job.queue_position) label += ' (#' + job.queue_position + ')';
  if (job.attempts > 1 && !finished(job)) label += ' (attempt ' + job.attempts + ')';
  state.textContent = label;
  state.className = 'state state-' + (cancelled ? 'cancelled' : job.state);
  const step = row.querySelector<HTMLElement>('.step')!;
  if (job.state === 'failed' && job.error) {
    step.textContent = failureText(job.error);
    step.title = job.error.code;
  } else {
    step.textContent = job.state === 'queued' ? 'waiting for a worker' : job.progress.step;
    step.removeAttribute('title');
  }
  row.querySelector<HTMLElement>('.bar > div')!.style.width = Math.round(job.progress.fraction * 100) + '%';
  const links = row.querySelector<HTMLElement>('.links')!;
  links.textContent = '';
  if (job.state === 'completed' && job.result) {
    const files = job.result.files;
    const report = files.find((f) => f.endsWith('/report.html'));
    if (report) links.appendChild(fileLink(job, report, 'report'));
    const combined = files.find((f) => f.endsWith('/combined.json'));
    if (combined) links.appendChild(fileLink(job, combined, 'combined.json'));
    for (const f of files.filter((f) => f.startsWith('datasets/'))) links.appendChild(fileLink(job, f, f.split('/').pop()!));
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

function drop(id: string): void {
  const row = document.getElementById('job-' + id);
  if (row) row.remove();
  known.delete(id);
  pollPositions();
}

async function remove(id: string): Promise<void> {
  let res: Response;
  try {
    res = await fetch('/v1/jobs/' + encodeURIComponent(id), { method: 'DELETE', headers: authorization() });
  } catch {
    say('Could not reach the server to delete job ' + id, 'error');
    return;
  }
  let body: { outcome?: string; error?: JobError } = {};
  try {
    body = await res.json();
  } catch {}
  if (res.status === 200) {
    const was = known.get(id);
    drop(id);
    schedulePositions(300);
    say(
      body.outcome === 'removed'
        ? 'Removed queued job ' + id
        : 'Deleted job ' + id + (was?.song_id ? ' (' + was.song_id + ') and its files' : ' and its files'),
    );
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

/** Says so when the server has no Demucs model (songs then complete degraded, without stems) and names the fix. */
async function checkModels(): Promise<void> {
  let models: Array<{ name: string }> | undefined;
  try {
    models = ((await (await fetch('/readyz')).json()) as { models?: Array<{ name: string }> }).models;
  } catch {
    return;
  }
  if (!models || models.some((m) => m.name.startsWith('htdemucs'))) return;
  const note = $('#models-note');
  note.textContent =
    'No Demucs model is installed on this server, so songs are not split into stems (jobs complete degraded, on the full mix). ' +
    'Install one on the server with: npx didactic-engine models fetch htdemucs (or start it with serve --fetch-models htdemucs).';
  note.hidden = false;
}

const dropZone = $('#drop');
const picker = $<HTMLInputElement>('#file');
dropZone.onclick = () => picker.click();
dropZone.onkeydown = (e) => {
  if (e.key === 'Enter' || e.key === ' ') {
    e.preventDefault();
    picker.click();
  }
};
picker.onchange = () => {
  for (const f of picker.files ?? []) upload(f);
  picker.value = '';
};
dropZone.ondragover = (e) => {
  e.preventDefault();
  dropZone.classList.add('over');
};
dropZone.ondragleave = () => dropZone.classList.remove('over');
dropZone.ondrop = (e) => {
  e.preventDefault();
  dropZone.classList.remove('over');
  for (const f of e.dataTransfer?.files ?? []) upload(f);
};
$('#token-form').onsubmit = (e) => {
  e.preventDefault();
  const value = $<HTMLInputElement>('#token').value.trim();
  if (value) signIn(value, false);
};
$('#sign-out').onclick = () => signOut();
loadSession();
checkModels();
