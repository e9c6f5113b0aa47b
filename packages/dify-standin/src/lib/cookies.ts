/**
 * Dify's console cookie contract (≥1.9.2): names, attributes and the `__Host-` naming rule.
 *
 * follows api/libs/token.py (1.12.1–main) and api/constants/__init__.py: `is_secure()`,
 * `_cookie_domain()`, `_real_cookie_name()`, `set_*_to_cookie`, `_clear_cookie`; attribute order as
 * Werkzeug's `dump_cookie` writes it.
 */
import type { VersionFeatures } from '../version.js';

/** Logical cookie names (api/constants/__init__.py). */
export const COOKIE_ACCESS_TOKEN = 'access_token';
export const COOKIE_REFRESH_TOKEN = 'refresh_token';
export const COOKIE_CSRF_TOKEN = 'csrf_token';
/** `HEADER_NAME_CSRF_TOKEN` (api/constants/__init__.py). */
export const HEADER_CSRF_TOKEN = 'x-csrf-token';

export interface CookieRuleInput {
  readonly consoleApiUrl: string;
  readonly consoleWebUrl: string;
  readonly cookieDomain: string;
  readonly features: Pick<VersionFeatures, 'cookieDomain'>;
}

/** `is_secure()`: both console URLs start with `https`; the request scheme is ignored. */
export function isSecure(input: Pick<CookieRuleInput, 'consoleApiUrl' | 'consoleWebUrl'>): boolean {
  return input.consoleWebUrl.startsWith('https') && input.consoleApiUrl.startsWith('https');
}

/** `_cookie_domain()` (≥1.10.0): `COOKIE_DOMAIN` stripped, one leading dot removed; null = host-only. */
export function cookieDomain(input: CookieRuleInput): string | null {
  if (!input.features.cookieDomain) return null;
  const d = input.cookieDomain.trim().replace(/^\./, '');
  return d === '' ? null : d;
}

/**
 * `_real_cookie_name()`: `__Host-<name>` iff secure and (≥1.10.0) no cookie domain.
 *
 * @example realCookieName('access_token', { consoleApiUrl: 'https://a', consoleWebUrl: 'https://a', cookieDomain: '', features }) // '__Host-access_token'
 */
export function realCookieName(name: string, input: CookieRuleInput): string {
  return isSecure(input) && cookieDomain(input) === null ? `__Host-${name}` : name;
}

/** Werkzeug's `http_date`. */
function httpDate(epochMs: number): string {
  return new Date(epochMs).toUTCString();
}

export interface DifyCookie {
  name: string;
  value: string;
  httpOnly: boolean;
  /** seconds; undefined with `expiresEpoch0` for clearing */
  maxAge?: number;
  clear?: boolean;
  sameSite: 'Lax' | 'None' | 'Strict';
}

/** Serialise one Set-Cookie value as dify-api (Werkzeug) does. */
export function serializeCookie(cookie: DifyCookie, rule: CookieRuleInput, nowMs: number): string {
  const parts = [`${realCookieName(cookie.name, rule)}=${cookie.value}`];
  const domain = cookieDomain(rule);
  if (domain !== null) parts.push(`Domain=${domain}`);
  if (cookie.clear) {
    parts.push(`Expires=${httpDate(0)}`);
  } else if (cookie.maxAge !== undefined) {
    parts.push(`Expires=${httpDate(nowMs + cookie.maxAge * 1000)}`);
    parts.push(`Max-Age=${cookie.maxAge}`);
  }
  if (isSecure(rule)) parts.push('Secure');
  if (cookie.httpOnly) parts.push('HttpOnly');
  parts.push('Path=/');
  parts.push(`SameSite=${cookie.sameSite}`);
  return parts.join('; ');
}

export interface TokenTriple {
  accessToken: string;
  refreshToken: string;
  csrfToken: string;
}

export interface CookieLifetimes {
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
}

/**
 * Which endpoint writes the cookies decides their order (observed on 1.12.1 and 1.16.1):
 * `login` — `POST /login` (access, refresh, CSRF); `refresh` — `POST /refresh-token` and
 * `POST /email-code-login/validity` (CSRF, access, refresh).
 */
export type CookieOrder = 'login' | 'refresh';

/** The three Set-Cookie values of a login or refresh, in the order the endpoint writes them. */
export function sessionCookies(
  tokens: TokenTriple,
  rule: CookieRuleInput,
  life: CookieLifetimes,
  nowMs: number,
  order: CookieOrder = 'refresh',
): string[] {
  const csrf = serializeCookie(
    {
      name: COOKIE_CSRF_TOKEN,
      value: tokens.csrfToken,
      httpOnly: false,
      maxAge: Math.trunc(60 * life.accessTokenExpireMinutes),
      sameSite: 'Lax',
    },
    rule,
    nowMs,
  );
  const access = serializeCookie(
    {
      name: COOKIE_ACCESS_TOKEN,
      value: tokens.accessToken,
      httpOnly: true,
      maxAge: Math.trunc(life.accessTokenExpireMinutes * 60),
      sameSite: 'Lax',
    },
    rule,
    nowMs,
  );
  const refresh = serializeCookie(
    {
      name: COOKIE_REFRESH_TOKEN,
      value: tokens.refreshToken,
      httpOnly: true,
      maxAge: Math.trunc(60 * 60 * 24 * life.refreshTokenExpireDays),
      sameSite: 'Lax',
    },
    rule,
    nowMs,
  );
  return order === 'login' ? [access, refresh, csrf] : [csrf, access, refresh];
}

/** The three clearing Set-Cookie values written by logout (`_clear_cookie`). */
export function clearingCookies(rule: CookieRuleInput, nowMs: number): string[] {
  return [
    serializeCookie(
      { name: COOKIE_ACCESS_TOKEN, value: '', httpOnly: true, clear: true, sameSite: 'Lax' },
      rule,
      nowMs,
    ),
    serializeCookie(
      { name: COOKIE_REFRESH_TOKEN, value: '', httpOnly: true, clear: true, sameSite: 'Lax' },
      rule,
      nowMs,
    ),
    serializeCookie({ name: COOKIE_CSRF_TOKEN, value: '', httpOnly: false, clear: true, sameSite: 'Lax' }, rule, nowMs),
  ];
}

/** Parse a Cookie request header (first occurrence of a name wins, as Werkzeug does). */
export function parseCookieHeader(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    if (name && !out.has(name)) out.set(name, value);
  }
  return out;
}
