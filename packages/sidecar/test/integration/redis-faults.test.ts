/**
 * Redis faults under load, with real Redis processes started here: a Sentinel master failover
 * while gate checks, sign-ins and back-channel logouts run, and a standalone Redis killed and
 * started again. The gate must never answer 204 wrongly, fail closed (503) only while Redis is
 * unavailable, and recover without a restart of the sidecar. See the fault matrix in the README.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { envName } from '../../src/config/load.js';
import { REDIS_FIELDS, storeRedisPath } from '../../src/config/redis-schema.js';
import type { RedisConnectionSettings } from '../../src/lib/redis-client.js';
import { cookieHeader, login, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { SentinelSet, StandaloneRedis, nodeClient, until } from '../helpers/redis-procs.js';
import { USERS, setCookieValue, startBridge, startStandin, type BridgeApp, type Standin } from '../dify/helpers.js';

let op: HostileOp;
let standin: Standin;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
});
after(async () => {
  await standin?.close();
  await op?.close();
});

function storeEnv(s: RedisConnectionSettings): Record<string, string> {
  const out: Record<string, string> = {
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_KEY_PREFIX: `fault-${randomBytes(4).toString('hex')}:`,
  };
  for (const f of REDIS_FIELDS) {
    const v = s[f];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[envName(storeRedisPath(f))] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

/** Only the kit's session cookie of a jar. */
const hasKitSession = (jar: Jar) => [...jar.keys()].some((k) => /dify_sso$/.test(k));
const kit = (jar: Jar) => cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));

interface Person {
  jar: Jar;
  access: string;
}

async function signIn(
  app: FastifyInstance,
  user: { sub: string; claims: Record<string, unknown> },
  sid: string,
): Promise<Person> {
  const { callbackRes, jar } = await login(app, op, { user: { ...user, sid } });
  assert.equal(callbackRes.headers.location, '/apps');
  return { jar, access: setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string };
}

function gate(app: FastifyInstance, p: Person | undefined, cookieOverride?: string) {
  const cookie = cookieOverride ?? `${kit(p!.jar)}; access_token=${p!.access}`;
  return app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '127.0.0.1',
    headers: { 'x-original-uri': '/console/api/apps', 'x-original-method': 'GET', cookie },
  });
}

async function backchannel(app: FastifyInstance, sid: string) {
  const token = await op.logoutToken({ sid });
  return app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });
}

const storeFailures = (b: BridgeApp) => b.logs.filter((l) => l.includes('ERR_SESSION_STORE_UNAVAILABLE')).length;

for (const how of ['SENTINEL FAILOVER', 'master process killed'] as const)
  test(`Sentinel master failover (${how}) during gate checks and sign-ins: sessions survive, nothing is wrongly allowed, 503 only during the switch`, async () => {
    const set = await SentinelSet.start();
    const b = await startBridge(standin, storeEnv(set.settings()), { op });
    try {
      const alice = await signIn(b.app, USERS.alice, `fo-alice-${how.length}`);
      const gone = await signIn(b.app, USERS.bob, `fo-bob-${how.length}`);
      assert.equal((await backchannel(b.app, `fo-bob-${how.length}`)).statusCode, 200);
      assert.equal((await gate(b.app, alice)).statusCode, 204);
      assert.equal((await gate(b.app, gone)).statusCode, 401);
      // Sessions written before the failover are on the replicas (replication is asynchronous: see the README).
      const master = nodeClient(await set.masterPort(), SentinelSet.PASSWORD);
      const size = await master.dbsize();
      master.disconnect();
      for (const n of set.nodes) {
        const c = nodeClient(n.port, SentinelSet.PASSWORD);
        await until('replica caught up', async () => (await c.dbsize()) === size).finally(() => c.disconnect());
      }

      const seen = { alice: [] as number[], gone: [] as number[], forged: [] as number[], logins: [] as string[] };
      let switched = false;
      let okAfterSwitch = 0;
      const forgedCookie = `__Host-dify_sso=${randomBytes(32).toString('base64url')}; access_token=${alice.access}`;
      const load = (async () => {
        // Bounded: at most 400 rounds; ends after 5 consecutive 204s for alice once the sentinels named the new master.
        for (let i = 0; i < 400 && okAfterSwitch < 5; i++) {
          const [a, g, f] = await Promise.all([
            gate(b.app, alice),
            gate(b.app, gone),
            gate(b.app, undefined, forgedCookie),
          ]);
          seen.alice.push(a.statusCode);
          seen.gone.push(g.statusCode);
          seen.forged.push(f.statusCode);
          if (switched) okAfterSwitch = a.statusCode === 204 ? okAfterSwitch + 1 : 0;
          if (i % 10 === 0) {
            const r = await login(b.app, op, { user: { ...USERS.alice, sid: `fo-during-${i}` } });
            const loc = String(r.callbackRes.headers.location ?? r.callbackRes.statusCode);
            seen.logins.push(loc);
            if (loc !== '/apps') assert.ok(!hasKitSession(r.jar), 'a failed sign-in leaves no kit session cookie');
          }
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      const { from, to } = how === 'SENTINEL FAILOVER' ? await set.failover() : await set.killMaster();
      switched = true;
      await load;
      assert.notEqual(from, to);

      assert.equal(okAfterSwitch, 5, `the gate recovered on the new master (alice: ${seen.alice.join(',')})`);
      assert.deepEqual(
        [...new Set(seen.alice)].filter((s) => s !== 204 && s !== 503),
        [],
        'alice: only 204, or 503 while switching',
      );
      assert.deepEqual(
        [...new Set(seen.gone)].filter((s) => s !== 401 && s !== 503),
        [],
        'a logged-out session is never let through',
      );
      assert.deepEqual(
        [...new Set(seen.forged)].filter((s) => s !== 401 && s !== 503),
        [],
        'a forged session cookie is never let through',
      );
      for (const loc of seen.logins)
        assert.ok(loc === '/apps' || loc.startsWith('/signin?message=') || loc === '503', loc);
      if ([...seen.alice, ...seen.gone, ...seen.forged].includes(503))
        assert.ok(storeFailures(b) > 0, 'each 503 is logged with ERR_SESSION_STORE_UNAVAILABLE');

      // After the switch: the old session still works, a new sign-in works, back-channel logout ends a session.
      assert.equal((await gate(b.app, alice)).statusCode, 204);
      const carol = await signIn(b.app, USERS.alice, 'fo-after');
      assert.equal((await gate(b.app, carol)).statusCode, 204);
      assert.equal((await backchannel(b.app, `fo-alice-${how.length}`)).statusCode, 200);
      assert.equal((await gate(b.app, alice)).statusCode, 401);
      assert.equal(b.audits('auth.backchannel').at(-1)?.['count'], 1);
      assert.equal((await b.app.inject({ method: 'GET', url: '/sso/health/ready' })).statusCode, 200);
    } finally {
      await b.close();
      await set.stop();
    }
  });

test('Redis down and back: the gate fails closed (503, never 204), readiness says so, a back-channel logout meanwhile is answered 503 and applied once Redis is back, and it recovers without a restart', async () => {
  const redis = await StandaloneRedis.start({ persistent: true });
  const b = await startBridge(
    standin,
    { DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: redis.url, DIFY_SSO_REDIS_KEY_PREFIX: 'down:' },
    { op },
  );
  try {
    const alice = await signIn(b.app, USERS.alice, 'down-alice');
    const bob = await signIn(b.app, USERS.bob, 'down-bob');
    assert.equal((await gate(b.app, alice)).statusCode, 204);
    assert.equal((await gate(b.app, bob)).statusCode, 204);

    await redis.kill();
    const during = await gate(b.app, alice);
    assert.equal(during.statusCode, 503);
    assert.equal(during.json().code, 'ERR_SESSION_STORE_UNAVAILABLE');
    const forged = await gate(
      b.app,
      undefined,
      `__Host-dify_sso=${randomBytes(32).toString('base64url')}; access_token=${alice.access}`,
    );
    assert.notEqual(forged.statusCode, 204);
    assert.equal((await b.app.inject({ method: 'GET', url: '/sso/health/ready' })).statusCode, 503);
    const r = await login(b.app, op, { user: { ...USERS.alice, sid: 'down-during' } });
    assert.notEqual(r.callbackRes.headers.location, '/apps', 'no sign-in while the store is down');
    assert.ok(!hasKitSession(r.jar));
    const bc = await backchannel(b.app, 'down-bob');
    assert.equal(bc.statusCode, 503, 'the IdP is told the logout failed (5xx, visible at the OP)');
    assert.equal(bc.json().code, 'ERR_SESSION_STORE_UNAVAILABLE');
    const rejected = b.audits('auth.backchannel.rejected').at(-1);
    assert.equal(rejected?.['reason'], 'session_error');
    assert.equal(rejected?.['deferred'], true, 'audited as deferred, not lost');
    assert.equal(rejected?.['sid'], 'down-bob');
    assert.ok(storeFailures(b) > 0);

    await redis.restart();
    const statuses: number[] = [];
    const bobStatuses: number[] = [];
    await until('gate answers 204 again', async () => {
      bobStatuses.push((await gate(b.app, bob)).statusCode);
      statuses.push((await gate(b.app, alice)).statusCode);
      return statuses.at(-1) === 204;
    });
    assert.deepEqual(
      [...new Set(statuses)].filter((s) => s !== 204 && s !== 503),
      [],
      'only 204, or 503 while reconnecting',
    );
    assert.deepEqual(
      [...new Set(bobStatuses)].filter((s) => s !== 401 && s !== 503),
      [],
      'the logged-out session never passes again, not even right after Redis is back',
    );
    assert.equal((await gate(b.app, bob)).statusCode, 401);
    const applied = b.audits('auth.backchannel').at(-1);
    assert.equal(applied?.['deferred'], true);
    assert.equal(applied?.['sid'], 'down-bob');
    assert.equal(applied?.['count'], 1);
    assert.equal(statuses.at(-1), 204, 'the session survived (AOF) and the sidecar reconnected by itself');
    assert.equal((await b.app.inject({ method: 'GET', url: '/sso/health/ready' })).statusCode, 200);
    const again = await signIn(b.app, USERS.alice, 'down-after');
    assert.equal((await gate(b.app, again)).statusCode, 204);
  } finally {
    await b.close();
    await redis.stop();
  }
});
