/**
 * Canonical form of a request path, used for every allow/deny match in the gate.
 *
 * Bypass classes this closes (RFC 3986 §5.2.4 dot-segments; the path-matching bypasses of RFC 9700 §4.1.3 and oauth2-proxy's skip-auth advisories): query strings and fragments
 * (`?`, `#`, `%23`, `%3F`) taking part in matches, dot-segments, duplicate slashes, backslashes,
 * `;` path parameters, case variants and control characters.
 *
 * @example
 * canonicalisePath('/console/api//LOGIN/./?x=1') // { path: '/console/api/login', altered: true }
 */
export interface CanonicalPath {
  /** Lower-case, decoded once, dot-segments resolved, no query/fragment, no trailing slash. */
  readonly path: string;
  /**
   * True when the raw path differs from its canonical form in anything but the query string.
   * Public (unauthenticated) allowances only apply to unaltered paths: an upstream that does
   * not normalise the same way must never be reached through a public exception.
   */
  readonly altered: boolean;
}

const CONTROL = /[\u0000-\u001f\u007f]/;
/**
 * Paths already canonical by construction: non-empty lower-case segments of letters, digits, `_`,
 * `-` and `~`. No escape, dot, `;`, backslash, empty segment, upper case or trailing slash, so
 * every step below leaves them as they are (checked against the full walk in the tests).
 */
const PLAIN_PATH = /^(?:\/[a-z0-9_~-]+)+$/;

/** Returns null for paths that cannot be canonicalised (not origin-form, bad escapes, control characters). */
export function canonicalisePath(rawUri: string): CanonicalPath | null {
  if (typeof rawUri !== 'string' || !rawUri.startsWith('/')) return null;
  let raw = rawUri;
  const cut = raw.search(/[?#]/);
  if (cut !== -1) raw = raw.slice(0, cut);
  // Most console and API paths: the walk below would return them unchanged.
  if (PLAIN_PATH.test(raw)) return { path: raw, altered: false };
  return canonicaliseWalk(raw);
}

/** The full walk for a path without its query string or fragment (exported for the tests). */
export function canonicaliseWalk(raw: string): CanonicalPath | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (CONTROL.test(decoded)) return null;
  let p = decoded;
  const cut2 = p.search(/[?#]/);
  if (cut2 !== -1) p = p.slice(0, cut2);
  p = p.replace(/\\/g, '/');
  // `;` path parameters: some servers strip them; match as if stripped.
  p = p
    .split('/')
    .map((seg) => {
      const i = seg.indexOf(';');
      return i === -1 ? seg : seg.slice(0, i);
    })
    .join('/');
  p = p.replace(/\/{2,}/g, '/');
  p = removeDotSegments(p);
  p = p.toLowerCase();
  if (p.length > 1 && p.endsWith('/')) p = p.replace(/\/+$/, '');
  if (p === '') p = '/';
  return { path: p, altered: p !== raw };
}

/** RFC 3986 §5.2.4, applied to an absolute path. */
function removeDotSegments(path: string): string {
  const out: string[] = [];
  const segs = path.split('/');
  for (let i = 1; i < segs.length; i++) {
    const s = segs[i] ?? '';
    if (s === '.') {
      if (i === segs.length - 1) out.push('');
      continue;
    }
    if (s === '..') {
      out.pop();
      if (i === segs.length - 1) out.push('');
      continue;
    }
    out.push(s);
  }
  return `/${out.join('/')}`;
}
