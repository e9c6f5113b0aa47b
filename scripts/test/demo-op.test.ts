// The embedded demo OP (used by `npm run demo` when Keycloak is not provisioned) logs in the
// realm's users with their passwords, refuses wrong passwords and disabled users, and issues
// ID tokens that carry the groups the sidecar maps to Dify roles.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import * as oidc from 'openid-client';
import { startDemoOp, realmUsers, type DemoOp } from '../lib/demo-op.js';

const publicUrl = 'http://127.0.0.1:18000';
let op: DemoOp;
let config: oidc.Configuration;

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

before(async () => {
  op = await startDemoOp({ port: await freePort(), publicUrl });
  config = await oidc.discovery(
    new URL(op.issuer),
    'dify-console',
    'dify-console-secret',
    oidc.ClientSecretBasic('dify-console-secret'),
    {
      execute: [oidc.allowInsecureRequests],
    },
  );
});
after(() => op.close());

/** A browser-like cookie jar over fetch, following redirects only on the OP's own origin. */
function browser() {
  const jar = new Map<string, string>();
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  };
}

/** Drives the login form; returns the redirect back to the RP (or the form page on failure). */
async function login(
  username: string,
  password: string,
): Promise<{ callback?: URL; page: string; verifier: string; state: string; nonce: string }> {
  const go = browser();
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const auth = oidc.buildAuthorizationUrl(config, {
    redirect_uri: `${publicUrl}/sso/callback`,
    scope: 'openid email profile groups',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
  let res = await go(auth.href);
  let location = new URL(res.headers.get('location')!, op.issuer);
  res = await go(location.href);
  const form = await res.text();
  const action = /action="([^"]+)"/.exec(form)![1]!;
  res = await go(new URL(action, op.issuer).href, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ username, password }),
  });
  if (res.status === 200) return { page: await res.text(), verifier, state, nonce };
  for (let i = 0; i < 5; i++) {
    location = new URL(res.headers.get('location')!, op.issuer);
    if (location.href.startsWith(publicUrl)) return { callback: location, page: '', verifier, state, nonce };
    res = await go(location.href);
  }
  throw new Error('login did not come back to the relying party');
}

test('the demo users are the realm file users', () => {
  const names = realmUsers().map((u) => u.username);
  assert.deepEqual(names, ['alice', 'bob', 'carol', 'dave', 'eve']);
});

test('alice logs in with her password and gets an ID token with her groups', async () => {
  const r = await login('alice', 'alice-password');
  assert.ok(r.callback, 'redirected back to the RP');
  const tokens = await oidc.authorizationCodeGrant(config, r.callback, {
    pkceCodeVerifier: r.verifier,
    expectedState: r.state,
    expectedNonce: r.nonce,
  });
  const claims = tokens.claims()!;
  assert.equal(claims.sub, 'alice');
  assert.equal(claims.email, 'alice@example.com');
  assert.deepEqual(claims.groups, ['dify-admins']);
});

test('a wrong password is refused', async () => {
  const r = await login('alice', 'bob-password');
  assert.equal(r.callback, undefined);
  assert.match(r.page, /Invalid username or password\./);
});

test('a disabled user (eve) cannot log in, even with her password', async () => {
  const r = await login('eve', 'eve-password');
  assert.equal(r.callback, undefined);
  assert.match(r.page, /Invalid username or password\./);
});

test('dave gets email_verified=false', async () => {
  const r = await login('dave', 'dave-password');
  const tokens = await oidc.authorizationCodeGrant(config, r.callback!, {
    pkceCodeVerifier: r.verifier,
    expectedState: r.state,
    expectedNonce: r.nonce,
  });
  assert.equal(tokens.claims()!.email_verified, false);
});

test('PKCE is required: an authorization request without a code challenge is refused', async () => {
  const go = browser();
  const url = new URL(config.serverMetadata().authorization_endpoint!);
  url.search = new URLSearchParams({
    client_id: 'dify-console',
    response_type: 'code',
    scope: 'openid',
    redirect_uri: `${publicUrl}/sso/callback`,
    state: 's',
  }).toString();
  const res = await go(url.href);
  const location = new URL(res.headers.get('location')!, op.issuer);
  assert.equal(location.origin + location.pathname, `${publicUrl}/sso/callback`);
  assert.equal(location.searchParams.get('error'), 'invalid_request');
  assert.equal(location.searchParams.get('code'), null);
});
