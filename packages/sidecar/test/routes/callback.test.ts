/**
 * OpenID RP conformance (negative and acceptance cases) against the in-process hostile OP.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { inflateRawSync } from 'node:zlib';
import { compactDecrypt } from 'jose';
import { deriveKeys } from '../../src/lib/crypto.js';
import { SECRET, absorb, cookieHeader, login, makeApp, type TestApp } from '../helpers/harness.js';

let op: HostileOp;
let t: TestApp;

before(async () => {
  op = await HostileOp.start();
  t = await makeApp(op);
});
after(async () => {
  await t.app.close();
  await op.close();
});
beforeEach(() => op.reset());

async function assertDenied(result: Awaited<ReturnType<typeof login>>, reason: string): Promise<void> {
  assert.equal(result.callbackRes.statusCode, 302);
  assert.equal(result.callbackRes.headers.location, `/signin?message=${reason}`);
  assert.equal(result.jar.has('__Host-dify_sso'), false, 'no session cookie on denial');
  const check = await t.app.sso.checkSession({ cookies: Object.fromEntries(result.jar) } as never);
  assert.equal(check.ok, false);
}

describe('acceptance', () => {
  test('valid RS256 ID token: session created, redirect to canonical target', async () => {
    const r = await login(t.app, op, {
      redirect: '/apps/42?tab=logs',
      user: { sub: 'alice', claims: { email: 'alice@example.com', email_verified: true, name: 'Alice' } },
    });
    assert.equal(r.callbackRes.statusCode, 302);
    assert.equal(r.callbackRes.headers.location, '/apps/42?tab=logs');
    const sid = r.jar.get('__Host-dify_sso');
    assert.ok(sid && /^[A-Za-z0-9_-]{43}$/.test(sid));
    const check = await t.app.sso.checkSession({ cookies: { '__Host-dify_sso': sid } } as never);
    assert.ok(check.ok);
    assert.equal(check.session.sub, 'alice');
    assert.equal(check.session.iss, op.issuer);
    assert.equal(check.session.claims.email, 'alice@example.com');
    assert.equal(check.session.claims.name, 'Alice');
    assert.ok(check.session.sid?.startsWith('sid-'));
    assert.ok(check.session.tokens && !check.session.tokens.includes('.') === false, 'tokens stored as JWE');
    const tokens = await t.app.sso.sessions.openTokens(check.session);
    assert.ok(tokens?.idToken && tokens.refreshToken);
    assert.equal(JSON.stringify(check.session).includes(tokens.idToken), false, 'ID token encrypted at rest');
    assert.equal(JSON.stringify(check.session).includes(tokens.refreshToken), false, 'refresh token encrypted at rest');
    // The IdP access token is not kept at all (used during sign-in only): not in the sealed tokens either.
    const issued = [...op.accessTokens.keys()];
    assert.equal(issued.length, 1, 'the OP issued one access token');
    assert.equal('accessToken' in tokens, false);
    const { plaintext } = await compactDecrypt(check.session.tokens!, deriveKeys([SECRET], 'token-at-rest')[0]!.key);
    const opened = inflateRawSync(plaintext).toString('utf8');
    assert.ok(opened.includes(tokens.refreshToken), 'the sealed tokens are readable here');
    assert.equal(opened.includes(issued[0]!), false, 'the access token is not in the sealed tokens');
  });

  test('authorization request: code flow, PKCE S256, CSPRNG state and nonce, openid scope, exact redirect_uri', async () => {
    const a = await login(t.app, op);
    const b = await login(t.app, op);
    const p = a.authUrl.searchParams;
    assert.equal(p.get('response_type'), 'code');
    assert.equal(p.get('code_challenge_method'), 'S256');
    assert.match(p.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(p.get('state') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.match(p.get('nonce') ?? '', /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(p.get('state'), b.authUrl.searchParams.get('state'));
    assert.notEqual(p.get('nonce'), b.authUrl.searchParams.get('nonce'));
    assert.ok(p.get('scope')?.split(' ').includes('openid'));
    assert.equal(p.get('redirect_uri'), 'https://dify.example.com/sso/callback');
    const tokenReq = op.requests.filter((x) => x.path === '/token').at(-1);
    assert.match(tokenReq?.auth ?? '', /^Basic /, 'client_secret_basic');
    assert.equal(tokenReq?.body?.includes('client_secret'), false);
    const ui = op.requests.filter((x) => x.path === '/userinfo').at(-1);
    assert.match(ui?.auth ?? '', /^Bearer /, 'UserInfo access token in the Authorization header');
  });

  test('kid absent with a single key in the JWKS: accepted', async () => {
    op.scenario.idHeader = (h) => {
      const { kid: _k, ...rest } = h;
      return rest;
    };
    const r = await login(t.app, op, { redirect: '/apps' });
    assert.equal(r.callbackRes.headers.location, '/apps');
    assert.ok(r.jar.has('__Host-dify_sso'));
  });

  test('key rotation: a new kid is accepted after the JWKS is re-fetched', async () => {
    const local = await makeApp(op);
    try {
      const first = await login(local.app, op, { redirect: '/apps' });
      assert.equal(first.callbackRes.headers.location, '/apps');
      const fetches = op.jwksFetches;
      await op.rotate(`key-${op.keys.length + 1}`);
      const second = await login(local.app, op, { redirect: '/apps' });
      assert.equal(second.callbackRes.headers.location, '/apps');
      assert.ok(op.jwksFetches > fetches, 'JWKS re-fetched on unknown kid');
    } finally {
      op.active = 0;
      await local.app.close();
    }
  });
});

describe('ID token negative cases (each must deny)', () => {
  const cases: { name: string; reason: string; setup: () => void }[] = [
    {
      name: 'invalid iss',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idClaims = (c) => ({ ...c, iss: 'https://evil.example.com' })),
    },
    {
      name: 'missing sub',
      reason: 'invalid_id_token',
      setup: () =>
        (op.scenario.idClaims = (c) => {
          const { sub: _s, ...rest } = c;
          return rest;
        }),
    },
    {
      name: 'wrong aud',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idClaims = (c) => ({ ...c, aud: 'another-client' })),
    },
    {
      name: 'multiple aud without azp',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idClaims = (c) => ({ ...c, aud: [op.clientId, 'another-client'] })),
    },
    {
      name: 'azp is another client',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idClaims = (c) => ({ ...c, azp: 'another-client' })),
    },
    {
      name: 'missing iat',
      reason: 'invalid_id_token',
      setup: () =>
        (op.scenario.idClaims = (c) => {
          const { iat: _i, ...rest } = c;
          return rest;
        }),
    },
    {
      name: 'expired',
      reason: 'invalid_id_token',
      setup: () =>
        (op.scenario.idClaims = (c) => ({
          ...c,
          exp: Math.floor(Date.now() / 1000) - 3600,
          iat: Math.floor(Date.now() / 1000) - 4000,
        })),
    },
    { name: 'alg none', reason: 'invalid_id_token', setup: () => (op.scenario.idSign = 'none') },
    {
      name: 'invalid RS256 signature',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idSign = 'bad-signature'),
    },
    {
      name: 'signed by a key not in the JWKS',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idSign = 'unpublished-key'),
    },
    {
      name: 'jku header pointing elsewhere',
      reason: 'invalid_id_token',
      setup: () => (op.scenario.idHeader = (h) => ({ ...h, jku: 'https://evil.example.com/jwks' })),
    },
    {
      name: 'nonce mismatch',
      reason: 'nonce_mismatch',
      setup: () => (op.scenario.idClaims = (c) => ({ ...c, nonce: 'not-the-nonce' })),
    },
    {
      name: 'nonce missing',
      reason: 'invalid_id_token',
      setup: () =>
        (op.scenario.idClaims = (c) => {
          const { nonce: _n, ...rest } = c;
          return rest;
        }),
    },
    {
      name: 'UserInfo sub mismatch',
      reason: 'userinfo_invalid',
      setup: () => (op.scenario.userinfoSub = 'someone-else'),
    },
  ];
  for (const c of cases) {
    test(`${c.name} → ${c.reason}`, async () => {
      c.setup();
      const before = t.audits('auth.login.failure').length;
      const r = await login(t.app, op, { redirect: '/apps' });
      await assertDenied(r, c.reason);
      const failures = t.audits('auth.login.failure');
      assert.equal(failures.length, before + 1);
      assert.equal(failures.at(-1)?.reason, c.reason);
    });
  }

  test('HS256 ID token signed with the public key (key confusion) → denied', async () => {
    const { createSecretKey } = await import('node:crypto');
    const { SignJWT } = await import('jose');
    op.scenario.idSign = 'normal';
    const pub = JSON.stringify(op.key.publicJwk);
    const original = op.sign.bind(op);
    op.sign = async (claims, header) =>
      new SignJWT(claims)
        .setProtectedHeader({ ...header, alg: 'HS256' } as { alg: string })
        .sign(createSecretKey(Buffer.from(pub)));
    try {
      const r = await login(t.app, op, { redirect: '/apps' });
      await assertDenied(r, 'invalid_id_token');
    } finally {
      op.sign = original;
    }
  });
});

describe('callback request checks', () => {
  test('state mismatch → invalid_state, code never exchanged', async () => {
    const tokenCalls = op.requests.filter((x) => x.path === '/token').length;
    const r = await login(t.app, op, { mutateCallback: (q) => q.replace(/state=[^&]+/, 'state=forged') });
    await assertDenied(r, 'invalid_state');
    assert.equal(op.requests.filter((x) => x.path === '/token').length, tokenCalls);
  });

  test('RFC 9207: authorization response iss from another issuer (mix-up) → issuer_mismatch, code never exchanged', async () => {
    const tokenCalls = op.requests.filter((x) => x.path === '/token').length;
    const r = await login(t.app, op, {
      mutateCallback: (q) => q.replace(/iss=[^&]+/, `iss=${encodeURIComponent('https://evil.example.com')}`),
    });
    await assertDenied(r, 'issuer_mismatch');
    assert.equal(op.requests.filter((x) => x.path === '/token').length, tokenCalls);
  });

  test('RFC 9207: missing iss parameter when the OP advertises support → issuer_mismatch', async () => {
    const r = await login(t.app, op, { mutateCallback: (q) => q.replace(/&iss=[^&]+/, '') });
    await assertDenied(r, 'issuer_mismatch');
  });

  test('missing transaction cookie (login CSRF) → login_expired', async () => {
    const loginRes = await t.app.inject({ method: 'GET', url: '/sso/login' });
    const q = op.authorize(loginRes.headers.location as string);
    const res = await t.app.inject({ method: 'GET', url: `/sso/callback${q}` });
    assert.equal(res.headers.location, '/signin?message=login_expired');
  });

  test('tampered transaction cookie → login_expired', async () => {
    const loginRes = await t.app.inject({ method: 'GET', url: '/sso/login' });
    const tx = loginRes.cookies.find((c) => c.name === '__Host-dify_sso_tx')!.value;
    const tampered = tx.slice(0, -4) + (tx.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    const q = op.authorize(loginRes.headers.location as string);
    const res = await t.app.inject({
      method: 'GET',
      url: `/sso/callback${q}`,
      headers: { cookie: `__Host-dify_sso_tx=${tampered}` },
    });
    assert.equal(res.headers.location, '/signin?message=login_expired');
  });

  test('state is single use: replaying the callback with the same transaction cookie is refused', async () => {
    const jar = new Map<string, string>();
    const loginRes = await t.app.inject({ method: 'GET', url: '/sso/login' });
    absorb(jar, loginRes);
    const txCookie = cookieHeader(jar);
    const q = op.authorize(loginRes.headers.location as string);
    const first = await t.app.inject({ method: 'GET', url: `/sso/callback${q}`, headers: { cookie: txCookie } });
    assert.equal(first.headers.location, '/apps');
    const replay = await t.app.inject({ method: 'GET', url: `/sso/callback${q}`, headers: { cookie: txCookie } });
    assert.equal(replay.headers.location, '/signin?message=invalid_state');
  });

  test('transaction cookie expires (sealed TTL) → login_expired', async () => {
    let clock = Date.now();
    const local = await makeApp(op, {}, { now: () => clock });
    try {
      const loginRes = await local.app.inject({ method: 'GET', url: '/sso/login' });
      const tx = loginRes.cookies.find((c) => c.name === '__Host-dify_sso_tx')!;
      assert.equal(tx.maxAge, 600);
      const q = op.authorize(loginRes.headers.location as string);
      clock += 601_000;
      const res = await local.app.inject({
        method: 'GET',
        url: `/sso/callback${q}`,
        headers: { cookie: `__Host-dify_sso_tx=${tx.value}` },
      });
      assert.equal(res.headers.location, '/signin?message=login_expired');
    } finally {
      await local.app.close();
    }
  });

  test('IdP error response → idp_error; IdP text never reaches the browser', async () => {
    const jar = new Map<string, string>();
    const loginRes = await t.app.inject({ method: 'GET', url: '/sso/login' });
    absorb(jar, loginRes);
    const state = new URL(loginRes.headers.location as string).searchParams.get('state')!;
    const res = await t.app.inject({
      method: 'GET',
      url: `/sso/callback?error=access_denied&error_description=${encodeURIComponent('<script>alert(1)</script>')}&state=${state}&iss=${encodeURIComponent(op.issuer)}`,
      headers: { cookie: cookieHeader(jar) },
    });
    assert.equal(res.headers.location, '/signin?message=idp_error');
    assert.equal(res.body.includes('script'), false);
  });

  test('token endpoint error → token_exchange_failed, IdP error_description not leaked', async () => {
    const r = await login(t.app, op, { mutateCallback: (q) => q.replace(/code=[^&]+/, 'code=unknown-code') });
    await assertDenied(r, 'token_exchange_failed');
    assert.equal(r.callbackRes.body.includes('secret-ish'), false);
    assert.equal(t.logs.join('').includes('secret-ish'), false);
  });

  test('security headers on callback: no-store, no-referrer', async () => {
    const r = await login(t.app, op);
    assert.equal(r.callbackRes.headers['cache-control'], 'no-store');
    assert.equal(r.callbackRes.headers['referrer-policy'], 'no-referrer');
  });
});

describe('discovery', () => {
  test('discovery issuer mismatch: never ready, sign-in refused with idp_unavailable', async () => {
    op.scenario.discoveryIssuer = 'https://evil.example.com';
    const local = await makeApp(op);
    try {
      const ready = await local.app.inject({ method: 'GET', url: '/sso/health/ready' });
      assert.equal(ready.statusCode, 503);
      const res = await local.app.inject({ method: 'GET', url: '/sso/login' });
      assert.equal(res.headers.location, '/signin?message=idp_unavailable');
      assert.equal(local.app.sso.oidc.ready, false);
    } finally {
      await local.app.close();
    }
  });

  test('IdP down at start: live=200, ready=503, login → idp_unavailable; once the IdP is back, login works', async () => {
    op.scenario.down = true;
    const local = await makeApp(op);
    try {
      assert.equal((await local.app.inject({ method: 'GET', url: '/sso/health/live' })).statusCode, 200);
      assert.equal((await local.app.inject({ method: 'GET', url: '/sso/health/ready' })).statusCode, 503);
      const res = await local.app.inject({ method: 'GET', url: '/sso/login' });
      assert.equal(res.headers.location, '/signin?message=idp_unavailable');
      assert.equal(local.audits('auth.login.failure').at(-1)?.reason, 'idp_unavailable');
      op.scenario.down = false;
      const r = await login(local.app, op, { redirect: '/apps' });
      assert.equal(r.callbackRes.headers.location, '/apps');
      const ready = await local.app.inject({ method: 'GET', url: '/sso/health/ready' });
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(ready.json(), { status: 'ok', checks: { oidc: true, store: true } });
    } finally {
      await local.app.close();
    }
  });
});

describe('IdP outage after startup', () => {
  test('discovery done, IdP then down: sign-in goes to the sign-in page with idp_unavailable (not to a dead IdP)', async () => {
    let clock = Date.now();
    const local = await makeApp(op, {}, { now: () => clock });
    try {
      assert.equal(local.app.sso.oidc.ready, true);
      op.scenario.down = true;
      const res = await local.app.inject({ method: 'GET', url: '/sso/login' });
      assert.equal(res.headers.location, '/signin?message=idp_unavailable');
      op.scenario.down = false;
      clock += 6_000;
      const ok = await local.app.inject({ method: 'GET', url: '/sso/login' });
      assert.ok(String(ok.headers.location).startsWith(`${op.issuer}/authorize?`));
    } finally {
      await local.app.close();
    }
  });
});
