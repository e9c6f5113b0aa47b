/**
 * Canonicalisation of the post-login `redirect` parameter (open-redirect defence).
 *
 * @module
 */

const MAX_LENGTH = 2048;
// C0 controls, DEL, C1 controls, every Unicode whitespace/format char browsers may strip.
const FORBIDDEN = /[\u0000-\u0020\u007f-\u00a0\u1680\u180e\u2000-\u200f\u2028-\u202f\u205f-\u2064\u3000\ufeff\\#]/u;

function decodeFully(value: string): string | undefined {
  let current = value;
  for (let i = 0; i < 5; i++) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      return undefined;
    }
    if (next === current) return current;
    current = next;
  }
  return undefined; // too many encoding layers: refuse
}

function hasDotSegment(path: string): boolean {
  return path
    .split('?')[0]!
    .split('/')
    .some((seg) => seg === '.' || seg === '..');
}

/**
 * Returns a safe same-origin relative target (`/path?query`) for `input`, or `fallback`.
 *
 * Refused (→ `fallback`): anything not starting with exactly one `/`; `//` and `/\`;
 * backslashes, whitespace and control characters, raw or percent-encoded (any depth);
 * fragments (`#`, `%23`); dot-segments (`.`, `..`, `%2e`); schemes; paths under `/sso/`;
 * anything that a URL parser resolves to another origin.
 *
 * @example
 * ```ts
 * canonicalRedirect('/apps?x=1', 'https://dify.example.com', '/apps') // '/apps?x=1'
 * canonicalRedirect('/\\evil.com', 'https://dify.example.com', '/apps') // '/apps'
 * ```
 */
export function canonicalRedirect(input: unknown, origin: string, fallback: string): string {
  if (typeof input !== 'string' || input.length === 0 || input.length > MAX_LENGTH) return fallback;
  if (!input.startsWith('/') || input.startsWith('//')) return fallback;
  if (FORBIDDEN.test(input)) return fallback;
  const decoded = decodeFully(input);
  if (decoded === undefined) return fallback;
  if (FORBIDDEN.test(decoded) || decoded.startsWith('//') || !decoded.startsWith('/')) return fallback;
  if (hasDotSegment(input) || hasDotSegment(decoded)) return fallback;
  if (/^\/sso(\/|$|\?)/i.test(decoded)) return fallback;
  let url: URL;
  try {
    url = new URL(input, origin);
  } catch {
    return fallback;
  }
  if (url.origin !== new URL(origin).origin || url.username || url.password || url.hash) return fallback;
  if (url.pathname.startsWith('//')) return fallback;
  const result = url.pathname + url.search;
  return result === input ? result : fallback;
}
