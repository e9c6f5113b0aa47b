/**
 * IdP signing-key rotation (issue 13, item 2). An ID token from the token endpoint that carries a
 * new `kid` refetches the JWKS at once, even within the unknown-`kid` cooldown, and concurrent
 * logins share one fetch; tokens from untrusted channels (back-channel logout, bearer) still
 * wait for the cooldown. The cooldown here is 600 s, so every step runs inside it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp, type TestApp } from '../helpers/harness.js';
import { TokenError } from '../../src/errors.js';

let op: HostileOp;
let t: TestApp;

before(async () => {
  op = await HostileOp.start();
  t = await makeApp(op, {
    DIFY_SSO_OIDC_JWKS_COOLDOWN_SECONDS: '600',
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
    DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
  });
});
after(async () => {
  await t?.app.close();
  await op?.close();
});

const backchannel = (token: string) =>
  t.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });

test('a login right after the IdP rotated its key succeeds (ID token over the token endpoint refetches at once, within the cooldown)', async () => {
  assert.equal(op.jwksFetches, 1, 'the JWKS was loaded once at startup: the cooldown runs from here');
  await op.rotate('key-2');
  const r = await login(t.app, op, { user: { sub: 'rot-1', sid: 'rot-sid-1' } });
  assert.equal(
    r.callbackRes.headers.location,
    '/apps',
    `login after rotation: ${String(r.callbackRes.headers.location)}`,
  );
  assert.equal(op.jwksFetches, 2, 'exactly one refetch');
  assert.equal(t.audits('auth.login.success').length, 1);
  assert.equal(t.audits('auth.login.failure').length, 0);
});

test('concurrent logins after a rotation share one JWKS fetch (single-flight)', async () => {
  await op.rotate('key-3');
  const before = op.jwksFetches;
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) => login(t.app, op, { user: { sub: `rot-c-${i}` } })),
  );
  for (const r of results) assert.equal(r.callbackRes.headers.location, '/apps');
  assert.equal(op.jwksFetches - before, 1, 'eight logins, one fetch');
  // The next login under the same key needs no fetch at all.
  assert.equal((await login(t.app, op, { user: { sub: 'rot-c-after' } })).callbackRes.headers.location, '/apps');
  assert.equal(op.jwksFetches - before, 1);
});

test('the cooldown still holds for untrusted channels: a logout or bearer token under an unseen kid is refused without a fetch', async () => {
  const session = await login(t.app, op, { user: { sub: 'rot-bc', sid: 'rot-bc-sid' } });
  assert.equal(session.callbackRes.headers.location, '/apps');
  await op.rotate('key-4');
  const before = op.jwksFetches;
  const bc = await backchannel(await op.logoutToken({ sid: 'rot-bc-sid' }));
  assert.equal(bc.statusCode, 400, 'unknown kid within the cooldown: refused');
  assert.equal(t.audits('auth.backchannel.rejected').at(-1)?.['reason'], 'no_matching_key');
  await assert.rejects(
    t.app.sso.verifyBearer(await op.accessTokenJwt({})),
    (e: unknown) => e instanceof TokenError && e.reason === 'no_matching_key',
  );
  // Many of them still cause no fetch (no amplification towards the IdP).
  await Promise.all(
    Array.from({ length: 5 }, async () =>
      assert.equal((await backchannel(await op.logoutToken({ sid: 'rot-bc-sid' }))).statusCode, 400),
    ),
  );
  assert.equal(op.jwksFetches, before, 'no JWKS fetch for untrusted tokens within the cooldown');
  assert.ok(
    (await t.app.sso.checkSession({ cookies: Object.fromEntries(session.jar) } as never)).ok,
    'the session is still there',
  );

  // A login (trusted channel) brings the new key in; from then on the same logout token kind works.
  assert.equal((await login(t.app, op, { user: { sub: 'rot-bc-2' } })).callbackRes.headers.location, '/apps');
  assert.equal(op.jwksFetches, before + 1);
  assert.equal((await backchannel(await op.logoutToken({ sid: 'rot-bc-sid' }))).statusCode, 200);
  assert.deepEqual(await t.app.sso.checkSession({ cookies: Object.fromEntries(session.jar) } as never), {
    ok: false,
    reason: 'revoked',
  });
});

test('a token-endpoint ID token signed with a key the IdP does not publish is still refused (refetch, then no_matching_key)', async () => {
  op.scenario.idSign = 'unpublished-key';
  try {
    const before = op.jwksFetches;
    const r = await login(t.app, op, { user: { sub: 'rot-bad' } });
    assert.equal(r.callbackRes.headers.location, '/signin?message=invalid_id_token');
    assert.equal(op.jwksFetches, before + 1, 'one refetch, then refused');
  } finally {
    op.reset();
  }
});
