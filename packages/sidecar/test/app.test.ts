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
    app.get('/custom/login', async (request, reply) => app.sso.beginLogin(request, reply, { redirect: '/explore', inviteToken: 'inv-123' }));
  });
  t.after(() => a.app.close());
  const res = await a.app.inject({ method: 'GET', url: '/custom/login' });
  const body = res.json() as { url: string; state: string };
  assert.equal(new URL(body.url).searchParams.get('state'), body.state);
  const jar = new Map<string, string>();
  absorb(jar, res);
  assert.ok(jar.has('__Host-dify_sso_tx'));
  const cb = await a.app.inject({ method: 'GET', url: `/sso/callback${op.authorize(body.url)}`, headers: { cookie: cookieHeader(jar) } });
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
