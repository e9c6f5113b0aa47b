/**
 * `GET /sso/callback`: state, code exchange, ID token + UserInfo validation, access policy,
 * fresh session, after-login hooks, redirect. Every failure goes to the sign-in page with a
 * reason code; IdP bodies and token material never reach the browser or the logs.
 *
 * @module
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { SsoError, signInReason, type ReasonCode } from '../errors.js';
import { checkPolicy, extractClaims } from '../lib/access-policy.js';
import { canonicalRedirect } from '../lib/redirect.js';
import type { SidecarConfig } from '../config/schema.js';
import type { OidcClient } from '../services/oidc-client.js';

const OWN_CLAIMS = new Set([
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'nonce',
  'azp',
  'jti',
  'auth_time',
  'at_hash',
  'c_hash',
  'sid',
]);

/**
 * Keycloak puts realm and client roles into its (JWT) access token, not into the ID token or
 * UserInfo, unless a mapper says so. With the `keycloak` preset, read them from the access
 * token after verifying it (JWKS signature, alg allowlist, exact `iss`, `azp` = our client,
 * same `sub`). An opaque or unverifiable access token yields no roles (role policies then deny).
 */
async function keycloakRolesFromAccessToken(
  oidc: OidcClient,
  accessToken: string,
  o: SidecarConfig['oidc'],
  sub: string,
): Promise<Record<string, unknown>> {
  try {
    const at = await oidc.verifyJwt(accessToken, { algorithms: o.idTokenAlgs, requiredClaims: ['exp'] });
    if (at.azp !== o.clientId || at.sub !== sub) return {};
    const out: Record<string, unknown> = {};
    if (at.realm_access !== undefined) out.realm_access = at.realm_access;
    if (at.resource_access !== undefined) out.resource_access = at.resource_access;
    return out;
  } catch {
    return {};
  }
}

/**
 * Registers `GET /sso/callback`.
 *
 * @example
 * ```ts
 * await app.register(callbackRoutes)
 * ```
 */
export async function callbackRoutes(app: FastifyInstance): Promise<void> {
  const sso = app.sso;
  const config = sso.config;

  const fail = (
    request: FastifyRequest,
    reply: FastifyReply,
    reason: ReasonCode,
    fields: Record<string, unknown> = {},
  ) => {
    sso.audit('auth.login.failure', { request, reason, ...fields });
    return reply.redirect(sso.signinUrl(reason), 302);
  };

  app.get(SSO_PATHS.callback, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const qi = request.url.indexOf('?');
    const search = qi >= 0 ? request.url.slice(qi) : '';

    let tx;
    try {
      tx = await sso.sessions.consumeTransaction(request, reply, q.state);
    } catch (err) {
      if (err instanceof SsoError) return fail(request, reply, signInReason(err), { errorCode: err.code });
      throw err;
    }
    if (typeof q.error === 'string') {
      const idpError = /^[a-z_]{1,64}$/.test(q.error) ? q.error : 'other';
      return fail(request, reply, 'idp_error', { errorCode: 'ERR_OIDC_CALLBACK_ERROR', idpError });
    }

    let result;
    try {
      result = await sso.oidc.exchange(search, tx);
    } catch (err) {
      if (err instanceof SsoError) return fail(request, reply, signInReason(err), { errorCode: err.code });
      throw err;
    }
    const { idClaims, userinfo, tokens } = result;
    const raw: Record<string, unknown> = { ...idClaims };
    for (const [k, v] of Object.entries(userinfo)) if (!OWN_CLAIMS.has(k)) raw[k] = v;
    const iss = idClaims.iss as string;
    const sub = idClaims.sub as string;
    if (config.oidc.preset === 'keycloak' && raw.realm_access === undefined && raw.resource_access === undefined) {
      Object.assign(raw, await keycloakRolesFromAccessToken(sso.oidc, tokens.accessToken, config.oidc, sub));
    }
    const sid = typeof idClaims.sid === 'string' ? idClaims.sid : undefined;

    const claims = extractClaims(config.oidc.preset, raw, config.policy);
    const decision = checkPolicy(claims, raw, config.policy, config.oidc.preset);
    if (!decision.ok) {
      return fail(request, reply, decision.reason, {
        errorCode: decision.reason === 'email_not_verified' ? 'ERR_OIDC_EMAIL_NOT_VERIFIED' : 'ERR_OIDC_ACCESS_DENIED',
        iss,
        sub,
        detail: decision.detail,
      });
    }

    const session = await sso.sessions.createSession(request, reply, {
      iss,
      sub,
      ...(sid ? { sid } : {}),
      claims,
      tokens,
    });
    let redirectTo = tx.redirect;
    const relay: string[] = [];
    try {
      for (const hook of sso.afterLoginHooks) {
        const current = (await sso.store.get(session.id)) ?? session;
        const r = await hook({
          request,
          reply,
          session: current,
          claims: raw,
          redirectTo,
          ...(tx.inviteToken ? { inviteToken: tx.inviteToken } : {}),
        });
        if (r?.redirectTo) redirectTo = canonicalRedirect(r.redirectTo, config.publicUrl, config.homePath);
        if (r?.setCookie) relay.push(...r.setCookie);
      }
    } catch (err) {
      const gone = await sso.store.delete(session.id);
      sso.sessions.clearCookies(reply);
      if (gone) await sso.sessions.runEndHooks(gone, 'logout');
      const reason = signInReason(err);
      if (!(err instanceof SsoError)) request.log.error({ code: 'ERR_SESSION_HOOK' }, 'after-login hook failed');
      return fail(request, reply, reason, {
        errorCode: err instanceof SsoError ? err.code : 'ERR_SESSION_HOOK',
        iss,
        sub,
      });
    }
    if (relay.length > 0) {
      const existing = reply.getHeader('set-cookie');
      const list = existing === undefined ? [] : Array.isArray(existing) ? existing.map(String) : [String(existing)];
      reply.header('set-cookie', [...list, ...relay]);
    }
    sso.audit('auth.login.success', { request, iss, sub, ...(sid ? { sid } : {}) });
    return reply.redirect(redirectTo, 302);
  });
}

export default callbackRoutes;
