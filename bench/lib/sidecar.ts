/**
 * Bench child process: the sidecar with the Dify bridge, reverse-proxy mode on, in front of the
 * upstream given as argv[2]. A kit session and a matching Dify access cookie are created in the
 * memory store so the gate takes its full console path (session lookup + cookie comparison).
 * Sends `{ port, cookie }` to the parent over IPC; answers 'rss'.
 * With argv[3] = `webapps`: web-app SSO on (policy: every app `authenticated`), and a passport
 * whose end user the kit recorded for the bench person is sent as `passport` too.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { buildApp } from '../../packages/sidecar/src/app.js';
import { loadConfig } from '../../packages/sidecar/src/config/load.js';

const upstream = process.argv[2] as string;
const webApps = process.argv[3] === 'webapps';
const policyFile = webApps ? join(mkdtempSync(join(tmpdir(), 'dify-sso-bench-')), 'webapps.json') : undefined;
if (policyFile) writeFileSync(policyFile, JSON.stringify({ default: 'authenticated' }));
const ACCOUNT = 'a11ce000-7d3b-4c2a-9f1e-5b6d8c0e2f43';
const config = loadConfig({
  DIFY_SSO_OIDC_ISSUER: 'http://127.0.0.1:9/realms/bench',
  DIFY_SSO_OIDC_CLIENT_ID: 'bench',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'bench-client-secret',
  DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
  DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
  DIFY_SSO_SESSION_SECRET: 'bench-session-secret-0123456789-abcdefghijklmnop',
  DIFY_SSO_LOG_LEVEL: 'silent',
  DIFY_SSO_TRUST_PROXY: '127.0.0.1',
  DIFY_SSO_DIFY_API_URL: upstream,
  DIFY_SSO_DIFY_WEB_URL: upstream,
  DIFY_SSO_DIFY_ADMIN_API_KEY: 'bench-admin-key-5f1e9a7c3b',
  DIFY_SSO_DIFY_WORKSPACE_ID: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
  DIFY_SSO_DIFY_REDIS_URL: 'redis://127.0.0.1:1',
  DIFY_SSO_ROLE_MAP: 'dify-admins=admin',
  DIFY_SSO_GATE_MODE: 'proxy',
  ...(policyFile ? { DIFY_SSO_GATE_WEB_APPS: 'true', DIFY_SSO_GATE_WEB_APP_POLICY: policyFile } : {}),
});
// Dify's Redis is only read on the refresh path, which the bench does not take.
const app = buildApp(config, { dify: { redis: new Redis('redis://127.0.0.1:1', { lazyConnect: true }) } });
await app.listen({ host: '127.0.0.1', port: 0 });

const raw = randomBytes(32).toString('base64url');
const id = app.sso.sessions.sessionIdOf({ cookies: { [app.sso.cookieNames.session]: raw } } as never) as string;
const now = Date.now();
await app.sso.store.create({
  id,
  iss: config.oidc.issuer,
  sub: 'bench-user',
  claims: { groups: ['dify-admins'], roles: [] },
  createdAt: now,
  lastSeenAt: now,
  absoluteExpiresAt: now + 3600_000,
  lastRefreshAt: now,
  difyAccountId: ACCOUNT,
  ext: {},
});
const access = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ user_id: ACCOUNT, exp: Math.floor(now / 1000) + 3600, iss: 'SELF_HOSTED', sub: 'Console API Passport' })).toString('base64url')}.bench-signature-not-checked-by-the-gate`;
// A passport as dify-api issues it (the gate reads its claims; dify-api checks the signature).
const endUser = 'e0d0e0d0-0000-4000-8000-00000000b001';
const passport = `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${Buffer.from(JSON.stringify({ iss: '0b6c1a5e-0000-4000-8000-00000000a001', sub: 'Web API Passport', app_id: '0b6c1a5e-0000-4000-8000-00000000a001', app_code: 'AssistAlpha00001', end_user_id: endUser })).toString('base64url')}.bench-signature-not-checked-by-the-gate`;
if (webApps) {
  const { personKey } = await import('../../packages/sidecar/src/webapps/service.js');
  await app.sso.store.kv.set(`webapp:eu:${endUser}`, personKey(config.oidc.issuer, 'bench-user'), 3600);
}
process.send?.({
  port: (app.server.address() as AddressInfo).port,
  cookie: `${app.sso.cookieNames.session}=${raw}; access_token=${access}`,
  ...(webApps ? { passport } : {}),
});
process.on('message', (m: unknown) => {
  if (m === 'rss') process.send?.({ rss: process.memoryUsage().rss });
  if (m === 'cpu') {
    const u = process.cpuUsage();
    process.send?.({ cpu: u.user + u.system });
  }
  if (m === 'exit') void app.close().then(() => process.exit(0));
});
