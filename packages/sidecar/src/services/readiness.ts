/**
 * Readiness of one process, shared by `/sso/health/ready` and the worker supervisor.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';

/**
 * This process's readiness: the IdP discovered and the store answering.
 *
 * @example
 * const { oidc, store } = await readiness(app)
 */
export async function readiness(app: FastifyInstance): Promise<{ oidc: boolean; store: boolean }> {
  const oidc = app.sso.oidc.ready;
  let store = true;
  try {
    await app.sso.store.ping();
  } catch {
    store = false;
  }
  return { oidc, store };
}
