/**
 * Dify versions the stand-in can impersonate, and the behaviour switches that differ between them.
 *
 * Every switch names the Dify change it follows. Versions are compared numerically
 * (`major.minor.patch`); the stand-in refuses anything older than 1.9.2, the first release whose
 * console credentials live in httpOnly cookies.
 */

/** The newest Dify release the stand-in models; the default of `DIFY_STANDIN_VERSION`. */
export const NEWEST_VERSION = '1.16.1';

/** The oldest version the stand-in can impersonate (cookie-based console sessions). */
export const OLDEST_VERSION = '1.9.2';

export type VersionTuple = readonly [number, number, number];

/**
 * Parse `major.minor.patch` (an optional leading `v` and any `-suffix` are ignored).
 *
 * @example parseVersion('1.16.1') // [1, 16, 1]
 */
export function parseVersion(input: string): VersionTuple {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(input.trim());
  if (!match) {
    throw new TypeError(`"DIFY_STANDIN_VERSION" must be a version like 1.16.1 (got "${input}")`);
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** -1, 0 or 1 as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: string | VersionTuple, b: string | VersionTuple): number {
  const x = typeof a === 'string' ? parseVersion(a) : a;
  const y = typeof b === 'string' ? parseVersion(b) : b;
  for (let i = 0; i < 3; i += 1) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Behaviour switches derived from the impersonated version. */
export interface VersionFeatures {
  readonly version: string;
  /** ≥1.10.0: `COOKIE_DOMAIN` sets the cookie Domain and disables the `__Host-` prefix (api/libs/token.py, ff32dff16). */
  readonly cookieDomain: boolean;
  /** ≥1.11.0: a request authenticated with `ADMIN_API_KEY` skips the CSRF check (api/libs/token.py, 88bfeee23). */
  readonly adminKeySkipsCsrf: boolean;
  /** ≥1.11.2: `password` and `code` request fields are base64 of the UTF-8 value (api/controllers/console/wraps.py, #29659). */
  readonly base64Secrets: boolean;
  /** ≥1.14.0: `REDIS_KEY_PREFIX` turns every key into `<prefix>:<key>` (api/extensions/ext_redis.py, #35139). */
  readonly redisKeyPrefix: boolean;
  /** ≥1.14.0: `/socket.io/` (collaboration websocket, cookie-authenticated) exists in the deployment. */
  readonly collaborationWebsocket: boolean;
  /** ≥1.16.1: `is_allow_create_workspace`, `plugin_manager`, `max_plugin_package_size`, trial fields leave system-features; `license` shrinks to `{status}` (api/services/feature_service.py, aff5c47541 / 66a545fc6d). */
  readonly slimSystemFeatures: boolean;
  /** ≥1.15.0: system-features carries `deployment_edition` (api/services/feature_service.py). */
  readonly deploymentEditionField: boolean;
}

/**
 * Resolve the switches for one version.
 *
 * @example versionFeatures('1.11.0').adminKeySkipsCsrf // true
 */
export function versionFeatures(version: string): VersionFeatures {
  const v = parseVersion(version);
  if (compareVersions(v, OLDEST_VERSION) < 0) {
    throw new TypeError(`"DIFY_STANDIN_VERSION" must be ${OLDEST_VERSION} or newer (got "${version}")`);
  }
  const atLeast = (w: string): boolean => compareVersions(v, w) >= 0;
  return Object.freeze({
    version: v.join('.'),
    cookieDomain: atLeast('1.10.0'),
    adminKeySkipsCsrf: atLeast('1.11.0'),
    base64Secrets: atLeast('1.11.2'),
    redisKeyPrefix: atLeast('1.14.0'),
    collaborationWebsocket: atLeast('1.14.0'),
    slimSystemFeatures: atLeast('1.16.1'),
    deploymentEditionField: atLeast('1.15.0'),
  });
}
