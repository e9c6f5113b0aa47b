/**
 * `GET|POST /sso/break-glass`: the page where an operator redeems a one-time token
 * (`store.ts`), only from `breakGlass.cidrs`; a redeemed token sets the break-glass cookie
 * (`cookie.ts`) and sends the browser to the sign-in page, where password login is open again
 * for that client while the cookie lasts. Every refusal and use is audited
 * (`break_glass.denied`, `break_glass.used`); a refusal answers 403 `break_glass_denied`.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import type { CidrList } from '../gate/cidr.js';
import type { BreakGlassCookie } from './cookie.js';
import { redeemBreakGlassToken } from './store.js';

/** What the break-glass routes need. */
export interface BreakGlassRouteDeps {
  /** Client addresses allowed to redeem (`breakGlass.cidrs`); empty = every redemption refused. */
  readonly cidrs: CidrList;
  readonly cookie: BreakGlassCookie;
  /** The client address of a request (trusted proxies applied). */
  clientIp(request: FastifyRequest): string | undefined;
}

/**
 * Registers `GET /sso/break-glass` (the form) and `POST /sso/break-glass` (the redemption).
 *
 * @example
 * breakGlassRoutes(app, { cidrs, cookie, clientIp: (r) => r.ip })
 */
export function breakGlassRoutes(app: FastifyInstance, deps: BreakGlassRouteDeps): void {
  const sso = app.sso;
  const config = sso.config;
  const audit = (event: string, fields: Record<string, unknown>) => sso.audit(event, fields);
  app.get(SSO_PATHS.breakGlass, async (request, reply) => {
    const ip = deps.clientIp(request);
    if (deps.cidrs.entries.length === 0 || !deps.cidrs.contains(ip)) {
      audit('break_glass.denied', { request, reason: 'cidr', clientIp: ip });
      return reply.code(403).send({ code: 'break_glass_denied' });
    }
    return reply
      .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Break-glass access</title></head><body>' +
          '<h1>Break-glass access</h1><p>Paste the one-time token printed by <code>dify-sso break-glass issue</code>.</p>' +
          `<form method="post" action="${SSO_PATHS.breakGlass}"><label for="token">Token</label> <input id="token" name="token" autocomplete="off" required> <button type="submit">Reopen password login</button></form></body></html>`,
      );
  });
  app.post(SSO_PATHS.breakGlass, async (request, reply) => {
    const ip = deps.clientIp(request);
    if (deps.cidrs.entries.length === 0 || !deps.cidrs.contains(ip) || !ip) {
      audit('break_glass.denied', { request, reason: 'cidr', clientIp: ip });
      return reply.code(403).send({ code: 'break_glass_denied' });
    }
    const body = (request.body ?? {}) as Record<string, unknown>;
    const token = typeof body['token'] === 'string' ? body['token'].trim() : '';
    const result = await redeemBreakGlassToken(sso.store.kv, token);
    if (!result.ok) {
      audit('break_glass.denied', { request, reason: result.reason, clientIp: ip });
      return reply.code(403).send({ code: 'break_glass_denied' });
    }
    audit('break_glass.used', { request, clientIp: ip, windowSeconds: config.breakGlass.windowSeconds });
    reply.header('set-cookie', deps.cookie.issue(ip, config.breakGlass.windowSeconds));
    return reply.redirect(config.signinPath, 303);
  });
}
