/**
 * Test harness: config from env, app with captured logs, a full login through the hostile OP.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp, type BuildAppDeps } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import type { HostileOp } from './hostile-op.js';

export const SECRET = 'test-session-secret-0123456789-abcdefghijklmnop';
export const PUBLIC_URL = 'https://dify.example.com';

export function testEnv(
  op: { issuer: string; clientId: string; clientSecret: string },
  overrides: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  return {
    DIFY_SSO_OIDC_ISSUER: op.issuer,
    DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
    DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
    DIFY_SSO_PUBLIC_URL: PUBLIC_URL,
    DIFY_SSO_SESSION_SECRET: SECRET,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_OIDC_JWKS_COOLDOWN_SECONDS: '0',
    DIFY_SSO_LOG_LEVEL: 'info',
    ...overrides,
  };
}

export interface TestApp {
  app: FastifyInstance;
  logs: string[];
  /** Parsed JSON log lines. */
  entries(): Record<string, unknown>[];
  audits(event?: string): Record<string, unknown>[];
}

export async function makeApp(
  op: HostileOp,
  overrides: Record<string, string | undefined> = {},
  deps: BuildAppDeps = {},
  setup?: (app: FastifyInstance) => void,
): Promise<TestApp> {
  const logs: string[] = [];
  const config = loadConfig(testEnv(op, overrides));
  const app = buildApp(config, { logStream: { write: (s: string) => void logs.push(s) }, ...deps });
  setup?.(app);
  await app.ready();
  const entries = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    app,
    logs,
    entries,
    audits: (event) => entries().filter((e) => e.audit === true && (event === undefined || e.event === event)),
  };
}

export type Jar = Map<string, string>;

/** Applies Set-Cookie of `res` to `jar` (deletions included). */
export function absorb(jar: Jar, res: LightMyRequestResponse): void {
  for (const c of res.cookies as { name: string; value: string; maxAge?: number; expires?: Date }[]) {
    if (c.value === '' || c.maxAge === 0 || (c.expires && c.expires.getTime() <= Date.now())) jar.delete(c.name);
    else jar.set(c.name, c.value);
  }
}

export function cookieHeader(jar: Jar): string {
  return [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
}

export interface LoginResult {
  loginRes: LightMyRequestResponse;
  callbackRes: LightMyRequestResponse;
  authUrl: URL;
  jar: Jar;
}

/** Drives /sso/login → OP → /sso/callback. `mutateCallback` can alter the callback query. */
export async function login(
  app: FastifyInstance,
  op: HostileOp,
  opts: {
    redirect?: string;
    user?: { sub?: string; claims?: Record<string, unknown>; sid?: string };
    jar?: Jar;
    mutateCallback?: (q: string) => string;
  } = {},
): Promise<LoginResult> {
  const jar: Jar = opts.jar ?? new Map();
  const loginRes = await app.inject({
    method: 'GET',
    url: `/sso/login${opts.redirect !== undefined ? `?redirect=${encodeURIComponent(opts.redirect)}` : ''}`,
    headers: { cookie: cookieHeader(jar) },
  });
  absorb(jar, loginRes);
  const authUrl = new URL(loginRes.headers.location as string);
  let q = op.authorize(authUrl.href, opts.user ?? {});
  if (opts.mutateCallback) q = opts.mutateCallback(q);
  const callbackRes = await app.inject({
    method: 'GET',
    url: `/sso/callback${q}`,
    headers: { cookie: cookieHeader(jar) },
  });
  absorb(jar, callbackRes);
  return { loginRes, callbackRes, authUrl, jar };
}
