/**
 * Store contract, run against memory and the real Redis (DIFY_SSO_TEST_REDIS_URL).
 */
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore, type SessionRecord, type SessionStore } from '../../src/store/index.js';

const REDIS_URL = process.env.DIFY_SSO_TEST_REDIS_URL;

function rec(over: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now();
  return {
    id: randomBytes(16).toString('hex'),
    iss: 'https://idp.example.com',
    sub: 'u1',
    sid: 's1',
    claims: { groups: [], roles: [] },
    createdAt: now,
    lastSeenAt: now,
    lastRefreshAt: now,
    absoluteExpiresAt: now + 3600_000,
    ext: {},
    ...over,
  };
}

function contract(name: string, make: () => SessionStore) {
  describe(`store contract: ${name}`, () => {
    const store = make();
    after(() => store.close());
    const uniq = randomBytes(6).toString('hex');

    test('create/get/update/delete', async () => {
      const r = rec({ sub: `u-${uniq}` });
      await store.create(r);
      assert.deepEqual(await store.get(r.id), r);
      const u = await store.update(r.id, { difyAccountId: 'acc', lastSeenAt: r.lastSeenAt + 5, ext: { k: 'v' } });
      assert.equal(u?.difyAccountId, 'acc');
      assert.deepEqual((await store.get(r.id))?.ext, { k: 'v' });
      assert.deepEqual((await store.delete(r.id))?.id, r.id);
      assert.equal(await store.get(r.id), null);
      assert.equal(await store.update(r.id, { lastSeenAt: 1 }), null, 'update never recreates a deleted record');
      assert.equal(await store.get(r.id), null);
    });

    test('indexes by sid and sub', async () => {
      const iss = `https://idp-${uniq}.example.com`;
      const a = rec({ iss, sub: 'alice', sid: 'sid-a' });
      const b = rec({ iss, sub: 'alice', sid: 'sid-b' });
      const c = rec({ iss, sub: 'bob', sid: 'sid-a' });
      const d = rec({ iss: `${iss}/other`, sub: 'alice', sid: 'sid-a' });
      for (const r of [a, b, c, d]) await store.create(r);
      assert.deepEqual((await store.listBySub(iss, 'alice')).map((r) => r.id).sort(), [a.id, b.id].sort());
      const bySid = await store.deleteBySid(iss, 'sid-a');
      assert.deepEqual(bySid.map((r) => r.id).sort(), [a.id, c.id].sort());
      assert.equal(await store.get(a.id), null);
      assert.ok(await store.get(b.id));
      assert.ok(await store.get(d.id), 'other issuer untouched');
      const bySub = await store.deleteBySub(iss, 'alice');
      assert.deepEqual(bySub.map((r) => r.id), [b.id]);
      assert.deepEqual(await store.listBySub(iss, 'alice'), []);
      assert.deepEqual(await store.deleteBySub(iss, 'nobody'), []);
      await store.delete(d.id);
    });

    test('kv: set/get/del/setIfAbsent/getDel', async () => {
      const k = `k-${uniq}`;
      assert.equal(await store.kv.get(k), null);
      assert.equal(await store.kv.setIfAbsent(k, 'one', 60), true);
      assert.equal(await store.kv.setIfAbsent(k, 'two', 60), false);
      assert.equal(await store.kv.get(k), 'one');
      await store.kv.set(k, 'three', 60);
      assert.equal(await store.kv.getDel(k), 'three');
      assert.equal(await store.kv.getDel(k), null);
      await store.kv.set(k, 'x', 0);
      await store.kv.del(k);
      assert.equal(await store.kv.get(k), null);
    });

    test('ping', async () => {
      await store.ping();
    });
  });
}

contract('memory', () => createMemoryStore());

test('memory store: records and kv expire by the injected clock', async () => {
  let clock = 1_000_000;
  const store = createMemoryStore(() => clock);
  const r = rec({ absoluteExpiresAt: clock + 1000 });
  await store.create(r);
  await store.kv.set('x', 'y', 10);
  clock += 9_000;
  assert.equal(await store.kv.get('x'), 'y');
  clock += 2_000;
  assert.equal(await store.kv.get('x'), null);
  assert.ok(await store.get(r.id), 'kept during the grace period');
  clock += 3600_000;
  assert.equal(await store.get(r.id), null);
});

test('memory store: records are frozen; a caller cannot change a stored session without update()', async () => {
  const store = createMemoryStore();
  const r = rec();
  await store.create(r);
  r.claims.groups.push('added-after-create');
  const got = (await store.get(r.id))!;
  assert.ok(!got.claims.groups.includes('added-after-create'), 'create stores a copy');
  assert.throws(() => {
    (got as { difyAccountId?: string }).difyAccountId = 'someone-else';
  }, TypeError);
  assert.throws(() => got.claims.groups.push('x'), TypeError);
  const updated = (await store.update(r.id, { difyAccountId: 'acc-1' }))!;
  assert.equal(updated.difyAccountId, 'acc-1');
  assert.equal((await store.get(r.id))!.difyAccountId, 'acc-1');
  assert.equal(got.difyAccountId, undefined, 'an earlier read is not changed by a later update');
});

test('memory store: bounded — the least recently written session is evicted first, indexes follow', async () => {
  const store = createMemoryStore(Date.now, { maxSessions: 3 });
  const a = rec({ sub: 'a', sid: 'sa' });
  const b = rec({ sub: 'b', sid: 'sb' });
  const c = rec({ sub: 'c', sid: 'sc' });
  const d = rec({ sub: 'd', sid: 'sd' });
  for (const r of [a, b, c]) await store.create(r);
  await store.update(a.id, { lastSeenAt: Date.now() }); // a is now the most recently written
  await store.create(d);
  assert.equal(await store.get(b.id), null, 'b (least recently written) was evicted');
  for (const r of [a, c, d]) assert.ok(await store.get(r.id), `${r.sub} kept`);
  assert.deepEqual(await store.deleteBySid(b.iss, 'sb'), [], 'the evicted session left no index entry behind');
  assert.deepEqual(await store.listBySub(b.iss, 'b'), []);
});

test('memory store: expired sessions and kv entries are swept as new ones are written', async () => {
  let clock = 1_000_000;
  const store = createMemoryStore(() => clock, { maxSessions: 1000 });
  for (let i = 0; i < 20; i++) await store.create(rec({ sub: `old-${i}`, absoluteExpiresAt: clock + 1000 }));
  for (let i = 0; i < 20; i++) await store.kv.set(`k${i}`, 'v', 1);
  assert.deepEqual(store.stats(), { sessions: 20, kvEntries: 20 });
  clock += 3 * 3600_000;
  // Nothing reads the old entries: only the sweep on write can remove them.
  for (let i = 0; i < 10; i++) {
    await store.create(rec({ sub: `new-${i}`, absoluteExpiresAt: clock + 3600_000 }));
    await store.kv.set(`n${i}`, 'v', 60);
  }
  assert.deepEqual(store.stats(), { sessions: 10, kvEntries: 10 });
});

describe('redis', () => {
  test('DIFY_SSO_TEST_REDIS_URL is set (integration tests need the real Redis: npm run redis -- start)', () => {
    assert.ok(REDIS_URL, 'DIFY_SSO_TEST_REDIS_URL is not set; start Redis with `npm run redis -- start` and export DIFY_SSO_TEST_REDIS_URL=redis://127.0.0.1:16379');
  });
  if (REDIS_URL) {
    contract('redis', () => createRedisStore({ url: REDIS_URL, keyPrefix: `test-sidecar-${randomBytes(4).toString('hex')}:` }));
    test('redis keys carry the prefix; the session cookie value is never a key', async () => {
      const prefix = `test-prefix-${randomBytes(4).toString('hex')}:`;
      const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix });
      const { Redis } = await import('ioredis');
      const raw = new Redis(REDIS_URL);
      try {
        const r = rec();
        await store.create(r);
        await store.kv.set('jti:x', '1', 60);
        const keys = await raw.keys(`${prefix}*`);
        assert.ok(keys.length >= 4);
        assert.ok(keys.every((k) => k.startsWith(prefix)));
        const ttl = await raw.pttl(`${prefix}session:${r.id}`);
        assert.ok(ttl > 3600_000 && ttl <= 7200_000, `ttl ${ttl}`);
        await store.delete(r.id);
      } finally {
        raw.disconnect();
        await store.close();
      }
    });
    test('unreachable redis → ERR_SESSION_STORE_UNAVAILABLE', async () => {
      const store = createRedisStore({ url: 'redis://127.0.0.1:1', keyPrefix: 'x:' });
      try {
        await assert.rejects(store.ping(), (e: unknown) => (e as { code?: string }).code === 'ERR_SESSION_STORE_UNAVAILABLE');
      } finally {
        await store.close();
      }
    });
  }
});
