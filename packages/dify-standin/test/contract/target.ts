/**
 * A contract target: something that answers dify-api's console contract, plus the Redis it keeps
 * refresh tokens in. Either the stand-in (CI) or a real dify-api named by env:
 *
 * | env | meaning |
 * |---|---|
 * | `DIFY_CONTRACT_API_URL` | dify-api base URL, e.g. `http://127.0.0.1:5001` (switches the suite to the real target) |
 * | `DIFY_CONTRACT_REDIS_URL` | that dify-api's Redis, e.g. `redis://:difyai123456@127.0.0.1:6379/0` |
 * | `DIFY_CONTRACT_REDIS_KEY_PREFIX` | its `REDIS_KEY_PREFIX` (default empty) |
 * | `DIFY_CONTRACT_ADMIN_API_KEY` | its `ADMIN_API_KEY` (`ADMIN_API_KEY_ENABLE=true` on the api) |
 * | `DIFY_CONTRACT_WORKSPACE_ID` | a workspace id (the `X-WORKSPACE-ID`) |
 * | `DIFY_CONTRACT_ACCOUNT_ID` | optional: the member to seed a session for (default: the workspace owner) |
 * | `DIFY_CONTRACT_CONSOLE_API_URL`, `DIFY_CONTRACT_CONSOLE_WEB_URL`, `DIFY_CONTRACT_COOKIE_DOMAIN` | its `CONSOLE_API_URL`, `CONSOLE_WEB_URL`, `COOKIE_DOMAIN` (cookie naming rule; default empty) |
 * | `DIFY_CONTRACT_ACCESS_TOKEN_EXPIRE_MINUTES`, `DIFY_CONTRACT_REFRESH_TOKEN_EXPIRE_DAYS` | its token lifetimes (default 60 / 30) |
 * | `DIFY_CONTRACT_TREE` | `main` for a checkout of upstream main (it reports `X-Version: 1.16.1` like the release but lacks `POST /workspaces/current`); default `release` |
 */
import type { AddressInfo } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { buildStandinApi, type StandinApiOptions } from '../../src/api.js';
import { SEED_IDS } from '../../src/seed-ids.js';
import { versionFeatures } from '../../src/version.js';
import type { SeedData } from '../../src/lib/db.js';
import defaultSeed from '../../src/seed.json' with { type: 'json' };
import { ADMIN_KEY, INTROSPECTION, SECRET, dropPrefix, testRedisUrl, uniquePrefix } from '../helpers.js';

export interface ContractTarget {
  /** Human name for test titles. */
  readonly name: string;
  readonly baseUrl: string;
  readonly redis: Redis;
  readonly redisKeyPrefix: string;
  readonly adminApiKey: string;
  readonly workspaceId: string;
  /** The member a session is seeded for. */
  readonly accountId: string;
  readonly consoleApiUrl: string;
  readonly consoleWebUrl: string;
  readonly cookieDomain: string;
  readonly accessTokenExpireMinutes: number;
  readonly refreshTokenExpireDays: number;
  /** `SECRET_KEY` when known (stand-in only): enables checks that need to mint tokens. */
  readonly secretKey?: string;
  /** A release, or upstream main after 1.16.1 (same `X-Version`, see MAIN_VERSION in src/version.ts). */
  readonly tree: 'release' | 'main';
  close(): Promise<void>;
}

/** Physical key for a logical Dify Redis key on this target (`REDIS_KEY_PREFIX`, 1.14.0+). */
export function redisKey(target: ContractTarget, logical: string): string {
  return target.redisKeyPrefix ? `${target.redisKeyPrefix}:${logical}` : logical;
}

/**
 * Write a refresh-token pair exactly as dify-api stores it (and as the sidecar's bridge will):
 * `refresh_token:<t>` → account id and `account_refresh_token:<id>` → t, both with TTL
 * `REFRESH_TOKEN_EXPIRE_DAYS`.
 */
export async function seedRefreshToken(target: ContractTarget, accountId: string = target.accountId): Promise<string> {
  const token = randomBytes(64).toString('hex');
  const ttl = Math.trunc(target.refreshTokenExpireDays * 86400);
  await target.redis
    .multi()
    .setex(redisKey(target, `refresh_token:${token}`), ttl, accountId)
    .setex(redisKey(target, `account_refresh_token:${accountId}`), ttl, token)
    .exec();
  return token;
}

/**
 * The stand-in as a contract target (listening on an ephemeral port, real Redis, unique prefix).
 * Versions before 1.14.0 ignore `REDIS_KEY_PREFIX`, so their member gets a fresh id instead, which
 * keeps the unprefixed keys of parallel runs apart.
 */
export async function standinTarget(overrides: Partial<StandinApiOptions> = {}): Promise<ContractTarget> {
  const redis = new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
  const prefix = uniquePrefix('contract');
  const options = {
    secretKey: SECRET,
    adminApiKey: ADMIN_KEY,
    adminApiKeyEnable: true,
    introspectionSecret: INTROSPECTION,
    enableEmailPasswordLogin: false,
    allowRegister: false,
    ...overrides,
  };
  const honoursPrefix = versionFeatures(options.version ?? '1.16.1').redisKeyPrefix;
  const seed = structuredClone(defaultSeed) as SeedData;
  const accountId = honoursPrefix ? SEED_IDS.aliceId : randomUUID();
  for (const a of seed.accounts) if (a.id === SEED_IDS.aliceId) a.id = accountId;
  const app = buildStandinApi({ ...options, seed, redis, redisKeyPrefix: prefix });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const port = (app.server.address() as AddressInfo).port;
  return {
    name: `stand-in ${options.version ?? 'newest'}`,
    baseUrl: `http://127.0.0.1:${port}`,
    redis,
    redisKeyPrefix: honoursPrefix ? prefix : '',
    adminApiKey: ADMIN_KEY,
    workspaceId: SEED_IDS.workspaceId,
    accountId,
    consoleApiUrl: options.consoleApiUrl ?? '',
    consoleWebUrl: options.consoleWebUrl ?? '',
    cookieDomain: options.cookieDomain ?? '',
    accessTokenExpireMinutes: options.accessTokenExpireMinutes ?? 60,
    refreshTokenExpireDays: options.refreshTokenExpireDays ?? 30,
    secretKey: SECRET,
    tree: options.version === 'main' ? 'main' : 'release',
    async close() {
      await app.close();
      await dropPrefix(redis, prefix);
      if (!honoursPrefix) await dropAccountKeys(redis, accountId);
      await redis.quit();
    },
  };
}

/** Remove the unprefixed refresh keys of one account (cleanup for versions before 1.14.0). */
async function dropAccountKeys(redis: Redis, accountId: string): Promise<void> {
  await redis.del(`account_refresh_token:${accountId}`);
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', 'refresh_token:*', 'COUNT', 1000);
    cursor = next;
    for (const k of keys) if ((await redis.get(k)) === accountId) await redis.del(k);
  } while (cursor !== '0');
}

/** True when the suite should run against a real dify-api. */
export function realTargetConfigured(env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(env['DIFY_CONTRACT_API_URL']);
}

/** A real dify-api named by `DIFY_CONTRACT_*` env (see the table above). */
export async function envTarget(env: Record<string, string | undefined> = process.env): Promise<ContractTarget> {
  const need = (k: string): string => {
    const v = env[k];
    if (!v) throw new Error(`${k} is required to run the contract against a real dify-api`);
    return v;
  };
  const baseUrl = need('DIFY_CONTRACT_API_URL').replace(/\/+$/, '');
  const redis = new Redis(need('DIFY_CONTRACT_REDIS_URL'), { maxRetriesPerRequest: 2 });
  const adminApiKey = need('DIFY_CONTRACT_ADMIN_API_KEY');
  const workspaceId = need('DIFY_CONTRACT_WORKSPACE_ID');
  let accountId = env['DIFY_CONTRACT_ACCOUNT_ID'] ?? '';
  if (!accountId) {
    const r = await fetch(`${baseUrl}/console/api/workspaces/current/members`, {
      headers: { authorization: `Bearer ${adminApiKey}`, 'x-workspace-id': workspaceId },
    });
    if (!r.ok) throw new Error(`listing members with the admin key failed: HTTP ${r.status}`);
    const body = (await r.json()) as { accounts: { id: string; role: string }[] };
    accountId = body.accounts.find((a) => a.role === 'owner')?.id ?? '';
    if (!accountId) throw new Error('no owner found in DIFY_CONTRACT_WORKSPACE_ID');
  }
  return {
    name: `dify-api at ${baseUrl}`,
    baseUrl,
    redis,
    redisKeyPrefix: env['DIFY_CONTRACT_REDIS_KEY_PREFIX'] ?? '',
    adminApiKey,
    workspaceId,
    accountId,
    consoleApiUrl: env['DIFY_CONTRACT_CONSOLE_API_URL'] ?? '',
    consoleWebUrl: env['DIFY_CONTRACT_CONSOLE_WEB_URL'] ?? '',
    cookieDomain: env['DIFY_CONTRACT_COOKIE_DOMAIN'] ?? '',
    accessTokenExpireMinutes: Number(env['DIFY_CONTRACT_ACCESS_TOKEN_EXPIRE_MINUTES'] ?? 60),
    refreshTokenExpireDays: Number(env['DIFY_CONTRACT_REFRESH_TOKEN_EXPIRE_DAYS'] ?? 30),
    tree: env['DIFY_CONTRACT_TREE'] === 'main' ? 'main' : 'release',
    async close() {
      await redis.quit();
    },
  };
}
