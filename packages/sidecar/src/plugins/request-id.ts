/**
 * Request ids: every request gets a fresh CSPRNG id (client-supplied ids are not trusted),
 * echoed in `X-Request-Id` and logged with every line and audit event.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';

/**
 * `genReqId` for fastify: a random UUID.
 *
 * @example
 * ```ts
 * fastify({ genReqId: generateRequestId })
 * ```
 */
export function generateRequestId(): string {
  return randomUUID();
}

/**
 * Fastify plugin adding `X-Request-Id` to every response.
 *
 * @example
 * ```ts
 * await app.register(requestIdPlugin)
 * ```
 */
export const requestIdPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRequest', (request, reply, done) => {
      reply.header('x-request-id', request.id);
      done();
    });
  },
  { name: 'dify-sso-request-id' },
);

export default requestIdPlugin;
