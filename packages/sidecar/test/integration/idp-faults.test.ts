/**
 * IdP faults (issue 13, item 2) while sign-ins, gate checks and back-channel logouts run, with the
 * Dify bridge, the Dify stand-in and the Redis store (DIFY_SSO_TEST_REDIS_URL): the IdP down
 * (503 on every endpoint) and the IdP slow (accepts connections, never answers). Existing sessions
 * keep passing the gate until liveness says otherwise; new sign-ins and callbacks in flight land on
 * `idp_unavailable`; every wait is bounded by `oidc.httpTimeoutSeconds` (1 s here: the test would
 * hang otherwise, nothing measures time). See the fault matrix in the README.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { absorb, cookieHeader, login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { USERS, bridgeEnv, redisUrl, setCookieValue, startStandin, type Standin } from '../dify/helpers.js';

let op: HostileOp;
let standin: Standin;
let mode: 'up' | 'down' | 'slow' = 'up';
const held = new Set<ServerResponse>();

before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  // The IdP "slow": requests are accepted and never answered (the OP's own handler is bypassed).
  const handler = op.server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  op.server.removeAllListeners('request');
  op.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (mode === 'slow') {
      held.add(res);
      return;
    }
    op.scenario.down = mode === 'down';
    handler.call(op.server, req, res);
  });
});
after(async () => {
  for (const r of held) r.destroy();
  await standin?.close();
  await op?.close();
});

function setMode(m: typeof mode): void {
  mode = m;
  op.scenario.down = m === 'down';
  if (m !== 'slow') {
    for (const r of held) r.destroy();
    held.clear();
  }
}

interface Stack {
  app: FastifyInstance;
  logs: string[];
  audits(event?: string): Record<string, unknown>[];
  /** Moves the sidecar's clock forward (the IdP reachability probe caches its answer for 5 s). */
  advance(ms: number): void;
}

async function stack(t: { after(fn: () => Promise<void>): void }, env: Record<string, string> = {}): Promise<Stack> {
  let offset = 0;
  const logs: string[] = [];
  const config = loadConfig(
    bridgeEnv(op, standin, {
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: redisUrl(),
      DIFY_SSO_REDIS_KEY_PREFIX: `idpf-${randomBytes(4).toString('hex')}:`,
      DIFY_SSO_OIDC_HTTP_TIMEOUT_SECONDS: '1',
      ...env,
    }),
  );
  const app = buildApp(config, {
    logStream: { write: (s: string) => void logs.push(s) },
    now: () => Date.now() + offset,
  });
  await app.ready();
  t.after(() => app.close());
  const entries = () => logs.map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    app,
    logs,
    audits: (e) => entries().filter((x) => x['audit'] === true && (e === undefined || x['event'] === e)),
    advance: (ms) => void (offset += ms),
  };
}

interface Person {
  jar: Jar;
  access: string;
}

async function signIn(s: Stack, user: { sub: string; claims: Record<string, unknown> }, sid: string): Promise<Person> {
  const { callbackRes, jar } = await login(s.app, op, { user: { ...user, sid } });
  assert.equal(callbackRes.headers.location, '/apps');
  return { jar, access: setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string };
}

const kit = (jar: Jar) => cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));

function gate(s: Stack, p: Person) {
  return s.app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '127.0.0.1',
    headers: {
      'x-original-uri': '/console/api/apps',
      'x-original-method': 'GET',
      cookie: `${kit(p.jar)}; access_token=${p.access}`,
    },
  });
}

async function backchannel(s: Stack, sid: string) {
  const token = await op.logoutToken({ sid });
  return s.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });
}

/** A login started while the IdP is up; the callback comes back later. */
async function startLogin(s: Stack, user: { sub: string; claims: Record<string, unknown> }) {
  const jar: Jar = new Map();
  const loginRes = await s.app.inject({ method: 'GET', url: '/sso/login' });
  absorb(jar, loginRes);
  const q = op.authorize(loginRes.headers.location as string, { ...user });
  return () =>
    s.app
      .inject({ method: 'GET', url: `/sso/callback${q}`, headers: { cookie: cookieHeader(jar) } })
      .then((r) => ({ r, jar: (absorb(jar, r), jar) }));
}

for (const fault of ['down', 'slow'] as const) {
  test(`IdP ${fault}: sessions keep passing the gate, back-channel logouts still work, sign-ins and callbacks in flight land on idp_unavailable; recovers by itself`, {
    timeout: 120_000,
  }, async (t) => {
    setMode('up');
    const s = await stack(t);
    const alice = await signIn(s, USERS.alice, `${fault}-alice`);
    const bob = await signIn(s, USERS.bob, `${fault}-bob`);
    const inFlight = await startLogin(s, USERS.alice);
    s.advance(6000);

    setMode(fault);
    for (let i = 0; i < 3; i++)
      assert.equal((await gate(s, alice)).statusCode, 204, 'an existing session passes: the gate never asks the IdP');
    const start = await s.app.inject({ method: 'GET', url: '/sso/login?redirect=%2Fapps%2F1' });
    assert.equal(
      start.headers.location,
      '/signin?message=idp_unavailable',
      'a new sign-in is told the IdP is unavailable (never a dead IdP page)',
    );
    const cb = await inFlight();
    assert.equal(
      cb.r.headers.location,
      '/signin?message=idp_unavailable',
      'a callback whose code exchange finds the IdP gone',
    );
    assert.ok(![...cb.jar.keys()].some((k) => /dify_sso$/.test(k)), 'no kit session from a failed sign-in');
    assert.equal(setCookieValue(cb.r.headers['set-cookie'], 'access_token'), undefined, 'no Dify session either');
    const failures = s.audits('auth.login.failure').map((a) => [a['reason'], a['errorCode']]);
    assert.deepEqual(failures, [
      ['idp_unavailable', 'ERR_OIDC_IDP_UNAVAILABLE'],
      ['idp_unavailable', 'ERR_OIDC_IDP_UNAVAILABLE'],
    ]);
    // Back-channel logout needs no IdP request (keys cached): bob's session ends at once.
    assert.equal((await backchannel(s, `${fault}-bob`)).statusCode, 200);
    assert.equal((await gate(s, bob)).statusCode, 401);
    assert.equal((await gate(s, alice)).statusCode, 204);
    assert.equal(
      (await s.app.inject({ method: 'GET', url: '/sso/health/live' })).statusCode,
      200,
      'liveness does not depend on the IdP',
    );

    setMode('up');
    s.advance(6000);
    const again = await signIn(s, USERS.alice, `${fault}-again`);
    assert.equal((await gate(s, again)).statusCode, 204, 'sign-in works again without a restart');
  });
}

test('IdP down with liveness on: once a refresh is due the gate refuses (fail closed) but keeps the session; when the IdP is back the session passes again', {
  timeout: 120_000,
}, async (t) => {
  setMode('up');
  const s = await stack(t, { DIFY_SSO_SESSION_LIVENESS_REFRESH_SECONDS: '60' });
  const alice = await signIn(s, USERS.alice, 'live-alice');
  setMode('down');
  assert.equal((await gate(s, alice)).statusCode, 204, 'before the refresh is due: passes');
  s.advance(61_000);
  for (const fault of ['down', 'slow'] as const) {
    setMode(fault);
    const denied = await gate(s, alice);
    assert.equal(denied.statusCode, 401, `refresh due, IdP ${fault}: refused`);
    assert.equal(denied.headers['x-sso-code'], 'unauthorized');
  }
  assert.equal(s.audits('auth.session.revoked').length, 0, 'the session is not ended for an IdP outage');
  setMode('up');
  assert.equal((await gate(s, alice)).statusCode, 204, 'IdP back: the refresh succeeds and the session passes');
  assert.equal(s.audits('auth.session.refreshed').length, 1);
});
