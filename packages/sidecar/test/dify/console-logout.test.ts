/**
 * `POST /console/api/logout` (the stock console's logout) ends the IdP session from the server:
 * the hostile OP records the end-session call (id_token_hint of this session, client_id, no
 * redirect followed) and the refresh-token revocation; a failing OP never fails the logout.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cookieHeader, login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { USERS, setCookieValue, startBridge, startStandin, type Standin } from './helpers.js';

const BASE = { revocation: true } as const;
let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  // Discovery happens once at startup: the OP advertises RFC 7009 revocation from the start.
  op.scenario = { ...BASE };
  standin = await startStandin();
  b = await startBridge(standin, {}, { op });
});
after(async () => {
  await b.close();
  await standin.close();
  await op.close();
});

async function signedIn(): Promise<{ jar: Jar; cookie: string; csrf: string; idToken: string; refreshToken: string }> {
  const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
  assert.equal(callbackRes.statusCode, 302);
  const check = await b.app.sso.checkSession({ cookies: Object.fromEntries(jar), headers: {} } as never);
  assert.ok(check.ok, 'signed in');
  const tokens = await b.app.sso.sessions.openTokens(check.session);
  assert.ok(tokens?.idToken && tokens.refreshToken);
  const csrf = setCookieValue(callbackRes.headers['set-cookie'], 'csrf_token') as string;
  return { jar, cookie: cookieHeader(jar), csrf, idToken: tokens.idToken, refreshToken: tokens.refreshToken };
}

function logout(cookie: string, csrf: string) {
  return b.app.inject({
    method: 'POST',
    url: '/console/api/logout',
    headers: {
      cookie,
      'x-csrf-token': csrf,
      'content-type': 'application/json',
      'content-length': '0',
      accept: 'application/json',
      origin: 'https://dify.example.com',
    },
  });
}

test('console logout posts id_token_hint + client_id to the end-session endpoint, revokes the refresh token, audits idpLogout=ended', async () => {
  try {
    const s = await signedIn();
    const mark = op.requests.length;
    const res = await logout(s.cookie, s.csrf);
    assert.equal(res.statusCode, 200);
    const body = res.json() as { result: string; redirect_url: string };
    assert.equal(body.result, 'success');
    assert.ok(
      body.redirect_url.startsWith(`${op.issuer}/logout?`),
      'browser-facing end-session URL kept for patched consoles',
    );
    const calls = op.requests.slice(mark);
    const end = calls.filter((r) => r.path === '/logout');
    assert.equal(end.length, 1, 'exactly one server-side end-session call');
    assert.equal(end[0]!.method, 'POST');
    const form = new URLSearchParams(end[0]!.body);
    assert.equal(form.get('id_token_hint'), s.idToken, "this session's ID token");
    assert.equal(form.get('client_id'), op.clientId);
    assert.equal(end[0]!.query, '', 'no token in the end-session URL');
    assert.ok(!calls.some((r) => r.path === '/logged-out'), 'the end-session redirect is not followed');
    const revoke = calls.filter((r) => r.path === '/revoke');
    assert.equal(revoke.length, 1);
    assert.equal(new URLSearchParams(revoke[0]!.body).get('token'), s.refreshToken);
    assert.equal(new URLSearchParams(revoke[0]!.body).get('token_type_hint'), 'refresh_token');
    assert.ok(revoke[0]!.auth?.startsWith('Basic '), 'revocation is client-authenticated');
    assert.equal(op.refreshTokens.has(s.refreshToken), false, 'the OP revoked the refresh token');
    const audit = b.audits('auth.logout').at(-1);
    assert.equal(audit?.['via'], 'console');
    assert.equal(audit?.['idpLogout'], 'ended');
    assert.equal(audit?.['refreshRevoked'], true);
    const all = b.logs.join('\n');
    assert.ok(!all.includes(s.idToken) && !all.includes(s.refreshToken), 'no token material in the logs');
    assert.equal(
      (await b.app.sso.checkSession({ cookies: Object.fromEntries(s.jar), headers: {} } as never)).ok,
      false,
      'kit session ended',
    );
  } finally {
    op.scenario = { ...BASE };
  }
});

test('console logout: an OP that refuses the end-session call does not fail the logout (idpLogout=failed, audited)', async () => {
  op.scenario = { ...BASE, endSessionStatus: 500 };
  try {
    const s = await signedIn();
    const res = await logout(s.cookie, s.csrf);
    assert.equal(res.statusCode, 200);
    assert.equal((res.json() as { result: string }).result, 'success');
    const audit = b.audits('auth.logout').at(-1);
    assert.equal(audit?.['idpLogout'], 'failed');
    assert.equal(audit?.['refreshRevoked'], true, 'the refresh token is revoked even when the end-session call failed');
    assert.equal(
      (await b.app.sso.checkSession({ cookies: Object.fromEntries(s.jar), headers: {} } as never)).ok,
      false,
      'kit session ended anyway',
    );
    assert.ok(b.logs.some((l) => l.includes('WARN_OIDC_IDP_LOGOUT_FAILED')));
  } finally {
    op.scenario = { ...BASE };
  }
});

test('console logout: an unreachable end-session endpoint is tolerated (idpLogout=failed)', async () => {
  const s = await signedIn();
  op.scenario = { ...BASE, down: true };
  try {
    const res = await logout(s.cookie, s.csrf);
    assert.equal(res.statusCode, 200);
    assert.equal(b.audits('auth.logout').at(-1)?.['idpLogout'], 'failed');
    assert.equal((res.json() as { result: string }).result, 'success');
  } finally {
    op.scenario = { ...BASE };
  }
});

test('nothing to end (no ID token, no refresh token): idpLogout=unsupported, no call made', async () => {
  const mark = op.requests.length;
  assert.deepEqual(await b.app.sso.oidc.endIdpSession({}), { idpLogout: 'unsupported' });
  assert.equal(op.requests.slice(mark).length, 0);
});
