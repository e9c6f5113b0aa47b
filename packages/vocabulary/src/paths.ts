/**
 * The sidecar's own paths. nginx routes the prefix to the sidecar (`location ^~ /sso/`); the
 * console plugin builds its links from it.
 *
 * @module
 */

/** Where the sidecar's own routes live behind the front door. */
export const SSO_PREFIX = '/sso';

/** Every `/sso/*` route of the sidecar. */
export const SSO_PATHS = {
  login: '/sso/login',
  callback: '/sso/callback',
  logout: '/sso/logout',
  backchannelLogout: '/sso/backchannel-logout',
  /** nginx `auth_request` target. */
  auth: '/sso/auth',
  breakGlass: '/sso/break-glass',
  healthLive: '/sso/health/live',
  healthReady: '/sso/health/ready',
} as const;

/**
 * An `/sso/*` path.
 *
 * @example
 * const p: SsoPath = SSO_PATHS.login
 */
export type SsoPath = (typeof SSO_PATHS)[keyof typeof SSO_PATHS];
