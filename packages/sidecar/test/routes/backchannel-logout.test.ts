/**
 * OIDC Back-Channel Logout 1.0: every logout-token case of the RP conformance plan.
 */
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp, type TestApp } from '../helpers/harness.js';

let op: HostileOp;
let t: TestApp;

before(async () => {
  op = await HostileOp.start();
  t = await makeApp(op, { DIFY_SSO_OIDC_ID_TOKEN_ALGS: 'RS256' });
});
after(async () => {
  await t.app.close();
  await op.close();
});
beforeEach(() => op.reset());

const post = (token: string | undefined, contentType = 'application/x-www-form-urlencoded') =>
  t.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': contentType },
    payload: token === undefined ? '' : `logout_token=${encodeURIComponent(token)}`,
  });

async function sessionOf(sub: string, sid: string) {
  const r = await login(t.app, op, { user: { sub, sid } });
  const cookie = r.jar.get('__Host-dify_sso')!;
  const check = () => t.app.sso.checkSession({ cookies: { '__Host-dify_sso': cookie } } as never);
  assert.equal((await check()).ok, true);
  return check;
}

describe('valid logout tokens', () => {
  test('sid: 200 and the matching session is gone; other sessions stay', async () => {
    const a = await sessionOf('u-sid', 'sid-A');
    const b = await sessionOf('u-sid', 'sid-B');
    const res = await post(await op.logoutToken({ sid: 'sid-A', sub: 'u-sid' }));
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.deepEqual(await a(), { ok: false, reason: 'revoked' });
    assert.equal((await b()).ok, true);
    const audit = t.audits('auth.backchannel').at(-1);
    assert.equal(audit?.sid, 'sid-A');
    assert.equal(audit?.count, 1);
  });

  test('sub only: every session of the user ends; end hooks run with cause backchannel', async () => {
    const causes: string[] = [];
    t.app.sso.addSessionEndHook((s, cause) => {
      if (s.sub === 'u-sub') causes.push(cause);
    });
    const a = await sessionOf('u-sub', 'sid-1');
    const b = await sessionOf('u-sub', 'sid-2');
    const other = await sessionOf('u-other', 'sid-3');
    const res = await post(await op.logoutToken({ sub: 'u-sub' }));
    assert.equal(res.statusCode, 200);
    assert.equal((await a()).ok, false);
    assert.equal((await b()).ok, false);
    assert.equal((await other()).ok, true);
    assert.deepEqual(causes, ['backchannel', 'backchannel']);
  });

  test('no typ header accepted unless strict typ is configured', async () => {
    const res = await post(await op.logoutToken({ sub: 'nobody', header: ({ typ: _t, ...h }) => h }));
    assert.equal(res.statusCode, 200);
  });
});

describe('invalid logout tokens → 400 (session survives)', () => {
  const BCL = 'http://schemas.openid.net/event/backchannel-logout';
  const cases: { name: string; make: () => Promise<string | undefined>; contentType?: string }[] = [
    { name: 'alg none', make: () => op.logoutToken({ sid: 'S', sign: 'none' }) },
    {
      name: 'no events claim',
      make: () =>
        op.logoutToken({
          sid: 'S',
          claims: ({ events: _e, ...c }) => c,
        }),
    },
    {
      name: 'wrong event',
      make: () =>
        op.logoutToken({
          sid: 'S',
          claims: (c) => ({ ...c, events: { 'http://schemas.openid.net/event/other': {} } }),
        }),
    },
    {
      name: 'event member not an object',
      make: () => op.logoutToken({ sid: 'S', claims: (c) => ({ ...c, events: { [BCL]: 'yes' } }) }),
    },
    { name: 'with nonce', make: () => op.logoutToken({ sid: 'S', claims: (c) => ({ ...c, nonce: 'n' }) }) },
    {
      name: 'wrong alg (ES256 key published in the JWKS, but ES256 is not on the RS256 allowlist)',
      make: async () => {
        const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
        op.keys.push({
          kid: 'ec-1',
          alg: 'ES256',
          privateKey,
          publicJwk: { ...(await exportJWK(publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
        });
        const tok = await new SignJWT({
          iss: op.issuer,
          aud: op.clientId,
          iat: Math.floor(Date.now() / 1000),
          jti: 'es',
          sid: 'S',
          events: { [BCL]: {} },
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'ec-1', typ: 'logout+jwt' })
          .sign(privateKey);
        return tok;
      },
    },
    {
      name: 'wrong alg (HS256 with the public key as secret)',
      make: async () =>
        new SignJWT({
          iss: op.issuer,
          aud: op.clientId,
          iat: Math.floor(Date.now() / 1000),
          jti: 'hs',
          sid: 'S',
          events: { [BCL]: {} },
        })
          .setProtectedHeader({ alg: 'HS256', kid: op.key.kid })
          .sign(createSecretKey(Buffer.from(JSON.stringify(op.key.publicJwk)))),
    },
    { name: 'wrong aud', make: () => op.logoutToken({ sid: 'S', claims: (c) => ({ ...c, aud: 'another-client' }) }) },
    {
      name: 'wrong iss',
      make: () => op.logoutToken({ sid: 'S', claims: (c) => ({ ...c, iss: 'https://evil.example.com' }) }),
    },
    { name: 'invalid signature', make: () => op.logoutToken({ sid: 'S', sign: 'bad-signature' }) },
    {
      name: 'jwk header embedded',
      make: () => op.logoutToken({ sid: 'S', header: (h) => ({ ...h, jwk: op.key.publicJwk }) }),
    },
    { name: 'no sid and no sub', make: () => op.logoutToken({}) },
    { name: 'no jti', make: () => op.logoutToken({ sid: 'S', claims: ({ jti: _j, ...c }) => c }) },
    { name: 'no iat', make: () => op.logoutToken({ sid: 'S', claims: ({ iat: _i, ...c }) => c }) },
    {
      name: 'iat too old',
      make: () =>
        op.logoutToken({
          sid: 'S',
          claims: (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) - 3600, exp: Math.floor(Date.now() / 1000) + 60 }),
        }),
    },
    {
      name: 'iat in the future',
      make: () =>
        op.logoutToken({
          sid: 'S',
          claims: (c) => ({ ...c, iat: Math.floor(Date.now() / 1000) + 600, exp: Math.floor(Date.now() / 1000) + 900 }),
        }),
    },
    {
      name: 'expired',
      make: () => op.logoutToken({ sid: 'S', claims: (c) => ({ ...c, exp: Math.floor(Date.now() / 1000) - 60 }) }),
    },
    { name: 'missing logout_token', make: async () => undefined },
    { name: 'garbage', make: async () => 'not-a-jwt' },
    { name: 'JSON body instead of form', make: () => op.logoutToken({ sid: 'S' }), contentType: 'application/json' },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const check = await sessionOf('victim', 'S');
      const token = await c.make();
      const res = c.contentType
        ? await t.app.inject({
            method: 'POST',
            url: '/sso/backchannel-logout',
            headers: { 'content-type': c.contentType },
            payload: JSON.stringify({ logout_token: token }),
          })
        : await post(token);
      assert.equal(res.statusCode, 400);
      assert.equal((await check()).ok, true, 'session must survive an invalid logout token');
      assert.equal(t.audits('auth.backchannel.rejected').length > 0, true);
      await t.app.sso.endUserSessions('victim');
    });
  }

  test('replayed jti → 400 the second time', async () => {
    const token = await op.logoutToken({ sid: 'sid-replay' });
    assert.equal((await post(token)).statusCode, 200);
    const check = await sessionOf('victim2', 'sid-replay');
    const res = await post(token);
    assert.equal(res.statusCode, 400);
    assert.equal((await check()).ok, true);
    assert.equal(t.audits('auth.backchannel.rejected').at(-1)?.reason, 'replayed');
  });

  test('strict typ: token without typ=logout+jwt → 400; with it → 200', async () => {
    const strict = await makeApp(op, { DIFY_SSO_OIDC_REQUIRE_LOGOUT_TOKEN_TYP: 'true' });
    try {
      const send = (tok: string) =>
        strict.app.inject({
          method: 'POST',
          url: '/sso/backchannel-logout',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: `logout_token=${tok}`,
        });
      assert.equal(
        (await send(await op.logoutToken({ sid: 'x', header: (h) => ({ ...h, typ: 'JWT' }) }))).statusCode,
        400,
      );
      assert.equal((await send(await op.logoutToken({ sid: 'x', header: ({ typ: _t, ...h }) => h }))).statusCode, 400);
      assert.equal((await send(await op.logoutToken({ sid: 'x' }))).statusCode, 200);
    } finally {
      await strict.app.close();
    }
  });
});
