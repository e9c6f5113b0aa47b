/**
 * The gate's view of web-app SSO ({@link WebAppGate} in `gate/decide.ts`), bound to one request.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebAppGate } from '../gate/decide.js';
import type { SessionCheck } from '../services/session.js';
import { auditWebApp, personLookup, webAppServiceOf } from './plugin.js';

/** The web-app gate of a request, or undefined when web-app SSO is off. Refusals are audited (`webapp.access`). */
export function webAppGateFor(
  app: FastifyInstance,
  request: FastifyRequest,
  check: () => Promise<unknown>,
): WebAppGate | undefined {
  const svc = webAppServiceOf(app);
  if (!svc) return undefined;
  const person = personLookup(app, request, check as () => Promise<SessionCheck>);
  const audited = async <T extends { allow: boolean }>(v: T): Promise<T> => {
    if (!v.allow) auditWebApp(app, request, await person(), v as never);
    return v;
  };
  return {
    page: async (code) => audited(await svc.page(code, person)),
    api: async (method, path, headers) => audited(await svc.api(method, path, headers, person)),
  };
}
