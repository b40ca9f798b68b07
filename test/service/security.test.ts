/**
 * The service as an attacker and as an operator meet it, against a real `serve` with client tokens:
 * authentication on the route the router matched (every route of the OpenAPI document, under
 * encoded, double-encoded, mixed-case, doubled-slash and dot-segment spellings), client isolation,
 * wrong tokens rate-limited, job files served inertly (content types, nosniff, CSP, attachment,
 * ranges), malformed requests answered 4xx in the envelope, no server paths to clients, and an
 * OpenAPI document that says what each route needs.
 */
import { request } from 'node:http';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { useTempDir } from '../helpers/tmp.js';
import { FAST_CONFIG, finished, getJson, startServe, stop, stopAll, submit, waitForJob, writeClip, type Server } from './harness.js';

const tmp = useTempDir('didactic-service-security-');
const modelsDir = join(tmp, 'models-folder-secret');
const A = { authorization: 'Bearer alice-secret-1' };
const B = { authorization: 'Bearer bob-secret-22' };
const ADMIN = { authorization: 'Bearer root-secret-333' };
let server: Server;
let clip: Uint8Array;
let evil: Uint8Array;
let files: string[] = [];

/** A WAV with a `junk` chunk holding `text` (valid audio: decoders skip unknown chunks). */
function withJunkChunk(wav: Uint8Array, text: string): Uint8Array {
  const buf = Buffer.from(wav);
  const dataAt = buf.indexOf('data', 12, 'latin1');
  const payload = Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1');
  const junk = Buffer.alloc(8 + payload.length);
  junk.write('junk', 0, 'latin1');
  junk.writeUInt32LE(payload.length, 4);
  payload.copy(junk, 8);
  const out = Buffer.concat([buf.subarray(0, dataAt), junk, buf.subarray(dataAt)]);
  out.writeUInt32LE(out.length - 8, 4);
  return out;
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with the path sent exactly as given (fetch would normalise dot segments). */
function raw(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<RawResponse> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('latin1') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** The spellings of a path that a router decoding percent-escapes or a sloppy matcher might take for it. */
function spellings(path: string): string[] {
  const segments = path.split('/').slice(1);
  const first = segments[0]!;
  const rest = segments.slice(1).join('/');
  const tail = rest ? `/${rest}` : '';
  const hex = (c: string) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  return [
    path,
    `/${hex(first[0]!)}${first.slice(1)}${tail}`, // /%761/jobs
    `/${[...first].map(hex).join('')}${tail}`, // every letter encoded
    `/${[...first].map((c) => hex(c).toUpperCase()).join('')}${tail}`, // upper-case hex
    `/${first.slice(0, -1)}${hex(first.slice(-1))}${tail}`, // /v%31/jobs
    `/%25${first.charCodeAt(0).toString(16)}${first.slice(1)}${tail}`, // double-encoded
    `/${first.toUpperCase()}${tail.toUpperCase()}`, // mixed case
    `/${first[0]!.toUpperCase()}${first.slice(1)}${tail}`,
    `//${first}${tail}`, // doubled slashes
    `/${first}/${tail}`,
    `/${first}/.${tail}`, // dot segments
    `/x/../${first}${tail}`,
    `/${first}/%2e${tail}`,
    `${path}/`,
    `${path}?x=1`,
  ];
}

beforeAll(async () => {
  clip = await writeClip(join(tmp, 'clip.wav'), 3);
  evil = withJunkChunk(clip, '<html><script>document.title="pwned";fetch("/v1/jobs")</script></html>');
  server = await startServe(
    [
      '--data-dir',
      join(tmp, 'data'),
      '--token',
      'alice:alice-secret-1',
      '--token',
      'bob:bob-secret-22',
      '--admin-token',
      'root:root-secret-333',
      '--jobs',
      '1',
      '--rate-limit',
      '100000',
      '--auth-failure-limit',
      '100000',
    ],
    { DIDACTIC_MODELS_DIR: modelsDir },
  );
  const sub = await submit(server.url, evil, { config: JSON.stringify(FAST_CONFIG), id: 'evil-job' }, A, 'evil.html');
  expect(sub.status).toBe(202);
  const done = await waitForJob(server.url, 'evil-job', finished, 60_000, A);
  expect(done.state).toBe('completed');
  files = done.result.files;
}, 120_000);

afterAll(stopAll);

describe('authentication on the matched route', () => {
  it('answers 401 without a token on every spelling of every protected route of the OpenAPI document', async () => {
    const doc = (await getJson(`${server.url}/openapi.json`)).body as { paths: Record<string, Record<string, { security?: unknown[] }>>; security: unknown[] };
    const concrete = (p: string) => p.replace('{id}', 'evil-job').replace('{path}', 'analysis/evil/combined.json');
    let walked = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const security = operation.security ?? doc.security;
        if (security.length === 0) continue;
        for (const spelling of spellings(concrete(path))) {
          const res = await raw(
            method.toUpperCase(),
            spelling,
            method === 'post' ? { 'content-type': 'application/json' } : {},
            method === 'post' ? '{}' : undefined,
          );
          expect({ method, spelling, status: res.status }).toEqual({ method, spelling, status: 401 });
          expect(JSON.parse(res.body).error.code).toBe('DE_UNAUTHORIZED');
          walked++;
        }
      }
    }
    expect(walked).toBeGreaterThan(100);
    // None of those reached a handler: the job is still there, unchanged.
    expect((await getJson(`${server.url}/v1/jobs/evil-job`, A)).body.state).toBe('completed');
  });

  it('keeps only health, readiness, the session probe and the document public', async () => {
    const doc = (await getJson(`${server.url}/openapi.json`)).body as { paths: Record<string, Record<string, { security?: unknown[] }>>; security: unknown[] };
    const open = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.entries(ops)
        .filter(([, op]) => (op.security ?? doc.security).length === 0)
        .map(([method]) => `${method.toUpperCase()} ${path}`),
    );
    expect(open.sort()).toEqual(['DELETE /v1/session', 'GET /healthz', 'GET /readyz', 'GET /v1/session']);
    for (const path of ['/healthz', '/readyz', '/openapi.json', '/v1/session']) expect((await raw('GET', path)).status).toBe(200);
  });

  it('rate-limits requests with a missing or wrong token, and a bad cookie is no token (401, not 500)', async () => {
    const badCookie = await raw('GET', '/v1/jobs', { cookie: 'didactic_token=%E0%A4%A' });
    expect(badCookie.status).toBe(401);
    const guarded = await startServe(['--data-dir', join(tmp, 'data-limit'), '--token', 'alice:alice-secret-1', '--auth-failure-limit', '20', '--jobs', '1']);
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 40; i++) statuses.push((await fetch(`${guarded.url}/%761/jobs`, { headers: { authorization: 'Bearer wrong-token-x' } })).status);
      expect(statuses.slice(0, 20).every((s) => s === 401)).toBe(true);
      expect(statuses.slice(20).every((s) => s === 429)).toBe(true);
      const limited = await fetch(`${guarded.url}/v1/jobs`);
      expect(limited.status).toBe(429);
      expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('DE_RATE_LIMITED');
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // A valid token still gets in: failures count per address, clients per identity.
      expect((await getJson(`${guarded.url}/v1/jobs`, A)).status).toBe(200);
    } finally {
      await stop(guarded);
    }
  });
});

describe('clients are isolated', () => {
  it('shows, serves and deletes a job only for its owner (and admins); others get 404', async () => {
    expect((await getJson(`${server.url}/v1/jobs/evil-job`, B)).status).toBe(404);
    expect((await getJson(`${server.url}/v1/jobs/evil-job/files/analysis/evil/combined.json`, B)).status).toBe(404);
    expect((await getJson(`${server.url}/v1/jobs/evil-job/events`, B)).status).toBe(404);
    expect((await getJson(`${server.url}/v1/jobs`, B)).body.jobs).toEqual([]);
    expect((await fetch(`${server.url}/v1/jobs/evil-job`, { method: 'DELETE', headers: B })).status).toBe(404);
    expect((await getJson(`${server.url}/v1/jobs/evil-job`, A)).body.state).toBe('completed');
    expect((await getJson(`${server.url}/v1/jobs/evil-job`, ADMIN)).status).toBe(200);
    expect((await getJson(`${server.url}/v1/jobs`, ADMIN)).body.jobs.map((j: { id: string }) => j.id)).toContain('evil-job');
    expect((await getJson(`${server.url}/v1/jobs`, A)).body.jobs.map((j: { id: string }) => j.id)).toContain('evil-job');
  });

  it("refuses another client's job id without saying whose it is; the owner's repeat is a duplicate", async () => {
    const other = await submit(server.url, clip, { id: 'evil-job' }, B);
    expect(other.status).toBe(400);
    expect((other.body.error as { code: string }).code).toBe('DE_INVALID_ARGUMENT');
    const again = await submit(server.url, clip, { id: 'evil-job' }, A);
    expect(again.status).toBe(200);
    expect(again.body.duplicate).toBe(true);
  });

  it("streams only the client's own jobs on /v1/events", async () => {
    const read = async (headers: Record<string, string>) => {
      const controller = new AbortController();
      const res = await fetch(`${server.url}/v1/events`, { headers, signal: controller.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = res.body!.getReader();
      const { value } = await reader.read();
      controller.abort();
      return new TextDecoder().decode(value);
    };
    expect(await read(A)).toMatch(/"id":"evil-job"/);
    const forB = await Promise.race([read(B), new Promise<string>((r) => setTimeout(() => r(''), 1500))]);
    expect(forB).not.toMatch(/evil-job/);
  });
});

describe('bounded event streams', () => {
  it('holds at most 32 open event streams per client (429 past that) and frees them on close', async () => {
    const controllers: AbortController[] = [];
    const open = async () => {
      const controller = new AbortController();
      controllers.push(controller);
      return fetch(`${server.url}/v1/events`, { headers: A, signal: controller.signal });
    };
    try {
      for (let i = 0; i < 32; i++) expect((await open()).status).toBe(200);
      const refused = await open();
      expect(refused.status).toBe(429);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('DE_RATE_LIMITED');
      // Another client has its own allowance.
      const other = new AbortController();
      expect((await fetch(`${server.url}/v1/events`, { headers: ADMIN, signal: other.signal })).status).toBe(200);
      other.abort();
    } finally {
      for (const c of controllers) c.abort();
    }
    // Closed streams are released (the server sees the close shortly after the abort).
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const c = new AbortController();
      status = (await fetch(`${server.url}/v1/events`, { headers: A, signal: c.signal })).status;
      c.abort();
      if (status !== 200) await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe(200);
  });
});

describe('job files are served inert', () => {
  it('stores the upload under its container extension, never as HTML', async () => {
    expect(files).toContain('input/evil/evil.wav');
    expect(files.some((f) => /\.html?$/.test(f) && !/^reports\/[^/]+\/report\.html$/.test(f))).toBe(false);
    expect((await getJson(`${server.url}/v1/jobs/evil-job/files/input/evil/evil.html`, A)).status).toBe(404);
  });

  it('gives every file an allowlisted type, nosniff and a CSP; only audio and the report are inline', async () => {
    for (const file of files) {
      const res = await raw('GET', `/v1/jobs/evil-job/files/${file}`, A);
      expect(res.status).toBe(200);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(String(res.headers['content-security-policy'])).toMatch(/default-src 'none'/);
      const type = String(res.headers['content-type']);
      const disposition = String(res.headers['content-disposition']);
      if (/\.(wav|flac|ogg|mp3|aiff?)$/.test(file)) {
        expect(type).toMatch(/^audio\//);
        expect(disposition).toMatch(/^inline/);
      } else if (file.endsWith('/report.html')) {
        expect(type).toMatch(/^text\/html/);
        const csp = String(res.headers['content-security-policy']);
        expect(csp).toMatch(/script-src 'sha256-/);
        expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
        expect(csp).toMatch(/connect-src 'none'/);
      } else {
        expect(type).not.toMatch(/html|javascript|xml|svg/);
        expect(disposition).toMatch(/^attachment/);
      }
    }
  });

  it('serves single byte ranges (206), refuses ranges outside the file (416)', async () => {
    const path = '/v1/jobs/evil-job/files/input/evil/evil.wav';
    const whole = await raw('GET', path, A);
    expect(whole.headers['accept-ranges']).toBe('bytes');
    const size = Number(whole.headers['content-length']);
    const part = await raw('GET', path, { ...A, range: 'bytes=4-11' });
    expect(part.status).toBe(206);
    expect(part.headers['content-range']).toBe(`bytes 4-11/${size}`);
    expect(part.body).toBe(whole.body.slice(4, 12));
    const suffix = await raw('GET', path, { ...A, range: 'bytes=-16' });
    expect(suffix.status).toBe(206);
    expect(suffix.body).toBe(whole.body.slice(size - 16));
    const open = await raw('GET', path, { ...A, range: `bytes=${size - 3}-` });
    expect(open.headers['content-range']).toBe(`bytes ${size - 3}-${size - 1}/${size}`);
    const outside = await raw('GET', path, { ...A, range: `bytes=${size + 10}-` });
    expect(outside.status).toBe(416);
    expect(outside.headers['content-range']).toBe(`bytes */${size}`);
    expect(JSON.parse(outside.body).error.code).toBe('DE_RANGE_NOT_SATISFIABLE');
  });

  it('puts nosniff and a CSP on API responses and errors too', async () => {
    for (const res of [await raw('GET', '/v1/jobs', A), await raw('GET', '/v1/jobs/none', A), await raw('GET', '/v1/jobs'), await raw('GET', '/healthz')]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    }
  });
});

describe('malformed requests are 4xx in the envelope', () => {
  const envelope = (res: RawResponse) => JSON.parse(res.body).error as { code: string; message: string };

  it('multipart without a boundary, with a wrong one, or cut short → 400', async () => {
    const noBoundary = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'multipart/form-data' }, '--x\r\n');
    const body = `--real\r\nContent-Disposition: form-data; name="audio"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n${Buffer.from(clip).toString('latin1')}\r\n--real--\r\n`;
    const wrongBoundary = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'multipart/form-data; boundary=other' }, Buffer.from(body, 'latin1'));
    const cut = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'multipart/form-data; boundary=real' }, Buffer.from(body.slice(0, 400), 'latin1'));
    for (const res of [noBoundary, wrongBoundary, cut]) {
      expect(res.status).toBe(400);
      expect(envelope(res).code).toBe('DE_INVALID_ARGUMENT');
    }
  });

  it('an undecodable URL, an oversized JSON body and an unknown content type', async () => {
    const badUrl = await raw('GET', '/%c0%ae', A);
    expect(badUrl.status).toBe(400);
    expect(envelope(badUrl).code).toBe('DE_INVALID_ARGUMENT');
    const big = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'application/json' }, JSON.stringify({ path: 'x'.repeat(2 * 1024 * 1024) }));
    expect(big.status).toBe(413);
    expect(envelope(big).code).toBe('DE_UPLOAD_TOO_LARGE');
    const xml = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'application/xml' }, '<a/>');
    expect(xml.status).toBe(415);
    expect(envelope(xml).code).toBe('DE_UNSUPPORTED_FORMAT');
    const notJson = await raw('POST', '/v1/jobs', { ...A, 'content-type': 'application/json' }, '{"path":');
    expect(notJson.status).toBe(400);
    expect(envelope(notJson).code).toBe('DE_INVALID_ARGUMENT');
  });
});

describe('no server details to clients', () => {
  it('readiness, failures and degraded reasons name no server path', async () => {
    const dataDir = join(tmp, 'data');
    const ready = await getJson(`${server.url}/readyz`);
    const text = JSON.stringify(ready.body);
    expect(ready.body.checks.map((c: { name: string }) => c.name)).toContain('output');
    expect(text).not.toContain(tmp);
    expect(text).not.toMatch(/"\/|\s\/[a-z]+\/[a-z]/);

    // Demucs on, with no model installed: degraded, and the reason names no models folder.
    const degraded = await submit(server.url, clip, { id: 'no-model' }, A);
    expect(degraded.status).toBe(202);
    const done = await waitForJob(server.url, 'no-model', finished, 60_000, A);
    expect(done.result.degraded).toBe(true);
    const reasons = JSON.stringify(done.result.degraded_reasons);
    expect(reasons).not.toContain(modelsDir);
    expect(reasons).not.toContain(tmp);

    // A corrupt upload fails with the decoder's code and no upload path.
    const corrupt = Buffer.from(clip);
    corrupt.fill(0x7f, 44);
    corrupt.writeUInt16LE(0x7777, 20);
    await submit(server.url, corrupt, { config: JSON.stringify(FAST_CONFIG), id: 'corrupt' }, A, 'corrupt.wav');
    const failed = await waitForJob(server.url, 'corrupt', finished, 60_000, A);
    expect(failed.state).toBe('failed');
    expect(failed.error.message).not.toContain(dataDir);
    expect(failed.error.message).not.toContain(tmp);
  });
});

describe('the OpenAPI document is exact', () => {
  it('marks public routes, names the files wildcard, declares error responses', async () => {
    const doc = (await getJson(`${server.url}/openapi.json`)).body;
    expect(doc.paths['/healthz'].get.security).toEqual([]);
    expect(doc.paths['/readyz'].get.security).toEqual([]);
    expect(doc.paths['/v1/jobs/{id}/files/{*}']).toBeUndefined();
    const filesOp = doc.paths['/v1/jobs/{id}/files/{path}'].get;
    expect(filesOp.parameters.map((p: { name: string }) => p.name).sort()).toEqual(['id', 'path']);
    for (const op of [filesOp, doc.paths['/v1/jobs/{id}/events'].get, doc.paths['/v1/events'].get]) {
      expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['200', '401', '404']));
    }
    expect(Object.keys(filesOp.responses)).toEqual(expect.arrayContaining(['206', '416']));
  });
});
