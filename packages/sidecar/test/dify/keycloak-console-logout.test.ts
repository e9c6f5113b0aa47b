/**
 * Against the real Keycloak (DIFY_SSO_TEST_KEYCLOAK_URL) and the Dify stand-in on real Redis:
 * the stock console's `POST /console/api/logout` (whose `redirect_url` the stock SPA never
 * visits) ends the Keycloak session from the sidecar, so the next sign-in asks for credentials.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { SECRET } from '../helpers/harness.js';
import { Browser, KeycloakAdmin, REALM, keycloakUrl, loginFormAction } from '../helpers/keycloak.js';
import { ADMIN_KEY, SEED_IDS, redisUrl, startStandin, type Standin } from './helpers.js';

let kc: string;
let admin: KeycloakAdmin;
let client: { id: string; clientId: string; secret: string };
let standin: Standin;
let app: FastifyInstance;
let publicUrl: string;
const users: string[] = [];
const logs: string[] = [];

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

before(async () => {
  kc = keycloakUrl();
  admin = await KeycloakAdmin.login(kc);
  standin = await startStandin();
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  client = await admin.createClient(publicUrl);
  const config = loadConfig({
    DIFY_SSO_OIDC_ISSUER: `${kc}/realms/${REALM}`,
    DIFY_SSO_OIDC_CLIENT_ID: client.clientId,
    DIFY_SSO_OIDC_CLIENT_SECRET: client.secret,
    DIFY_SSO_PUBLIC_URL: publicUrl,
    DIFY_SSO_SESSION_SECRET: SECRET,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_OIDC_PRESET: 'keycloak',
    DIFY_SSO_DIFY_API_URL: standin.url,
    DIFY_SSO_DIFY_ADMIN_API_KEY: ADMIN_KEY,
    DIFY_SSO_DIFY_WORKSPACE_ID: SEED_IDS.workspaceId,
    DIFY_SSO_DIFY_REDIS_URL: redisUrl(),
    DIFY_SSO_DIFY_REDIS_KEY_PREFIX: standin.prefix,
    DIFY_SSO_ROLE_MAP: 'dify-admins=admin,dify-editors=editor',
    DIFY_SSO_JIT: 'true',
    DIFY_SSO_REDIS_KEY_PREFIX: `${standin.prefix}-kit:`,
  });
  app = buildApp(config, { logStream: { write: (s: string) => void logs.push(s) } });
  await app.listen({ host: '127.0.0.1', port });
  assert.equal(app.sso.oidc.ready, true, 'discovery against Keycloak succeeded');
});

after(async () => {
  await app?.close();
  await standin?.close();
  for (const id of users) await admin.api('DELETE', `/users/${id}`);
  if (client) await admin.api('DELETE', `/clients/${client.id}`);
});

/** Sidecar /sso/login → Keycloak (form shown or not) → callback; `shown` says whether Keycloak asked for credentials. */
async function signIn(
  browser: Browser,
  user: { username: string; password: string },
): Promise<{ shown: boolean; callback: Response }> {
  const start = await browser.request(`${publicUrl}/sso/login?redirect=%2Fapps`);
  assert.equal(start.status, 302);
  const page = await browser.follow(start.headers.get('location')!, (u) => u.startsWith(`${publicUrl}/sso/callback`));
  let callbackUrl = page.url;
  const shown = !callbackUrl.startsWith(`${publicUrl}/sso/callback`);
  if (shown) {
    const action = loginFormAction(await page.res.text());
    assert.ok(action, 'Keycloak login form shown');
    const posted = await browser.request(action, {
      method: 'POST',
      body: new URLSearchParams({ username: user.username, password: user.password, credentialId: '' }),
    });
    assert.equal(posted.status, 302, 'Keycloak accepted the credentials');
    callbackUrl = new URL(posted.headers.get('location')!, action).href;
  }
  return { shown, callback: await browser.request(callbackUrl) };
}

test("stock console logout ends the Keycloak session server-side: the next sign-in shows Keycloak's login form", async () => {
  const u = await admin.createUser({ group: 'dify-admins' });
  users.push(u.id);
  const browser = new Browser();
  const first = await signIn(browser, u);
  assert.equal(first.shown, true);
  assert.equal(first.callback.status, 302);
  assert.equal(first.callback.headers.get('location'), '/apps', 'signed in to Dify through the bridge');
  const jar = browser.jar(publicUrl);
  assert.ok(jar.get('access_token') && jar.get('csrf_token'), "Dify's cookies relayed");
  assert.equal((await admin.sessionsOf(u.id)).length, 1);

  // What the stock SPA sends: JSON content type, empty body, CSRF header; it then ignores redirect_url.
  const res = await fetch(`${publicUrl}/console/api/logout`, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      'content-type': 'application/json',
      'x-csrf-token': jar.get('csrf_token')!,
      accept: 'application/json',
      origin: new URL(publicUrl).origin,
    },
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { result: string; redirect_url: string };
  assert.equal(body.result, 'success');
  assert.ok(
    body.redirect_url.startsWith(`${kc}/realms/${REALM}/protocol/openid-connect/logout?`),
    'browser-facing end-session URL still returned',
  );
  assert.deepEqual(await admin.sessionsOf(u.id), [], 'Keycloak session ended without the browser visiting Keycloak');
  const audit = logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['event'] === 'auth.logout' && e['sub'] === u.id)
    .at(-1);
  assert.equal(audit?.['via'], 'console');
  assert.equal(audit?.['idpLogout'], 'ended');

  // A patched console that does visit redirect_url is still sent back to our sign-in page.
  const visit = await browser.follow(body.redirect_url, (x) => x.startsWith(`${publicUrl}/signin`));
  assert.equal(visit.url, `${publicUrl}/signin`, 'Keycloak still honours the post-logout redirect');

  // Next sign-in: Keycloak asks for credentials again (its SSO cookie no longer names a live session).
  const again = await signIn(browser, u);
  assert.equal(again.shown, true, "Keycloak's login form shown again");
});
