/**
 * Dify's console cookie names and attributes (≥1.10.0 rule; the kit supports ≥1.11.0).
 *
 * Source: dify `api/libs/token.py` (`is_secure`, `_real_cookie_name`, `set_*_to_cookie`) and
 * `api/constants/__init__.py`; summarised in docs/dify-contract.md §3.4–§3.5:
 * - `is_secure()` = CONSOLE_WEB_URL **and** CONSOLE_API_URL both start with `https`;
 * - name prefix `__Host-` iff `is_secure()` and COOKIE_DOMAIN is empty;
 * - `Secure` iff `is_secure()`; `Path=/`; `SameSite=Lax`; `Domain` = COOKIE_DOMAIN without a leading dot.
 * The sidecar must read the same three values dify-api reads.
 */
export interface DifyCookieSettings {
  /** Dify's CONSOLE_API_URL (empty in the default docker `.env`). */
  readonly consoleApiUrl: string;
  /** Dify's CONSOLE_WEB_URL. */
  readonly consoleWebUrl: string;
  /** Dify's COOKIE_DOMAIN. */
  readonly cookieDomain: string;
}

export type DifyCookie = 'access_token' | 'refresh_token' | 'csrf_token';

export function difyIsSecure(s: DifyCookieSettings): boolean {
  return s.consoleWebUrl.startsWith('https') && s.consoleApiUrl.startsWith('https');
}

/**
 * @example
 * difyCookieName('access_token', { consoleApiUrl: 'https://d.example', consoleWebUrl: 'https://d.example', cookieDomain: '' })
 * // '__Host-access_token'
 */
export function difyCookieName(logical: DifyCookie, s: DifyCookieSettings): string {
  return difyIsSecure(s) && s.cookieDomain === '' ? `__Host-${logical}` : logical;
}

/** Set-Cookie values that clear Dify's three console cookies, with Dify's own attributes. */
export function difyClearCookies(s: DifyCookieSettings): string[] {
  const secure = difyIsSecure(s);
  const domain = s.cookieDomain.replace(/^\./, '');
  return (['access_token', 'refresh_token', 'csrf_token'] as const).map((c) => {
    const parts = [
      `${difyCookieName(c, s)}=`,
      'Expires=Thu, 01 Jan 1970 00:00:00 GMT',
      'Max-Age=0',
      'Path=/',
      'SameSite=Lax',
    ];
    if (c !== 'csrf_token') parts.push('HttpOnly');
    if (secure) parts.push('Secure');
    if (domain) parts.push(`Domain=${domain}`);
    return parts.join('; ');
  });
}

// ---- Cookie header parsing, exactly as werkzeug reads it ----------------------------------------
//
// dify-api reads cookies with Flask's `request.cookies` (werkzeug `sansio/http.py` `parse_cookie`,
// werkzeug 3.1.6 as pinned in dify `api/uv.lock`) and `request.cookies.get(name)`, which returns the
// FIRST value of a name (dify `api/libs/token.py`). The regular expression, the whitespace set
// (`re.ASCII` `\s`), Python's `str.strip()` and the quoted-value unescaping below are transcribed
// from that version; `test/dify/cookies.test.ts` holds a table of werkzeug's own results.

/** werkzeug `_cookie_re` (re.ASCII | re.VERBOSE): `\s` is [ \t\n\r\f\v], `.` is anything but `\n`. */
const COOKIE_RE =
  /([^=;]*)(?:[ \t\n\r\f\v]*=[ \t\n\r\f\v]*("(?:[^\\"]|\\[^\n])*"|[^\n]*?))?[ \t\n\r\f\v]*;[ \t\n\r\f\v]*/g;
/** werkzeug `_cookie_unslash_re`, applied to the UTF-8 bytes (here: a latin1 view of them). */
const UNSLASH_RE = /\\([0-3][0-7]{2}|[^\n])/g;
/** Characters Python's `str.isspace()` is true for (what `str.strip()` removes). */
const PY_SPACE =
  '\t\n\u000b\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000';
const UTF8 = new TextDecoder('utf-8', { fatal: false });

function pyStrip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && PY_SPACE.includes(s[a] as string)) a++;
  while (b > a && PY_SPACE.includes(s[b - 1] as string)) b--;
  return s.slice(a, b);
}

function unquote(cv: string): string {
  if (cv.length < 2 || cv[0] !== '"' || cv[cv.length - 1] !== '"') return cv;
  const bytes = Buffer.from(cv.slice(1, -1), 'utf8').toString('latin1');
  const unslashed = bytes.replace(UNSLASH_RE, (_m, v: string) =>
    v.length === 1 ? v : String.fromCharCode(parseInt(v, 8)),
  );
  return UTF8.decode(Buffer.from(unslashed, 'latin1'));
}

/**
 * The Cookie header as the client sent it: one string, or every line when there were several
 * (Node joins them with `; `, gunicorn with `,`: the gate refuses such a header on console paths).
 *
 * @example
 * cookieLines(request.raw) // 'a=1; b=2' or ['a=1', 'b=2']
 */
export function cookieLines(req: {
  readonly headers: { readonly cookie?: string | undefined };
  readonly rawHeaders: readonly string[];
}): string | string[] | undefined {
  const lines: string[] = [];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2)
    if ((raw[i] as string).toLowerCase() === 'cookie') lines.push(raw[i + 1] as string);
  return lines.length > 1 ? lines : req.headers.cookie;
}

/** One `name=value` pair as werkzeug reads it, with the span of header text it came from. */
export interface CookiePair {
  readonly name: string;
  readonly value: string;
  /** Raw value text before unquoting (undefined for a bare name). */
  readonly rawValue: string | undefined;
  /** Span in the joined header text, including the `;` separator and surrounding whitespace. */
  readonly start: number;
  readonly end: number;
}

/** A Cookie header parsed the way werkzeug does, plus what the gate needs to spot ambiguity. */
export interface ParsedCookieHeader {
  /** The header text parsed (several header lines joined with `; `, as Node does). */
  readonly text: string;
  /** Pairs in order; werkzeug drops pairs with an empty name, so do we. */
  readonly pairs: readonly CookiePair[];
  /** More than one Cookie header line (gunicorn joins them with `,`, Node with `; `). */
  readonly lines: number;
  /**
   * True when werkzeug's scan consumed the whole text, pair after pair. False when it skipped
   * characters (e.g. a value running into a newline), i.e. other parsers may read it otherwise.
   */
  readonly tiled: boolean;
  /** Characters outside latin1 (a header cannot carry them; only an in-process caller can). */
  readonly wide: boolean;
}

/**
 * Parses a Cookie header exactly as werkzeug 3.1 `parse_cookie` does (quoted values may hold `;`;
 * backslash and octal escapes inside quotes; whitespace per Python's rules).
 *
 * @example
 * parseCookieHeader('x="; access_token=A"; access_token=B').pairs.map((p) => [p.name, p.value])
 * // [['x', '; access_token=A'], ['access_token', 'B']]
 */
export function parseCookieHeader(header: string | readonly string[] | undefined): ParsedCookieHeader {
  const lines = header === undefined ? 0 : typeof header === 'string' ? 1 : header.length;
  const text = header === undefined ? '' : typeof header === 'string' ? header : header.join('; ');
  const pairs: CookiePair[] = [];
  if (text === '') return { text, pairs, lines, tiled: true, wide: false };
  const scanned = `${text};`;
  let at = 0;
  let tiled = true;
  for (const m of scanned.matchAll(COOKIE_RE)) {
    const start = m.index as number;
    if (start !== at) tiled = false;
    at = start + m[0].length;
    const name = pyStrip(m[1] ?? '');
    if (name === '') continue;
    const rawValue = m[2] === undefined ? undefined : pyStrip(m[2]);
    pairs.push({ name, value: unquote(rawValue ?? ''), rawValue, start, end: Math.min(at, text.length) });
  }
  if (at !== scanned.length) tiled = false;
  return { text, pairs, lines, tiled, wide: /[^\u0000-\u00ff]/.test(text) };
}

/**
 * Reads a cookie from a raw Cookie header the way werkzeug does for `request.cookies.get`:
 * the first occurrence wins; quoted values are unquoted.
 */
export function readCookie(header: string | readonly string[] | undefined, name: string): string | undefined {
  if (!header) return undefined;
  return parseCookieHeader(header).pairs.find((p) => p.name === name)?.value;
}

/** First value per name (werkzeug `request.cookies.get`), as a plain record. */
export function cookieRecord(header: string | readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const p of parseCookieHeader(header).pairs) if (!(p.name in out)) out[p.name] = p.value;
  return out;
}

/** Every spelling of Dify's console cookie names, with and without `__Host-`. */
export const DIFY_AUTH_COOKIE_NAMES: readonly string[] = ['access_token', 'refresh_token', 'csrf_token'].flatMap(
  (n) => [n, `__Host-${n}`],
);
const AUTH_NAME_IN_TEXT = /(?:access|refresh|csrf)_token/i;
const AUTH_NAME_LOOKALIKE = /(?:^|[^a-z0-9_-])(?:__host-)?(?:access|refresh|csrf)_token(?:$|[^a-z0-9_-])/;
/** Values Dify ever puts in its auth cookies: JWTs (base64url + dots) and hex refresh tokens. */
const AUTH_VALUE = /^[A-Za-z0-9._~+/=-]*$/;

/** Dify's console cookies as dify-api reads them, or why the header is ambiguous. */
export type DifyAuthCookies =
  | {
      readonly ok: true;
      readonly access: string | undefined;
      readonly refresh: string | undefined;
      readonly csrf: string | undefined;
    }
  | { readonly ok: false; readonly detail: string };

/**
 * Reads Dify's three console cookies as dify-api does (werkzeug, first value wins) and refuses
 * every header where another reader could see different credentials: several Cookie header
 * lines; text werkzeug skips; any spelling of an auth cookie name (`access_token`,
 * `refresh_token`, `csrf_token`, with or without `__Host-`) more than once; a look-alike name
 * (other case, a quote or comma in front); an auth cookie name inside any cookie's value (quoted
 * values may hold `;`); an auth cookie value that is not a plain token (escapes, quotes, spaces,
 * non-ASCII).
 *
 * @example
 * readDifyAuthCookies('x="; access_token=A"; access_token=B', settings) // { ok: false, detail: '…' }
 */
export function readDifyAuthCookies(
  header: string | readonly string[] | undefined,
  s: DifyCookieSettings,
): DifyAuthCookies {
  if (!header || (typeof header !== 'string' && header.length === 0))
    return { ok: true, access: undefined, refresh: undefined, csrf: undefined };
  const parsed = parseCookieHeader(header);
  if (parsed.lines > 1) return { ok: false, detail: 'several Cookie header lines' };
  if (!parsed.tiled || parsed.wide) return { ok: false, detail: 'Cookie header holds text werkzeug skips' };
  const seen = new Set<string>();
  for (const p of parsed.pairs) {
    const auth = DIFY_AUTH_COOKIE_NAMES.includes(p.name);
    if (auth) {
      if (seen.has(p.name)) return { ok: false, detail: `auth cookie ${p.name} appears more than once` };
      seen.add(p.name);
      if (!AUTH_VALUE.test(p.value) || p.rawValue !== p.value)
        return { ok: false, detail: `auth cookie ${p.name} has a value that is not a plain token` };
    } else if (AUTH_NAME_LOOKALIKE.test(p.name.toLowerCase())) {
      return { ok: false, detail: 'a cookie name looks like a Dify auth cookie' };
    }
    if (AUTH_NAME_IN_TEXT.test(p.rawValue ?? '') || AUTH_NAME_IN_TEXT.test(p.value))
      return { ok: false, detail: 'a Dify auth cookie name appears inside a cookie value' };
  }
  const get = (n: DifyCookie) => parsed.pairs.find((p) => p.name === difyCookieName(n, s))?.value;
  return { ok: true, access: get('access_token'), refresh: get('refresh_token'), csrf: get('csrf_token') };
}

/**
 * Removes cookies from a Cookie header without changing how werkzeug reads the rest: whole
 * `name=value;` spans are cut out of the original text (quoted values are never re-split).
 * A header werkzeug would not read cleanly (skipped text) is dropped entirely (fail closed).
 *
 * @example
 * removeCookies('a="x; dify_sso=1"; dify_sso=s; b=2', (n) => n === 'dify_sso') // 'a="x; dify_sso=1"; b=2'
 */
export function removeCookies(
  header: string | readonly string[] | undefined,
  drop: (name: string) => boolean,
): string | undefined {
  if (!header) return undefined;
  const parsed = parseCookieHeader(header);
  if (!parsed.tiled || parsed.wide) return undefined;
  if (!parsed.pairs.some((p) => drop(p.name))) return parsed.text === '' ? undefined : parsed.text;
  let out = '';
  let at = 0;
  for (const p of parsed.pairs) {
    if (!drop(p.name)) continue;
    out += parsed.text.slice(at, p.start);
    at = p.end;
  }
  out += parsed.text.slice(at);
  // The last kept pair still ends in its own `;` separator: drop it.
  out = out.replace(/[ \t\n\r\f\v]*;[ \t\n\r\f\v]*$/, '');
  return out.trim() === '' ? undefined : out;
}

/** Extracts name=value from a Set-Cookie header value. */
export function setCookieNameValue(setCookie: string): { name: string; value: string } | undefined {
  const first = setCookie.split(';', 1)[0] ?? '';
  const i = first.indexOf('=');
  if (i <= 0) return undefined;
  return { name: first.slice(0, i).trim(), value: first.slice(i + 1).trim() };
}
