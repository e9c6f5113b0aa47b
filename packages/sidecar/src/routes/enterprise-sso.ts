/**
 * Compatibility with the SSO button the stock sign-in page already renders when
 * `system-features` enforces SSO (docs/dify-contract.md §5; dify `web/app/signin/components/sso-auth.tsx`):
 * - `GET /console/api/enterprise/sso/oidc/login[?invite_token=…]` starts a login exactly like
 *   `GET /sso/login` and answers `{url, state}` (the page stores `state` in a JS-readable cookie
 *   and navigates to `url`; the sidecar's own sealed transaction cookie is set on this answer);
 * - every other `/console/api/enterprise/*` path answers 404. No licence or enterprise data is
 *   ever faked.
 *
 * @module
 */
import type { FastifyInstance } from 'fastify';
import { SsoError } from '../errors.js';

/**
 * Registers the `/console/api/enterprise/*` compatibility routes.
 *
 * @example
 * enterpriseSsoRoutes(app)
 */
export function enterpriseSsoRoutes(app: FastifyInstance): void {
  const sso = app.sso;
  app.get<{ Params: { protocol: string }; Querystring: { invite_token?: string } }>(
    '/console/api/enterprise/sso/:protocol/login',
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      if (request.params.protocol !== 'oidc')
        return reply.code(404).send({ code: 'not_found', message: 'Only the oidc protocol is served.', status: 404 });
      const invite = request.query.invite_token;
      try {
        const { url, state } = await sso.beginLogin(
          request,
          reply,
          typeof invite === 'string' && invite !== '' ? { inviteToken: invite } : {},
        );
        return reply.send({ url, state });
      } catch (err) {
        if (err instanceof SsoError && err.reason === 'idp_unavailable')
          return reply
            .code(503)
            .send({ code: 'idp_unavailable', message: 'The identity provider is not available.', status: 503 });
        throw err;
      }
    },
  );
  app.all('/console/api/enterprise/*', async (_request, reply) =>
    reply
      .code(404)
      .header('cache-control', 'no-store')
      .send({ code: 'not_found', message: 'The requested URL was not found on the server.', status: 404 }),
  );
}
