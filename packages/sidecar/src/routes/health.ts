/**
 * `GET /sso/health/live` (process is up) and `GET /sso/health/ready` (discovery + JWKS loaded
 * and store reachable; with workers, also every worker running and ready, `checks.workers`).
 * Not logged; never keyed on client-controlled data.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { isWorker, workerSetHealth } from '../lib/workers.js';
import { readiness } from '../services/readiness.js';

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
    const { oidc, store } = await readiness(app);
    // Worker mode: every worker must be running and ready (the primary's last tally).
    const set = isWorker() ? (workerSetHealth() ?? { expected: 0, ready: -1 }) : undefined;
    const workers = set === undefined || set.ready === set.expected;
    const ok = oidc && store && workers;
    return reply.code(ok ? 200 : 503).send({
      status: ok ? 'ok' : 'unavailable',
      checks: { oidc, store, ...(set ? { workers: { ready: Math.max(0, set.ready), expected: set.expected } } : {}) },
    });
  });
}

export default healthRoutes;
