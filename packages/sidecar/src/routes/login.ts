/**
 * `GET /sso/login?redirect=<path>[&invite_token=<t>]`: starts the authorization code flow. A Dify
 * invitation token (from a `/signin?invite_token=` page) rides along in the sealed transaction
 * cookie to the after-login hooks, as on the stock SSO button's path.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { SsoError, signInReason } from '../errors.js';

/**
 * Registers `GET /sso/login`.
 *
 * @example
 * ```ts
 * await app.register(loginRoutes)
 * ```
 */
export async function loginRoutes(app: FastifyInstance): Promise<void> {
  app.get(SSO_PATHS.login, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    try {
      const { url } = await app.sso.beginLogin(request, reply, {
        ...(typeof q.redirect === 'string' ? { redirect: q.redirect } : {}),
        ...(typeof q.invite_token === 'string' && q.invite_token !== '' ? { inviteToken: q.invite_token } : {}),
      });
      return reply.redirect(url, 302);
    } catch (err) {
      if (err instanceof SsoError) {
        app.sso.audit('auth.login.failure', { request, reason: err.reason, errorCode: err.code });
        return reply.redirect(app.sso.signinUrl(signInReason(err)), 302);
      }
      throw err;
    }
  });
}

export default loginRoutes;
