/**
 * Bridge test harness: real Redis (DIFY_SSO_TEST_REDIS_URL, required), the Dify stand-in
 * listening on an ephemeral port, and the sidecar app with the bridge registered.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { buildStandinApi, SEED_IDS, INTROSPECTION_HEADER } from '@dify-sso-kit/dify-standin';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { testEnv } from '../helpers/harness.js';

export { SEED_IDS };
export const ADMIN_KEY = 'admin-key-9f2c41d7e85b3a60';
export const STANDIN_SECRET = 'standin-secret-key-for-tests-only';
export const INTROSPECTION = 'introspection-secret';

export function redisUrl(): string {
  const url = process.env['DIFY_SSO_TEST_REDIS_URL'];
  if (!url)
    throw new Error(
      'DIFY_SSO_TEST_REDIS_URL must point at a Redis for the bridge tests (e.g. redis://127.0.0.1:16379)',
    );
  return url;
}

/**
 * The test Redis with another logical DB: tests that must run without REDIS_KEY_PREFIX (Dify
 * < 1.14) use their own DB so their unprefixed keys never meet another stack's.
 */
export function redisUrlDb(db: number): string {
  const u = new URL(redisUrl());
  u.pathname = `/${db}`;
  return u.href;
}

export function uniquePrefix(): string {
  return `bt${randomBytes(6).toString('hex')}`;
}

export interface Standin {
  app: FastifyInstance;
  url: string;
  prefix: string;
  redis: Redis;
  accounts(
    email?: string,
  ): Promise<{ id: string; email: string; status: string; memberships: { workspace_id: string; role: string }[] }[]>;
  release(gate: string): Promise<void>;
  close(): Promise<void>;
}

export async function startStandin(
  o: {
    version?: string;
    redisKeyPrefix?: string;
    consoleApiUrl?: string;
    consoleWebUrl?: string;
    redisUrl?: string;
    redis?: Redis;
  } = {},
): Promise<Standin> {
  const redis = o.redis ?? new Redis(o.redisUrl ?? redisUrl(), { maxRetriesPerRequest: 2 });
  const prefix = o.redisKeyPrefix ?? uniquePrefix();
  const app = buildStandinApi({
    secretKey: STANDIN_SECRET,
    redis,
    ...(o.version ? { version: o.version } : {}),
    redisKeyPrefix: prefix,
    adminApiKey: ADMIN_KEY,
    adminApiKeyEnable: true,
    enableEmailPasswordLogin: true,
    introspectionSecret: INTROSPECTION,
    consoleApiUrl: o.consoleApiUrl ?? '',
    consoleWebUrl: o.consoleWebUrl ?? '',
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const intro = (path: string, init: RequestInit = {}) =>
    fetch(`${url}/__standin${path}`, {
      ...init,
      headers: { [INTROSPECTION_HEADER]: INTROSPECTION, ...(init.headers ?? {}) },
    });
  return {
    app,
    url,
    prefix,
    redis,
    accounts: async (email) =>
      (
        (await (await intro(`/accounts${email ? `?email=${encodeURIComponent(email)}` : ''}`)).json()) as {
          accounts: never[];
        }
      ).accounts,
    release: async (gate) => void (await intro(`/gates/${encodeURIComponent(gate)}/release`, { method: 'POST' })),
    close: async () => {
      await app.close();
      await redis.quit();
    },
  };
}

export interface BridgeApp {
  app: FastifyInstance;
  op: HostileOp;
  logs: string[];
  audits(event?: string): Record<string, unknown>[];
  close(): Promise<void>;
}

export function bridgeEnv(
  op: HostileOp,
  standin: Standin,
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return testEnv(op, {
    DIFY_SSO_DIFY_API_URL: standin.url,
    DIFY_SSO_DIFY_ADMIN_API_KEY: ADMIN_KEY,
    DIFY_SSO_DIFY_WORKSPACE_ID: SEED_IDS.workspaceId,
    DIFY_SSO_DIFY_REDIS_URL: redisUrl(),
    DIFY_SSO_DIFY_REDIS_KEY_PREFIX: standin.prefix,
    DIFY_SSO_ROLE_MAP: 'dify-admins=admin,dify-editors=editor',
    DIFY_SSO_JIT: 'true',
    DIFY_SSO_TRUST_PROXY: '127.0.0.1',
    DIFY_SSO_REDIS_KEY_PREFIX: `${standin.prefix}-kit:`,
    ...overrides,
  });
}

/** Sidecar + bridge against `standin`. `op` is shared or started here. */
export async function startBridge(
  standin: Standin,
  overrides: Record<string, string | undefined> = {},
  opts: { op?: HostileOp; listen?: boolean } = {},
): Promise<BridgeApp> {
  const op = opts.op ?? (await HostileOp.start());
  const logs: string[] = [];
  const config = loadConfig(bridgeEnv(op, standin, overrides));
  const app = buildApp(config, { logStream: { write: (s: string) => void logs.push(s) } });
  if (opts.listen) await app.listen({ host: '127.0.0.1', port: 0 });
  else await app.ready();
  const entries = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    app,
    op,
    logs,
    audits: (event) => entries().filter((e) => e['audit'] === true && (event === undefined || e['event'] === event)),
    close: async () => {
      await app.close();
      if (!opts.op) await op.close();
    },
  };
}

export const USERS = {
  alice: {
    sub: 'kc-alice',
    claims: { email: 'alice@example.com', email_verified: true, name: 'Alice Example', groups: ['dify-admins'] },
  },
  bob: {
    sub: 'kc-bob',
    claims: { email: 'bob@example.com', email_verified: true, name: 'Bob Example', groups: ['dify-editors'] },
  },
  carol: {
    sub: 'kc-carol',
    claims: { email: 'carol@example.com', email_verified: true, name: 'Carol Example', groups: [] },
  },
  dave: {
    sub: 'kc-dave',
    claims: { email: 'dave@example.com', email_verified: false, name: 'Dave Example', groups: ['dify-editors'] },
  },
  owner: {
    sub: 'kc-owner',
    claims: { email: 'owner@example.com', email_verified: true, name: 'Olivia Owner', groups: [] },
  },
} as const;

/** Reads a cookie value from Set-Cookie headers. */
export function setCookieValue(setCookie: string | string[] | undefined, name: string): string | undefined {
  for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
    const first = c.split(';', 1)[0] ?? '';
    const i = first.indexOf('=');
    if (first.slice(0, i) === name) return first.slice(i + 1);
  }
  return undefined;
}
