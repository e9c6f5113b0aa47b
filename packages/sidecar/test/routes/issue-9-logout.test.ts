/**
 * Issue 9, finding 6: logout changes state only on POST from the public origin. A cross-site
 * GET (link, image, top-level navigation with SameSite=Lax cookies) or a POST with a foreign
 * Origin leaves the session alive; GET /sso/logout only shows a confirmation form.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { cookieHeader, login, PUBLIC_URL } from '../helpers/harness.js';
import { SEED_IDS, USERS, setCookieValue, startBridge, startStandin, type Standin } from '../dify/helpers.js';

let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  b = await startBridge(standin, {}, { op });
});
after(async () => {
  await b?.close();
  await standin?.close();
  await op?.close();
});

async function signedIn() {
  const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
  const sc = callbackRes.headers['set-cookie'];
  const kit = cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));
  const access = setCookieValue(sc, 'access_token') as string;
  const refresh = setCookieValue(sc, 'refresh_token') as string;
  const csrf = setCookieValue(sc, 'csrf_token') as string;
  return { kit, all: `${kit}; access_token=${access}; refresh_token=${refresh}; csrf_token=${csrf}`, csrf, refresh };
}

/** Whether the kit session still passes the gate, and Dify's seeded refresh token is still there. */
async function alive(s: Awaited<ReturnType<typeof signedIn>>): Promise<boolean> {
  const gate = await b.app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '127.0.0.1',
    headers: { 'x-original-uri': '/apps', 'x-original-method': 'GET', cookie: s.kit },
  });
  const seeded = await standin.redis.get(`${standin.prefix}:refresh_token:${s.refresh}`);
  return gate.statusCode === 204 && seeded === SEED_IDS.aliceId;
}

const crossSite: [label: string, headers: Record<string, string>][] = [
  ['foreign Origin', { origin: 'https://evil.example' }],
  ['Origin of another port', { origin: 'https://dify.example.com:8443' }],
  ['Origin null (sandboxed frame, redirect)', { origin: 'null' }],
  ['no Origin, Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
  ['no Origin, Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
  ['no Origin, no Sec-Fetch-Site', {}],
];

test('GET /sso/logout (a cross-site link) changes nothing: confirmation form, no-store, CSP', async () => {
  const s = await signedIn();
  const res = await b.app.inject({
    method: 'GET',
    url: '/sso/logout?redirect=%2Fapps',
    headers: { cookie: s.all, 'sec-fetch-site': 'cross-site' },
  });
  assert.equal(res.statusCode, 200);
  assert.equal(res.headers['cache-control'], 'no-store');
  assert.match(String(res.headers['content-security-policy']), /default-src 'none'; frame-ancestors 'none'/);
  assert.match(String(res.headers['content-type']), /^text\/html/);
  assert.match(
    res.body,
    /<meta name="referrer" content="same-origin">/,
    'the form POST carries the real Origin (no-referrer would send Origin: null)',
  );
  assert.match(
    res.body,
    /<form method="post" action="\/sso\/logout"><input type="hidden" name="redirect" value="\/apps"><button type="submit">Log out<\/button><\/form>/,
  );
  assert.equal(res.headers['set-cookie'], undefined, 'no cookie cleared');
  assert.ok(await alive(s));
  // A hostile redirect value is not echoed into the page.
  const evil = await b.app.inject({
    method: 'GET',
    url: '/sso/logout?redirect=%22%3E%3Cscript%3E',
    headers: { cookie: s.all },
  });
  assert.doesNotMatch(evil.body, /<script|name="redirect"/);
});

for (const [label, headers] of crossSite) {
  test(`POST /sso/logout, ${label}: 403 cross_site_request, session alive`, async () => {
    const s = await signedIn();
    const res = await b.app.inject({
      method: 'POST',
      url: '/sso/logout',
      headers: { cookie: s.all, 'content-type': 'application/x-www-form-urlencoded', ...headers },
      payload: '',
    });
    assert.equal(res.statusCode, 403);
    assert.deepEqual(res.json(), {
      code: 'cross_site_request',
      message: 'Logout is only accepted from this site.',
      status: 403,
    });
    assert.equal(res.headers['set-cookie'], undefined);
    assert.ok(await alive(s));
  });
  test(`POST /console/api/logout, ${label}: 403 cross_site_request, Dify and kit sessions alive`, async () => {
    const s = await signedIn();
    const res = await b.app.inject({
      method: 'POST',
      url: '/console/api/logout',
      headers: { cookie: s.all, 'x-csrf-token': s.csrf, accept: 'application/json', ...headers },
    });
    assert.equal(res.statusCode, 403);
    assert.equal(res.json().code, 'cross_site_request');
    assert.ok(await alive(s));
  });
}

for (const [label, headers] of [
  ['Origin = public origin', { origin: new URL(PUBLIC_URL).origin }],
  ['no Origin, Sec-Fetch-Site same-origin', { 'sec-fetch-site': 'same-origin' }],
] as const) {
  test(`POST /sso/logout, ${label}: logged out (303, session and Dify refresh token gone)`, async () => {
    const s = await signedIn();
    const res = await b.app.inject({ method: 'POST', url: '/sso/logout', headers: { cookie: s.all, ...headers } });
    assert.equal(res.statusCode, 303);
    assert.equal(res.headers['cache-control'], 'no-store');
    assert.equal(await alive(s), false);
  });
}
