/**
 * IdP signing-key rotation against the real Keycloak (DIFY_SSO_TEST_KEYCLOAK_URL): a throwaway
 * realm (created and deleted here through the admin API) gets a new `rsa-generated` key provider
 * with a higher priority than its default key right after the sidecar loaded the JWKS; the next
 * login, whose ID token carries the new `kid`, must succeed although the unknown-`kid` cooldown
 * (600 s here) has not passed. A logout token signed by Keycloak with the new key afterwards is
 * accepted too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { SECRET } from '../helpers/harness.js';
import { Browser, keycloakUrl, loginFormAction } from '../helpers/keycloak.js';
import { freePort } from '../helpers/ports.js';

let kc: string;
let token: string;
const realm = `rotation-${randomBytes(4).toString('hex')}`;
let app: FastifyInstance;
let publicUrl: string;
const user = { username: 'rot-user', password: randomBytes(12).toString('base64url') };
let userId: string;
const logs: string[] = [];

async function adminApi(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${kc}/admin/realms${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
}

async function activeRsaKid(): Promise<string> {
  const keys = (await (await adminApi('GET', `/${realm}/keys`)).json()) as { active: Record<string, string> };
  return keys.active['RS256'] as string;
}

before(async () => {
  kc = keycloakUrl();
  const res = await fetch(`${kc}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'password', client_id: 'admin-cli', username: 'admin', password: 'admin' }),
  });
  assert.equal(res.status, 200, 'Keycloak admin login');
  token = ((await res.json()) as { access_token: string }).access_token;
  assert.equal(
    (await adminApi('POST', '', { realm, enabled: true, accessTokenLifespan: 300 })).status,
    201,
    'throwaway realm created',
  );
  const port = await freePort();
  publicUrl = `http://127.0.0.1:${port}`;
  const clientSecret = randomBytes(24).toString('base64url');
  const client = await adminApi('POST', `/${realm}/clients`, {
    clientId: 'rotation-client',
    enabled: true,
    protocol: 'openid-connect',
    publicClient: false,
    clientAuthenticatorType: 'client-secret',
    secret: clientSecret,
    standardFlowEnabled: true,
    redirectUris: [`${publicUrl}/sso/callback`],
    attributes: {
      'pkce.code.challenge.method': 'S256',
      'backchannel.logout.url': `${publicUrl}/sso/backchannel-logout`,
      'backchannel.logout.session.required': 'true',
    },
  });
  assert.equal(client.status, 201);
  const u = await adminApi('POST', `/${realm}/users`, {
    username: user.username,
    enabled: true,
    email: 'rot-user@example.com',
    emailVerified: true,
    firstName: 'Rot',
    lastName: 'User',
    credentials: [{ type: 'password', value: user.password, temporary: false }],
  });
  assert.equal(u.status, 201);
  userId = (u.headers.get('location') ?? '').split('/').pop()!;
  const config = loadConfig({
    DIFY_SSO_OIDC_ISSUER: `${kc}/realms/${realm}`,
    DIFY_SSO_OIDC_CLIENT_ID: 'rotation-client',
    DIFY_SSO_OIDC_CLIENT_SECRET: clientSecret,
    DIFY_SSO_PUBLIC_URL: publicUrl,
    DIFY_SSO_SESSION_SECRET: SECRET,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_OIDC_PRESET: 'keycloak',
    DIFY_SSO_OIDC_JWKS_COOLDOWN_SECONDS: '600',
  });
  app = buildApp(config, { logStream: { write: (s: string) => void logs.push(s) } });
  await app.listen({ host: '127.0.0.1', port });
  assert.equal(app.sso.oidc.ready, true);
});

after(async () => {
  await app?.close();
  if (token) await adminApi('DELETE', `/${realm}`);
});

async function browserLogin(): Promise<{ location: string | null; browser: Browser }> {
  const browser = new Browser();
  const start = await browser.request(`${publicUrl}/sso/login?redirect=%2Fapps`);
  assert.equal(start.status, 302);
  const page = await browser.follow(start.headers.get('location')!, (u) => u.startsWith(`${publicUrl}/sso/callback`));
  const action = loginFormAction(await page.res.text());
  assert.ok(action, 'Keycloak login form shown');
  const posted = await browser.request(action, {
    method: 'POST',
    body: new URLSearchParams({ username: user.username, password: user.password, credentialId: '' }),
  });
  assert.equal(posted.status, 302, 'Keycloak accepted the credentials');
  const cb = await browser.request(new URL(posted.headers.get('location')!, action).href);
  return { location: cb.headers.get('location'), browser };
}

test('Keycloak rotates its signing key (new rsa-generated provider, higher priority): the next login succeeds within the JWKS cooldown', {
  timeout: 120_000,
}, async () => {
  const kids: string[] = [];
  const oidc = app.sso.oidc;
  const original = oidc.verifyJwt.bind(oidc);
  oidc.verifyJwt = async (t, o) => {
    kids.push(String(decodeProtectedHeader(t).kid));
    return original(t, o);
  };
  try {
    const first = await browserLogin();
    assert.equal(first.location, '/apps');
    const oldKid = await activeRsaKid();
    assert.ok(kids.includes(oldKid));

    const { id: realmId } = (await (await adminApi('GET', `/${realm}`)).json()) as { id: string };
    const created = await adminApi('POST', `/${realm}/components`, {
      name: 'rotated-rsa',
      providerId: 'rsa-generated',
      providerType: 'org.keycloak.keys.KeyProvider',
      parentId: realmId,
      config: { priority: ['500'], enabled: ['true'], active: ['true'], keySize: ['2048'], algorithm: ['RS256'] },
    });
    assert.equal(created.status, 201, 'new key provider');
    const newKid = await activeRsaKid();
    assert.notEqual(newKid, oldKid, 'Keycloak signs with the new key now');

    kids.length = 0;
    const second = await browserLogin();
    assert.equal(second.location, '/apps', 'login under the new kid succeeded at once');
    assert.equal(kids[0], newKid, 'the ID token carried the new kid');
    const audits = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((e) => e['audit'] === true);
    assert.equal(audits.filter((e) => e['event'] === 'auth.login.success').length, 2);
    assert.equal(audits.filter((e) => e['event'] === 'auth.login.failure').length, 0);

    // Keycloak's back-channel logout (signed with the new key) is accepted: the key is now cached.
    const session = await app.sso.checkSession({ cookies: Object.fromEntries(second.browser.jar(publicUrl)) } as never);
    assert.ok(session.ok);
    assert.equal((await adminApi('POST', `/${realm}/users/${userId}/logout`)).status, 204);
    let after = await app.sso.checkSession({ cookies: Object.fromEntries(second.browser.jar(publicUrl)) } as never);
    for (let i = 0; i < 100 && after.ok; i++) {
      await new Promise((r) => setTimeout(r, 100)); // waiting for Keycloak's back-channel call, not a timing assertion
      after = await app.sso.checkSession({ cookies: Object.fromEntries(second.browser.jar(publicUrl)) } as never);
    }
    assert.deepEqual(after, { ok: false, reason: 'revoked' });
    assert.equal(kids.at(-1), newKid, 'the logout token was signed with the new key');
  } finally {
    oidc.verifyJwt = original;
  }
});
