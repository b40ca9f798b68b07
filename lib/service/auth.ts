/**
 * Who a request is: client identities from bearer tokens, decided on the route the router matched
 * (never on the raw URL, whose percent-encoding the router decodes), and a per-identity rate limit
 * that also counts requests with a wrong or missing token.
 *
 * Every route requires a token unless it says `config: { public: true }`; an unmatched URL requires
 * one too, so an unknown path tells a client without a token nothing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { DidacticError } from '../errors.js';

/** A client: the name its jobs are filed under, and whether it may see every client's jobs. */
export interface Identity {
  name: string;
  admin: boolean;
}

/** One accepted token: its secret and the identity it stands for. */
export interface TokenSpec extends Identity {
  secret: string;
}

/** The cookie the web page's GET links (report, audio, downloads) carry; set by `POST /v1/session`. */
export const TOKEN_COOKIE = 'didactic_token';

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/**
 * `name:secret` or a bare `secret`. A bare secret is named `token-` plus the first 8 hex digits of its
 * SHA-256, so its jobs keep their owner across restarts without the secret appearing anywhere.
 */
export function parseTokenSpec(text: string, admin = false): TokenSpec {
  const trimmed = text.trim();
  const colon = trimmed.indexOf(':');
  const named = colon > 0 && NAME_PATTERN.test(trimmed.slice(0, colon));
  const name = named ? trimmed.slice(0, colon) : `token-${digest(trimmed).toString('hex').slice(0, 8)}`;
  const secret = named ? trimmed.slice(colon + 1) : trimmed;
  if (secret.length < 8) throw new DidacticError('DE_INVALID_ARGUMENT', `The token of '${name}' is shorter than 8 characters`);
  if (/\s/.test(secret)) throw new DidacticError('DE_INVALID_ARGUMENT', `The token of '${name}' contains white space`);
  return { name, secret, admin };
}

/**
 * A tokens file: one client per line, `name secret` or `name secret admin`; blank lines and lines
 * starting with `#` are skipped.
 * @throws DidacticError DE_INVALID_ARGUMENT for an unreadable file or a malformed line (its number, never its secret)
 */
export function readTokensFile(path: string): TokenSpec[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new DidacticError('DE_INVALID_ARGUMENT', `The tokens file cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const specs: TokenSpec[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const [name, secret, role] = fields;
    if (fields.length > 3 || !name || !secret || !NAME_PATTERN.test(name) || (role !== undefined && role !== 'admin')) {
      throw new DidacticError('DE_INVALID_ARGUMENT', `Tokens file line ${index + 1}: expected 'name secret' or 'name secret admin'`);
    }
    specs.push(parseTokenSpec(`${name}:${secret}`, role === 'admin'));
  });
  return specs;
}

/** The accepted tokens, compared in constant time. */
export class TokenTable {
  readonly #entries: Array<{ digest: Buffer; identity: Identity }>;

  /** @throws DidacticError DE_INVALID_ARGUMENT when a name or a secret appears twice */
  constructor(specs: readonly TokenSpec[]) {
    const names = new Set<string>();
    const secrets = new Set<string>();
    for (const s of specs) {
      if (names.has(s.name)) throw new DidacticError('DE_INVALID_ARGUMENT', `Two tokens are named '${s.name}'`);
      if (secrets.has(s.secret)) throw new DidacticError('DE_INVALID_ARGUMENT', `The token of '${s.name}' is given twice`);
      names.add(s.name);
      secrets.add(s.secret);
    }
    this.#entries = specs.map((s) => ({ digest: digest(s.secret), identity: { name: s.name, admin: s.admin } }));
  }

  /** Whether any token is configured (without tokens the service is open, on loopback only). */
  get required(): boolean {
    return this.#entries.length > 0;
  }

  /** The identity of a presented secret, or undefined. Every entry is compared, so timing tells nothing. */
  identify(secret: string | undefined): Identity | undefined {
    if (secret === undefined) return undefined;
    const d = digest(secret);
    let found: Identity | undefined;
    for (const entry of this.#entries) if (timingSafeEqual(entry.digest, d)) found = entry.identity;
    return found;
  }
}

/** A cookie's value by name; undefined when absent or not decodable (never throws). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The token a request presents: the Authorization header; for GET and HEAD also the `access_token`
 * query parameter (EventSource cannot set headers) or the page's HttpOnly cookie. Changes (POST,
 * DELETE) need the header, so a cross-site form can never act with the cookie.
 */
export function presentedToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
  if (req.method !== 'GET' && req.method !== 'HEAD') return undefined;
  const query = req.query as Record<string, unknown> | undefined;
  if (typeof query?.access_token === 'string') return query.access_token;
  return cookieValue(req.headers.cookie, TOKEN_COOKIE);
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The client of an authenticated request; undefined on public routes and on a server without tokens. */
    identity?: Identity;
  }
  interface FastifyContextConfig {
    /** The route answers without a token (health, readiness, the page, the OpenAPI document). */
    public?: boolean;
  }
}

/** A fixed-window counter per key, with a bounded number of keys. */
class WindowCounter {
  readonly #counts = new Map<string, { count: number; resetAt: number }>();

  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxKeys = 100_000,
  ) {}

  /** Counts one request; returns the seconds to wait when the key is over its limit, else 0. */
  hit(key: string, now = Date.now()): number {
    let entry = this.#counts.get(key);
    if (!entry || entry.resetAt <= now) {
      if (!entry && this.#counts.size >= this.maxKeys) this.#sweep(now);
      entry = { count: 0, resetAt: now + this.windowMs };
      this.#counts.set(key, entry);
    }
    entry.count++;
    return entry.count > this.max ? Math.max(1, Math.ceil((entry.resetAt - now) / 1000)) : 0;
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#counts) if (entry.resetAt <= now) this.#counts.delete(key);
    // Still full (a flood of distinct keys): forget the oldest half rather than grow without bound.
    if (this.#counts.size >= this.maxKeys) {
      let drop = Math.floor(this.#counts.size / 2);
      for (const key of this.#counts.keys()) {
        if (drop-- <= 0) break;
        this.#counts.delete(key);
      }
    }
  }
}

/** What the authentication hook needs. */
export interface AuthOptions {
  tokens: TokenTable;
  /** Requests per minute per identity (or per address for requests without a valid token); 0 = unlimited. */
  rateLimitPerMinute: number;
  /** Requests per minute per address with a missing or wrong token before 429; 0 = unlimited. */
  failedAuthPerMinute: number;
}

function refuse(reply: FastifyReply, status: 401 | 429, message: string, retryAfter?: number): FastifyReply {
  if (status === 401) reply.header('www-authenticate', 'Bearer');
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply.code(status).send({ error: { code: status === 401 ? 'DE_UNAUTHORIZED' : 'DE_RATE_LIMITED', message } });
}

/**
 * Adds the authentication and rate-limit hook to the whole server (not an encapsulated plugin on
 * purpose: a route registered anywhere is protected unless it opts out with `config.public`).
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const { tokens } = options;
  const perMinute = options.rateLimitPerMinute;
  const requests = perMinute > 0 ? new WindowCounter(perMinute, 60_000) : null;
  const failures = options.failedAuthPerMinute > 0 ? new WindowCounter(options.failedAuthPerMinute, 60_000) : null;

  // onRequest runs after routing: routeOptions describes the route the router matched (or none).
  app.addHook('onRequest', async (req, reply) => {
    if (req.routeOptions.config?.public === true && req.routeOptions.url !== undefined) return;
    const secret = presentedToken(req);
    const identity = tokens.identify(secret);
    if (tokens.required && identity === undefined) {
      const wait = failures?.hit(`ip:${req.ip}`) ?? 0;
      if (wait > 0) return refuse(reply, 429, `Too many requests without a valid token; retry in ${wait} s`, wait);
      return refuse(reply, 401, secret === undefined ? 'A bearer token is required' : 'The token was not accepted');
    }
    const wait = requests?.hit(identity ? `id:${identity.name}` : `ip:${req.ip}`) ?? 0;
    if (wait > 0) return refuse(reply, 429, `Rate limit of ${perMinute} requests per minute reached; retry in ${wait} s`, wait);
    req.identity = identity;
  });
}

/** Whether `identity` may see a job filed under `owner` (admins and token-less servers see every job). */
export function canSee(identity: Identity | undefined, owner: string | undefined, tokensRequired: boolean): boolean {
  if (!tokensRequired) return true;
  if (identity === undefined) return false;
  return identity.admin || identity.name === owner;
}
