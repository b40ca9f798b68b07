/**
 * The web page's session: `POST /v1/session` takes the bearer token in the Authorization header and
 * sets it as an HttpOnly, SameSite=Strict cookie (Secure behind TLS), so the page's GET links
 * (report, audio, downloads) work while page script never holds the cookie; `GET /v1/session` says
 * whether the server wants a token and who the request is; `DELETE /v1/session` clears the cookie.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';

import { presentedToken, TOKEN_COOKIE, type TokenTable } from '../auth.js';
import { ErrorBodySchema, SessionSchema } from '../schemas.js';

/** How long the page's cookie lives, in seconds. */
const COOKIE_MAX_AGE_S = 12 * 3600;

function secure(req: FastifyRequest): boolean {
  return req.protocol === 'https' || req.headers['x-forwarded-proto'] === 'https';
}

function cookie(req: FastifyRequest, value: string, maxAge: number): string {
  return `${TOKEN_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure(req) ? '; Secure' : ''}`;
}

/** Registers the session routes (an encapsulated plugin). */
export async function sessionRoutes(fastify: FastifyInstance, options: { tokens: TokenTable }): Promise<void> {
  const app = fastify.withTypeProvider<ZodTypeProvider>();
  const { tokens } = options;
  const body = (req: FastifyRequest) => {
    const identity = req.identity ?? tokens.identify(presentedToken(req));
    return { token_required: tokens.required, identity: identity ? { name: identity.name, admin: identity.admin } : null };
  };

  app.get(
    '/v1/session',
    {
      config: { public: true },
      schema: {
        tags: ['session'],
        summary: 'Whether this server needs a token, and the identity of the token this request carries',
        security: [],
        response: { 200: SessionSchema },
      },
    },
    async (req) => body(req),
  );

  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['session'],
        summary: 'Sets the page’s HttpOnly token cookie from the Authorization header',
        response: { 200: SessionSchema, 401: ErrorBodySchema, 429: ErrorBodySchema },
      },
    },
    async (req, reply) => {
      const token = presentedToken(req);
      if (tokens.required && token !== undefined) reply.header('set-cookie', cookie(req, token, COOKIE_MAX_AGE_S));
      return body(req);
    },
  );

  app.delete(
    '/v1/session',
    {
      config: { public: true },
      schema: { tags: ['session'], summary: 'Clears the page’s token cookie', security: [], response: { 200: SessionSchema } },
    },
    async (req, reply) => {
      reply.header('set-cookie', cookie(req, '', 0));
      return { token_required: tokens.required, identity: null };
    },
  );
}
