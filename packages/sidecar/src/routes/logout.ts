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
 * {@link endSession} is the one way a logout ends a kit session; the console logout
 * (`routes/console-logout.ts`) uses it too.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { canonicalRedirect } from '../lib/redirect.js';
import { CROSS_SITE_CODE, isSameOriginRequest } from '../lib/same-origin.js';

// No `form-action`: browsers apply it to the redirects after the submission too, and the POST
// continues to the IdP's end-session endpoint (another origin). The form's action is fixed.
const CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Options of {@link endSession}. */
export interface EndSessionOptions {
  /**
   * Which logout ends the session: `sso` (`POST /sso/logout`) or `console` (Dify's
   * `POST /console/api/logout`). The stock console never visits the IdP's end-session page, so
   * `console` also ends the IdP session from the server (best effort) and audits the outcome
   * (`via: 'console'`, `idpLogout: ended|failed|unsupported`).
   */
  readonly via: 'sso' | 'console';
  /** Where the IdP sends the browser after its end-session page (absolute URL). */
  readonly postLogoutRedirectUri: string;
}

/**
 * Ends the kit session of `request`: deletes the server session, audits `auth.logout`, runs the
 * session-end hooks (the seeded Dify refresh token is deleted), clears the kit cookies on
 * `reply`. Resolves to the IdP's end-session URL (with `id_token_hint`) when the IdP has one and
 * is reachable, else undefined. A request without a session only gets its cookies cleared.
 *
 * @example
 * ```ts
 * const idp = await endSession(request, reply, { via: 'sso', postLogoutRedirectUri: 'https://dify.example.com/signin' })
 * return reply.redirect(idp?.href ?? '/signin', 303)
 * ```
 */
export async function endSession(
  request: FastifyRequest,
  reply: FastifyReply,
  options: EndSessionOptions,
): Promise<URL | undefined> {
  const sso = request.server.sso;
  const id = sso.sessions.sessionIdOf(request);
  const record = id ? await sso.store.delete(id) : null;
  let idToken: string | undefined;
  if (record) {
    const tokens = await sso.sessions.openTokens(record);
    idToken = tokens?.idToken || undefined;
    let idp: Record<string, unknown> = {};
    if (options.via === 'console') {
      // The stock SPA ignores `redirect_url` and goes to its sign-in page, so the browser never
      // visits the IdP: end the IdP session from here too (best effort; the outcome is audited).
      const ended = await sso.oidc.endIdpSession({
        ...(idToken ? { idToken } : {}),
        ...(tokens?.refreshToken ? { refreshToken: tokens.refreshToken } : {}),
      });
      if (ended.idpLogout === 'failed')
        request.log.warn(
          { code: 'WARN_OIDC_IDP_LOGOUT_FAILED' },
          'ending the IdP session from the server failed; the browser-facing end-session URL is still returned',
        );
      idp = { via: 'console', ...ended };
    }
    sso.audit('auth.logout', {
      request,
      iss: record.iss,
      sub: record.sub,
      ...(record.sid ? { sid: record.sid } : {}),
      ...idp,
    });
    await sso.sessions.runEndHooks(record, 'logout');
  }
  sso.sessions.clearCookies(reply);
  return sso.oidc.endSessionUrlIfReachable({
    ...(idToken ? { idTokenHint: idToken } : {}),
    postLogoutRedirectUri: options.postLogoutRedirectUri,
  });
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
  app.get(SSO_PATHS.logout, async (request: FastifyRequest, reply: FastifyReply) => {
    const q = (request.query ?? {}) as Record<string, unknown>;
    const target = canonicalRedirect(q.redirect, sso.config.publicUrl, sso.config.signinPath);
    const hidden =
      target === sso.config.signinPath ? '' : `<input type="hidden" name="redirect" value="${escapeHtml(target)}">`;
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
          `<form method="post" action="${SSO_PATHS.logout}">${hidden}<button type="submit">Log out</button></form></body></html>`,
      );
  });
  app.post(SSO_PATHS.logout, async (request: FastifyRequest, reply: FastifyReply) => {
    if (!isSameOriginRequest(request, sso.config.publicUrl)) {
      request.log.warn({ code: CROSS_SITE_CODE }, 'cross-site logout refused');
      return reply
        .code(403)
        .header('cache-control', 'no-store')
        .send({ code: CROSS_SITE_CODE, message: 'Logout is only accepted from this site.', status: 403 });
    }
    const q = (request.query ?? {}) as Record<string, unknown>;
    const b = (request.body ?? {}) as Record<string, unknown>;
    const target = canonicalRedirect(q.redirect ?? b.redirect, sso.config.publicUrl, sso.config.signinPath);
    const idp = await endSession(request, reply, {
      via: 'sso',
      postLogoutRedirectUri: new URL(target, sso.config.publicUrl).href,
    });
    return reply.header('cache-control', 'no-store').redirect(idp?.href ?? target, 303);
  });
}

export default logoutRoutes;
