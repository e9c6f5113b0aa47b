/**
 * Two sidecar instances sharing the real Redis store (DIFY_SSO_TEST_REDIS_URL).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { HostileOp } from '../helpers/hostile-op.js';
import { cookieHeader, login, makeApp, type TestApp } from '../helpers/harness.js';

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
    DIFY_SSO_REDIS_KEY_PREFIX: `test-two-${randomBytes(4).toString('hex')}:`,
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

test('login on A → session valid on B; both report the redis store ready', async () => {
  assert.equal(a.app.sso.store.kind, 'redis');
  const r = await login(a.app, op, { user: { sub: 'shared-1', sid: 'shared-sid-1' } });
  assert.equal(r.callbackRes.headers.location, '/apps');
  const onB = await check(b, r.jar);
  assert.ok(onB.ok);
  assert.equal(onB.session.sub, 'shared-1');
  assert.equal((await b.app.inject({ method: 'GET', url: '/sso/health/ready' })).statusCode, 200);
});

test('login started on A can complete on B (sealed transaction cookie, no server state)', async () => {
  const loginRes = await a.app.inject({ method: 'GET', url: '/sso/login?redirect=%2Fapps%2F9' });
  const tx = loginRes.cookies.find((c) => c.name === '__Host-dify_sso_tx')!;
  const q = op.authorize(loginRes.headers.location as string, { sub: 'cross' });
  const cb = await b.app.inject({
    method: 'GET',
    url: `/sso/callback${q}`,
    headers: { cookie: `__Host-dify_sso_tx=${tx.value}` },
  });
  assert.equal(cb.headers.location, '/apps/9');
  // and the state is single-use across replicas
  const replay = await a.app.inject({
    method: 'GET',
    url: `/sso/callback${q}`,
    headers: { cookie: `__Host-dify_sso_tx=${tx.value}` },
  });
  assert.equal(replay.headers.location, '/signin?message=invalid_state');
});

test('back-channel logout on B kills the session on A and B; the jti is replay-protected across both', async () => {
  const r = await login(a.app, op, { user: { sub: 'shared-2', sid: 'shared-sid-2' } });
  assert.ok((await check(b, r.jar)).ok);
  const token = await op.logoutToken({ sid: 'shared-sid-2' });
  const send = (t: TestApp) =>
    t.app.inject({
      method: 'POST',
      url: '/sso/backchannel-logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `logout_token=${token}`,
    });
  assert.equal((await send(b)).statusCode, 200);
  assert.deepEqual(await check(a, r.jar), { ok: false, reason: 'revoked' });
  assert.deepEqual(await check(b, r.jar), { ok: false, reason: 'revoked' });
  assert.equal((await send(a)).statusCode, 400, 'replayed jti refused by the other instance');
});

test('logout on B ends the session created on A', async () => {
  const r = await login(a.app, op, { user: { sub: 'shared-3' } });
  const res = await b.app.inject({
    method: 'POST',
    url: '/sso/logout',
    headers: { cookie: cookieHeader(r.jar), origin: 'https://dify.example.com' },
  });
  assert.equal(res.statusCode, 303);
  assert.deepEqual(await check(a, r.jar), { ok: false, reason: 'revoked' });
});
