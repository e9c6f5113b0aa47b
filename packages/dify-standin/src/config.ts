/**
 * `loadStandinConfig(env)`: pure env → frozen config for src/server.ts. Every problem is collected
 * into one `ERR_CONFIG_INVALID`.
 *
 * Dify's own variable names where the stand-in mimics dify-api (SECRET_KEY, ADMIN_API_KEY, …);
 * `DIFY_STANDIN_*` for the double's own knobs.
 */
import type { StandinApiOptions } from './api.js';
import type { StandinWebOptions } from './web.js';
import { NEWEST_VERSION, versionFeatures } from './version.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface StandinConfig {
  api: Omit<StandinApiOptions, 'redis' | 'seed' | 'now' | 'logger'>;
  redisUrl: string;
  seedPath: string | null;
  listen: ListenAddress;
  /** null = do not serve the console UI. */
  webListen: ListenAddress | null;
  web: Omit<StandinWebOptions, 'logger'>;
  logLevel: string;
}

export class ConfigError extends TypeError {
  readonly code = 'ERR_CONFIG_INVALID';
  readonly problems: readonly string[];
  constructor(problems: string[]) {
    super(`invalid stand-in configuration:\n- ${problems.join('\n- ')}`);
    this.problems = problems;
  }
}

// pydantic's bool parsing, as dify-api reads its env
const TRUE = new Set(['1', 'true', 't', 'yes', 'y', 'on']);
const FALSE = new Set(['0', 'false', 'f', 'no', 'n', 'off']);

/**
 * Load the stand-in's configuration from an env object.
 *
 * @example loadStandinConfig({ SECRET_KEY: 'x', ENABLE_EMAIL_PASSWORD_LOGIN: 'false' })
 */
export function loadStandinConfig(env: Record<string, string | undefined>): StandinConfig {
  const problems: string[] = [];
  const get = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const bool = (k: string, def: boolean): boolean => {
    const v = get(k);
    if (v === undefined) return def;
    const l = v.trim().toLowerCase();
    if (TRUE.has(l)) return true;
    if (FALSE.has(l)) return false;
    problems.push(`"${k}" must be true or false (got "${v}")`);
    return def;
  };
  const num = (k: string, def: number): number => {
    const v = get(k);
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) {
      problems.push(`"${k}" must be a positive number (got "${v}")`);
      return def;
    }
    return n;
  };
  const listen = (k: string, def: string, allowOff: boolean): ListenAddress | null => {
    const v = get(k) ?? def;
    if (allowOff && v === 'off') return null;
    const m = /^([^:]+):(\d{1,5})$/.exec(v);
    if (!m || Number(m[2]) > 65535) {
      problems.push(`"${k}" must be host:port${allowOff ? ' or off' : ''} (got "${v}")`);
      return { host: '127.0.0.1', port: 0 };
    }
    return { host: m[1] ?? '127.0.0.1', port: Number(m[2]) };
  };

  const secretKey = get('SECRET_KEY');
  if (!secretKey) problems.push('"SECRET_KEY" is required');
  const version = get('DIFY_STANDIN_VERSION') ?? NEWEST_VERSION;
  try {
    versionFeatures(version);
  } catch (err) {
    problems.push((err as Error).message);
  }
  const variant = get('DIFY_STANDIN_WEB_VARIANT') ?? 'stock';
  if (variant !== 'stock' && variant !== 'plugin')
    problems.push(`"DIFY_STANDIN_WEB_VARIANT" must be stock or plugin (got "${variant}")`);
  const adminApiKeyEnable = bool('ADMIN_API_KEY_ENABLE', get('ADMIN_API_KEY') !== undefined);

  const config: StandinConfig = {
    api: {
      secretKey: secretKey ?? '',
      version,
      redisKeyPrefix: get('REDIS_KEY_PREFIX') ?? '',
      adminApiKey: get('ADMIN_API_KEY') ?? '',
      adminApiKeyEnable,
      accessTokenExpireMinutes: num('ACCESS_TOKEN_EXPIRE_MINUTES', 60),
      refreshTokenExpireDays: num('REFRESH_TOKEN_EXPIRE_DAYS', 30),
      consoleApiUrl: get('CONSOLE_API_URL') ?? '',
      consoleWebUrl: get('CONSOLE_WEB_URL') ?? '',
      cookieDomain: get('COOKIE_DOMAIN') ?? '',
      enableEmailPasswordLogin: bool('ENABLE_EMAIL_PASSWORD_LOGIN', true),
      enableEmailCodeLogin: bool('ENABLE_EMAIL_CODE_LOGIN', false),
      enableSocialOauthLogin: bool('ENABLE_SOCIAL_OAUTH_LOGIN', false),
      allowRegister: bool('ALLOW_REGISTER', false),
      allowCreateWorkspace: bool('ALLOW_CREATE_WORKSPACE', false),
      mailType: get('MAIL_TYPE') ?? '',
      githubClientId: get('GITHUB_CLIENT_ID') ?? '',
      githubClientSecret: get('GITHUB_CLIENT_SECRET') ?? '',
      googleClientId: get('GOOGLE_CLIENT_ID') ?? '',
      googleClientSecret: get('GOOGLE_CLIENT_SECRET') ?? '',
      inviteExpiryHours: num('INVITE_EXPIRY_HOURS', 72),
      filesAccessTimeoutSeconds: num('FILES_ACCESS_TIMEOUT', 300),
      uploadLimitBytes: Math.trunc(num('DIFY_STANDIN_UPLOAD_LIMIT_MB', 101) * 1024 * 1024),
      introspectionSecret: get('DIFY_STANDIN_INTROSPECTION_SECRET') ?? '',
    },
    redisUrl: get('REDIS_URL') ?? 'redis://127.0.0.1:16379',
    seedPath: get('DIFY_STANDIN_SEED') ?? null,
    listen: listen('DIFY_STANDIN_LISTEN', '127.0.0.1:15001', false) as ListenAddress,
    webListen: listen('DIFY_STANDIN_WEB_LISTEN', '127.0.0.1:13000', true),
    web: {
      variant: variant === 'plugin' ? 'plugin' : 'stock',
      apiPrefix: get('DIFY_STANDIN_WEB_API_PREFIX') ?? '/console/api',
      cookieDomain: get('NEXT_PUBLIC_COOKIE_DOMAIN') ?? get('COOKIE_DOMAIN') ?? '',
      idpName: get('DIFY_STANDIN_WEB_IDP_NAME') ?? '',
      breakGlassHref: get('DIFY_STANDIN_WEB_BREAK_GLASS_URL') ?? '',
    },
    logLevel: get('DIFY_STANDIN_LOG_LEVEL') ?? 'info',
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(config);
}
