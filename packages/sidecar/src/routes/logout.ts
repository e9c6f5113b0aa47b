/**
 * `/sso/logout`: ends the kit session.
 *
 * - `POST /sso/logout` (the console plugin's form, the confirmation page): only from the public
 *   origin (`Origin` equal to it, or without `Origin` `Sec-Fetch-Site: same-origin`; otherwise
 *   403 `cross_site_request` and nothing changes). Deletes the server session, runs the
 *   session-end hooks (Dify's seeded refresh token), clears cookies, then 303 to RP-initiated
 *   logout at the IdP (`id_token_hint`, `post_logout_redirect_uri` = same-origin target).
 * - `GET /sso/logout` changes nothing: it answers a small confirmation page (a POST form with a
 *   "Log out" button; `Cache-Control: no-store`, a CSP without scripts, no framing), so a
 *   cross-site link or image cannot end a session (`SameSite=Lax` cookies ride along on
 *   top-level GET navigations).
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalRedirect } from '../lib/redirect.js';
import { CROSS_SITE_CODE, isSameOriginRequest } from '../lib/same-origin.js';

// No `form-action`: browsers apply it to the redirects after the submission too, and the POST
// continues to the IdP's end-session endpoint (another origin). The form's action is fixed.
const CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * Registers `GET /sso/logout` (confirmation page) and `POST /sso/logout` (the logout).
 *
 * @example
 * ```ts
 * await app.register(logoutRoutes)
 * ```
 */
export async function logoutRoutes(app: FastifyInstance): Promise<void> {
  const sso = app.sso;
  app.get('/sso/logout', async (request: FastifyRequest, reply: FastifyReply) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const target = canonicalRedirect(q.redirect, sso.config.publicUrl, sso.config.signinPath);
    const hidden = target === sso.config.signinPath ? '' : `<input type="hidden" name="redirect" value="${escapeHtml(target)}">`;
    return reply
      .header('cache-control', 'no-store')
      .header('content-security-policy', CSP)
      .header('x-frame-options', 'DENY')
      .type('text/html; charset=utf-8')
      .send(
        // `same-origin` instead of the /sso/* header's `no-referrer`: under `no-referrer` browsers
        // send `Origin: null` with the form's POST, which the origin check refuses.
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="same-origin"><title>Log out</title></head><body>' +
          '<h1>Log out</h1><p>End your session on this console and at the sign-in service?</p>' +
          `<form method="post" action="/sso/logout">${hidden}<button type="submit">Log out</button></form></body></html>`,
      );
  });
  app.post('/sso/logout', async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isSameOriginRequest(request, sso.config.publicUrl)) {
      request.log.warn({ code: CROSS_SITE_CODE }, 'cross-site logout refused');
      return reply.code(403).header('cache-control', 'no-store').send({ code: CROSS_SITE_CODE, message: 'Logout is only accepted from this site.', status: 403 });
    }
    const id = sso.sessions.sessionIdOf(request);
    const record = id ? await sso.store.delete(id) : null;
    let idToken: string | undefined;
    if (record) {
      idToken = (await sso.sessions.openTokens(record))?.idToken || undefined;
      sso.audit('auth.logout', { request, iss: record.iss, sub: record.sub, ...(record.sid ? { sid: record.sid } : {}) });
      await sso.sessions.runEndHooks(record, 'logout');
    }
    sso.sessions.clearCookies(reply);
    const q = (request.query ?? {}) as Record<string, unknown>;
    const b = (request.body ?? {}) as Record<string, unknown>;
    const target = canonicalRedirect(q.redirect ?? b.redirect, sso.config.publicUrl, sso.config.signinPath);
    const endSession = await sso.oidc.endSessionUrlIfReachable({
      ...(idToken ? { idTokenHint: idToken } : {}),
      postLogoutRedirectUri: new URL(target, sso.config.publicUrl).href,
    });
    return reply.header('cache-control', 'no-store').redirect(endSession?.href ?? target, 303);
  });
}

export default logoutRoutes;
