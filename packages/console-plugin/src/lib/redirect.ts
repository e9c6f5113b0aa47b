/**
 * Pure helpers that build the sidecar URLs the plugin navigates to.
 * They never read cookies or storage and never call the network.
 */

/** Default console landing page after sign-in (Dify's own default). */
export const DEFAULT_POST_LOGIN_PATH = '/apps';

/** Default mount point of the sidecar routes behind Dify's nginx. */
export const DEFAULT_SSO_PREFIX = '/sso';

/** Query parameters Dify's sign-in page uses to carry the post-login target. */
const REDIRECT_PARAMS = ['redirect_url', 'oauth_redirect_url'] as const;

/**
 * Normalises a base path (`NEXT_PUBLIC_BASE_PATH`): '' or '/x' without a trailing slash.
 */
export function normaliseBasePath(basePath: string | undefined): string {
  if (!basePath) return '';
  const trimmed = basePath.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  return trimmed.startsWith('/') ? trimmed : `/${trimmed}`;
}

/**
 * Returns `candidate` as a same-origin path (`/x?y#z`) or `undefined` when it is not one.
 * Absolute URLs are accepted only when their origin equals `origin`.
 * Protocol-relative (`//host`) and backslash tricks are rejected.
 */
export function toSafePath(candidate: string | null | undefined, origin?: string): string | undefined {
  if (!candidate) return undefined;
  const value = candidate.trim();
  if (value === '' || value.includes('\\')) return undefined;
  if (value.startsWith('/') && !value.startsWith('//')) return value;
  if (!origin) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.origin !== origin) return undefined;
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * Picks the post-login target from the sign-in page's query string
 * (`redirect_url`, or the older `oauth_redirect_url`), falling back to `/apps`.
 * The result includes the base path exactly once.
 */
export function resolvePostLoginPath(options: {
  search?: string;
  origin?: string;
  basePath?: string;
  redirect?: string;
}): string {
  const base = normaliseBasePath(options.basePath);
  let path = toSafePath(options.redirect, options.origin);
  if (!path && options.search) {
    const params = new URLSearchParams(options.search);
    for (const name of REDIRECT_PARAMS) {
      const raw = params.get(name);
      let decoded = raw;
      if (raw) {
        try {
          decoded = decodeURIComponent(raw);
        } catch {
          decoded = raw;
        }
      }
      path = toSafePath(decoded, options.origin);
      if (path) break;
    }
  }
  path ??= DEFAULT_POST_LOGIN_PATH;
  if (base && path !== base && !path.startsWith(`${base}/`) && !path.startsWith(`${base}?`)) path = `${base}${path}`;
  return path;
}

/**
 * Builds `/sso/login?redirect=<encoded post-login path>` (plus `&invite_token=` when the
 * sign-in page was opened from a workspace invitation).
 *
 * @example
 * buildLoginUrl({ redirect: '/apps' }) // '/sso/login?redirect=%2Fapps'
 */
export function buildLoginUrl(options: {
  redirect?: string;
  search?: string;
  origin?: string;
  basePath?: string;
  ssoPrefix?: string;
}): string {
  const prefix = (options.ssoPrefix ?? DEFAULT_SSO_PREFIX).replace(/\/+$/, '');
  const target = resolvePostLoginPath(options);
  let url = `${prefix}/login?redirect=${encodeURIComponent(target)}`;
  // A workspace invitation link (/signin?invite_token=…) keeps its token through the SSO round trip.
  const invite = options.search ? new URLSearchParams(options.search).get('invite_token') : null;
  if (invite && invite !== 'null' && /^[\w.~-]{1,512}$/.test(invite))
    url += `&invite_token=${encodeURIComponent(invite)}`;
  return url;
}

/** Builds the logout endpoint URL (`/sso/logout`). */
export function buildLogoutUrl(ssoPrefix: string = DEFAULT_SSO_PREFIX): string {
  return `${ssoPrefix.replace(/\/+$/, '')}/logout`;
}
