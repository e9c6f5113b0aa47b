/**
 * Issue 13: /sso/auth reads ingress-nginx's external-auth headers (`X-Original-URL` and friends)
 * as well as our nginx's `X-Original-URI`, with the same raw-path refusals and fail-closed
 * refusals for every ambiguity (table-driven for the reader, fastify inject for the route).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { readOriginalRequest } from '../../src/gate/original-request.js';
import { login, cookieHeader, PUBLIC_URL, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { SEED_IDS, USERS, setCookieValue, startBridge, startStandin, type Standin } from '../dify/helpers.js';

const PUB = 'https://dify.example.com';

test('readOriginalRequest: accepted header sets', () => {
  const cases: Array<[Record<string, string>, string, { rawUri: string; method: string | undefined; via: string }]> = [
    [
      { 'x-original-uri': '/console/api/apps?page=1', 'x-original-method': 'GET' },
      PUB,
      { rawUri: '/console/api/apps?page=1', method: 'GET', via: 'nginx' },
    ],
    [
      { 'x-original-url': 'https://dify.example.com/console/api/apps?page=1', 'x-original-method': 'GET' },
      PUB,
      { rawUri: '/console/api/apps?page=1', method: 'GET', via: 'ingress-nginx' },
    ],
    // TLS terminated before the controller: it sees http; the scheme is not compared.
    [
      { 'x-original-url': 'http://DIFY.example.com/console/api/apps', 'x-original-method': 'POST' },
      PUB,
      { rawUri: '/console/api/apps', method: 'POST', via: 'ingress-nginx' },
    ],
    [
      {
        'x-original-url': 'https://dify.example.com:443/x',
        'x-original-method': 'GET',
        'x-auth-request-redirect': '/x',
      },
      PUB,
      { rawUri: '/x', method: 'GET', via: 'ingress-nginx' },
    ],
    // Both header sets, agreeing (ingress-nginx with the auth-method annotation sets both).
    [
      { 'x-original-url': 'https://dify.example.com/a?b', 'x-original-uri': '/a?b', 'x-original-method': 'GET' },
      PUB,
      { rawUri: '/a?b', method: 'GET', via: 'ingress-nginx' },
    ],
    [
      { 'x-original-url': 'http://127.0.0.1:8443/a', 'x-original-method': 'GET' },
      'http://127.0.0.1:8443',
      { rawUri: '/a', method: 'GET', via: 'ingress-nginx' },
    ],
    [
      { 'x-original-url': 'http://[::1]:8443/a', 'x-original-method': 'GET' },
      'http://[::1]:8443',
      { rawUri: '/a', method: 'GET', via: 'ingress-nginx' },
    ],
    // The raw target is taken as it is (decide() refuses it): never resolved by a URL parser.
    [
      { 'x-original-url': 'https://dify.example.com/console/api/../login', 'x-original-method': 'POST' },
      PUB,
      { rawUri: '/console/api/../login', method: 'POST', via: 'ingress-nginx' },
    ],
    [
      { 'x-original-url': 'https://dify.example.com', 'x-original-method': 'GET' },
      PUB,
      { rawUri: '', method: 'GET', via: 'ingress-nginx' },
    ],
  ];
  for (const [headers, pub, want] of cases) {
    assert.deepEqual(readOriginalRequest(headers, pub), { ok: true, ...want }, JSON.stringify(headers));
  }
});

test('readOriginalRequest: every refusal has its code', () => {
  const cases: Array<[Record<string, string>, string[] | undefined, string, string]> = [
    [{}, undefined, 'invalid_path', 'X-Original-URI missing'],
    [{ 'x-original-uri': '' }, undefined, 'invalid_path', 'X-Original-URI missing'],
    [
      { 'x-original-url': '/console/api/apps', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL is not an absolute http(s) URL',
    ],
    [
      { 'x-original-url': 'ftp://dify.example.com/x', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL is not an absolute http(s) URL',
    ],
    [
      { 'x-original-url': 'https://user@dify.example.com/x', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL has no valid host',
    ],
    [
      { 'x-original-url': 'https://dify.example.com\\@evil.example/x', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL has no valid host',
    ],
    [
      { 'x-original-url': 'https://dify.example.com:/x', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL has no valid host',
    ],
    [
      { 'x-original-url': 'https:///x', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL has no valid host',
    ],
    [
      { 'x-original-url': 'https://dify.example.com/x y', 'x-original-method': 'GET' },
      undefined,
      'original_url_invalid',
      'X-Original-URL repeated or holding whitespace',
    ],
    [
      { 'x-original-url': 'https://dify.example.com/x' },
      ['X-Original-URL', 'a', 'x-original-url', 'b'],
      'original_url_invalid',
      'X-Original-URL repeated or holding whitespace',
    ],
    [
      { 'x-original-url': 'https://dify.example.com/x' },
      undefined,
      'original_url_invalid',
      'X-Original-URL without X-Original-Method',
    ],
    [
      { 'x-original-url': 'https://evil.example/console/api/apps', 'x-original-method': 'GET' },
      undefined,
      'original_host_mismatch',
      'X-Original-URL host differs from publicUrl',
    ],
    [
      { 'x-original-url': 'https://dify.example.com.evil.example/x', 'x-original-method': 'GET' },
      undefined,
      'original_host_mismatch',
      'X-Original-URL host differs from publicUrl',
    ],
    [
      { 'x-original-url': 'https://dify.example.com:8443/x', 'x-original-method': 'GET' },
      undefined,
      'original_host_mismatch',
      'X-Original-URL port differs from publicUrl',
    ],
    [
      {
        'x-original-url': 'https://dify.example.com/console/api/apps',
        'x-original-uri': '/console/api/setup',
        'x-original-method': 'GET',
      },
      undefined,
      'original_request_ambiguous',
      'X-Original-URI and X-Original-URL name different targets',
    ],
    [
      {
        'x-original-url': 'https://dify.example.com/console/api/apps',
        'x-original-method': 'GET',
        'x-auth-request-redirect': '/apps',
      },
      undefined,
      'original_request_ambiguous',
      'X-Auth-Request-Redirect differs from the X-Original-URL target',
    ],
  ];
  for (const [headers, raw, code, detail] of cases) {
    assert.deepEqual(readOriginalRequest(headers, PUB, raw), { ok: false, code, detail }, JSON.stringify(headers));
  }
});

let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  b = await startBridge(
    standin,
    {
      DIFY_SSO_GATE_AUTH_REQUEST_SECRET: 'gate-secret-0123456789abcdefghijklmnop',
      DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
      DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
      DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/apps*',
    },
    { op },
  );
});
after(async () => {
  await b.close();
  await standin.close();
  await op.close();
});

function kit(jar: Jar): string {
  return cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));
}

/** The subrequest ingress-nginx's external-auth location sends (its nginx.tmpl), for `method uri`. */
function ingressHeaders(method: string, uri: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    host: 'dify-sso.dify.svc.cluster.local',
    'x-original-url': `${PUBLIC_URL}${uri}`,
    'x-original-method': method,
    'x-sent-from': 'nginx-ingress-controller',
    'x-real-ip': '192.0.2.7',
    'x-forwarded-for': '192.0.2.7',
    'x-auth-request-redirect': uri,
    'x-sso-gate-secret': 'gate-secret-0123456789abcdefghijklmnop',
    ...extra,
  };
}

function auth(app: FastifyInstance, headers: Record<string, string>) {
  return app.inject({ method: 'GET', url: '/sso/auth', remoteAddress: '127.0.0.1', headers });
}

async function alice(): Promise<{ cookie: string }> {
  const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
  const access = setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string;
  return { cookie: `${kit(jar)}; access_token=${access}` };
}

test('/sso/auth (ingress-nginx headers): a signed-in console request passes; without the session it is 401', async () => {
  const a = await alice();
  const ok = await auth(b.app, ingressHeaders('GET', '/console/api/account/profile', { cookie: a.cookie }));
  assert.equal(ok.statusCode, 204);
  const no = await auth(b.app, ingressHeaders('GET', '/console/api/account/profile'));
  assert.equal(no.statusCode, 401);
  assert.deepEqual(no.json(), { code: 'unauthorized' });
});

test('/sso/auth (ingress-nginx headers): local login is closed exactly as behind our nginx', async () => {
  const res = await auth(b.app, ingressHeaders('POST', '/console/api/login'));
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-code'], 'sso_required');
});

test('/sso/auth (ingress-nginx headers): the raw-path refusals apply to the path inside X-Original-URL', async () => {
  const a = await alice();
  for (const uri of [
    '/console/api/%2e%2e/login',
    '/console/api/apps/..;/login',
    '/console/api/apps%2fx',
    '/console/api/./login',
    '/console//api%00x',
    '',
  ]) {
    const res = await auth(b.app, ingressHeaders('GET', uri, { cookie: a.cookie }));
    assert.equal(res.statusCode, 403, uri);
    assert.equal(res.headers['x-sso-code'], 'invalid_path', uri);
    assert.equal(res.headers['x-sso-status'], '400', uri);
  }
});

test('/sso/auth (ingress-nginx headers): ambiguity and foreign hosts are refused even with a valid session', async () => {
  const a = await alice();
  const cases: Array<[Record<string, string>, string]> = [
    [
      ingressHeaders('GET', '/console/api/account/profile', {
        cookie: a.cookie,
        'x-original-url': 'https://evil.example/console/api/account/profile',
      }),
      'original_host_mismatch',
    ],
    [
      ingressHeaders('GET', '/console/api/account/profile', {
        cookie: a.cookie,
        'x-original-uri': '/console/api/apps',
      }),
      'original_request_ambiguous',
    ],
    [
      ingressHeaders('GET', '/console/api/account/profile', {
        cookie: a.cookie,
        'x-auth-request-redirect': '/console/api/apps',
      }),
      'original_request_ambiguous',
    ],
    [
      ingressHeaders('GET', '/console/api/account/profile', {
        cookie: a.cookie,
        'x-original-url': 'javascript://dify.example.com/x',
      }),
      'original_url_invalid',
    ],
  ];
  for (const [headers, code] of cases) {
    const res = await auth(b.app, headers);
    assert.equal(res.statusCode, 403, code);
    assert.equal(res.headers['x-sso-code'], code);
    assert.equal(res.headers['x-sso-status'], '400');
  }
  const noMethod = ingressHeaders('GET', '/console/api/account/profile', { cookie: a.cookie });
  delete noMethod['x-original-method'];
  assert.equal((await auth(b.app, noMethod)).headers['x-sso-code'], 'original_url_invalid');
});

test('/sso/auth: X-Auth-Request-Redirect is still refused behind our nginx (no X-Original-URL)', async () => {
  const a = await alice();
  const res = await auth(b.app, {
    'x-original-uri': '/console/api/account/profile',
    'x-original-method': 'GET',
    'x-auth-request-redirect': '/console/api/account/profile',
    cookie: a.cookie,
  });
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-code'], 'identity_header');
  const other = await auth(
    b.app,
    ingressHeaders('GET', '/console/api/account/profile', { cookie: a.cookie, 'x-auth-request-user': 'admin' }),
  );
  assert.equal(other.headers['x-sso-code'], 'identity_header');
});

test('/sso/auth (ingress-nginx headers): machine credentials are never handed to ingress-nginx', async () => {
  const token = await op.accessTokenJwt({});
  // Behind our nginx (X-Original-URI + gate secret) the same bearer receives the credentials…
  const nginx = await auth(b.app, {
    'x-original-uri': '/console/api/apps',
    'x-original-method': 'GET',
    'x-sso-gate-secret': 'gate-secret-0123456789abcdefghijklmnop',
    authorization: `Bearer ${token}`,
  });
  assert.equal(nginx.statusCode, 204);
  assert.equal(nginx.headers['x-sso-upstream-workspace-id'], SEED_IDS.workspaceId);
  // …through ingress-nginx (it cannot put them on Authorization) it is refused.
  const ingress = await auth(b.app, ingressHeaders('GET', '/console/api/apps', { authorization: `Bearer ${token}` }));
  assert.equal(ingress.statusCode, 403);
  assert.equal(ingress.headers['x-sso-code'], 'machine_route_denied');
  assert.equal(ingress.headers['x-sso-upstream-authorization'], undefined);
});

test('/sso/auth (ingress-nginx headers): an untrusted peer is refused before any header is read', async () => {
  const a = await alice();
  const res = await b.app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '10.1.2.3',
    headers: ingressHeaders('GET', '/console/api/account/profile', { cookie: a.cookie }),
  });
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-code'], 'untrusted_proxy');
});
