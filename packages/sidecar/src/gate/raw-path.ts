/**
 * Raw request-target refusal, applied before any routing or classification (issue 9 finding 3).
 *
 * nginx picks a location from its normalised `$uri` but proxies the raw URI; werkzeug routes on
 * the once-decoded `PATH_INFO`; python-engineio routes on the raw `/socket.io/` prefix; the gate
 * used to classify a canonicalised path. Wherever these readings can differ, the request is
 * refused with 400 `invalid_path` instead of being interpreted. The raw path (the request target
 * up to the first `?`) is refused when it holds:
 *
 * | what | examples |
 * |---|---|
 * | a target that is not origin-form | `*`, `http://host/x`, `x/y` |
 * | an encoded slash or backslash (any case) | `%2f`, `%2F`, `%5c` |
 * | a raw backslash | `\` |
 * | a `;` raw or encoded | `;`, `%3b` |
 * | any encoded dot (any case) | `%2e`, `.%2e`, `%2E%2E` |
 * | a dot segment | `/./`, `/../`, trailing `/.` or `/..` |
 * | a control character, raw or encoded | NUL, `%00`–`%1f`, `%7f`, raw 0x00–0x1f, 0x7f |
 * | a raw `#` (fragments are never sent in a request target) | `/a#b` |
 * | a bad percent escape | `%`, `%zz`, `%4` |
 *
 * Any encoded dot is refused, not only whole `%2e` segments: no browser, Dify page or Dify API
 * client encodes `.` (it is unreserved), so `%2e` is only ever a way to smuggle a dot segment past
 * one of the parsers. Dots inside names (`/_next/static/chunks/main-1.js`, `/.well-known/x`,
 * `/a/...`) are not dot segments and pass.
 *
 * The patterns are defined once as a PCRE/ECMAScript regular expression ({@link RAW_PATH_REFUSED_SOURCE})
 * used by {@link isRefusedRawPath} in the sidecar and, through {@link nginxRawPathRule}, as a
 * server-level rule in the generated nginx config, so nginx and the sidecar cannot drift.
 *
 * @module
 */

/**
 * The refused raw request targets as a regular expression source, valid both as PCRE (nginx,
 * matched case-insensitively with `~*` against `$request_uri`) and as ECMAScript (flag `i`).
 * Matches the whole target; the alternatives after `^[^?]*` only look at the path part.
 */
export const RAW_PATH_REFUSED_SOURCE =
  '^(?:[^/]|[^?]*(?:%(?:2f|5c|2e|3b|[01][0-9a-f]|7f)|%(?![0-9a-f]{2})|[\\\\;#\\x00-\\x1f\\x7f]|/\\.\\.?(?:/|\\?|$)))';

const REFUSED = new RegExp(RAW_PATH_REFUSED_SOURCE, 'i');

/**
 * Whether a raw request target (`$request_uri` / Node's `req.url`) must be refused with 400
 * `invalid_path` before any routing.
 *
 * @example
 * isRefusedRawPath('/socket.io/..;/x?EIO=4') // true
 * isRefusedRawPath('/_next/static/chunks/app-1.2.js?v=1') // false
 */
export function isRefusedRawPath(rawUri: string): boolean {
  return typeof rawUri !== 'string' || rawUri === '' || REFUSED.test(rawUri);
}

/**
 * The server-level nginx rule (one `if` block, one line per statement) that refuses the same
 * targets with 400 before nginx picks a location. Backslashes and quotes are escaped for an nginx
 * double-quoted string (nginx turns `\\` into `\`); the pattern holds no `${…}`, so Dify's
 * envsubst leaves it alone.
 *
 * @example
 * nginxRawPathRule('    ') // ['    if ($request_uri ~* "^(?:[^/]|…)") {', '      return 400;', '    }']
 */
export function nginxRawPathRule(indent: string): string[] {
  const quoted = RAW_PATH_REFUSED_SOURCE.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  return [`${indent}if ($request_uri ~* "${quoted}") {`, `${indent}  return 400;`, `${indent}}`];
}
