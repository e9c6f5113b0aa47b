/**
 * `GET /sso/health/live` (process is up) and `GET /sso/health/ready` (discovery + JWKS loaded
 * and store reachable). Not logged; never keyed on client-controlled data.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';

/**
 * Registers the health routes.
 *
 * @example
 * ```ts
 * await app.register(healthRoutes)
 * ```
 */
export async function healthRoutes(app: FastifyInstance): Promise<void> {
  app.get(SSO_PATHS.healthLive, { logLevel: 'silent' }, async () => ({ status: 'ok' }));
  app.get(SSO_PATHS.healthReady, { logLevel: 'silent' }, async (_request, reply) => {
    const oidc = app.sso.oidc.ready;
    let store = true;
    try {
      await app.sso.store.ping();
    } catch {
      store = false;
    }
    const ok = oidc && store;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks: { oidc, store } });
  });
}

export default healthRoutes;
