/**
 * Sessions: cookie attributes, fixation, timeouts, liveness refresh, logout, hooks.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { absorb, cookieHeader, login, makeApp, type TestApp } from '../helpers/harness.js';
import { SsoError } from '../../src/errors.js';

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

const check = (app: TestApp['app'], cookies: Record<string, string>) => app.sso.checkSession({ cookies } as never);

describe('cookies', () => {
  test('https public URL: __Host-dify_sso is Secure, HttpOnly, SameSite=Lax, Path=/, no Domain; tx cookie likewise', async () => {
    const r = await login(t.app, op);
    const tx = r.loginRes.cookies.find((c) => c.name === '__Host-dify_sso_tx');
    const raw = r.callbackRes.headers['set-cookie'];
    const lines = Array.isArray(raw) ? raw : [String(raw)];
    const session = lines.find((l) => l.startsWith('__Host-dify_sso='));
    assert.ok(session, 'session cookie set');
    for (const attr of ['Secure', 'HttpOnly', 'SameSite=Lax', 'Path=/'])
      assert.ok(session.split('; ').includes(attr), attr);
    assert.equal(/domain=/i.test(session), false);
    assert.ok(tx);
    assert.equal(tx.secure, true);
    assert.equal(tx.httpOnly, true);
    assert.equal(tx.sameSite, 'Lax');
    assert.equal(tx.path, '/');
    assert.equal(tx.domain, undefined);
    assert.ok(
      lines.some((l) => l.startsWith('__Host-dify_sso_tx=;')),
      'transaction cookie cleared at callback',
    );
    for (const name of [
      'access_token',
      'refresh_token',
      'csrf_token',
      'KEYCLOAK_SESSION',
      'AUTH_SESSION_ID',
      'KEYCLOAK_IDENTITY',
    ]) {
      assert.equal(t.app.sso.cookieNames.session === name || t.app.sso.cookieNames.transaction === name, false);
    }
  });

  test('plain-http development mode: dify_sso without Secure, and a loud warning', async () => {
    const dev = await makeApp(op, { DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000' });
    try {
      const r = await login(dev.app, op);
      const c = r.callbackRes.cookies.find((x) => x.name === 'dify_sso');
      assert.ok(c);
      assert.equal(c.secure, undefined);
      assert.equal(c.httpOnly, true);
      assert.equal(r.jar.has('__Host-dify_sso'), false);
      const warn = dev.entries().find((e) => e.code === 'WARN_CONFIG_INSECURE_HTTP');
      assert.equal(warn?.level, 40);
    } finally {
      await dev.app.close();
    }
  });
});

describe('session fixation', () => {
  test('a new session id on every login; the pre-existing session (planted or old) is destroyed', async () => {
    const first = await login(t.app, op, { user: { sub: 'fix-user' } });
    const oldId = first.jar.get('__Host-dify_sso')!;
    assert.equal((await check(t.app, { '__Host-dify_sso': oldId })).ok, true);
    // attacker plants its own (valid) session id in the victim browser; the victim logs in
    const second = await login(t.app, op, { user: { sub: 'fix-user' }, jar: new Map(first.jar) });
    const newId = second.jar.get('__Host-dify_sso')!;
    assert.notEqual(newId, oldId);
    assert.deepEqual(await check(t.app, { '__Host-dify_sso': oldId }), { ok: false, reason: 'revoked' });
    assert.equal((await check(t.app, { '__Host-dify_sso': newId })).ok, true);
  });

  test('an unknown session id presented at login is never adopted', async () => {
    const planted = 'A'.repeat(43);
    const r = await login(t.app, op, { jar: new Map([['__Host-dify_sso', planted]]) });
    assert.notEqual(r.jar.get('__Host-dify_sso'), planted);
    assert.deepEqual(await check(t.app, { '__Host-dify_sso': planted }), { ok: false, reason: 'revoked' });
  });
});

describe('checkSession reasons and timeouts', () => {
  test('missing / invalid / revoked', async () => {
    assert.deepEqual(await check(t.app, {}), { ok: false, reason: 'missing' });
    assert.deepEqual(await check(t.app, { '__Host-dify_sso': 'short' }), { ok: false, reason: 'invalid' });
    assert.deepEqual(await check(t.app, { '__Host-dify_sso': 'B'.repeat(43) }), { ok: false, reason: 'revoked' });
  });

  test('idle timeout ends the session; activity within the window keeps it (touch)', async () => {
    let clock = Date.now();
    const a = await makeApp(
      op,
      { DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS: '600', DIFY_SSO_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' },
      { now: () => clock },
    );
    try {
      const ended: string[] = [];
      a.app.sso.addSessionEndHook((_s, cause) => void ended.push(cause));
      const r = await login(a.app, op);
      const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
      clock += 500_000;
      assert.equal((await check(a.app, c)).ok, true);
      clock += 500_000; // 1000 s after login, 500 s after last use
      assert.equal((await check(a.app, c)).ok, true);
      clock += 601_000;
      assert.deepEqual(await check(a.app, c), { ok: false, reason: 'expired' });
      assert.deepEqual(await check(a.app, c), { ok: false, reason: 'revoked' });
      assert.deepEqual(ended, ['expired']);
      assert.equal(a.audits('auth.session.expired').at(-1)?.reason, 'idle_timeout');
    } finally {
      await a.app.close();
    }
  });

  test('absolute timeout ends an active session', async () => {
    let clock = Date.now();
    const a = await makeApp(
      op,
      { DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS: '600', DIFY_SSO_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '1200' },
      { now: () => clock },
    );
    try {
      const r = await login(a.app, op);
      const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
      for (let i = 0; i < 3; i++) {
        clock += 350_000;
        assert.equal((await check(a.app, c)).ok, true);
      }
      clock += 200_000;
      assert.deepEqual(await check(a.app, c), { ok: false, reason: 'expired' });
      assert.equal(a.audits('auth.session.expired').at(-1)?.reason, 'absolute_timeout');
    } finally {
      await a.app.close();
    }
  });
});

describe('liveness refresh', () => {
  async function liveApp() {
    let clock = Date.now();
    const a = await makeApp(op, { DIFY_SSO_SESSION_LIVENESS_REFRESH_SECONDS: '60' }, { now: () => clock });
    op.now = () => clock;
    return { a, advance: (ms: number) => (clock += ms), restore: () => (op.now = Date.now) };
  }

  test('refresh succeeds: session continues with new tokens', async () => {
    const { a, advance, restore } = await liveApp();
    try {
      const r = await login(a.app, op, { user: { sub: 'live-1' } });
      const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
      const before = await check(a.app, c);
      assert.ok(before.ok);
      const tokensBefore = await a.app.sso.sessions.openTokens(before.session);
      advance(61_000);
      const after = await check(a.app, c);
      assert.ok(after.ok);
      const tokensAfter = await a.app.sso.sessions.openTokens(after.session);
      assert.notEqual(tokensAfter?.refreshToken, tokensBefore?.refreshToken);
      assert.ok(after.session.lastRefreshAt > before.session.lastRefreshAt);
    } finally {
      restore();
      await a.app.close();
    }
  });

  test('invalid_grant ends the session (cause liveness)', async () => {
    const { a, advance, restore } = await liveApp();
    try {
      const causes: string[] = [];
      a.app.sso.addSessionEndHook((_s, cause) => void causes.push(cause));
      const r = await login(a.app, op, { user: { sub: 'live-2' } });
      const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
      op.scenario.refreshInvalidGrant = true;
      advance(61_000);
      assert.deepEqual(await check(a.app, c), { ok: false, reason: 'revoked' });
      assert.deepEqual(causes, ['liveness']);
      assert.equal(a.audits('auth.session.revoked').at(-1)?.reason, 'invalid_grant');
    } finally {
      restore();
      await a.app.close();
    }
  });

  for (const [name, mutate] of [
    ['refreshed ID token with another sub', (c: Record<string, unknown>) => ({ ...c, sub: 'someone-else' })],
    [
      'refreshed ID token with another iss',
      (c: Record<string, unknown>) => ({ ...c, iss: 'https://evil.example.com' }),
    ],
  ] as const) {
    test(`${name} ends the session`, async () => {
      const { a, advance, restore } = await liveApp();
      try {
        const r = await login(a.app, op, { user: { sub: 'live-3' } });
        const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
        op.scenario.refreshIdClaims = mutate;
        advance(61_000);
        assert.deepEqual(await check(a.app, c), { ok: false, reason: 'revoked' });
      } finally {
        restore();
        await a.app.close();
      }
    });
  }

  test('IdP unreachable during refresh → idp_unavailable (session kept)', async () => {
    const { a, advance, restore } = await liveApp();
    try {
      const r = await login(a.app, op, { user: { sub: 'live-4' } });
      const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
      op.scenario.down = true;
      advance(61_000);
      assert.deepEqual(await check(a.app, c), { ok: false, reason: 'idp_unavailable' });
      op.scenario.down = false;
      assert.equal((await check(a.app, c)).ok, true);
    } finally {
      restore();
      await a.app.close();
    }
  });
});

describe('logout', () => {
  test('POST (same origin): server session deleted, cookies cleared, RP-initiated logout with id_token_hint and same-origin post_logout_redirect_uri', async () => {
    const ended: string[] = [];
    t.app.sso.addSessionEndHook((s, cause) => {
      if (s.sub === 'bye') ended.push(cause);
    });
    const r = await login(t.app, op, { user: { sub: 'bye' } });
    const id = r.jar.get('__Host-dify_sso')!;
    const session = await check(t.app, { '__Host-dify_sso': id });
    assert.ok(session.ok);
    const idToken = (await t.app.sso.sessions.openTokens(session.session))?.idToken;
    const res = await t.app.inject({
      method: 'POST',
      url: '/sso/logout?redirect=%2F%2Fevil.com',
      headers: { cookie: cookieHeader(r.jar), origin: 'https://dify.example.com' },
    });
    assert.equal(res.statusCode, 303);
    const loc = new URL(res.headers.location as string);
    assert.equal(`${loc.origin}${loc.pathname}`, `${op.issuer}/logout`);
    assert.equal(loc.searchParams.get('id_token_hint'), idToken);
    assert.equal(loc.searchParams.get('post_logout_redirect_uri'), 'https://dify.example.com/signin');
    assert.equal(loc.searchParams.get('client_id'), op.clientId);
    const jar = new Map(r.jar);
    absorb(jar, res);
    assert.equal(jar.has('__Host-dify_sso'), false);
    assert.deepEqual(await check(t.app, { '__Host-dify_sso': id }), { ok: false, reason: 'revoked' });
    assert.deepEqual(ended, ['logout']);
    assert.equal(t.audits('auth.logout').at(-1)?.sub, 'bye');
  });

  test('POST with a same-origin redirect → 303; without end_session_endpoint → local redirect', async () => {
    op.scenario.noEndSession = true;
    const local = await makeApp(op);
    try {
      const r = await login(local.app, op);
      const res = await local.app.inject({
        method: 'POST',
        url: '/sso/logout',
        headers: {
          cookie: cookieHeader(r.jar),
          'content-type': 'application/x-www-form-urlencoded',
          origin: 'https://dify.example.com',
        },
        payload: 'redirect=%2Fsignin%3Fbye%3D1',
      });
      assert.equal(res.statusCode, 303);
      assert.equal(res.headers.location, '/signin?bye=1');
      assert.deepEqual(await check(local.app, { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! }), {
        ok: false,
        reason: 'revoked',
      });
    } finally {
      await local.app.close();
    }
  });

  test('IdP down at logout: server session still ends, browser stays on our origin', async () => {
    let clock = Date.now();
    const local = await makeApp(op, {}, { now: () => clock });
    try {
      const r = await login(local.app, op);
      op.scenario.down = true;
      clock += 6_000;
      const res = await local.app.inject({
        method: 'POST',
        url: '/sso/logout',
        headers: { cookie: cookieHeader(r.jar), 'sec-fetch-site': 'same-origin' },
      });
      assert.equal(res.headers.location, '/signin');
      assert.deepEqual(await check(local.app, { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! }), {
        ok: false,
        reason: 'revoked',
      });
    } finally {
      op.scenario.down = false;
      await local.app.close();
    }
  });

  test('logout without a session still clears cookies and reaches the IdP', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/sso/logout',
      headers: { origin: 'https://dify.example.com' },
    });
    assert.equal(res.statusCode, 303);
    assert.ok((res.headers.location as string).startsWith(`${op.issuer}/logout`));
    assert.ok(res.cookies.some((c) => c.name === '__Host-dify_sso' && c.value === ''));
  });
});

describe('after-login hooks and access policy', () => {
  test('hook may change the target and relay Set-Cookie values; it sees claims and the session', async () => {
    const a = await makeApp(op);
    try {
      let seen: { sub?: string; email?: unknown } = {};
      a.app.sso.addAfterLoginHook(async ({ session, claims, redirectTo }) => {
        seen = { sub: session.sub, email: claims.email };
        await a.app.sso.store.update(session.id, { difyAccountId: 'acc-1', difyRefreshTokenHash: 'h', ext: { a: 1 } });
        assert.equal(redirectTo, '/apps/1');
        return {
          redirectTo: '/explore',
          setCookie: ['access_token=dify-at; Path=/; HttpOnly', 'csrf_token=c; Path=/'],
        };
      });
      const r = await login(a.app, op, {
        redirect: '/apps/1',
        user: { sub: 'hooked', claims: { email: 'h@example.com' } },
      });
      assert.equal(r.callbackRes.headers.location, '/explore');
      const sc = r.callbackRes.headers['set-cookie'] as string[];
      assert.ok(sc.includes('access_token=dify-at; Path=/; HttpOnly'));
      assert.ok(sc.includes('csrf_token=c; Path=/'));
      assert.ok(sc.some((l) => l.startsWith('__Host-dify_sso=')));
      assert.deepEqual(seen, { sub: 'hooked', email: 'h@example.com' });
      const s = await check(a.app, { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! });
      assert.ok(s.ok);
      assert.equal(s.session.difyAccountId, 'acc-1');
    } finally {
      await a.app.close();
    }
  });

  test('hook throwing SsoError denies: session deleted, end hooks run, sign-in page with its reason', async () => {
    const a = await makeApp(op);
    try {
      const ended: string[] = [];
      a.app.sso.addSessionEndHook((_s, cause) => void ended.push(cause));
      a.app.sso.addAfterLoginHook(() => {
        throw new SsoError('ERR_OIDC_ACCESS_DENIED', 'no role', { reason: 'no_role' });
      });
      const r = await login(a.app, op);
      assert.equal(r.callbackRes.headers.location, '/signin?message=no_role');
      assert.equal(r.jar.has('__Host-dify_sso'), false);
      assert.deepEqual(ended, ['logout']);
      assert.equal(a.audits('auth.login.failure').at(-1)?.reason, 'no_role');
    } finally {
      await a.app.close();
    }
  });

  const policyCases: { name: string; env: Record<string, string>; claims: Record<string, unknown>; expect: string }[] =
    [
      {
        name: 'group allowed',
        env: { DIFY_SSO_POLICY_ALLOWED_GROUPS: 'dify-admins' },
        claims: { groups: ['dify-admins'] },
        expect: '/apps',
      },
      {
        name: 'group missing → denied',
        env: { DIFY_SSO_POLICY_ALLOWED_GROUPS: 'dify-admins' },
        claims: { groups: ['other'] },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'groups claim absent → denied (fail closed)',
        env: { DIFY_SSO_POLICY_ALLOWED_GROUPS: 'dify-admins' },
        claims: {},
        expect: '/signin?message=access_denied',
      },
      {
        name: 'keycloak realm role allowed',
        env: { DIFY_SSO_OIDC_PRESET: 'keycloak', DIFY_SSO_POLICY_ALLOWED_ROLES: 'dify-user' },
        claims: { realm_access: { roles: ['dify-user'] } },
        expect: '/apps',
      },
      {
        name: 'keycloak client role allowed',
        env: { DIFY_SSO_OIDC_PRESET: 'keycloak', DIFY_SSO_POLICY_ALLOWED_ROLES: 'dify-console:admin' },
        claims: { resource_access: { 'dify-console': { roles: ['admin'] } } },
        expect: '/apps',
      },
      {
        name: 'keycloak role missing → denied',
        env: { DIFY_SSO_OIDC_PRESET: 'keycloak', DIFY_SSO_POLICY_ALLOWED_ROLES: 'dify-user' },
        claims: { realm_access: { roles: ['offline_access'] } },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'domain allowed (verified)',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@example.com', email_verified: true },
        expect: '/apps',
      },
      {
        name: 'subdomain allowed on label boundary',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@eu.example.com', email_verified: true },
        expect: '/apps',
      },
      {
        name: 'look-alike domain → denied',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@badexample.com', email_verified: true },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'multi-@ e-mail → denied',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@evil.com@example.com', email_verified: true },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'e-mail not verified → denied',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@example.com', email_verified: false },
        expect: '/signin?message=email_not_verified',
      },
      {
        name: 'email_verified absent → denied',
        env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@example.com' },
        expect: '/signin?message=email_not_verified',
      },
      {
        name: 'google hd must match',
        env: { DIFY_SSO_OIDC_PRESET: 'google', DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@example.com', email_verified: true },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'google hd present',
        env: { DIFY_SSO_OIDC_PRESET: 'google', DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { email: 'a@example.com', email_verified: true, hd: 'example.com' },
        expect: '/apps',
      },
      {
        name: 'entra groups overage → denied',
        env: { DIFY_SSO_OIDC_PRESET: 'entra', DIFY_SSO_POLICY_ALLOWED_GROUPS: 'g-1' },
        claims: { groups: ['g-1'], _claim_names: { groups: 'src1' } },
        expect: '/signin?message=access_denied',
      },
      {
        name: 'group AND domain both required',
        env: { DIFY_SSO_POLICY_ALLOWED_GROUPS: 'g', DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com' },
        claims: { groups: ['g'], email: 'a@other.com', email_verified: true },
        expect: '/signin?message=access_denied',
      },
    ];
  const keycloakAccessTokenCases: { name: string; at: Record<string, unknown>; expect: string }[] = [
    {
      name: 'realm role from the verified access token',
      at: { realm_access: { roles: ['dify-user'] } },
      expect: '/apps',
    },
    {
      name: 'client roles are namespaced <client>:<role> (plain name does not match)',
      at: { resource_access: { x: { roles: ['dify-user'] } } },
      expect: '/signin?message=access_denied',
    },
    {
      name: 'access token issued to another client (azp) ignored',
      at: { azp: 'other', realm_access: { roles: ['dify-user'] } },
      expect: '/signin?message=access_denied',
    },
    {
      name: 'access token for another sub ignored',
      at: { sub: 'other', realm_access: { roles: ['dify-user'] } },
      expect: '/signin?message=access_denied',
    },
    {
      name: 'access token from another issuer ignored',
      at: { iss: 'https://evil.example.com', realm_access: { roles: ['dify-user'] } },
      expect: '/signin?message=access_denied',
    },
  ];
  for (const kc of keycloakAccessTokenCases) {
    test(`keycloak preset: ${kc.name}`, async () => {
      const a = await makeApp(op, { DIFY_SSO_OIDC_PRESET: 'keycloak', DIFY_SSO_POLICY_ALLOWED_ROLES: 'dify-user' });
      try {
        op.scenario.accessTokenClaims = kc.at;
        const r = await login(a.app, op, { user: { sub: 'kc-user' } });
        assert.equal(r.callbackRes.headers.location, kc.expect);
      } finally {
        await a.app.close();
      }
    });
  }

  for (const pc of policyCases) {
    test(`policy: ${pc.name}`, async () => {
      const a = await makeApp(op, pc.env);
      try {
        const r = await login(a.app, op, { user: { claims: pc.claims } });
        assert.equal(r.callbackRes.headers.location, pc.expect);
        assert.equal(r.jar.has('__Host-dify_sso'), pc.expect === '/apps');
      } finally {
        await a.app.close();
      }
    });
  }
});
