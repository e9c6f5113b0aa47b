/**
 * Token endpoint authentication with private_key_jwt (PKCS#8 PEM and JWK forms).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp } from '../helpers/harness.js';

test('private_key_jwt: PEM and JWK keys authenticate; a wrong key is refused', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  op.clientPublicKey = publicKey;
  const pem = await exportPKCS8(privateKey);
  const jwk = JSON.stringify(await exportJWK(privateKey));
  for (const material of [pem, jwk]) {
    const a = await makeApp(op, {
      DIFY_SSO_OIDC_CLIENT_SECRET: undefined,
      DIFY_SSO_OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
      DIFY_SSO_OIDC_PRIVATE_KEY: material,
      DIFY_SSO_OIDC_PRIVATE_KEY_ALG: 'ES256',
      DIFY_SSO_OIDC_PRIVATE_KEY_KID: 'client-key-1',
    });
    try {
      const r = await login(a.app, op, { redirect: '/apps' });
      assert.equal(r.callbackRes.headers.location, '/apps');
      const tokenReq = op.requests.filter((x) => x.path === '/token').at(-1)!;
      assert.equal(tokenReq.auth, undefined, 'no Basic auth header');
      const form = new URLSearchParams(tokenReq.body);
      assert.equal(form.get('client_assertion_type'), 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      assert.equal(form.get('client_secret'), null);
    } finally {
      await a.app.close();
    }
  }
  const other = await generateKeyPair('ES256', { extractable: true });
  const wrong = await makeApp(op, {
    DIFY_SSO_OIDC_CLIENT_SECRET: undefined,
    DIFY_SSO_OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt',
    DIFY_SSO_OIDC_PRIVATE_KEY: await exportPKCS8(other.privateKey),
    DIFY_SSO_OIDC_PRIVATE_KEY_ALG: 'ES256',
  });
  try {
    const r = await login(wrong.app, op, { redirect: '/apps' });
    assert.equal(r.callbackRes.headers.location, '/signin?message=token_exchange_failed');
  } finally {
    await wrong.app.close();
  }
});
