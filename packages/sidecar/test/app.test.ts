/**
 * The `app.sso` extension contract as the bridge uses it, request ids, error handler.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from './helpers/hostile-op.js';
import { absorb, cookieHeader, makeApp } from './helpers/harness.js';

test('beginLogin from a custom route: { url, state } and the sealed transaction cookie; callback completes it', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const seen: { invite?: string } = {};
  const a = await makeApp(op, {}, {}, (app) => {
    app.sso.addAfterLoginHook(({ inviteToken }) => {
      if (inviteToken) seen.invite = inviteToken;
    });
    app.get('/custom/login', async (request, reply) =>
      app.sso.beginLogin(request, reply, { redirect: '/explore', inviteToken: 'inv-123' }),
    );
  });
  t.after(() => a.app.close());
  const res = await a.app.inject({ method: 'GET', url: '/custom/login' });
  const body = res.json() as { url: string; state: string };
  assert.equal(new URL(body.url).searchParams.get('state'), body.state);
  const jar = new Map<string, string>();
  absorb(jar, res);
  assert.ok(jar.has('__Host-dify_sso_tx'));
  const cb = await a.app.inject({
    method: 'GET',
    url: `/sso/callback${op.authorize(body.url)}`,
    headers: { cookie: cookieHeader(jar) },
  });
  assert.equal(cb.headers.location, '/explore');
  assert.equal(seen.invite, 'inv-123');
});

test('every response carries a server-generated X-Request-Id (client value not trusted)', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op);
  t.after(() => a.app.close());
  const r1 = await a.app.inject({ method: 'GET', url: '/sso/health/live', headers: { 'x-request-id': 'forged\nid' } });
  const r2 = await a.app.inject({ method: 'GET', url: '/sso/health/live' });
  assert.match(String(r1.headers['x-request-id']), /^[0-9a-f-]{36}$/);
  assert.notEqual(r1.headers['x-request-id'], r2.headers['x-request-id']);
});

test('unknown errors answer a constant 500 body without internals', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op, {}, {}, (app) => {
    app.get('/boom', async () => {
      throw new Error('internal detail with token abc');
    });
  });
  t.after(() => a.app.close());
  const res = await a.app.inject({ method: 'GET', url: '/boom' });
  assert.equal(res.statusCode, 500);
  assert.deepEqual(res.json(), { code: 'ERR_INTERNAL', message: 'internal error' });
});

test('ready = 503 while the store is unreachable (discovery fine), live stays 200', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op, { DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'redis://127.0.0.1:1' });
  t.after(() => a.app.close());
  const ready = await a.app.inject({ method: 'GET', url: '/sso/health/ready' });
  assert.equal(ready.statusCode, 503);
  assert.deepEqual(ready.json(), { status: 'unavailable', checks: { oidc: true, store: false } });
  assert.equal((await a.app.inject({ method: 'GET', url: '/sso/health/live' })).statusCode, 200);
});

test('session secret rotation: previous secrets still open transaction cookies and stored tokens; unknown secrets do not', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const { createMemoryStore } = await import('../src/store/memory.js');
  const store = createMemoryStore();
  const OLD = 'old-session-secret-0123456789-abcdefghijklmn';
  const NEW = 'new-session-secret-9876543210-zyxwvutsrqponm';
  const before = await makeApp(op, { DIFY_SSO_SESSION_SECRET: OLD }, { store });
  t.after(() => before.app.close());
  const rotated = await makeApp(
    op,
    { DIFY_SSO_SESSION_SECRET: NEW, DIFY_SSO_SESSION_PREVIOUS_SECRETS: OLD },
    { store },
  );
  t.after(() => rotated.app.close());
  const stranger = await makeApp(op, { DIFY_SSO_SESSION_SECRET: NEW }, { store });
  t.after(() => stranger.app.close());

  // a session created before the rotation: its tokens still decrypt after it
  const { login } = await import('./helpers/harness.js');
  const r = await login(before.app, op);
  const s = await rotated.app.sso.checkSession({ cookies: Object.fromEntries(r.jar) } as never);
  assert.ok(s.ok);
  assert.ok((await rotated.app.sso.sessions.openTokens(s.session))?.idToken);
  assert.equal(await stranger.app.sso.sessions.openTokens(s.session), undefined);

  // a login started before the rotation completes after it; not with an unknown secret
  for (const [app, expected] of [
    [rotated.app, '/apps'],
    [stranger.app, '/signin?message=login_expired'],
  ] as const) {
    const jar = new Map<string, string>();
    const start = await before.app.inject({ method: 'GET', url: '/sso/login' });
    absorb(jar, start);
    const cb = await app.inject({
      method: 'GET',
      url: `/sso/callback${op.authorize(start.headers.location as string)}`,
      headers: { cookie: cookieHeader(jar) },
    });
    assert.equal(cb.headers.location, expected);
  }
});

test('client IP in audit events: X-Forwarded-For honoured only from DIFY_SSO_TRUST_PROXY peers', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const untrusted = await makeApp(op);
  t.after(() => untrusted.app.close());
  const trusted = await makeApp(op, { DIFY_SSO_TRUST_PROXY: '127.0.0.1' });
  t.after(() => trusted.app.close());
  for (const [a, expected] of [
    [untrusted, '127.0.0.1'],
    [trusted, '203.0.113.7'],
  ] as const) {
    await a.app.inject({
      method: 'GET',
      url: '/sso/login',
      remoteAddress: '127.0.0.1',
      headers: { 'x-forwarded-for': '203.0.113.7' },
    });
    assert.equal(a.audits('auth.login.start').at(-1)?.ip, expected);
  }
});
