/**
 * Bearer verification: acceptance, every rejection, cache until expiry, JWKS rotation.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { HostileOp } from '../helpers/hostile-op.js';
import { makeApp, type TestApp } from '../helpers/harness.js';
import { TokenError } from '../../src/errors.js';
import { tokenScopes } from '../../src/services/token-verify.js';

let op: HostileOp;
let t: TestApp;
let clock = Date.now();
before(async () => {
  op = await HostileOp.start();
  t = await makeApp(
    op,
    { DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api', DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console' },
    { now: () => clock },
  );
});
after(async () => {
  await t.app.close();
  await op.close();
});

async function rejects(token: string, code: string) {
  await assert.rejects(t.app.sso.verifyBearer(token), (err: unknown) => {
    assert.ok(err instanceof TokenError);
    assert.equal(err.code, code);
    return true;
  });
}

test('valid token (typ JWT, scope string) accepted; claims and scopes returned', async () => {
  const claims = await t.app.sso.verifyBearer(await op.accessTokenJwt({}));
  assert.equal(claims.sub, 'machine-1');
  assert.deepEqual(claims.scopes, ['dify:console']);
});

test('scp array accepted', async () => {
  const claims = await t.app.sso.verifyBearer(
    await op.accessTokenJwt({ scope: undefined, scp: ['dify:console', 'x'] }),
  );
  assert.deepEqual(claims.scopes, ['dify:console', 'x']);
});

test('aud array containing the audience accepted', async () => {
  await t.app.sso.verifyBearer(await op.accessTokenJwt({ aud: ['account', 'dify-console-api'] }));
});

const now = () => Math.floor(clock / 1000);
const rejections: [string, () => Promise<string>, string][] = [
  ['wrong audience', () => op.accessTokenJwt({ aud: 'account' }), 'ERR_TOKEN_AUDIENCE'],
  ['no audience', () => op.accessTokenJwt({ aud: undefined }), 'ERR_TOKEN_AUDIENCE'],
  ['missing scope', () => op.accessTokenJwt({ scope: 'profile email' }), 'ERR_TOKEN_SCOPE'],
  ['wrong issuer', () => op.accessTokenJwt({ iss: 'https://evil.example.com' }), 'ERR_TOKEN_ISSUER'],
  ['issuer with trailing slash (not exact)', () => op.accessTokenJwt({ iss: `${op.issuer}/` }), 'ERR_TOKEN_ISSUER'],
  ['expired beyond skew', () => op.accessTokenJwt({ iat: now() - 600, exp: now() - 31 }), 'ERR_TOKEN_EXPIRED'],
  ['nbf in the future beyond skew', () => op.accessTokenJwt({ nbf: now() + 120 }), 'ERR_TOKEN_EXPIRED'],
  ['no exp', () => op.accessTokenJwt({ exp: undefined }), 'ERR_TOKEN_INVALID'],
  ['alg none', () => op.accessTokenJwt({}, {}, 'none'), 'ERR_TOKEN_ALG_NOT_ALLOWED'],
  ['bad signature', () => op.accessTokenJwt({}, {}, 'bad-signature'), 'ERR_TOKEN_INVALID'],
  ['unknown key', () => op.accessTokenJwt({}, {}, 'unpublished-key'), 'ERR_TOKEN_INVALID'],
  ['jku header', () => op.accessTokenJwt({}, { jku: 'https://evil.example.com/jwks' }), 'ERR_TOKEN_HEADER_FORBIDDEN'],
  ['x5u header', () => op.accessTokenJwt({}, { x5u: 'https://evil.example.com/cert' }), 'ERR_TOKEN_HEADER_FORBIDDEN'],
  ['embedded jwk header', () => op.accessTokenJwt({}, { jwk: op.key.publicJwk }), 'ERR_TOKEN_HEADER_FORBIDDEN'],
  [
    'HS256 signed with the public key',
    () =>
      new SignJWT({ iss: op.issuer, aud: 'dify-console-api', exp: now() + 60, scope: 'dify:console' })
        .setProtectedHeader({ alg: 'HS256', kid: op.key.kid })
        .sign(createSecretKey(Buffer.from(JSON.stringify(op.key.publicJwk)))),
    'ERR_TOKEN_ALG_NOT_ALLOWED',
  ],
  ['garbage', async () => 'abc.def', 'ERR_TOKEN_INVALID'],
  ['empty', async () => '', 'ERR_TOKEN_INVALID'],
];
for (const [name, make, code] of rejections) {
  test(`rejects: ${name} → ${code}`, async () => {
    await rejects(await make(), code);
  });
}

test('rejections are audited (auth.token.rejected) without the token', async () => {
  const tok = await op.accessTokenJwt({ aud: 'account' });
  await rejects(tok, 'ERR_TOKEN_AUDIENCE');
  const a = t.audits('auth.token.rejected').at(-1);
  assert.equal(a?.reason, 'audience');
  assert.equal(t.logs.join('').includes(tok), false);
});

test('verified tokens are cached until exp (no JWKS fetch, no re-verification), then rejected', async () => {
  const tok = await op.accessTokenJwt({ exp: now() + 120 });
  const oidc = t.app.sso.oidc;
  const original = oidc.verifyJwt.bind(oidc);
  let verifications = 0;
  oidc.verifyJwt = async (...args) => {
    verifications++;
    return original(...args);
  };
  try {
    await t.app.sso.verifyBearer(tok);
    await t.app.sso.verifyBearer(tok);
    await t.app.sso.verifyBearer(tok);
    assert.equal(verifications, 1);
    clock += 200_000;
    await rejects(tok, 'ERR_TOKEN_EXPIRED');
    assert.equal(verifications, 2);
  } finally {
    clock -= 200_000;
    oidc.verifyJwt = original;
  }
});

test('key rotation: a token with a new kid is accepted after the JWKS re-fetch', async () => {
  await op.rotate('bearer-rotated');
  try {
    const claims = await t.app.sso.verifyBearer(await op.accessTokenJwt({}));
    assert.equal(claims.sub, 'machine-1');
  } finally {
    op.active = 0;
  }
});

test('bearer disabled when no audience is configured', async () => {
  const a = await makeApp(op);
  try {
    await assert.rejects(
      a.app.sso.verifyBearer(await op.accessTokenJwt({})),
      (e: unknown) => (e as TokenError).code === 'ERR_TOKEN_NOT_CONFIGURED',
    );
  } finally {
    await a.app.close();
  }
});

test('requiredTyp at+jwt: Keycloak-style typ JWT rejected when configured', async () => {
  const a = await makeApp(op, { DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api', DIFY_SSO_BEARER_REQUIRED_TYP: 'at+jwt' });
  try {
    await assert.rejects(
      a.app.sso.verifyBearer(await op.accessTokenJwt({})),
      (e: unknown) => (e as TokenError).code === 'ERR_TOKEN_INVALID',
    );
    await a.app.sso.verifyBearer(await op.accessTokenJwt({}, { typ: 'at+jwt' }));
  } finally {
    await a.app.close();
  }
});

test('tokenScopes', () => {
  assert.deepEqual(tokenScopes({ scope: 'a b  c' }), ['a', 'b', 'c']);
  assert.deepEqual(tokenScopes({ scp: 'a b' }), ['a', 'b']);
  assert.deepEqual(tokenScopes({ scp: ['a', 1, 'b'] }), ['a', 'b']);
  assert.deepEqual(tokenScopes({}), []);
});
