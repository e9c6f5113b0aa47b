/**
 * The gate's handling of identity and routing headers a client must never be able to set on a
 * request that reaches dify-api through the kit. The names are defined once in the vocabulary
 * package (`packages/vocabulary/src/headers.ts`), which the nginx generator reads too.
 */
import { CLIENT_RESERVED_HEADERS, IDENTITY_HEADERS, IDENTITY_HEADER_PREFIXES } from '@dify-sso-kit/vocabulary';

export { CLIENT_RESERVED_HEADERS, IDENTITY_HEADERS, IDENTITY_HEADER_PREFIXES };

export function normaliseHeaderName(name: string): string {
  return name.toLowerCase().replace(/_/g, '-');
}

export function isIdentityHeader(name: string): boolean {
  const n = normaliseHeaderName(name);
  return IDENTITY_HEADERS.includes(n) || IDENTITY_HEADER_PREFIXES.some((p) => n.startsWith(p));
}

/**
 * Returns a copy of `headers` without any identity header, in any spelling.
 *
 * @example
 * stripIdentityHeaders({ 'X_Forwarded_User': 'admin', accept: '*' }) // { accept: '*' }
 */
export function stripIdentityHeaders<T>(headers: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (!isIdentityHeader(k)) out[k] = v;
  }
  return out;
}

/**
 * The **header rule** of the gate (README "Security considerations"): the name of the first
 * request header the gate refuses (400 `identity_header`), or undefined.
 *
 * - a name with a reserved prefix ({@link IDENTITY_HEADER_PREFIXES}, in any spelling: case,
 *   `_` for `-`), unless it is in `allowed` (the client's `X-Sso-Token`; the gate secret nginx
 *   itself puts on the `auth_request` subrequest);
 * - a listed name ({@link IDENTITY_HEADERS}) spelled with `_`: no client or proxy has a reason
 *   to, and a program between the gate and Dify might read it as the `-` name.
 *
 * Listed names in their ordinary spelling are not refused — front proxies routinely set some
 * (`X-Real-IP`) — but removed on the way to Dify in both modes: nginx blanks every listed name
 * on every location that proxies to Dify ({@link nginxBlankDirectives}), reverse-proxy mode strips
 * them ({@link stripIdentityHeaders}). Prefixed names are refused because nginx cannot blank a
 * prefix: refusing them at the gate is the only way nginx mode can keep them from Dify.
 *
 * @example
 * refusedIdentityHeader(['accept', 'X-Sso-Role']) // 'x-sso-role'
 * refusedIdentityHeader(['x-sso-token'], ['x-sso-token']) // undefined
 */
export function refusedIdentityHeader(names: Iterable<string>, allowed: readonly string[] = []): string | undefined {
  for (const name of names) {
    const n = normaliseHeaderName(name);
    if (IDENTITY_HEADER_PREFIXES.some((p) => n.startsWith(p)) && !(allowed.includes(n) && n === name.toLowerCase()))
      return n;
    if (name.includes('_') && IDENTITY_HEADERS.includes(n)) return n;
  }
  return undefined;
}

/** `x-forwarded-user` → `X-Forwarded-User` (nginx matches header names case-insensitively). */
function displayName(n: string): string {
  return n.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/**
 * One `proxy_set_header <Name> "";` per {@link IDENTITY_HEADERS} entry (nginx sends no header
 * whose value is empty), minus `except` (names the location sets itself).
 *
 * @example
 * nginxBlankDirectives(['x-workspace-id'])[0] // 'proxy_set_header X-Forwarded-User "";'
 */
export function nginxBlankDirectives(except: readonly string[] = []): string[] {
  const skip = except.map(normaliseHeaderName);
  return IDENTITY_HEADERS.filter((n) => !skip.includes(n)).map((n) => `proxy_set_header ${displayName(n)} "";`);
}
