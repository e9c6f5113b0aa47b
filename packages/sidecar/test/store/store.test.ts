/**
 * Store contract, run against memory and the real Redis (DIFY_SSO_TEST_REDIS_URL).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createMemoryStore, createRedisStore } from '../../src/store/index.js';
import { contract, rec } from './contract.js';

const REDIS_URL = process.env.DIFY_SSO_TEST_REDIS_URL;

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

test('memory store: compact records — shared strings, a caller object left unfrozen, indexes from one id to many and back', async () => {
  const store = createMemoryStore();
  const iss = 'https://idp.example.com/realms/compact';
  const mk = (sid: string) =>
    rec({
      iss: `${iss}`,
      sub: 'carol',
      sid,
      claims: { groups: ['dify-editors'], roles: [], name: 'Carol' },
      ext: { k: { n: 1 } },
    });
  const [a, b, c] = [mk('s1'), mk('s1'), mk('s2')];
  for (const r of [a, b, c]) await store.create(r);
  assert.equal(Object.isFrozen(a), false, "the caller's record is not frozen");
  assert.equal(Object.isFrozen(a.ext), false);
  const got = (await store.get(a.id))!;
  assert.deepEqual(got, a);
  assert.throws(() => ((got.ext as { k: { n: number } }).k.n = 2), TypeError, 'nested ext is frozen in the store');
  assert.deepEqual((await store.listBySub(iss, 'carol')).map((r) => r.id).sort(), [a.id, b.id, c.id].sort());
  assert.deepEqual((await store.deleteBySid(iss, 's1')).map((r) => r.id).sort(), [a.id, b.id].sort());
  assert.deepEqual(
    (await store.listBySub(iss, 'carol')).map((r) => r.id),
    [c.id],
  );
  assert.deepEqual(await store.deleteBySid(iss, 's1'), []);
  await store.delete(c.id);
  assert.deepEqual(await store.listBySub(iss, 'carol'), []);
  assert.deepEqual(await store.deleteBySub(iss, 'carol'), []);
  const d = mk('s3');
  await store.create(d);
  await store.create(d); // written twice: still one entry
  assert.deepEqual(
    (await store.deleteBySub(iss, 'carol')).map((r) => r.id),
    [d.id],
  );
  assert.equal(store.stats().sessions, 0);
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
    assert.ok(
      REDIS_URL,
      'DIFY_SSO_TEST_REDIS_URL is not set; start Redis with `npm run redis -- start` and export DIFY_SSO_TEST_REDIS_URL=redis://127.0.0.1:16379',
    );
  });
  if (REDIS_URL) {
    contract('redis', () =>
      createRedisStore({ url: REDIS_URL, keyPrefix: `test-sidecar-${randomBytes(4).toString('hex')}:` }),
    );
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
        await assert.rejects(
          store.ping(),
          (e: unknown) => (e as { code?: string }).code === 'ERR_SESSION_STORE_UNAVAILABLE',
        );
      } finally {
        await store.close();
      }
    });
  }
});
