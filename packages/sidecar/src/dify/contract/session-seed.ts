/**
 * THE one Dify-internal contract of the kit: seeding a console login through Dify's refresh
 * token, isolated here with its version table (`versions.ts`).
 *
 * What Dify does (dify `api/services/account_service.py`, `AccountService.login` /
 * `refresh_token` / `_store_refresh_token`; docs/dify-contract.md §3.2):
 * - refresh token = `secrets.token_hex(64)` (128 hex characters);
 * - Redis `SETEX refresh_token:<t> <ttl> <account id>` and
 *   `SETEX account_refresh_token:<account id> <ttl> <t>`, TTL = REFRESH_TOKEN_EXPIRE_DAYS;
 * - from 1.14.0 every key is `<REDIS_KEY_PREFIX>:<key>` when the prefix is set (langgenius/dify#35139;
 *   dify `api/extensions/redis_names.py` `serialize_redis_name`: prefix stripped, empty = none);
 * - `POST /console/api/refresh-token` with the refresh cookie rotates the pair and answers
 *   with Set-Cookie for access, refresh and CSRF tokens (dify `api/controllers/console/auth/login.py`,
 *   `RefreshTokenApi`; cookie rules in `api/libs/token.py`).
 * - on Redis Cluster Dify's keys carry no hash tag (dify `api/extensions/ext_redis.py` uses
 *   `RedisCluster` with the plain prefixed names), so the two keys of a pair usually live in
 *   different slots: the bridge must write exactly those names, hence no MULTI there (Dify's own
 *   `_store_refresh_token` issues two SETEX as well) and a single-key compare-and-delete script.
 * The sidecar writes the pair, lets dify-api mint the access and CSRF tokens itself (the
 * sidecar never holds SECRET_KEY) and relays the cookies to the browser.
 *
 * @module
 */
import { hash, randomBytes } from 'node:crypto';
import { withDeadline, type RedisClient } from '../../lib/redis-client.js';
import { difyCookieName, setCookieNameValue, type DifyCookieSettings } from './cookies.js';
import { DifyError } from '../../errors.js';
import type { DifyVersionTraits } from './versions.js';

export interface SessionSeederOptions {
  /** Client of Dify's Redis (same DB as dify-api's REDIS_DB): standalone, Sentinel or Cluster. */
  readonly redis: RedisClient;
  readonly apiUrl: string;
  readonly cookies: DifyCookieSettings;
  /** Dify's REDIS_KEY_PREFIX ('' = none). */
  readonly keyPrefix: string;
  /** Dify's REFRESH_TOKEN_EXPIRE_DAYS. */
  readonly refreshTokenExpireDays: number;
  /** Version traits of the running dify-api (checked before every seed). */
  version(): Promise<DifyVersionTraits & { version: string }>;
  /** Records the X-Version of the refresh answer (throws when unsupported). */
  observeVersion?(header: string | null): unknown;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export interface SeedResult {
  /** Raw Set-Cookie values from dify-api, to relay on the final redirect. */
  readonly setCookie: string[];
  /** SHA-256 (hex) of the refresh token the browser now holds (after Dify's rotation). */
  readonly refreshTokenHash: string;
}

export function hashRefreshToken(token: string): string {
  return hash('sha256', token, 'hex');
}

/**
 * Seeds Dify console logins and removes them again.
 *
 * @example
 * const seeder = new SessionSeeder({ redis, apiUrl, cookies, keyPrefix: '', refreshTokenExpireDays: 30, version: () => admin.version() })
 * const { setCookie, refreshTokenHash } = await seeder.seed(accountId)
 */
export class SessionSeeder {
  readonly #o: SessionSeederOptions;
  readonly #fetch: typeof fetch;

  constructor(options: SessionSeederOptions) {
    this.#o = { ...options, apiUrl: options.apiUrl.replace(/\/+$/, '') };
    this.#fetch = options.fetch ?? fetch;
  }

  /** Physical Redis key for a logical Dify key, per version. */
  async key(logical: string): Promise<string> {
    const traits = await this.#o.version();
    return keyFor(logical, this.#o.keyPrefix, traits);
  }

  async seed(accountId: string): Promise<SeedResult> {
    const token = randomBytes(64).toString('hex');
    const ttl = this.#o.refreshTokenExpireDays * 86400;
    const kToken = await this.key(`refresh_token:${token}`);
    const kAccount = await this.key(`account_refresh_token:${accountId}`);
    try {
      const redis = this.#o.redis;
      const deadline = this.#o.timeoutMs ?? 10_000;
      if (redis.isCluster) {
        // Two slots: no transaction possible; the token key first, so the pointer never names a missing token.
        await withDeadline(redis.setex(kToken, ttl, accountId), deadline);
        await withDeadline(redis.setex(kAccount, ttl, token), deadline);
      } else {
        const res = await withDeadline(
          redis.multi().setex(kToken, ttl, accountId).setex(kAccount, ttl, token).exec(),
          deadline,
        );
        const failed = res?.find(([err]) => err);
        if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
      }
    } catch (cause) {
      throw new DifyError('ERR_DIFY_SEED_FAILED', "could not write the refresh token to Dify's Redis", { cause });
    }
    const cookieName = difyCookieName('refresh_token', this.#o.cookies);
    let res: Response;
    try {
      res = await this.#fetch(`${this.#o.apiUrl}/console/api/refresh-token`, {
        method: 'POST',
        headers: { cookie: `${cookieName}=${token}`, accept: 'application/json' },
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? 10_000),
        redirect: 'manual',
      });
    } catch (cause) {
      await this.#forget(kToken, kAccount, token);
      throw new DifyError('ERR_DIFY_UNREACHABLE', 'dify-api did not answer POST /console/api/refresh-token', { cause });
    }
    this.#o.observeVersion?.(res.headers.get('x-version'));
    await res.arrayBuffer().catch(() => undefined);
    if (res.status !== 200) {
      await this.#forget(kToken, kAccount, token);
      throw new DifyError('ERR_DIFY_SEED_FAILED', `dify-api answered ${res.status} to the seeded refresh`, {
        status: res.status,
      });
    }
    const setCookie = res.headers.getSetCookie();
    const rotated = setCookie.map(setCookieNameValue).find((c) => c?.name === cookieName)?.value;
    if (
      !rotated ||
      !setCookie.some((c) => setCookieNameValue(c)?.name === difyCookieName('access_token', this.#o.cookies))
    ) {
      throw new DifyError(
        'ERR_DIFY_SEED_FAILED',
        'dify-api refresh answer lacks the expected cookies (cookie-naming settings differ from dify-api?)',
      );
    }
    return { setCookie, refreshTokenHash: hashRefreshToken(rotated) };
  }

  /** Account id Dify's Redis maps a refresh token to, or null. */
  async accountOf(refreshToken: string): Promise<string | null> {
    if (!/^[0-9a-f]{16,256}$/i.test(refreshToken)) return null;
    return this.#o.redis.get(await this.key(`refresh_token:${refreshToken}`));
  }

  /**
   * Deletes the account's current Dify refresh token (what Dify's own logout deletes), when it
   * is the one seeded for this session (`refreshTokenHash`) or when `force` is set (no other
   * live kit session of the account remains). Returns whether keys were deleted.
   */
  async revoke(accountId: string, refreshTokenHash: string | undefined, force: boolean): Promise<boolean> {
    const kAccount = await this.key(`account_refresh_token:${accountId}`);
    const current = await this.#o.redis.get(kAccount);
    if (current === null) return false;
    if (!force && (refreshTokenHash === undefined || hashRefreshToken(current) !== refreshTokenHash)) return false;
    const kToken = await this.key(`refresh_token:${current}`);
    await this.#forget(kToken, kAccount, current);
    return true;
  }

  /** Deletes one given Dify refresh token of the account (and the account's pointer if it points at it). */
  async discard(accountId: string, refreshToken: string): Promise<void> {
    if (!/^[0-9a-f]{16,256}$/i.test(refreshToken)) return;
    await this.#forget(
      await this.key(`refresh_token:${refreshToken}`),
      await this.key(`account_refresh_token:${accountId}`),
      refreshToken,
    );
  }

  async #forget(kToken: string, kAccount: string, token: string): Promise<void> {
    // Delete the account pointer only while it still points at this token (another login may have replaced it).
    const redis = this.#o.redis;
    if (redis.isCluster) {
      // The two keys live in different slots: one single-key script each.
      await redis.del(kToken).catch(() => undefined);
      await redis.eval(COMPARE_AND_DELETE, 1, kAccount, token).catch(() => undefined);
      return;
    }
    await redis
      .eval(
        "redis.call('DEL', KEYS[1]); if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end; return 1",
        2,
        kToken,
        kAccount,
        token,
      )
      .catch(() => undefined);
  }
}

const COMPARE_AND_DELETE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end; return 0";

export function keyFor(logical: string, prefix: string, traits: DifyVersionTraits & { version: string }): string {
  if (prefix === '') return logical;
  if (!traits.redisKeyPrefix) {
    throw new DifyError(
      'ERR_DIFY_KEY_PREFIX_UNSUPPORTED',
      `dify.redisKeyPrefix is set but Dify ${traits.version} has no REDIS_KEY_PREFIX (from 1.14.0)`,
    );
  }
  return `${prefix}:${logical}`;
}
