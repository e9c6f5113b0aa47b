/**
 * `POST /console/api/logout` (the stock console's logout, dify `api/controllers/console/auth/login.py`
 * `LogoutApi`, POST since 1.9.2; docs/dify-contract.md): forwards to dify-api with the browser's
 * cookies (Dify deletes its refresh token and clears its cookies), then ends the kit session with
 * the same {@link endSession} as `POST /sso/logout` (`via: 'console'`: the IdP session is also
 * ended from the server, since the stock SPA never visits `redirect_url`), and continues to the IdP:
 * - XHR / fetch (the stock SPA): 200 `{"result":"success","redirect_url":"<IdP end-session URL or sign-in page>"}`;
 * - a form POST (Accept: text/html): 303 to that URL.
 *
 * Only from the public origin (`Origin` equal to it, or without `Origin`
 * `Sec-Fetch-Site: same-origin`); otherwise 403 `cross_site_request`, and neither Dify's nor the
 * kit's session changes.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { difyClearCookies, type DifyCookieSettings } from '../dify/contract/cookies.js';
import { CROSS_SITE_CODE, isSameOriginRequest } from '../lib/same-origin.js';
import { endSession } from './logout.js';

/** What the console logout needs from the Dify bridge. */
export interface ConsoleLogoutDeps {
  /** dify-api base URL (no trailing slash). */
  readonly apiUrl: string;
  /** Dify's cookie settings (to clear its cookies when dify-api does not answer). */
  readonly cookies: DifyCookieSettings;
  readonly fetch: typeof fetch;
}

/**
 * Registers `POST /console/api/logout`.
 *
 * @example
 * consoleLogoutRoute(app, { apiUrl: 'http://api:5001', cookies, fetch })
 */
export function consoleLogoutRoute(app: FastifyInstance, deps: ConsoleLogoutDeps): void {
  // The stock SPA posts `Content-Type: application/json` with an empty body, which dify-api accepts.
  const emptyJsonBody = {
    onRequest: async (request: FastifyRequest) => {
      if (request.headers['content-length'] === '0') delete request.headers['content-type'];
    },
  };
  app.post('/console/api/logout', emptyJsonBody, async (request, reply) => consoleLogout(app, deps, request, reply));
}

async function consoleLogout(
  app: FastifyInstance,
  deps: ConsoleLogoutDeps,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply> {
  const config = app.sso.config;
  if (!isSameOriginRequest(request, config.publicUrl)) {
    request.log.warn({ code: CROSS_SITE_CODE }, 'cross-site console logout refused');
    return reply
      .code(403)
      .header('cache-control', 'no-store')
      .send({ code: CROSS_SITE_CODE, message: 'Logout is only accepted from this site.', status: 403 });
  }
  const csrfHeader = request.headers['x-csrf-token'];
  const csrf = Array.isArray(csrfHeader) ? csrfHeader.join(',') : csrfHeader;
  const relay: string[] = [];
  try {
    const res = await deps.fetch(`${deps.apiUrl}/console/api/logout`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        ...(request.headers.cookie ? { cookie: String(request.headers.cookie) } : {}),
        ...(csrf ? { 'x-csrf-token': csrf } : {}),
      },
      signal: AbortSignal.timeout(config.dify.timeoutSeconds * 1000),
      redirect: 'manual',
    });
    relay.push(...res.headers.getSetCookie());
    await res.arrayBuffer().catch(() => undefined);
  } catch {
    request.log.warn({ code: 'ERR_DIFY_UNREACHABLE' }, 'Dify logout failed; clearing cookies locally');
  }
  if (relay.length === 0) relay.push(...difyClearCookies(deps.cookies));

  const idp = await endSession(request, reply, {
    via: 'console',
    postLogoutRedirectUri: new URL(config.signinPath, config.publicUrl).href,
  });
  for (const c of relay) reply.header('set-cookie', c);
  const target = idp?.href ?? config.signinPath;
  reply.header('cache-control', 'no-store');
  const accept = String(request.headers.accept ?? '');
  if (accept.includes('text/html') && !accept.includes('application/json')) return reply.redirect(target, 303);
  return reply.code(200).send({ result: 'success', redirect_url: target });
}
