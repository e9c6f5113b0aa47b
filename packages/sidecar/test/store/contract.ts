/**
 * The store contract (every `SessionStore` must pass it), shared by the memory, standalone Redis
 * and topology tests. The store is made in a `before` hook, so the factory may use servers that
 * an enclosing suite starts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { SessionRecord, SessionStore } from '../../src/store/index.js';

/** A session record with unique id; override any field. */
export function rec(over: Partial<SessionRecord> = {}): SessionRecord {
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

/** Registers the contract suite for the store `make` builds. */
export function contract(name: string, make: () => SessionStore | Promise<SessionStore>) {
  describe(`store contract: ${name}`, () => {
    let store: SessionStore;
    before(async () => {
      store = await make();
    });
    after(() => store?.close());
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
      assert.deepEqual(
        bySub.map((r) => r.id),
        [b.id],
      );
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

    test('get with touch: moves lastSeenAt when due, never when too recent or idle-expired, and keeps the rest', async () => {
      const t0 = Date.now();
      const r = rec({
        sub: `touch-${uniq}`,
        lastSeenAt: t0 - 120_000,
        difyAccountId: 'acc-t',
        claims: { groups: ['g'], roles: [], name: '"lastSeenAt":1' },
        ext: { lastSeenAt: 7 },
      });
      await store.create(r);
      const touched = await store.get(r.id, { now: t0, afterMs: 60_000, idleMs: 3600_000 });
      assert.deepEqual(touched, { ...r, lastSeenAt: t0 });
      assert.deepEqual(await store.get(r.id), { ...r, lastSeenAt: t0 }, 'the touch is stored');
      const early = await store.get(r.id, { now: t0 + 30_000, afterMs: 60_000, idleMs: 3600_000 });
      assert.equal(early?.lastSeenAt, t0, 'not due: unchanged');
      const idle = await store.get(r.id, { now: t0 + 3600_000, afterMs: 60_000, idleMs: 3600_000 });
      assert.equal(idle?.lastSeenAt, t0, 'idle-expired: returned as it is, never revived');
      assert.equal((await store.get(r.id))?.lastSeenAt, t0);
      assert.equal(await store.get(`missing-${uniq}`, { now: t0, afterMs: 0, idleMs: 1 }), null);
      await store.delete(r.id);
    });

    test('ping', async () => {
      await store.ping();
    });
  });
}
