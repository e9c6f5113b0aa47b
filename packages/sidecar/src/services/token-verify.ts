/**
 * Bearer verification of IdP-issued JWT access tokens (machine callers), with a cache of
 * verified tokens until their expiry.
 *
 * @module
 */
import type { JWTPayload } from 'jose';
import type { SidecarConfig } from '../config/schema.js';
import { TokenError } from '../errors.js';
import { sha256 } from '../lib/crypto.js';
import type { AuditFn } from './audit.js';
import type { OidcClient } from './oidc-client.js';

/** Claims of a verified bearer token. */
export type BearerClaims = JWTPayload & { scopes: string[] } & Record<string, unknown>;

/** Dependencies of {@link TokenVerifier}. */
export interface TokenVerifierDeps {
  bearer: SidecarConfig['bearer'];
  oidc: OidcClient;
  audit: AuditFn;
  now: () => number;
}

/**
 * Scopes of a token from `scope` (space-separated) or `scp` (array or string).
 *
 * @example
 * ```ts
 * tokenScopes({ scope: 'a b' }) // ['a', 'b']
 * ```
 */
export function tokenScopes(payload: Record<string, unknown>): string[] {
  const out = new Set<string>();
  if (typeof payload.scope === 'string') for (const s of payload.scope.split(' ')) if (s) out.add(s);
  const scp = payload.scp;
  if (typeof scp === 'string') for (const s of scp.split(' ')) if (s) out.add(s);
  if (Array.isArray(scp)) for (const s of scp) if (typeof s === 'string' && s) out.add(s);
  return [...out];
}

/**
 * Verifies bearer tokens: remote JWKS (cooldown, re-fetch on unknown kid), alg allowlist,
 * exact `iss`, required `aud`, `exp`/`nbf` with bounded skew, required scopes; rejects
 * `none`, HS*, `jku`/`x5u`/`x5c`/`jwk` headers. Verified tokens are cached until `exp`.
 *
 * @example
 * ```ts
 * const claims = await verifier.verify(token) // throws TokenError
 * ```
 */
export class TokenVerifier {
  #d: TokenVerifierDeps;
  #cache = new Map<string, { claims: BearerClaims; exp: number }>();

  constructor(deps: TokenVerifierDeps) {
    this.#d = deps;
  }

  /** Verifies `token` (without the `Bearer ` prefix). @throws {TokenError} */
  async verify(token: string): Promise<BearerClaims> {
    try {
      return await this.#verify(token);
    } catch (err) {
      const e =
        err instanceof TokenError
          ? err
          : new TokenError('ERR_TOKEN_INVALID', 'token invalid', { cause: err, reason: 'invalid' });
      this.#d.audit('auth.token.rejected', { reason: e.reason, errorCode: e.code });
      throw e;
    }
  }

  async #verify(token: string): Promise<BearerClaims> {
    const b = this.#d.bearer;
    if (b.audience.length === 0)
      throw new TokenError('ERR_TOKEN_NOT_CONFIGURED', 'bearer verification not configured', {
        reason: 'not_configured',
      });
    if (typeof token !== 'string' || token.length === 0 || token.length > 16384)
      throw new TokenError('ERR_TOKEN_INVALID', 'malformed', { reason: 'malformed' });
    const key = sha256(token);
    const nowSec = this.#d.now() / 1000;
    const hit = this.#cache.get(key);
    if (hit) {
      if (hit.exp > nowSec) return hit.claims;
      this.#cache.delete(key);
    }
    const payload = await this.#d.oidc.verifyJwt(token, {
      algorithms: b.algorithms,
      audience: [...b.audience],
      requiredClaims: ['exp', 'iss', 'aud'],
      ...(b.requiredTyp ? { typ: b.requiredTyp } : {}),
    });
    const scopes = tokenScopes(payload as Record<string, unknown>);
    const missing = b.requiredScopes.filter((s) => !scopes.includes(s));
    if (missing.length > 0) throw new TokenError('ERR_TOKEN_SCOPE', 'missing scope', { reason: 'scope' });
    const claims = { ...payload, scopes } as BearerClaims;
    if (b.cacheMaxEntries > 0 && typeof payload.exp === 'number') {
      if (this.#cache.size >= b.cacheMaxEntries) {
        for (const [k, v] of this.#cache) if (v.exp <= nowSec) this.#cache.delete(k);
        if (this.#cache.size >= b.cacheMaxEntries) this.#cache.delete(this.#cache.keys().next().value as string);
      }
      this.#cache.set(key, { claims, exp: payload.exp });
    }
    return claims;
  }
}
