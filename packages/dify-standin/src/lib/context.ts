/**
 * Everything a route of the stand-in needs, resolved once per app.
 */
import type { Redis } from 'ioredis';
import type { StandinDb } from './db.js';
import type { CookieRuleInput } from './cookies.js';
import type { Passport, RedisKeys, RefreshStore } from './tokens.js';
import type { VersionFeatures } from '../version.js';

/** Resolved options (defaults applied). */
export interface ResolvedStandinOptions {
  secretKey: string;
  version: string;
  edition: 'SELF_HOSTED';
  redisKeyPrefix: string;
  adminApiKey: string;
  adminApiKeyEnable: boolean;
  accessTokenExpireMinutes: number;
  refreshTokenExpireDays: number;
  consoleApiUrl: string;
  consoleWebUrl: string;
  cookieDomain: string;
  enableEmailPasswordLogin: boolean;
  enableEmailCodeLogin: boolean;
  enableSocialOauthLogin: boolean;
  allowRegister: boolean;
  allowCreateWorkspace: boolean;
  mailType: string;
  githubClientId: string;
  githubClientSecret: string;
  googleClientId: string;
  googleClientSecret: string;
  inviteExpiryHours: number;
  filesAccessTimeoutSeconds: number;
  uploadLimitBytes: number;
  introspectionSecret: string;
  deployEnv: string;
}

/** A message dify-api would have mailed (no mail server in the stand-in; tests read them back). */
export interface OutboxEntry {
  kind: 'email_code_login' | 'reset_password' | 'email_register' | 'invite_member';
  to: string;
  code?: string;
  url?: string;
  at: string;
}

export interface StandinContext {
  readonly options: ResolvedStandinOptions;
  readonly features: VersionFeatures;
  readonly db: StandinDb;
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly passport: Passport;
  readonly refresh: RefreshStore;
  readonly cookieRule: CookieRuleInput;
  readonly now: () => number;
  readonly outbox: OutboxEntry[];
  /** SSE release gates (test-only, see routes/streaming.ts). */
  readonly gates: Map<string, { released: number; waiters: Set<() => void> }>;
}
