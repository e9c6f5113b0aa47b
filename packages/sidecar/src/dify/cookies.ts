/**
 * Dify's console cookie names and attributes (≥1.10.0 rule; the kit supports ≥1.11.0).
 *
 * Source: dify `api/libs/token.py` (`is_secure`, `_real_cookie_name`, `set_*_to_cookie`) and
 * `api/constants/__init__.py`; summarised in dify-auth-contract.md §3.4–§3.5:
 * - `is_secure()` = CONSOLE_WEB_URL **and** CONSOLE_API_URL both start with `https`;
 * - name prefix `__Host-` iff `is_secure()` and COOKIE_DOMAIN is empty;
 * - `Secure` iff `is_secure()`; `Path=/`; `SameSite=Lax`; `Domain` = COOKIE_DOMAIN without a leading dot.
 * The sidecar must read the same three values dify-api reads.
 */
export interface DifyCookieSettings {
  /** Dify's CONSOLE_API_URL (empty in the default docker `.env`). */
  readonly consoleApiUrl: string
  /** Dify's CONSOLE_WEB_URL. */
  readonly consoleWebUrl: string
  /** Dify's COOKIE_DOMAIN. */
  readonly cookieDomain: string
}

export type DifyCookie = 'access_token' | 'refresh_token' | 'csrf_token'

export function difyIsSecure(s: DifyCookieSettings): boolean {
  return s.consoleWebUrl.startsWith('https') && s.consoleApiUrl.startsWith('https')
}

/**
 * @example
 * difyCookieName('access_token', { consoleApiUrl: 'https://d.example', consoleWebUrl: 'https://d.example', cookieDomain: '' })
 * // '__Host-access_token'
 */
export function difyCookieName(logical: DifyCookie, s: DifyCookieSettings): string {
  return difyIsSecure(s) && s.cookieDomain === '' ? `__Host-${logical}` : logical
}

/** Set-Cookie values that clear Dify's three console cookies, with Dify's own attributes. */
export function difyClearCookies(s: DifyCookieSettings): string[] {
  const secure = difyIsSecure(s)
  const domain = s.cookieDomain.replace(/^\./, '')
  return (['access_token', 'refresh_token', 'csrf_token'] as const).map((c) => {
    const parts = [`${difyCookieName(c, s)}=`, 'Expires=Thu, 01 Jan 1970 00:00:00 GMT', 'Max-Age=0', 'Path=/', 'SameSite=Lax']
    if (c !== 'csrf_token') parts.push('HttpOnly')
    if (secure) parts.push('Secure')
    if (domain) parts.push(`Domain=${domain}`)
    return parts.join('; ')
  })
}

/**
 * Reads a cookie from a raw Cookie header the way werkzeug does for `request.cookies.get`:
 * the first occurrence wins.
 */
export function readCookie(header: string | string[] | undefined, name: string): string | undefined {
  if (!header) return undefined
  const text = Array.isArray(header) ? header.join('; ') : header
  for (const part of text.split(';')) {
    const i = part.indexOf('=')
    if (i === -1) continue
    if (part.slice(0, i).trim() === name) {
      let v = part.slice(i + 1).trim()
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1)
      return v
    }
  }
  return undefined
}

/**
 * The `user_id` claim of a Dify console access token, read **without** verifying the
 * signature (dify-api verifies it with SECRET_KEY, which the sidecar never holds; the gate only
 * compares the claim with the account of a live kit session). Tokens carrying `token_source`
 * (web-app tokens) are not console tokens and yield undefined (dify-auth-contract.md §3.1).
 */
export function accessTokenUserId(token: string | undefined): string | undefined {
  if (!token) return undefined
  const parts = token.split('.')
  if (parts.length !== 3) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8'))
    if (typeof payload !== 'object' || payload === null) return undefined
    const p = payload as Record<string, unknown>
    if ('token_source' in p) return undefined
    return typeof p['user_id'] === 'string' && p['user_id'] !== '' ? p['user_id'] : undefined
  } catch {
    return undefined
  }
}

/** Extracts name=value from a Set-Cookie header value. */
export function setCookieNameValue(setCookie: string): { name: string; value: string } | undefined {
  const first = setCookie.split(';', 1)[0] ?? ''
  const i = first.indexOf('=')
  if (i <= 0) return undefined
  return { name: first.slice(0, i).trim(), value: first.slice(i + 1).trim() }
}
