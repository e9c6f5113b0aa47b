/**
 * Every Redis topology Dify supports, against real Redis processes started here (Debian's
 * redis-server / redis-sentinel / redis-cli, openssl for the test CA): the store contract, the
 * configuration path (`DIFY_SSO_REDIS_*`, `DIFY_SSO_DIFY_REDIS_*`) and the bridge's seeding of
 * Dify refresh tokens, with the kit's store and Dify's Redis on the same deployment.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { loadConfig, envName } from '../../src/config/load.js';
import { REDIS_FIELDS, difyRedisPath, storeRedisPath, type RedisPathOf } from '../../src/config/redis-schema.js';
import { createRedisClient, type RedisClient, type RedisConnectionSettings } from '../../src/lib/redis-client.js';
import { createRedisStore, createStore } from '../../src/store/index.js';
import { storeKeyPrefix } from '../../src/store/redis.js';
import { login } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import {
  BASE_SETTINGS,
  RedisClusterSet,
  SentinelSet,
  TlsRedis,
  makeTestPki,
  nodeClient,
  removeTestPki,
  until,
  type TestPki,
} from '../helpers/redis-procs.js';
import { SEED_IDS, USERS, setCookieValue, startBridge, startStandin, uniquePrefix } from '../dify/helpers.js';
import { contract, rec } from './contract.js';

const TUNING = { maxRetriesPerRequest: 1, commandTimeoutMs: 2000, connectTimeoutMs: 2000 };
/** Short timeouts for the cases that must fail (they wait for a timeout). */
const FAST_FAIL = { maxRetriesPerRequest: 1, commandTimeoutMs: 600, connectTimeoutMs: 600 };
const unavailable = (e: unknown) => (e as { code?: string }).code === 'ERR_SESSION_STORE_UNAVAILABLE';

/** The env variables that configure `settings` at `pathOf` (what an operator writes). */
function redisEnv(pathOf: RedisPathOf, s: RedisConnectionSettings): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of REDIS_FIELDS) {
    const v = s[f];
    if (v === undefined || (Array.isArray(v) && v.length === 0)) continue;
    out[envName(pathOf(f))] = Array.isArray(v) ? v.join(',') : String(v);
  }
  return out;
}

let op: HostileOp;
before(async () => {
  op = await HostileOp.start();
});
after(async () => {
  await op?.close();
});

/**
 * Login through the bridge with the kit's store and Dify's Redis both on `settings`; checks the
 * exact keys dify-api reads (`<prefix>:refresh_token:<t>`, `<prefix>:account_refresh_token:<id>`)
 * and that logout deletes them.
 */
async function bridgeSeedsOn(settings: RedisConnectionSettings, extraEnv: Record<string, string> = {}): Promise<void> {
  const difyApiRedis = createRedisClient(settings, TUNING); // what dify-api uses
  const standin = await startStandin({ redis: difyApiRedis as Redis });
  const kitPrefix = `kit-${randomBytes(4).toString('hex')}:`;
  const b = await startBridge(
    standin,
    {
      DIFY_SSO_DIFY_REDIS_URL: undefined,
      ...redisEnv(difyRedisPath, settings),
      DIFY_SSO_STORE: 'redis',
      ...redisEnv(storeRedisPath, settings),
      DIFY_SSO_REDIS_KEY_PREFIX: kitPrefix,
      ...extraEnv,
    },
    { op },
  );
  try {
    assert.equal(b.app.sso.store.kind, 'redis');
    const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
    assert.equal(callbackRes.headers.location, '/apps');
    const refresh = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token');
    assert.ok(refresh, 'Dify refresh cookie relayed');
    assert.equal(await difyApiRedis.get(`${standin.prefix}:refresh_token:${refresh}`), SEED_IDS.aliceId);
    assert.equal(await difyApiRedis.get(`${standin.prefix}:account_refresh_token:${SEED_IDS.aliceId}`), refresh);
    const [session] = await b.app.sso.store.listBySub(op.issuer, USERS.alice.sub);
    assert.equal(session?.difyAccountId, SEED_IDS.aliceId);
    // Logout changes state only on a same-origin POST (issue 9, finding 6).
    const out = await b.app.inject({
      method: 'POST',
      url: '/sso/logout',
      headers: {
        origin: new URL(b.app.sso.config.publicUrl).origin,
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    assert.equal(out.statusCode, 303);
    assert.equal(
      await difyApiRedis.get(`${standin.prefix}:refresh_token:${refresh}`),
      null,
      'logout deleted the seeded token',
    );
    assert.equal(await difyApiRedis.get(`${standin.prefix}:account_refresh_token:${SEED_IDS.aliceId}`), null);
  } finally {
    await b.close();
    await standin.close();
    difyApiRedis.disconnect();
  }
}

describe('Sentinel: 1 master, 2 replicas, 3 sentinels (passwords on data nodes and sentinels)', () => {
  let set: SentinelSet;
  before(async () => {
    set = await SentinelSet.start();
  });
  after(async () => {
    await set?.stop();
  });

  contract('redis behind Sentinel', () =>
    createRedisStore({ settings: set.settings(), keyPrefix: `sentinel-${randomBytes(4).toString('hex')}:` }),
  );

  test('configured through DIFY_SSO_REDIS_*: a session written by the store is on the master and on both replicas', async () => {
    const config = loadConfig({
      ...baseEnv(),
      DIFY_SSO_STORE: 'redis',
      ...redisEnv(storeRedisPath, set.settings()),
      DIFY_SSO_REDIS_KEY_PREFIX: 'cfg-sentinel:',
    });
    assert.equal(config.redis.mode, 'sentinel');
    const store = createStore(config);
    const masterPort = await set.masterPort();
    const nodes = set.nodes.map((n) => nodeClient(n.port, SentinelSet.PASSWORD));
    try {
      const r = rec();
      await store.create(r);
      assert.equal(nodes.length, 3);
      for (const [i, n] of nodes.entries()) {
        const key = `cfg-sentinel:session:${r.id}`;
        if (set.nodes[i]!.port === masterPort) assert.ok(await n.get(key), 'on the master');
        else await until(`replica ${i} has the session`, async () => (await n.get(key)) !== null);
      }
    } finally {
      for (const n of nodes) n.disconnect();
      await store.close();
    }
  });

  test('wrong sentinel password or unknown master name → ERR_SESSION_STORE_UNAVAILABLE (fail closed)', async () => {
    const cases = [
      { sentinelPassword: 'wrong-password' },
      { sentinelName: 'no-such-master' },
      { password: 'wrong-password' },
    ];
    await Promise.all(
      cases.map(async (over) => {
        const store = createRedisStore({ settings: set.settings(over), keyPrefix: 'x:', tuning: FAST_FAIL });
        try {
          await assert.rejects(store.get('anything'), unavailable, JSON.stringify(Object.keys(over)));
        } finally {
          await store.close();
        }
      }),
    );
  });

  test('bridge: seeds Dify refresh tokens through Sentinel where dify-api reads them', async () => {
    await bridgeSeedsOn(set.settings());
  });
});

describe('Cluster: 3 masters (redis-cli --cluster create), password', () => {
  let cluster: RedisClusterSet;
  before(async () => {
    cluster = await RedisClusterSet.start();
  });
  after(async () => {
    await cluster?.stop();
  });

  contract('redis cluster', () =>
    createRedisStore({ settings: cluster.settings(), keyPrefix: `cluster-${randomBytes(4).toString('hex')}:` }),
  );

  test('every key of the store carries one hash tag: a session and its sid/sub indexes share a slot', async () => {
    const prefix = `tag-${randomBytes(4).toString('hex')}:`;
    const store = createRedisStore({ settings: cluster.settings(), keyPrefix: prefix });
    const raw = createRedisClient(cluster.settings(), TUNING);
    try {
      const r = rec({ sub: 'slot-user', sid: 'slot-sid' });
      await store.create(r);
      await store.kv.set('jti:one', '1', 60);
      const tagged = storeKeyPrefix(prefix, true);
      assert.equal(tagged, `{${prefix}}`);
      const keys = [`${tagged}session:${r.id}`, `${tagged}kv:jti:one`];
      for (const k of keys) assert.ok(await raw.exists(k), `${k} exists`);
      const slots = new Set(await Promise.all(keys.map((k) => raw.call('CLUSTER', 'KEYSLOT', k))));
      assert.equal(slots.size, 1);
      // Without the tag the same names would spread over the cluster (what the tag prevents).
      const untagged = new Set(
        await Promise.all(
          ['a', 'b', 'c', 'd', 'e'].map((x) => raw.call('CLUSTER', 'KEYSLOT', `${prefix}session:${x}`)),
        ),
      );
      assert.ok(untagged.size > 1);
      assert.equal((await store.deleteBySid(r.iss, 'slot-sid')).length, 1);
    } finally {
      raw.disconnect();
      await store.close();
    }
  });

  test('a prefix that already has a hash tag is kept as given', () => {
    assert.equal(storeKeyPrefix('{dify}:sso:', true), '{dify}:sso:');
  });

  test('wrong cluster password → ERR_SESSION_STORE_UNAVAILABLE (fail closed)', async () => {
    const store = createRedisStore({
      settings: cluster.settings({ password: 'wrong-password' }),
      keyPrefix: 'x:',
      tuning: FAST_FAIL,
    });
    try {
      await assert.rejects(store.get('anything'), unavailable);
    } finally {
      await store.close();
    }
  });

  test('bridge: Dify keys stay untagged (exact names dify-api reads, in different slots) and seeding works', async () => {
    const raw: RedisClient = createRedisClient(cluster.settings(), TUNING);
    try {
      const slotA = await raw.call('CLUSTER', 'KEYSLOT', 'p:refresh_token:abc');
      const slotB = await raw.call('CLUSTER', 'KEYSLOT', `p:account_refresh_token:${SEED_IDS.aliceId}`);
      assert.notEqual(slotA, slotB, 'the pair usually spans two slots: no MULTI possible');
    } finally {
      raw.disconnect();
    }
    await bridgeSeedsOn(cluster.settings());
  });
});

describe('TLS: redis-server with a test CA made by openssl', () => {
  let pki: TestPki;
  let server: TlsRedis;
  let mutual: TlsRedis;
  before(async () => {
    pki = await makeTestPki();
    server = await TlsRedis.start(pki);
    mutual = await TlsRedis.start(pki, { mutual: true });
  });
  after(async () => {
    await server?.stop();
    await mutual?.stop();
    removeTestPki(pki);
  });

  contract('redis over TLS (rediss://, CA)', () =>
    createRedisStore({ settings: server.settings(), keyPrefix: `tls-${randomBytes(4).toString('hex')}:` }),
  );

  test('mutual TLS: the client certificate and key are sent', async () => {
    const store = createRedisStore({
      settings: mutual.settings({ tlsCert: pki.clientCert, tlsKey: pki.clientKey }),
      keyPrefix: 'mtls:',
    });
    try {
      await store.ping();
    } finally {
      await store.close();
    }
  });

  test('fails closed: unknown CA, other CA, wrong server name, plain TCP to a TLS port, mutual TLS without a client certificate', async () => {
    const cases: [string, RedisConnectionSettings][] = [
      ['system roots only', server.settings({ tlsCa: undefined })],
      ['another CA', server.settings({ tlsCa: pki.otherCa })],
      ['wrong server name', server.settings({ tlsServername: 'redis.example.com' })],
      ['plain TCP', { ...BASE_SETTINGS, url: `redis://127.0.0.1:${server.port}` }],
      ['no client certificate', mutual.settings()],
    ];
    await Promise.all(
      cases.map(async ([name, settings]) => {
        const store = createRedisStore({ settings, keyPrefix: 'neg:', tuning: FAST_FAIL });
        try {
          await assert.rejects(store.ping(), unavailable, name);
        } finally {
          await store.close();
        }
      }),
    );
  });

  test('tlsVerify=none (Dify CERT_NONE) connects without a CA — a relaxation the config warns about', async () => {
    const store = createRedisStore({
      settings: server.settings({ tlsCa: undefined, tlsVerify: 'none' }),
      keyPrefix: 'nover:',
    });
    try {
      await store.ping();
    } finally {
      await store.close();
    }
  });

  test('bridge: seeds over TLS with the CA given as a file (DIFY_SSO_DIFY_REDIS_TLS_CA_FILE)', async () => {
    const difyApiRedis = createRedisClient(server.settings(), TUNING);
    const standin = await startStandin({ redis: difyApiRedis as Redis, redisKeyPrefix: uniquePrefix() });
    try {
      // Without the CA the bridge cannot reach Dify's Redis: the login is refused, no Dify cookie is handed out.
      const untrusting = await startBridge(
        standin,
        { DIFY_SSO_DIFY_REDIS_URL: `rediss://127.0.0.1:${server.port}` },
        { op },
      );
      try {
        const { callbackRes } = await login(untrusting.app, op, { user: USERS.alice });
        assert.match(String(callbackRes.headers.location), /^\/signin\?message=/);
        assert.equal(setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token'), undefined);
      } finally {
        await untrusting.close();
      }
      const b = await startBridge(
        standin,
        { DIFY_SSO_DIFY_REDIS_URL: `rediss://127.0.0.1:${server.port}`, DIFY_SSO_DIFY_REDIS_TLS_CA_FILE: pki.caFile },
        { op },
      );
      try {
        const { callbackRes } = await login(b.app, op, { user: USERS.alice });
        assert.equal(callbackRes.headers.location, '/apps');
        const refresh = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token');
        assert.equal(await difyApiRedis.get(`${standin.prefix}:refresh_token:${refresh}`), SEED_IDS.aliceId);
      } finally {
        await b.close();
      }
    } finally {
      await standin.close();
      difyApiRedis.disconnect();
    }
  });
});

function baseEnv(): Record<string, string | undefined> {
  return {
    DIFY_SSO_OIDC_ISSUER: op.issuer,
    DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
    DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
    DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:3000',
    DIFY_SSO_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghijklmnop',
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
  };
}
