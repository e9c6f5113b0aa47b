/**
 * Shared test plumbing: the real Redis (required), unique key prefixes, a listening stand-in.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { buildStandinApi, type StandinApiOptions } from '../src/api.js';

/** The real Redis for tests. Fails (never skips) when the environment does not provide one. */
export function testRedisUrl(): string {
  const url = process.env['DIFY_SSO_TEST_REDIS_URL'];
  if (!url) throw new Error('DIFY_SSO_TEST_REDIS_URL must point at a running Redis (npm run redis -- start)');
  return url;
}

/** A key prefix no other test (or engineer) uses. */
export function uniquePrefix(label = 't'): string {
  return `standin-${label}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

export function newRedis(): Redis {
  return new Redis(testRedisUrl(), { maxRetriesPerRequest: 2 });
}

/** Delete every key under a prefix (cleanup). */
export async function dropPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export const SECRET = 'standin-test-secret-key-0123456789';
export const ADMIN_KEY = 'standin-test-admin-api-key';
export const INTROSPECTION = 'standin-test-introspection';

export interface StandinUnderTest {
  app: ReturnType<typeof buildStandinApi>;
  redis: Redis;
  prefix: string;
  close(): Promise<void>;
}

/** Build (not listen) a stand-in on the real Redis with a unique prefix. */
export function standin(options: Partial<StandinApiOptions> = {}): StandinUnderTest {
  const redis = newRedis();
  const prefix = options.redisKeyPrefix ?? uniquePrefix();
  const app = buildStandinApi({
    secretKey: SECRET,
    adminApiKey: ADMIN_KEY,
    adminApiKeyEnable: true,
    introspectionSecret: INTROSPECTION,
    ...options,
    redis,
    redisKeyPrefix: prefix,
  });
  return {
    app,
    redis,
    prefix,
    async close() {
      await app.close();
      await dropPrefix(redis, prefix);
      await redis.quit();
    },
  };
}

/** Listen on an ephemeral port; returns the base URL. */
export async function listen(app: {
  listen(o: { host: string; port: number }): Promise<string>;
  server: { address(): AddressInfo | string | null };
}): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address() as AddressInfo;
  return `http://127.0.0.1:${addr.port}`;
}

/** `name=value` pairs of Set-Cookie values, for a Cookie header. */
export function cookieHeader(setCookies: string[]): string {
  return setCookies
    .map((c) => c.split(';')[0])
    .filter((c) => !c?.endsWith('='))
    .join('; ');
}

export function cookieValue(setCookies: string[], name: string): string | undefined {
  for (const c of setCookies) {
    const first = c.split(';')[0] ?? '';
    const eq = first.indexOf('=');
    if (first.slice(0, eq) === name) return first.slice(eq + 1);
  }
  return undefined;
}

export function setCookies(headers: Record<string, unknown> | Headers): string[] {
  if (headers instanceof Headers) return headers.getSetCookie();
  const v = headers['set-cookie'];
  return Array.isArray(v) ? (v as string[]) : typeof v === 'string' ? [v] : [];
}
