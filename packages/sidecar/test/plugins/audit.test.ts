/**
 * Audit trail and redaction, checked by capturing the log stream.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { cookieHeader, login, makeApp, SECRET } from '../helpers/harness.js';
import { createAudit, createLogger, redact } from '../../src/services/audit.js';

test('a full login/logout/back-channel/bearer cycle never logs tokens, codes, state, nonce, cookies or secrets', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op, { DIFY_SSO_LOG_LEVEL: 'trace', DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api' });
  t.after(() => a.app.close());
  const r = await login(a.app, op, { redirect: '/apps', user: { sub: 'audited', sid: 'sid-audit' } });
  const secrets: string[] = [SECRET, op.clientSecret];
  const authParams = r.authUrl.searchParams;
  secrets.push(authParams.get('state')!, authParams.get('nonce')!, authParams.get('code_challenge')!);
  for (const v of r.jar.values()) secrets.push(v);
  for (const c of r.loginRes.cookies) secrets.push(c.value);
  const s = await a.app.sso.checkSession({ cookies: Object.fromEntries(r.jar) } as never);
  assert.ok(s.ok);
  const tokens = (await a.app.sso.sessions.openTokens(s.session))!;
  secrets.push(tokens.idToken, tokens.refreshToken!, ...op.accessTokens.keys());
  const tokenReq = op.requests.find((x) => x.path === '/token')!;
  secrets.push(
    new URLSearchParams(tokenReq.body).get('code')!,
    new URLSearchParams(tokenReq.body).get('code_verifier')!,
  );
  // requests carrying credentials in headers
  await a.app.inject({
    method: 'GET',
    url: '/sso/health/live',
    headers: { authorization: 'Bearer header-secret-1', cookie: 'x=header-secret-2' },
  });
  await a.app.inject({
    method: 'GET',
    url: '/sso/login?redirect=%2Fapps',
    headers: { authorization: 'Bearer header-secret-3', cookie: cookieHeader(r.jar) },
  });
  secrets.push('header-secret-1', 'header-secret-2', 'header-secret-3');
  const bearer = await op.accessTokenJwt({ aud: 'wrong' });
  await a.app.sso.verifyBearer(bearer).catch(() => undefined);
  secrets.push(bearer);
  const lt = await op.logoutToken({ sid: 'nope' });
  await a.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${lt}`,
  });
  secrets.push(lt);
  await a.app.inject({
    method: 'POST',
    url: '/sso/logout',
    headers: { cookie: cookieHeader(r.jar), origin: 'https://dify.example.com' },
  });

  const all = a.logs.join('');
  for (const secret of secrets) {
    assert.ok(secret && secret.length >= 8);
    assert.equal(all.includes(secret), false, `leaked: ${secret.slice(0, 12)}…`);
  }
  assert.equal(all.includes('/sso/callback?'), false, 'callback URL logged without its query');
  assert.ok(all.includes('"path":"/sso/callback"'));

  const events = a.audits().map((e) => e.event);
  for (const e of ['auth.login.start', 'auth.login.success', 'auth.token.rejected', 'auth.backchannel', 'auth.logout'])
    assert.ok(events.includes(e), e);
  const success = a.audits('auth.login.success')[0]!;
  assert.equal(success.sub, 'audited');
  assert.equal(success.iss, op.issuer);
  assert.equal(success.status, 'success');
  assert.equal(success.ip, '127.0.0.1');
  assert.match(String(success.requestId), /^[0-9a-f-]{36}$/);
  assert.equal(
    a
      .entries()
      .some(
        (e) => String(e.msg).includes('incoming request') && (e.req as { path?: string })?.path === '/sso/health/live',
      ),
    false,
    'health routes are not logged',
  );
});

test('redact(): sensitive keys at any depth; public error codes kept', () => {
  const out = redact({
    code: 'authcode-123',
    state: 's',
    errorCode: 'ERR_TOKEN_INVALID',
    nested: {
      refresh_token: 'r',
      client_secret: 'c',
      list: [{ id_token: 'i' }],
      accessToken: 'a',
      Cookie: 'k',
      authorization: 'b',
    },
    okCode: { code: 'ERR_OIDC_ACCESS_DENIED' },
    sub: 'alice',
  });
  assert.deepEqual(out, {
    code: '[Redacted]',
    state: '[Redacted]',
    errorCode: 'ERR_TOKEN_INVALID',
    nested: {
      refresh_token: '[Redacted]',
      client_secret: '[Redacted]',
      list: [{ id_token: '[Redacted]' }],
      accessToken: '[Redacted]',
      Cookie: '[Redacted]',
      authorization: '[Redacted]',
    },
    okCode: { code: 'ERR_OIDC_ACCESS_DENIED' },
    sub: 'alice',
  });
});

test('logger redacts header paths and audit fields written through it', () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', stream: { write: (s: string) => void lines.push(s) } });
  log.info(
    {
      req: { headers: { authorization: 'Bearer zzz-1', cookie: 'a=zzz-2', 'set-cookie': 'b=zzz-3' } },
      headers: { 'x-forwarded-access-token': 'zzz-4' },
    },
    'x',
  );
  createAudit(log, 'keycloak')('auth.login.failure', {
    reason: 'access_denied',
    sub: 'bob',
    id_token: 'zzz-5',
    code: 'zzz-6',
  });
  const all = lines.join('');
  for (const s of ['zzz-1', 'zzz-2', 'zzz-3', 'zzz-4', 'zzz-5', 'zzz-6']) assert.equal(all.includes(s), false, s);
  const audit = JSON.parse(lines[1]!);
  assert.equal(audit.event, 'auth.login.failure');
  assert.equal(audit.status, 'failure');
  assert.equal(audit.idp, 'keycloak');
  assert.equal(audit.reason, 'access_denied');
});
