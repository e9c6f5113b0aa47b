/**
 * Header names the gate reserves. Identity and routing headers a client must never be able to
 * set on a request that reaches dify-api through the kit: the reverse-proxy gate strips them and
 * the generated nginx configuration blanks each of them in every proxying location, both from
 * this one list. Matching is on the normalised name (lower case, `_` → `-`), so
 * `X_Forwarded_User`, `x-forwarded-user` and `X-FORWARDED-USER` are one header
 * (oauth2-proxy GHSA-vjrc-mh2v-45x6, GHSA-7x63-xv5r-3p2x).
 *
 * `x-workspace-id` is listed because dify-api reads it together with `ADMIN_API_KEY` to pick the
 * workspace an admin-key request runs in (docs/dify-contract.md §4.1); only the gate may set it.
 *
 * @module
 */

/** Identity and routing headers, normalised (lower case, `-`). */
export const IDENTITY_HEADERS: readonly string[] = [
  'x-forwarded-user',
  'x-forwarded-email',
  'x-forwarded-preferred-username',
  'x-forwarded-groups',
  'x-forwarded-access-token',
  'x-forwarded-uri',
  'x-original-uri',
  'x-original-url',
  'x-original-method',
  'x-rewrite-url',
  'x-remote-user',
  'x-remote-email',
  'remote-user',
  'x-user',
  'x-user-id',
  'x-email',
  'x-auth-user',
  'x-workspace-id',
  'x-real-ip',
  // Names inside the reserved prefixes that the kit or common auth proxies use: blanked by name
  // in nginx mode on every location (nginx cannot blank by prefix).
  'x-auth-request-user',
  'x-auth-request-email',
  'x-auth-request-groups',
  'x-auth-request-preferred-username',
  'x-auth-request-access-token',
  'x-sso-token',
  'x-sso-gate-secret',
  'x-sso-upstream-authorization',
  'x-sso-upstream-workspace-id',
];

/** Header-name prefixes reserved for the kit and common auth proxies. */
export const IDENTITY_HEADER_PREFIXES: readonly string[] = ['x-auth-request-', 'x-sso-', 'x-dify-sso-'];

/** The IdP bearer JWT a client sends next to a Dify app key on the service API (`/v1`). */
export const SERVICE_TOKEN_HEADER = 'x-sso-token';

/**
 * Reserved-prefix names a client may legitimately send: the gate reads them and they are never
 * forwarded (`X-Sso-Token`: the IdP bearer next to a Dify app key on `/v1`).
 */
export const CLIENT_RESERVED_HEADERS: readonly string[] = [SERVICE_TOKEN_HEADER];
