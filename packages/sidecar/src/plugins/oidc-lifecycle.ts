/**
 * The OIDC client's lifecycle as a fastify plugin: discovery starts when the app is ready and
 * its retries stop on close. The client itself is a service (`services/oidc-client.ts`).
 *
 * @module
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { OidcClient } from '../services/oidc-client.js';

/** Options of the fastify plugin. */
export interface OidcClientPluginOptions {
  client: OidcClient;
}

/**
 * Fastify plugin: starts discovery when the app is ready and stops retries on close. Throws
 * `ERR_INVALID_ARG_TYPE` at registration when `client` is not an {@link OidcClient}.
 *
 * @example
 * ```ts
 * await app.register(oidcClientPlugin, { client })
 * ```
 */
export const oidcClientPlugin = fp<OidcClientPluginOptions>(
  async (app: FastifyInstance, opts) => {
    if (!(opts?.client instanceof OidcClient)) {
      throw Object.assign(new TypeError('"client" must be an OidcClient'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    app.addHook('onReady', async () => {
      await opts.client.start();
    });
    app.addHook('onClose', async () => {
      opts.client.close();
    });
  },
  { name: 'dify-sso-oidc-client' },
);

export default oidcClientPlugin;
