/**
 * Deferred back-channel logouts (`lib/pending-logouts.ts`): applied before any session read once
 * the store answers, refused reads while they cannot be applied, bounded in number and time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SessionStoreError } from '../../src/errors.js';
import { pendingLogoutsOf, withPendingLogouts, type DeferredLogout } from '../../src/lib/pending-logouts.js';
import { createMemoryStore } from '../../src/store/memory.js';
import type { SessionRecord, SessionStore } from '../../src/store/types.js';

const ISS = 'https://idp.example.com';

function record(id: string, sid: string, sub = `sub-${id}`): SessionRecord {
  const now = Date.now();
  return {
    id,
    iss: ISS,
    sub,
    sid,
    claims: { groups: [], roles: [] },
    createdAt: now,
    lastSeenAt: now,
    lastRefreshAt: now,
    absoluteExpiresAt: now + 3600_000,
    ext: {},
  };
}

/** A memory store whose deletes fail while `down` is true. */
function flaky(): { store: SessionStore; setDown(v: boolean): void } {
  const inner = createMemoryStore();
  let down = false;
  const fail = () =>
    Promise.reject(new SessionStoreError('ERR_SESSION_STORE_UNAVAILABLE', 'down', { reason: 'session_error' }));
  const store: SessionStore = {
    ...inner,
    kind: inner.kind,
    get: (id) => (down ? fail() : inner.get(id)),
    create: (r) => inner.create(r),
    update: (id, p) => inner.update(id, p),
    delete: (id) => inner.delete(id),
    deleteBySid: (iss, sid) => (down ? fail() : inner.deleteBySid(iss, sid)),
    deleteBySub: (iss, sub) => (down ? fail() : inner.deleteBySub(iss, sub)),
    listBySub: (iss, sub) => inner.listBySub(iss, sub),
    ping: () => inner.ping(),
    close: () => inner.close(),
    kv: inner.kv,
  };
  return { store, setDown: (v) => void (down = v) };
}

function setup(opts: { maxEntries?: number; ttlMs?: number } = {}) {
  const f = flaky();
  const store = withPendingLogouts(f.store);
  const pending = pendingLogoutsOf(store)!;
  const ended: string[] = [];
  const done: [DeferredLogout, number][] = [];
  const errors: string[] = [];
  pending.configure({
    ended: async (s) => void ended.push(s.id),
    done: (l, n) => void done.push([l, n]),
    log: { error: (_o, m) => void errors.push(m) },
    ttlMs: opts.ttlMs ?? 3600_000,
    retryMs: 3600_000, // retries are driven by reads (and flush()) in these tests
    ...(opts.maxEntries ? { maxEntries: opts.maxEntries } : {}),
  });
  return { ...f, store, pending, ended, done, errors };
}

test('a deferred logout is applied before the next session read once the store is back; reads fail while it cannot be', async (t) => {
  const s = setup();
  t.after(() => s.pending.close());
  await s.store.create(record('a', 'sid-a'));
  await s.store.create(record('b', 'sid-b'));
  s.setDown(true);
  s.pending.add({ iss: ISS, sid: 'sid-a' });
  await assert.rejects(s.store.get('b'), (e: unknown) => e instanceof SessionStoreError);
  s.setDown(false);
  assert.equal(await s.store.get('a'), null, 'the logged-out session is gone at the first read');
  assert.ok(await s.store.get('b'));
  assert.deepEqual(s.ended, ['a']);
  assert.deepEqual(s.done, [[{ iss: ISS, sid: 'sid-a' }, 1]]);
  assert.equal(s.pending.size, 0);
});

test('by sub when there is no sid; the same logout is kept once', async (t) => {
  const s = setup();
  t.after(() => s.pending.close());
  await s.store.create(record('c1', 'sid-c1', 'carol'));
  await s.store.create(record('c2', 'sid-c2', 'carol'));
  s.pending.add({ iss: ISS, sub: 'carol' });
  s.pending.add({ iss: ISS, sub: 'carol' });
  assert.equal(s.pending.size, 1);
  await s.pending.flush();
  assert.deepEqual(s.ended.sort(), ['c1', 'c2']);
  assert.deepEqual(s.done, [[{ iss: ISS, sub: 'carol' }, 2]]);
});

test('bounded: past maxEntries the oldest is dropped with an error log; expired entries are dropped', async (t) => {
  const s = setup({ maxEntries: 2 });
  t.after(() => s.pending.close());
  s.setDown(true);
  for (const sid of ['x1', 'x2', 'x3']) s.pending.add({ iss: ISS, sid });
  assert.equal(s.pending.size, 2);
  assert.deepEqual(s.errors, ['too many deferred back-channel logouts; the oldest was dropped']);
  const e = setup({ ttlMs: 0 });
  t.after(() => e.pending.close());
  e.pending.add({ iss: ISS, sid: 'old' });
  await e.pending.flush();
  assert.equal(e.pending.size, 0);
  assert.deepEqual(e.done, [], 'an expired entry is dropped, not applied');
});

test('add() before configure() is a programming error', () => {
  const store = withPendingLogouts(createMemoryStore());
  assert.throws(() => pendingLogoutsOf(store)!.add({ iss: ISS, sid: 's' }), TypeError);
});
