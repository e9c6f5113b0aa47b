/**
 * Identity and routing headers a client must never be able to set on a request that reaches
 * dify-api through the kit. Matching is on the normalised name (lower case, `_` → `-`), so
 * `X_Forwarded_User`, `x-forwarded-user` and `X-FORWARDED-USER` are one header
 * (oauth2-proxy GHSA-vjrc-mh2v-45x6; security baseline §3 item 19).
 *
 * `x-workspace-id` is listed because dify-api reads it together with `ADMIN_API_KEY` to pick the
 * workspace an admin-key request runs in (dify-auth-contract.md §4.1); only the gate may set it.
 */
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
]

/** Header-name prefixes reserved for the kit and common auth proxies. */
export const IDENTITY_HEADER_PREFIXES: readonly string[] = ['x-auth-request-', 'x-sso-', 'x-dify-sso-']

export function normaliseHeaderName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-')
}

export function isIdentityHeader(name: string): boolean {
  const n = normaliseHeaderName(name)
  return IDENTITY_HEADERS.includes(n) || IDENTITY_HEADER_PREFIXES.some((p) => n.startsWith(p))
}

/**
 * Returns a copy of `headers` without any identity header, in any spelling.
 *
 * @example
 * stripIdentityHeaders({ 'X_Forwarded_User': 'admin', accept: '*' }) // { accept: '*' }
 */
export function stripIdentityHeaders<T>(headers: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {}
  for (const [k, v] of Object.entries(headers)) {
    if (!isIdentityHeader(k)) out[k] = v
  }
  return out
}
