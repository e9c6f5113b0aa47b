/**
 * Replicas: two sidecar instances sharing one Redis (DIFY_SSO_TEST_REDIS_URL). A back-channel
 * logout received by one ends the sessions on both within that one request; each replica keeps
 * its own discovery and JWKS cache and refreshes it on its own after a signing-key rotation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp, type TestApp } from '../helpers/harness.js';

const REDIS_URL = process.env.DIFY_SSO_TEST_REDIS_URL;
let op: HostileOp;
let a: TestApp;
let b: TestApp;

before(async () => {
  assert.ok(
    REDIS_URL,
    'DIFY_SSO_TEST_REDIS_URL is not set; start Redis with `npm run redis -- start` and export DIFY_SSO_TEST_REDIS_URL=redis://127.0.0.1:16379',
  );
  op = await HostileOp.start();
  const env = {
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_URL: REDIS_URL,
    DIFY_SSO_REDIS_KEY_PREFIX: `test-replicas-${randomBytes(4).toString('hex')}:`,
  };
  a = await makeApp(op, env);
  b = await makeApp(op, env);
});
after(async () => {
  await a?.app.close();
  await b?.app.close();
  await op?.close();
});

const check = (t: TestApp, jar: Map<string, string>) =>
  t.app.sso.checkSession({ cookies: Object.fromEntries(jar) } as never);
const discoveries = () => op.requests.filter((r) => r.path === '/.well-known/openid-configuration').length;

test('each replica discovers the IdP and loads the JWKS itself', () => {
  assert.equal(discoveries(), 2, 'one discovery per replica');
  assert.equal(op.jwksFetches, 2, 'one JWKS load per replica');
  assert.equal(a.app.sso.oidc.ready && b.app.sso.oidc.ready, true);
});

test('key rotation: each replica refetches the JWKS on its own; a back-channel logout on one ends the sessions on both in one request', async () => {
  await op.rotate('key-2');
  const fetchesBefore = op.jwksFetches;
  // A sign-in on A with an ID token under the new kid: A refetches, B's cache is untouched.
  const onA = await login(a.app, op, { user: { sub: 'rep-user', sid: 'rep-sid' } });
  assert.equal(onA.callbackRes.headers.location, '/apps');
  assert.equal(op.jwksFetches, fetchesBefore + 1, 'A refetched its JWKS');
  // A second device signs in on B under the same IdP session: B refetches its own cache.
  const onB = await login(b.app, op, { user: { sub: 'rep-user', sid: 'rep-sid' } });
  assert.equal(onB.callbackRes.headers.location, '/apps');
  assert.equal(op.jwksFetches, fetchesBefore + 2, 'B refetched its own JWKS');
  for (const t of [a, b]) for (const jar of [onA.jar, onB.jar]) assert.ok((await check(t, jar)).ok);

  // One back-channel logout to A (token signed with the new key) …
  const token = await op.logoutToken({ sid: 'rep-sid' });
  const res = await a.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });
  assert.equal(res.statusCode, 200);
  assert.equal(a.audits('auth.backchannel').at(-1)?.['count'], 2, 'both sessions ended by the one request');
  // … and right after it returns, neither session works on either replica.
  for (const t of [a, b])
    for (const jar of [onA.jar, onB.jar]) assert.deepEqual(await check(t, jar), { ok: false, reason: 'revoked' });
  // The same token replayed to B is refused (jti shared through Redis).
  const replay = await b.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });
  assert.equal(replay.statusCode, 400);
});
