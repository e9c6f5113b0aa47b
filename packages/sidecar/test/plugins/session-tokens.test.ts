/**
 * IdP tokens at rest (issue 14 item 3): only the ID and refresh tokens are kept (the access token
 * is dropped), sealed compactly (JWT segments as their JSON text, deflated, JWE dir/A256GCM),
 * opened back to the exact strings, smaller than the earlier layout; the earlier layouts (JWE of
 * the plain JSON, compact records that kept the access token) still open, and what is sealed now
 * still opens in 0.1.0 (which requires an `accessToken` field) during a rolling upgrade.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { inflateRawSync, deflateRawSync } from 'node:zlib';
import { CompactEncrypt, compactDecrypt } from 'jose';
import { deriveKeys, encryptAtRest } from '../../src/lib/crypto.js';
import type { SessionRecord } from '../../src/store/types.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { SECRET, makeApp } from '../helpers/harness.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
/** A Keycloak-shaped RS256 JWT (claims as Keycloak puts them in ID and access tokens). */
function keycloakJwt(typ: string): string {
  const now = Math.floor(Date.now() / 1000);
  return `${b64({ alg: 'RS256', typ: 'JWT', kid: randomBytes(32).toString('base64url') })}.${b64({
    exp: now + 300,
    iat: now,
    auth_time: now,
    jti: randomUUID(),
    iss: 'https://sso.example.com/realms/dify-sso',
    aud: ['dify', 'account'],
    sub: randomUUID(),
    typ,
    azp: 'dify',
    sid: randomUUID(),
    acr: '1',
    'allowed-origins': ['https://dify.example.com'],
    realm_access: { roles: ['default-roles-dify-sso', 'offline_access', 'uma_authorization', 'dify-admins'] },
    resource_access: { account: { roles: ['manage-account', 'manage-account-links', 'view-profile'] } },
    scope: 'openid email profile',
    email_verified: true,
    name: 'Alice Example',
    preferred_username: 'alice',
    given_name: 'Alice',
    family_name: 'Example',
    email: 'alice@example.com',
    groups: ['dify-admins', 'dify-editors'],
  })}.${randomBytes(256).toString('base64url')}`;
}
const record = (tokens: string): SessionRecord => ({
  id: 'x',
  iss: 'i',
  sub: 's',
  claims: { groups: [], roles: [] },
  tokens,
  createdAt: 0,
  lastSeenAt: 0,
  lastRefreshAt: 0,
  absoluteExpiresAt: 0,
  ext: {},
});

const kept = (t: { idToken: string; refreshToken?: string }) => ({
  idToken: t.idToken,
  ...(t.refreshToken !== undefined ? { refreshToken: t.refreshToken } : {}),
});

test('sealed IdP tokens open to the exact ID and refresh tokens, JWT or opaque, without the access token, smaller than the plain-JSON JWE', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op);
  t.after(() => a.app.close());
  const sessions = a.app.sso.sessions;
  const cases = [
    {
      idToken: keycloakJwt('ID'),
      accessToken: keycloakJwt('Bearer'),
      refreshToken: keycloakJwt('Refresh'),
      expiresAt: Date.now() + 300_000,
    },
    { idToken: keycloakJwt('ID'), accessToken: 'opaque-access-token.with.dots.but-not-a-jwt' },
    // Not canonical base64url (a trailing bit set): kept as the string it is.
    { idToken: 'eyJhbGciOiJub25lIn1.eyJzdWIiOiJ4In1=.', accessToken: 'e30.e31.sig', refreshToken: '' },
  ];
  const keys = deriveKeys([SECRET], 'token-at-rest');
  for (const tokens of cases) {
    const sealed = await sessions.sealTokens(tokens);
    assert.deepEqual(await sessions.openTokens(record(sealed)), kept(tokens));
    assert.doesNotMatch(sealed, /alice|Alice|dify-admins/, 'nothing readable at rest');
    const { plaintext } = await compactDecrypt(sealed, keys[0]!.key);
    const packed = JSON.parse(inflateRawSync(plaintext).toString('utf8')) as Record<string, unknown>;
    // 0.1.0 opens every field it knows: an empty access token keeps its sessions alive mid-upgrade.
    assert.equal(packed.accessToken, '', 'no access token kept');
    assert.doesNotMatch(JSON.stringify(packed), new RegExp(tokens.accessToken.split('.').at(-1) as string));
    const earlier = await encryptAtRest(JSON.stringify(tokens), keys);
    if (tokens.refreshToken)
      assert.ok(sealed.length < earlier.length * 0.75, `compact: ${sealed.length} vs ${earlier.length} characters`);
  }
});

test('the earlier layout (JWE of the plain JSON) still opens; a tampered or foreign value does not', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  const a = await makeApp(op);
  t.after(() => a.app.close());
  const sessions = a.app.sso.sessions;
  const tokens = { idToken: keycloakJwt('ID'), accessToken: keycloakJwt('Bearer'), refreshToken: 'opaque-refresh' };
  const key = deriveKeys([SECRET], 'token-at-rest')[0]!;
  const earlier = await encryptAtRest(JSON.stringify(tokens), [key]);
  assert.deepEqual(await sessions.openTokens(record(earlier)), kept(tokens));
  // The compact layout as 0.1.0 wrote it, with the access token packed like the others.
  const segments = (jwt: string) => {
    const [h, p, sig] = jwt.split('.') as [string, string, string];
    return [Buffer.from(h, 'base64url').toString(), Buffer.from(p, 'base64url').toString(), sig];
  };
  const withAccess = await new CompactEncrypt(
    deflateRawSync(
      JSON.stringify({
        idToken: segments(tokens.idToken),
        accessToken: segments(tokens.accessToken),
        refreshToken: tokens.refreshToken,
      }),
    ),
  )
    .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid, cty: 'dify-sso-tokens+deflate' })
    .encrypt(key.key);
  assert.deepEqual(await sessions.openTokens(record(withAccess)), kept(tokens));

  const sealed = await sessions.sealTokens(tokens);
  const parts = sealed.split('.');
  parts[3] = Buffer.from(Buffer.from(parts[3] as string, 'base64url').map((b, i) => (i === 0 ? b ^ 1 : b))).toString(
    'base64url',
  );
  assert.equal(await sessions.openTokens(record(parts.join('.'))), undefined, 'tampered ciphertext');
  const foreign = await encryptAtRest(
    JSON.stringify(tokens),
    deriveKeys(['another-secret-0123456789-abcdefghijklmnopq'], 'token-at-rest'),
  );
  assert.equal(await sessions.openTokens(record(foreign)), undefined, 'sealed with another secret');
  // The compact layout is a standard JWE: its protected header names the content type.
  const { protectedHeader } = await compactDecrypt(sealed, deriveKeys([SECRET], 'token-at-rest')[0]!.key);
  assert.equal(protectedHeader.cty, 'dify-sso-tokens+deflate');
});
