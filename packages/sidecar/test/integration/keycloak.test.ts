/**
 * Against the real Keycloak (DIFY_SSO_TEST_KEYCLOAK_URL): login, logout that ends the
 * Keycloak session, back-channel logout from the admin API, client-credentials bearer tokens.
 * Creates its own client and users through the admin API and removes them afterwards.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { SECRET } from '../helpers/harness.js';
import { Browser, KeycloakAdmin, REALM, keycloakUrl, loginFormAction } from '../helpers/keycloak.js';
import type { SessionEndCause } from '../../src/services/session.js';
import type { SessionRecord } from '../../src/store/types.js';
import { TokenError } from '../../src/errors.js';
import { decodeProtectedHeader } from 'jose';

let kc: string;
let admin: KeycloakAdmin;
let client: { id: string; clientId: string; secret: string };
let app: FastifyInstance;
let publicUrl: string;
const users: string[] = [];
const ended: { session: SessionRecord; cause: SessionEndCause }[] = [];
const waiters: ((e: { session: SessionRecord; cause: SessionEndCause }) => void)[] = [];
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
    DIFY_SSO_OIDC_REQUIRE_LOGOUT_TOKEN_TYP: 'true',
    DIFY_SSO_POLICY_ALLOWED_GROUPS: 'dify-admins,dify-editors',
    DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com',
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
    DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
  });
  app = buildApp(config, { logStream: { write: (s: string) => void logs.push(s) } });
  app.sso.addSessionEndHook((session, cause) => {
    const e = { session, cause };
    ended.push(e);
    for (const w of waiters.splice(0)) w(e);
  });
  await app.listen({ host: '127.0.0.1', port });
  assert.equal(app.sso.oidc.ready, true, 'discovery against Keycloak succeeded');
});

after(async () => {
  await app?.close();
  for (const id of users) await admin.api('DELETE', `/users/${id}`);
  if (client) await admin.api('DELETE', `/clients/${client.id}`);
});

async function newUser(opts: { emailVerified?: boolean; group?: string } = { group: 'dify-admins' }) {
  const u = await admin.createUser(opts);
  users.push(u.id);
  return u;
}

/** Drives login: sidecar /sso/login → Keycloak form → callback. Returns the browser and the callback response. */
async function browserLogin(user: { username: string; password: string }, browser = new Browser()) {
  const start = await browser.request(`${publicUrl}/sso/login?redirect=%2Fapps%2Fkc`);
  assert.equal(start.status, 302);
  const authUrl = start.headers.get('location')!;
  assert.ok(authUrl.startsWith(`${kc}/realms/${REALM}/protocol/openid-connect/auth?`));
  const page = await browser.follow(authUrl, (u) => u.startsWith(`${publicUrl}/sso/callback`));
  let callbackUrl = page.url;
  if (!callbackUrl.startsWith(`${publicUrl}/sso/callback`)) {
    const action = loginFormAction(await page.res.text());
    assert.ok(action, 'Keycloak login form shown');
    const posted = await browser.request(action, {
      method: 'POST',
      body: new URLSearchParams({ username: user.username, password: user.password, credentialId: '' }),
    });
    assert.equal(posted.status, 302, 'Keycloak accepted the credentials');
    callbackUrl = new URL(posted.headers.get('location')!, action).href;
  }
  assert.ok(callbackUrl.startsWith(`${publicUrl}/sso/callback?`), callbackUrl);
  const cb = await browser.request(callbackUrl);
  return { browser, cb };
}

function sessionCookie(browser: Browser): Record<string, string> {
  return Object.fromEntries(browser.jar(publicUrl));
}

function nextEnd(): Promise<{ session: SessionRecord; cause: SessionEndCause }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no session end within 15 s')), 15_000);
    waiters.push((e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });
}

test('full login through Keycloak: session with iss/sub/sid, groups from Keycloak', async () => {
  const u = await newUser();
  const { browser, cb } = await browserLogin(u);
  assert.equal(cb.status, 302);
  assert.equal(cb.headers.get('location'), '/apps/kc');
  const check = await app.sso.checkSession({ cookies: sessionCookie(browser) } as never);
  assert.ok(check.ok);
  assert.equal(check.session.sub, u.id);
  assert.equal(check.session.iss, `${kc}/realms/${REALM}`);
  assert.ok(check.session.sid, 'Keycloak sid kept for back-channel logout');
  assert.deepEqual(check.session.claims.groups, ['dify-admins']);
  assert.ok(
    check.session.claims.roles.includes('default-roles-dify-sso'),
    'realm roles read from the verified Keycloak access token',
  );
  assert.equal(check.session.claims.emailVerified, true);
  assert.equal(check.session.claims.email, `${u.username}@example.com`);
});

test('access policy against Keycloak: no allowed group → access_denied; unverified e-mail → email_not_verified', async () => {
  const nogroup = await newUser({});
  const r1 = await browserLogin(nogroup);
  assert.equal(r1.cb.headers.get('location'), '/signin?message=access_denied');
  const unverified = await newUser({ group: 'dify-editors', emailVerified: false });
  const r2 = await browserLogin(unverified);
  assert.equal(r2.cb.headers.get('location'), '/signin?message=email_not_verified');
});

test('logout really ends the Keycloak session: the next authorization request shows the login form again', async () => {
  const u = await newUser();
  const { browser } = await browserLogin(u);
  assert.equal((await admin.sessionsOf(u.id)).length, 1);
  // What a browser sends when the console plugin's form posts to /sso/logout.
  const out = await browser.request(`${publicUrl}/sso/logout`, {
    method: 'POST',
    headers: { origin: new URL(publicUrl).origin },
  });
  assert.equal(out.status, 303);
  const endSession = new URL(out.headers.get('location')!);
  assert.equal(`${endSession.origin}${endSession.pathname}`, `${kc}/realms/${REALM}/protocol/openid-connect/logout`);
  assert.ok(endSession.searchParams.get('id_token_hint'));
  assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), `${publicUrl}/signin`);
  const back = await browser.follow(endSession.href, (x) => x.startsWith(`${publicUrl}/signin`));
  assert.equal(back.url, `${publicUrl}/signin`, 'Keycloak redirected back to the allowlisted post-logout URI');
  assert.deepEqual(await admin.sessionsOf(u.id), [], 'Keycloak session gone');
  assert.equal((await app.sso.checkSession({ cookies: sessionCookie(browser) } as never)).ok, false);
  // next login: Keycloak asks for credentials again
  const start = await browser.request(`${publicUrl}/sso/login`);
  const page = await browser.follow(start.headers.get('location')!, (x) => x.startsWith(`${publicUrl}/sso/callback`));
  assert.ok(!page.url.startsWith(`${publicUrl}/sso/callback`), 'no silent re-login');
  assert.ok(loginFormAction(await page.res.text()), 'login form shown again');
});

test('back-channel logout initiated from the Keycloak admin API kills the sidecar session', async () => {
  const u = await newUser();
  const { browser } = await browserLogin(u);
  const before = await app.sso.checkSession({ cookies: sessionCookie(browser) } as never);
  assert.ok(before.ok);
  const headers: Record<string, unknown>[] = [];
  const oidc = app.sso.oidc;
  const original = oidc.verifyJwt.bind(oidc);
  oidc.verifyJwt = async (token, opts) => {
    headers.push(decodeProtectedHeader(token));
    return original(token, opts);
  };
  const ending = nextEnd();
  const res = await admin.api('POST', `/users/${u.id}/logout`);
  assert.equal(res.status, 204);
  const e = await ending.finally(() => (oidc.verifyJwt = original));
  assert.equal(headers[0]?.typ, 'logout+jwt', 'Keycloak sends typ=logout+jwt (strict typ checking is on in this app)');
  assert.equal(e.cause, 'backchannel');
  assert.equal(e.session.sub, u.id);
  assert.deepEqual(await app.sso.checkSession({ cookies: sessionCookie(browser) } as never), {
    ok: false,
    reason: 'revoked',
  });
  const audit = logs
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((x) => x.event === 'auth.backchannel' && x.sub === u.id);
  assert.ok(audit, 'auth.backchannel audited');
});

async function clientCredentials(clientId: string, secret: string): Promise<string> {
  const res = await fetch(`${kc}/realms/${REALM}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}` },
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  });
  assert.equal(res.status, 200, `client credentials for ${clientId}`);
  return ((await res.json()) as { access_token: string }).access_token;
}

test('client-credentials bearer tokens: dify-machine accepted (audience + scope), other-machine rejected', async () => {
  const good = await app.sso.verifyBearer(await clientCredentials('dify-machine', 'dify-machine-secret'));
  assert.equal(good.azp, 'dify-machine');
  assert.ok(good.scopes.includes('dify:console'));
  await assert.rejects(
    app.sso.verifyBearer(await clientCredentials('other-machine', 'other-machine-secret')),
    (e: unknown) => {
      assert.ok(e instanceof TokenError);
      assert.equal(e.code, 'ERR_TOKEN_AUDIENCE');
      return true;
    },
  );
});

test('bearer: right audience but a required scope missing → ERR_TOKEN_SCOPE', async () => {
  const strict = buildApp(
    loadConfig({
      DIFY_SSO_OIDC_ISSUER: `${kc}/realms/${REALM}`,
      DIFY_SSO_OIDC_CLIENT_ID: client.clientId,
      DIFY_SSO_OIDC_CLIENT_SECRET: client.secret,
      DIFY_SSO_PUBLIC_URL: publicUrl,
      DIFY_SSO_SESSION_SECRET: SECRET,
      DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
      DIFY_SSO_LOG_LEVEL: 'silent',
      DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
      DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console,dify:admin',
    }),
  );
  try {
    await strict.ready();
    await assert.rejects(
      strict.sso.verifyBearer(await clientCredentials('dify-machine', 'dify-machine-secret')),
      (e: unknown) => (e as TokenError).code === 'ERR_TOKEN_SCOPE',
    );
  } finally {
    await strict.close();
  }
});
