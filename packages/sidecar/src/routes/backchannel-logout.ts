/**
 * `POST /sso/backchannel-logout`: OpenID Connect Back-Channel Logout 1.0.
 *
 * @module
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { BackchannelLogoutInvalidError, SessionStoreError, SsoError, TokenError } from '../errors.js';
import { sha256 } from '../lib/crypto.js';
import { pendingLogoutsOf } from '../lib/pending-logouts.js';
import type { SessionRecord } from '../store/types.js';

/** The `events` member a logout token must carry. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/**
 * Registers `POST /sso/backchannel-logout`: verifies the logout token (signature, alg
 * allowlist, exact `iss`, `aud` = client id, `iat` window, `jti` replay cache, back-channel
 * `events` member, no `nonce`, `sid` and/or `sub`, `typ=logout+jwt` when configured), ends
 * every matching session, answers 200 — or 400 for any invalid token. A valid token that finds
 * the session store down is answered 503 (the OP sees the failure), audited, and kept for retry
 * until the store answers (`lib/pending-logouts.ts`).
 *
 * @example
 * ```ts
 * await app.register(backchannelLogoutRoutes)
 * ```
 */
export async function backchannelLogoutRoutes(app: FastifyInstance): Promise<void> {
  const sso = app.sso;
  const o = sso.config.oidc;
  const pending = pendingLogoutsOf(sso.store);
  pending?.configure({
    ended: (s) => sso.sessions.runEndHooks(s, 'backchannel'),
    done: (l, count) => sso.audit('auth.backchannel', { ...l, count, deferred: true }),
    log: app.log,
    ttlMs: sso.config.session.absoluteTimeoutSeconds * 1000,
  });
  app.addHook('onClose', async () => pending?.close());
  /** The store is down after the token was verified: 503 to the OP, audited, retried later. */
  const deferred = (
    request: FastifyRequest,
    err: SessionStoreError,
    l: { iss: string; sid?: string | undefined; sub?: string | undefined },
  ): never => {
    const logout = { iss: l.iss, ...(l.sid ? { sid: l.sid } : {}), ...(l.sub ? { sub: l.sub } : {}) };
    pending?.add(logout);
    sso.audit('auth.backchannel.rejected', {
      request,
      reason: err.reason,
      errorCode: err.code,
      ...logout,
      deferred: true,
    });
    throw err;
  };
  app.post(SSO_PATHS.backchannelLogout, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    const body = request.body as Record<string, unknown> | undefined;
    const token = body?.logout_token;
    let iss: string;
    let sub: string | undefined;
    let sid: string | undefined;
    try {
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (type !== 'application/x-www-form-urlencoded')
        throw new TokenError('ERR_TOKEN_INVALID', 'not form-encoded', { reason: 'content_type' });
      if (typeof token !== 'string')
        throw new TokenError('ERR_TOKEN_INVALID', 'no logout_token', { reason: 'missing' });
      const payload = await sso.oidc.verifyJwt(token, {
        algorithms: o.idTokenAlgs,
        audience: o.clientId,
        maxTokenAge: o.logoutTokenMaxAgeSeconds,
        requiredClaims: ['iss', 'aud', 'iat', 'jti'],
        ...(o.requireLogoutTokenTyp ? { typ: 'logout+jwt' } : {}),
      });
      const events = payload.events;
      if (!events || typeof events !== 'object' || Array.isArray(events))
        throw new TokenError('ERR_TOKEN_INVALID', 'no events', { reason: 'no_event' });
      const member = (events as Record<string, unknown>)[BACKCHANNEL_LOGOUT_EVENT];
      if (!member || typeof member !== 'object' || Array.isArray(member))
        throw new TokenError('ERR_TOKEN_INVALID', 'wrong event', { reason: 'wrong_event' });
      if ('nonce' in payload) throw new TokenError('ERR_TOKEN_INVALID', 'nonce present', { reason: 'nonce_present' });
      sub = typeof payload.sub === 'string' && payload.sub ? payload.sub : undefined;
      sid = typeof payload.sid === 'string' && payload.sid ? payload.sid : undefined;
      if (!sub && !sid) throw new TokenError('ERR_TOKEN_INVALID', 'no sid or sub', { reason: 'no_sid_sub' });
      if (typeof payload.jti !== 'string' || !payload.jti)
        throw new TokenError('ERR_TOKEN_INVALID', 'no jti', { reason: 'no_jti' });
      iss = payload.iss as string;
      const ttl = o.logoutTokenMaxAgeSeconds + 2 * o.clockToleranceSeconds + 60;
      const fresh = await sso.store.kv.setIfAbsent(`jti:${sha256(`${iss}\u0000${payload.jti}`)}`, '1', ttl);
      if (!fresh) throw new TokenError('ERR_TOKEN_REPLAYED', 'jti replayed', { reason: 'replayed' });
    } catch (err) {
      if (err instanceof SessionStoreError) deferred(request, err, { iss: iss!, sid, sub });
      const reason = err instanceof SsoError ? err.reason : 'invalid';
      sso.audit('auth.backchannel.rejected', {
        request,
        reason,
        errorCode: err instanceof SsoError ? err.code : 'ERR_TOKEN_INVALID',
      });
      throw new BackchannelLogoutInvalidError();
    }
    let ended: SessionRecord[];
    try {
      ended = sid ? await sso.store.deleteBySid(iss, sid) : await sso.store.deleteBySub(iss, sub as string);
    } catch (err) {
      if (err instanceof SessionStoreError) deferred(request, err, { iss, sid, sub });
      throw err;
    }
    for (const s of ended) await sso.sessions.runEndHooks(s, 'backchannel');
    sso.audit('auth.backchannel', {
      request,
      iss,
      ...(sub ? { sub } : {}),
      ...(sid ? { sid } : {}),
      count: ended.length,
    });
    return reply.code(200).send();
  });
}

export default backchannelLogoutRoutes;
