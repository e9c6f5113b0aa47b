/**
 * Console JWTs and refresh tokens as dify-api mints and stores them.
 *
 * - follows api/libs/passport.py (1.12.1–main): HS256 with `SECRET_KEY`; verification checks the
 *   signature and `exp` only (PyJWT defaults).
 * - follows api/services/account_service.py (1.12.1–main): `get_account_jwt_token` claims,
 *   `_generate_refresh_token` (`secrets.token_hex(64)`), `_store_refresh_token`,
 *   `_delete_refresh_token`, `refresh_token`, `logout`; key names `refresh_token:<t>` and
 *   `account_refresh_token:<account id>`.
 * - follows api/libs/token.py (1.12.1–main): `generate_csrf_token` claims `{exp, sub}`.
 * - follows api/extensions/ext_redis.py (≥1.14.0): `REDIS_KEY_PREFIX` → `<prefix>:<key>`.
 */
import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors, type JWTPayload } from 'jose';
import type { Redis } from 'ioredis';

/** `sub` claim of the console access token. */
export const CONSOLE_PASSPORT_SUBJECT = 'Console API Passport';

export class PassportError extends Error {
  override readonly name = 'PassportError';
  /** The Unauthorized description dify-api answers with. */
  constructor(message: string) {
    super(message);
  }
}

export interface PassportOptions {
  secretKey: string;
  now: () => number;
}

/** `PassportService` double. */
export class Passport {
  readonly #key: Uint8Array;
  readonly #now: () => number;

  constructor(options: PassportOptions) {
    this.#key = new TextEncoder().encode(options.secretKey);
    this.#now = options.now;
  }

  /** Sign a payload exactly as given (PyJWT `jwt.encode(payload, key, "HS256")`: header `{alg, typ}`). */
  async issue(payload: JWTPayload): Promise<string> {
    return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(this.#key);
  }

  /** Verify signature and `exp`; failures carry dify-api's messages (api/libs/passport.py). */
  async verify(token: string): Promise<JWTPayload> {
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: ['HS256'],
        currentDate: new Date(this.#now()),
      });
      return payload;
    } catch (err) {
      if (err instanceof joseErrors.JWTExpired) throw new PassportError('Token has expired.');
      if (err instanceof joseErrors.JWSSignatureVerificationFailed) throw new PassportError('Invalid token signature.');
      throw new PassportError('Invalid token.');
    }
  }

  nowSeconds(): number {
    return Math.floor(this.#now() / 1000);
  }
}

/** `secrets.token_hex(64)`: 128 lowercase hex characters. */
export function generateRefreshToken(): string {
  return randomBytes(64).toString('hex');
}

/** Physical Redis key naming (`REDIS_KEY_PREFIX`, honoured from 1.14.0). */
export class RedisKeys {
  readonly #prefix: string;

  constructor(prefix: string, honoured: boolean) {
    this.#prefix = honoured ? prefix.trim() : '';
  }

  key(logical: string): string {
    return this.#prefix ? `${this.#prefix}:${logical}` : logical;
  }

  refreshToken(token: string): string {
    return this.key(`refresh_token:${token}`);
  }

  accountRefreshToken(accountId: string): string {
    return this.key(`account_refresh_token:${accountId}`);
  }
}

export interface RefreshStoreOptions {
  redis: Redis;
  keys: RedisKeys;
  refreshTokenExpireDays: number;
}

/** Refresh-token storage (`_store_refresh_token` / `_delete_refresh_token`). */
export class RefreshStore {
  readonly #o: RefreshStoreOptions;

  constructor(options: RefreshStoreOptions) {
    this.#o = options;
  }

  get ttlSeconds(): number {
    return Math.trunc(this.#o.refreshTokenExpireDays * 86400);
  }

  async store(token: string, accountId: string): Promise<void> {
    const { redis, keys } = this.#o;
    // Two SETEX like Dify's `_store_refresh_token` (no transaction: on Redis Cluster the keys live in different slots).
    await redis.setex(keys.refreshToken(token), this.ttlSeconds, accountId);
    await redis.setex(keys.accountRefreshToken(accountId), this.ttlSeconds, token);
  }

  async accountOf(token: string): Promise<string | null> {
    return this.#o.redis.get(this.#o.keys.refreshToken(token));
  }

  async latestOf(accountId: string): Promise<string | null> {
    return this.#o.redis.get(this.#o.keys.accountRefreshToken(accountId));
  }

  async delete(token: string, accountId: string): Promise<void> {
    const { redis, keys } = this.#o;
    await redis.del(keys.refreshToken(token));
    await redis.del(keys.accountRefreshToken(accountId));
  }
}
