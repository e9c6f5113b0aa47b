/**
 * `GET|POST /sso/logout`: deletes the server session, clears cookies, then RP-initiated
 * logout at the IdP (`id_token_hint`, `post_logout_redirect_uri` = same-origin target).
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalRedirect } from '../lib/redirect.js';

/**
 * Registers `GET /sso/logout` and `POST /sso/logout`.
 *
 * @example
 * ```ts
 * await app.register(logoutRoutes)
 * ```
 */
export async function logoutRoutes(app: FastifyInstance): Promise<void> {
  const sso = app.sso;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
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
    return reply.redirect(endSession?.href ?? target, request.method === 'POST' ? 303 : 302);
  };
  app.get('/sso/logout', handler);
  app.post('/sso/logout', handler);
}

export default logoutRoutes;
