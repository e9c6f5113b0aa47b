/**
 * IdP presets (where groups/roles live) and the access policy (fail closed).
 *
 * @module
 */
import type { JWTPayload } from 'jose';
import type { SidecarConfig } from '../config/schema.js';
import type { SessionClaims } from '../store/types.js';

/** Policy slice of the config. */
export type PolicyConfig = SidecarConfig['policy'];

function atPath(claims: Record<string, unknown>, path: string): unknown {
  if (path in claims) return claims[path];
  let node: unknown = claims;
  for (const part of path.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function stringList(value: unknown): string[] {
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string' && v.length > 0);
  return [];
}

/**
 * Extracts {@link SessionClaims} from merged ID-token/UserInfo claims according to the preset.
 *
 * - `keycloak`: roles = `realm_access.roles` plus `<client>:<role>` for every `resource_access` client
 *   (the callback adds these from the verified access token when the ID token lacks them);
 *   groups from the groups claim with a leading `/` removed (full-path group mapper).
 * - `entra`: groups = `groups` (object ids); roles = `roles` (app roles). A groups overage
 *   (`_claim_names.groups`) yields no groups (fail closed).
 * - `google`: as generic; the hosted domain `hd` is enforced by {@link checkPolicy}.
 * - `generic`: groups from `policy.groupsClaim`, roles from `policy.rolesClaim` (default `roles`).
 *
 * @example
 * ```ts
 * const claims = extractClaims('keycloak', { ...idToken, ...userinfo }, config.policy)
 * ```
 */
export function extractClaims(
  preset: SidecarConfig['oidc']['preset'],
  raw: JWTPayload & Record<string, unknown>,
  policy: PolicyConfig,
): SessionClaims {
  let groups = stringList(atPath(raw, policy.groupsClaim));
  let roles: string[];
  switch (preset) {
    case 'keycloak': {
      groups = groups.map((g) => (g.startsWith('/') ? g.slice(1) : g));
      roles = policy.rolesClaim
        ? stringList(atPath(raw, policy.rolesClaim))
        : stringList(atPath(raw, 'realm_access.roles'));
      if (!policy.rolesClaim) {
        const resource = raw.resource_access;
        if (resource && typeof resource === 'object') {
          for (const [client, value] of Object.entries(resource as Record<string, unknown>)) {
            for (const role of stringList((value as { roles?: unknown } | null)?.roles))
              roles.push(`${client}:${role}`);
          }
        }
      }
      break;
    }
    case 'entra': {
      const names = raw._claim_names;
      if (names && typeof names === 'object' && 'groups' in names) groups = [];
      roles = stringList(atPath(raw, policy.rolesClaim ?? 'roles'));
      break;
    }
    default:
      roles = stringList(atPath(raw, policy.rolesClaim ?? 'roles'));
  }
  const claims: SessionClaims = { groups: [...new Set(groups)], roles: [...new Set(roles)] };
  if (typeof raw.email === 'string') claims.email = raw.email;
  if (typeof raw.email_verified === 'boolean') claims.emailVerified = raw.email_verified;
  else if (raw.email_verified === 'true') claims.emailVerified = true;
  if (typeof raw.name === 'string') claims.name = raw.name;
  if (typeof raw.preferred_username === 'string') claims.preferredUsername = raw.preferred_username;
  return claims;
}

const DOMAIN_RE = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$/;

/**
 * Strictly parses an e-mail address: exactly one `@`, non-empty local part, valid domain,
 * no whitespace or control characters. Returns the lower-cased domain or `undefined`.
 *
 * @example
 * ```ts
 * emailDomain('a@Example.com') // 'example.com'
 * emailDomain('a@evil.com@example.com') // undefined
 * ```
 */
export function emailDomain(email: string): string | undefined {
  if (/[\s\u0000-\u001f\u007f]/.test(email)) return undefined;
  const parts = email.split('@');
  if (parts.length !== 2) return undefined;
  const [local, domain] = parts as [string, string];
  if (local.length === 0 || local.length > 64) return undefined;
  const d = domain.toLowerCase();
  return DOMAIN_RE.test(d) ? d : undefined;
}

/**
 * Label-boundary domain match: `host === d` or `host` ends with `.d`.
 *
 * @example
 * ```ts
 * domainMatches('eu.example.com', 'example.com') // true
 * domainMatches('badexample.com', 'example.com') // false
 * ```
 */
export function domainMatches(host: string, allowed: string): boolean {
  const h = host.toLowerCase();
  const d = allowed.toLowerCase().replace(/^\./, '');
  return h === d || h.endsWith(`.${d}`);
}

/** Outcome of {@link checkPolicy}. */
export type PolicyResult = { ok: true } | { ok: false; reason: 'access_denied' | 'email_not_verified'; detail: string };

/**
 * Applies the access policy. Every configured constraint must pass (groups AND roles AND
 * e-mail domain); within one constraint any listed value suffices. Missing claims deny.
 * E-mail domains require `email_verified === true`; with the `google` preset the `hd`
 * claim must also be one of the allowed domains.
 *
 * @example
 * ```ts
 * const r = checkPolicy(claims, raw, config.policy, 'generic'); if (!r.ok) deny(r.reason)
 * ```
 */
export function checkPolicy(
  claims: SessionClaims,
  raw: Record<string, unknown>,
  policy: PolicyConfig,
  preset: SidecarConfig['oidc']['preset'],
): PolicyResult {
  if (policy.allowedGroups.length > 0 && !claims.groups.some((g) => policy.allowedGroups.includes(g))) {
    return { ok: false, reason: 'access_denied', detail: 'group' };
  }
  if (policy.allowedRoles.length > 0 && !claims.roles.some((r) => policy.allowedRoles.includes(r))) {
    return { ok: false, reason: 'access_denied', detail: 'role' };
  }
  if (policy.allowedEmailDomains.length > 0) {
    if (typeof claims.email !== 'string') return { ok: false, reason: 'access_denied', detail: 'email_missing' };
    if (claims.emailVerified !== true) return { ok: false, reason: 'email_not_verified', detail: 'email_not_verified' };
    const domain = emailDomain(claims.email);
    if (!domain || !policy.allowedEmailDomains.some((d) => domainMatches(domain, d))) {
      return { ok: false, reason: 'access_denied', detail: 'email_domain' };
    }
    if (preset === 'google') {
      const hd = raw.hd;
      if (typeof hd !== 'string' || !policy.allowedEmailDomains.includes(hd.toLowerCase())) {
        return { ok: false, reason: 'access_denied', detail: 'hosted_domain' };
      }
    }
  }
  return { ok: true };
}
