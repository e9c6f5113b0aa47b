import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { cookieHeader, login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { issueBreakGlassToken, parseTtl } from '../../src/break-glass/store.js';
import { BreakGlassCookie } from '../../src/break-glass/cookie.js';
import { SEED_IDS, USERS, setCookieValue, startBridge, startStandin, type Standin } from '../dify/helpers.js';

let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  b = await startBridge(
    standin,
    {
      DIFY_SSO_BREAK_GLASS_CIDRS: '10.9.0.0/16',
      DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
      DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
      DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/apps*',
      DIFY_SSO_GATE_SERVICE_API_BEARER: 'true',
    },
    { op },
  );
});
after(async () => {
  await b.close();
  await standin.close();
  await op.close();
});

/** Only the kit's session cookie of a jar (the jar also holds the Dify cookies relayed at login). */
function kit(jar: Jar): string {
  return cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));
}

function auth(
  app: FastifyInstance,
  method: string,
  uri: string,
  headers: Record<string, string> = {},
  remoteAddress = '127.0.0.1',
) {
  return app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress,
    headers: { 'x-original-uri': uri, 'x-original-method': method, 'x-forwarded-for': '192.0.2.7', ...headers },
  });
}

async function aliceLogin(): Promise<{ jar: Jar; access: string; refresh: string; csrf: string }> {
  const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
  const sc = callbackRes.headers['set-cookie'];
  return {
    jar,
    access: setCookieValue(sc, 'access_token') as string,
    refresh: setCookieValue(sc, 'refresh_token') as string,
    csrf: setCookieValue(sc, 'csrf_token') as string,
  };
}

test('/sso/auth: kit session + its Dify access cookie → 204', async () => {
  const a = await aliceLogin();
  const res = await auth(b.app, 'GET', '/console/api/account/profile', {
    cookie: `${kit(a.jar)}; access_token=${a.access}`,
  });
  assert.equal(res.statusCode, 204);
});

test('/sso/auth: stolen Dify access cookie without the kit session → 401, sign-in location, Dify cookies cleared', async () => {
  const a = await aliceLogin();
  const res = await auth(b.app, 'GET', '/console/api/account/profile', {
    cookie: `access_token=${a.access}; refresh_token=${a.refresh}`,
  });
  assert.equal(res.statusCode, 401);
  assert.deepEqual(res.json(), { code: 'unauthorized' });
  assert.match(String(res.headers.location), /^\/signin\?message=/);
  assert.equal(res.headers['x-sso-signin'], res.headers.location);
  assert.match(String(res.headers['x-sso-set-cookie-0']), /^access_token=; .*Max-Age=0/);
  assert.match(String(res.headers['x-sso-set-cookie-1']), /^refresh_token=;/);
  const audit = b.audits('auth.gate.rejected').at(-1);
  assert.equal(audit?.['reason'], 'unauthorized');
  assert.ok(!JSON.stringify(audit).includes(a.access), 'the cookie never reaches the audit log');
  // …and Dify itself would have accepted that cookie: the gate is what refuses it.
  const direct = await fetch(`${standin.url}/console/api/account/profile`, {
    headers: { cookie: `access_token=${a.access}; csrf_token=${a.csrf}`, 'x-csrf-token': a.csrf },
  });
  assert.equal(direct.status, 200);
});

test('/sso/auth: kit session of bob + Dify cookie of alice → 401', async () => {
  const a = await aliceLogin();
  const bob = await login(b.app, op, { user: USERS.bob });
  const res = await auth(b.app, 'GET', '/console/api/apps', { cookie: `${kit(bob.jar)}; access_token=${a.access}` });
  assert.equal(res.statusCode, 401);
});

test('/sso/auth: refresh passes only for the session’s own refresh token', async () => {
  const a = await aliceLogin();
  const ok = await auth(b.app, 'POST', '/console/api/refresh-token', {
    cookie: `${kit(a.jar)}; refresh_token=${a.refresh}`,
  });
  assert.equal(ok.statusCode, 204);
  const bob = await login(b.app, op, { user: USERS.bob });
  const other = await auth(b.app, 'POST', '/console/api/refresh-token', {
    cookie: `${kit(bob.jar)}; refresh_token=${a.refresh}`,
  });
  assert.equal(other.statusCode, 401);
});

test('/sso/auth: lockdown answers 403 sso_required (code relayed in X-Sso-Code)', async () => {
  for (const [m, u] of [
    ['POST', '/console/api/login'],
    ['POST', '/console/api/email-register/send-email'],
    ['POST', '/console/api/setup'],
    ['GET', '/console/api/oauth/login/github'],
  ]) {
    const res = await auth(b.app, m as string, u as string);
    assert.equal(res.statusCode, 403, `${m} ${u}`);
    assert.equal(res.headers['x-sso-code'], 'sso_required');
  }
});

test('/sso/auth: X-Original-* from an untrusted peer is ignored → 403 untrusted_proxy', async () => {
  const res = await auth(b.app, 'GET', '/console/api/system-features', {}, '198.51.100.9');
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-code'], 'untrusted_proxy');
});

test('/sso/auth: invalid path → 403 invalid_path (auth_request cannot relay 400)', async () => {
  const res = await auth(b.app, 'GET', '/console/api/%zz');
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-code'], 'invalid_path');
});

test('/sso/auth: machine bearer → 204 with admin-key upstream headers; wrong audience 401; missing scope 403', async () => {
  const good = await op.accessTokenJwt({});
  const ok = await auth(b.app, 'GET', '/console/api/apps?page=1', { authorization: `Bearer ${good}` });
  assert.equal(ok.statusCode, 204);
  assert.match(String(ok.headers['x-sso-upstream-authorization']), /^Bearer admin-key-/);
  assert.equal(ok.headers['x-sso-upstream-workspace-id'], SEED_IDS.workspaceId);
  const aud = await auth(b.app, 'GET', '/console/api/apps', {
    authorization: `Bearer ${await op.accessTokenJwt({ aud: 'other-api' })}`,
  });
  assert.equal(aud.statusCode, 401);
  assert.equal(aud.headers['x-sso-code'], 'invalid_token');
  const scope = await auth(b.app, 'GET', '/console/api/apps', {
    authorization: `Bearer ${await op.accessTokenJwt({ scope: 'openid' })}`,
  });
  assert.equal(scope.statusCode, 403);
  assert.equal(scope.headers['x-sso-code'], 'insufficient_scope');
  const route = await auth(b.app, 'DELETE', '/console/api/apps/1', { authorization: `Bearer ${good}` });
  assert.equal(route.statusCode, 403);
  assert.equal(route.headers['x-sso-code'], 'machine_route_denied');
});

test('GET /console/api/system-features: adjusted to the SSO policy, licence/branding untouched', async () => {
  const direct = (await (await fetch(`${standin.url}/console/api/system-features`)).json()) as Record<string, unknown>;
  const res = await b.app.inject({ method: 'GET', url: '/console/api/system-features' });
  assert.equal(res.statusCode, 200);
  const body = res.json() as Record<string, unknown>;
  assert.equal(body['sso_enforced_for_signin'], true);
  assert.equal(body['sso_enforced_for_signin_protocol'], 'oidc');
  for (const k of [
    'enable_email_password_login',
    'enable_email_code_login',
    'enable_social_oauth_login',
    'is_allow_register',
  ])
    assert.equal(body[k], false, k);
  for (const k of Object.keys(direct)) {
    if (
      ![
        'sso_enforced_for_signin',
        'sso_enforced_for_signin_protocol',
        'enable_email_password_login',
        'enable_email_code_login',
        'enable_social_oauth_login',
        'is_allow_register',
      ].includes(k)
    ) {
      assert.deepEqual(body[k], direct[k], k);
    }
  }
  assert.equal(res.headers['cache-control'], 'no-store');
});

test('GET /console/api/enterprise/sso/oidc/login → {url, state} and the sealed tx cookie; invite_token carried', async () => {
  const res = await b.app.inject({ method: 'GET', url: '/console/api/enterprise/sso/oidc/login?invite_token=inv-123' });
  assert.equal(res.statusCode, 200);
  const { url, state } = res.json() as { url: string; state: string };
  const u = new URL(url);
  assert.equal(u.origin, op.issuer);
  assert.equal(u.searchParams.get('state'), state);
  assert.equal(u.searchParams.get('code_challenge_method'), 'S256');
  assert.ok(res.cookies.some((c) => /dify_sso_tx$/.test(c.name) && c.httpOnly));
  // Completing this login: the after-login hook sees the invite token.
  let seen: string | undefined;
  b.app.sso.addAfterLoginHook((ctx) => void (seen = ctx.inviteToken));
  const jar: Jar = new Map();
  for (const c of res.cookies) jar.set(c.name, c.value);
  const q = op.authorize(url, USERS.alice);
  const cb = await b.app.inject({ method: 'GET', url: `/sso/callback${q}`, headers: { cookie: cookieHeader(jar) } });
  assert.equal(cb.statusCode, 302);
  assert.equal(seen, 'inv-123');
  const other = await b.app.inject({ method: 'GET', url: '/console/api/enterprise/sso/saml/login' });
  assert.equal(other.statusCode, 404);
});

test('POST /console/api/logout: Dify logout relayed, kit session ended, seeded token deleted, IdP end-session URL returned', async () => {
  const a = await aliceLogin();
  const cookie = `${kit(a.jar)}; access_token=${a.access}; refresh_token=${a.refresh}; csrf_token=${a.csrf}`;
  const res = await b.app.inject({
    method: 'POST',
    url: '/console/api/logout',
    headers: { cookie, 'x-csrf-token': a.csrf, accept: 'application/json', origin: 'https://dify.example.com' },
  });
  assert.equal(res.statusCode, 200);
  const body = res.json() as { result: string; redirect_url: string };
  assert.equal(body.result, 'success');
  assert.ok(body.redirect_url.startsWith(op.issuer), 'continues to the IdP end-session endpoint');
  assert.ok(new URL(body.redirect_url).searchParams.get('id_token_hint'));
  const names = res.cookies.map((c) => c.name);
  assert.ok(names.includes('access_token') && names.includes('refresh_token'), 'Dify cookies cleared');
  assert.ok(
    names.some((n) => /dify_sso$/.test(n)),
    'kit cookie cleared',
  );
  assert.equal(await standin.redis.get(`${standin.prefix}:refresh_token:${a.refresh}`), null);
  const after = await auth(b.app, 'GET', '/console/api/apps', { cookie: `${kit(a.jar)}; access_token=${a.access}` });
  assert.equal(after.statusCode, 401);
  const form = await b.app.inject({
    method: 'POST',
    url: '/console/api/logout',
    headers: { accept: 'text/html', 'sec-fetch-site': 'same-origin' },
  });
  assert.equal(form.statusCode, 303);
});

test('break-glass: single use, CIDR-bound, expiry, audited; reopens password login for that client only', async () => {
  const kv = b.app.sso.store.kv;
  const { token } = await issueBreakGlassToken(kv, 600);
  // Wrong network.
  const far = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: '203.0.113.5',
    payload: { token },
  });
  assert.equal(far.statusCode, 403);
  // Right network: accepted once.
  const ok = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: '10.9.1.2',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `token=${token}`,
  });
  assert.equal(ok.statusCode, 303);
  const bg = ok.cookies.find((c) => c.name.endsWith('dify_sso_bg'));
  assert.ok(bg?.httpOnly);
  const again = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: '10.9.1.2',
    payload: { token },
  });
  assert.equal(again.statusCode, 403, 'single use');
  // The cookie reopens POST /console/api/login for that client (nginx → /sso/auth with XFF = client)…
  const cookie = `${bg?.name}=${bg?.value}`;
  assert.equal(
    (await auth(b.app, 'POST', '/console/api/login', { cookie, 'x-forwarded-for': '10.9.1.2' })).statusCode,
    204,
  );
  // …not registration, not for another client, and system-features shows the password form to that client only.
  assert.equal(
    (await auth(b.app, 'POST', '/console/api/email-register', { cookie, 'x-forwarded-for': '10.9.1.2' })).statusCode,
    403,
  );
  assert.equal(
    (await auth(b.app, 'POST', '/console/api/login', { cookie, 'x-forwarded-for': '10.9.1.3' })).statusCode,
    403,
  );
  const sf = await b.app.inject({
    method: 'GET',
    url: '/console/api/system-features',
    remoteAddress: '10.9.1.2',
    headers: { cookie },
  });
  assert.equal((sf.json() as Record<string, unknown>)['enable_email_password_login'], true);
  // Expired token.
  const old = await issueBreakGlassToken(kv, 600, Date.now() - 3600_000);
  const exp = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: '10.9.1.2',
    payload: { token: old.token },
  });
  assert.equal(exp.statusCode, 403);
  const used = b.audits('break_glass.used');
  const denied = b.audits('break_glass.denied').map((e) => e['reason']);
  assert.equal(used.length, 1);
  assert.deepEqual(denied, ['cidr', 'invalid', 'expired']);
  assert.ok(!b.logs.some((l) => l.includes(token)), 'the token never reaches the logs');
});

test('break-glass cookie: bound to the client IP, bounded lifetime, tamper-evident', () => {
  const c = new BreakGlassCookie({
    sessionSecret: `${'x'.repeat(8)}abcdefghijklmnopqrstuvwxyz0123456789`,
    secure: true,
  });
  const now = 1_000_000;
  const value = (c.issue('10.0.0.1', 900, now).split(';', 1)[0] ?? '').split('=')[1] as string;
  assert.equal(c.name, '__Host-dify_sso_bg');
  assert.equal(c.verify(value, '10.0.0.1', now + 1000), true);
  assert.equal(c.verify(value, '10.0.0.2', now + 1000), false);
  assert.equal(c.verify(value, '10.0.0.1', now + 901_000), false);
  assert.equal(c.verify(`${value.slice(0, -2)}AA`, '10.0.0.1', now + 1000), false);
  assert.equal(parseTtl('10m'), 600);
  assert.equal(parseTtl('1h'), 3600);
  assert.equal(parseTtl('5s'), undefined);
  assert.equal(parseTtl('2d'), undefined);
});

test('/sso/auth: service API second factor (X-Sso-Token next to the app key)', async () => {
  const none = await auth(b.app, 'POST', '/v1/chat-messages', { authorization: 'Bearer app-123' });
  assert.equal(none.statusCode, 401);
  const ok = await auth(b.app, 'POST', '/v1/chat-messages', {
    authorization: 'Bearer app-123',
    'x-sso-token': `Bearer ${await op.accessTokenJwt({})}`,
  });
  assert.equal(ok.statusCode, 204);
  assert.equal(ok.headers['x-sso-upstream-authorization'], undefined, 'the app key is not replaced');
  const aud = await auth(b.app, 'POST', '/v1/chat-messages', {
    authorization: 'Bearer app-123',
    'x-sso-token': await op.accessTokenJwt({ aud: 'elsewhere' }),
  });
  assert.equal(aud.statusCode, 401);
});

test('/sso/auth: machine credentials are handed only to nginx (gate secret), unless every trusted proxy is loopback', async () => {
  const token = await op.accessTokenJwt({});
  const secret = 'gate-secret-0123456789abcdefghijklmnop';
  const wide = await startBridge(
    standin,
    {
      DIFY_SSO_TRUST_PROXY: '127.0.0.1,10.0.0.0/8',
      DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
      DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
      DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/apps*',
      DIFY_SSO_GATE_AUTH_REQUEST_SECRET: secret,
    },
    { op },
  );
  try {
    const without = await auth(wide.app, 'GET', '/console/api/apps', { authorization: `Bearer ${token}` });
    assert.equal(without.statusCode, 403);
    assert.equal(without.headers['x-sso-upstream-authorization'], undefined);
    const wrong = await auth(wide.app, 'GET', '/console/api/apps', {
      authorization: `Bearer ${token}`,
      'x-sso-gate-secret': secret.replace(/.$/, 'X'),
    });
    assert.equal(wrong.statusCode, 403);
    const right = await auth(wide.app, 'GET', '/console/api/apps', {
      authorization: `Bearer ${token}`,
      'x-sso-gate-secret': secret,
    });
    assert.equal(right.statusCode, 204);
    assert.match(String(right.headers['x-sso-upstream-authorization']), /^Bearer /);
  } finally {
    await wide.close();
  }
});
