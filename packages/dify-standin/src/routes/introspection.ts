/**
 * TEST-ONLY introspection. NOT PART OF DIFY: no dify-api has these routes.
 *
 * Guarded by the header `x-standin-secret` equal to `DIFY_STANDIN_INTROSPECTION_SECRET`; when that
 * secret is empty every route here answers 404, exactly like an unknown path.
 *
 * - `GET  /__standin/accounts[?email=]` — accounts with their workspace memberships
 *   (e.g. "no Dify account was created for carol").
 * - `GET  /__standin/outbox[?to=]`       — mails dify-api would have sent (codes, invitation URLs).
 * - `POST /__standin/gates/:name/release` — lets the next chunk of an SSE stream opened with
 *   `gate=<name>` go out.
 * - `POST /__standin/reset`               — back to the seed (accounts, memberships, outbox, gates).
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { StandinContext } from '../lib/context.js';

export const INTROSPECTION_HEADER = 'x-standin-secret';

function allowed(ctx: StandinContext, request: FastifyRequest): boolean {
  const secret = ctx.options.introspectionSecret;
  if (!secret) return false;
  const given = request.headers[INTROSPECTION_HEADER];
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(secret);
  return a.length === b.length && timingSafeEqual(a, b);
}

export function introspectionRoutes(app: FastifyInstance, ctx: StandinContext): void {
  app.register(
    async (scope) => {
      scope.addHook('onRequest', async (request, reply) => {
        if (!allowed(ctx, request)) {
          reply.callNotFound();
          return reply;
        }
      });

      scope.get<{ Querystring: { email?: string } }>('/accounts', async (request) => {
        const wanted = request.query.email?.toLowerCase();
        const accounts = [...ctx.db.accounts.values()]
          .filter((a) => !wanted || a.email.toLowerCase() === wanted)
          .map((a) => ({
            id: a.id,
            name: a.name,
            email: a.email,
            status: a.status,
            last_login_at: a.lastLoginAt?.toISOString() ?? null,
            memberships: ctx.db
              .membershipsOf(a.id)
              .map((m) => ({ workspace_id: m.workspaceId, role: m.role, current: m.current })),
          }));
        return { accounts };
      });

      scope.get<{ Querystring: { to?: string } }>('/outbox', async (request) => {
        const to = request.query.to?.toLowerCase();
        return { messages: ctx.outbox.filter((m) => !to || m.to.toLowerCase() === to) };
      });

      scope.post<{ Params: { name: string } }>('/gates/:name/release', async (request) => {
        let gate = ctx.gates.get(request.params.name);
        if (!gate) {
          gate = { released: 0, waiters: new Set() };
          ctx.gates.set(request.params.name, gate);
        }
        gate.released += 1;
        for (const w of [...gate.waiters]) w();
        return { released: gate.released };
      });

      scope.post('/reset', async () => {
        ctx.db.reset();
        ctx.outbox.length = 0;
        ctx.gates.clear();
        return { result: 'success' };
      });
    },
    { prefix: '/__standin' },
  );
}
