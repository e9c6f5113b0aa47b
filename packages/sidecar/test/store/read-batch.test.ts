/**
 * Issue 14: the Redis store's session reads (`readBatcher`) go out at once while none is in
 * flight and as one pipeline when they come together — checked on a dedicated redis-server:
 * every read gets its own reply or error, concurrent reads cost Redis one read event instead of
 * one each (`INFO stats` `total_reads_processed`), and a quiet caller never waits for a batch.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { createRedisStore, readBatcher } from '../../src/store/redis.js';
import type { SessionRecord } from '../../src/store/types.js';
import { StandaloneRedis } from '../helpers/redis-procs.js';

let server: StandaloneRedis;
let redis: Redis;
let other: Redis;
before(async () => {
  server = await StandaloneRedis.start();
  redis = new Redis(server.url);
  other = new Redis(server.url);
  await redis.ping();
  await other.ping();
});
after(async () => {
  redis?.disconnect();
  other?.disconnect();
  await server?.stop();
});

/** `pipeline()` calls and direct `get` calls made on the client. */
function counted(client: Redis): { pipelines: number; direct: number; restore(): void } {
  const c = { pipelines: 0, direct: 0, restore: () => {} };
  const pipeline = client.pipeline.bind(client);
  const get = client.get.bind(client);
  client.pipeline = ((...a: Parameters<Redis['pipeline']>) => {
    c.pipelines++;
    return pipeline(...a);
  }) as Redis['pipeline'];
  client.get = ((...a: Parameters<Redis['get']>) => {
    c.direct++;
    return get(...a);
  }) as Redis['get'];
  c.restore = () => {
    client.pipeline = pipeline as Redis['pipeline'];
    client.get = get as Redis['get'];
  };
  return c;
}

/** Waits until the client is connected (commands fail at once without the offline queue). */
async function ready(client: Redis): Promise<void> {
  for (let i = 0; i < 100 && client.status !== 'ready'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(client.status, 'ready');
}

async function readsProcessed(): Promise<number> {
  const info = await other.info('stats');
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

test('reads one after another go out directly, never as a pipeline', async () => {
  const send = readBatcher(redis);
  const k = `rb-${randomBytes(4).toString('hex')}`;
  await redis.set(k, 'v');
  const c = counted(redis);
  try {
    for (let i = 0; i < 10; i++)
      assert.equal(
        await send(
          () => redis.get(k),
          (p) => p.get(k),
        ),
        'v',
      );
    assert.equal(c.direct, 10);
    assert.equal(c.pipelines, 0);
  } finally {
    c.restore();
  }
});

test('reads that come together share one pipeline and one read on Redis; each gets its own reply or error', async () => {
  const send = readBatcher(redis);
  const tag = randomBytes(4).toString('hex');
  const keys = Array.from({ length: 50 }, (_, i) => `rb-${tag}-${i}`);
  // Every third key holds a value, one key is a set (GET answers WRONGTYPE), the rest are absent.
  for (let i = 0; i < keys.length; i += 3) await redis.set(keys[i]!, `value-${i}`);
  await redis.sadd(keys[1]!, 'member');
  const c = counted(redis);
  const before = await readsProcessed();
  let results: PromiseSettledResult<string | null>[];
  try {
    results = await Promise.allSettled(
      keys.map((k) =>
        send(
          () => redis.get(k),
          (p) => p.get(k),
        ),
      ),
    );
  } finally {
    c.restore();
  }
  const reads = (await readsProcessed()) - before;
  assert.equal(c.direct, 1, 'the first read went out at once');
  assert.equal(c.pipelines, 1, 'the other 49 in one pipeline');
  results.forEach((r, i) => {
    if (i === 1) {
      assert.equal(r.status, 'rejected');
      assert.match(String((r as PromiseRejectedResult).reason), /WRONGTYPE/);
    } else assert.deepEqual(r, { status: 'fulfilled', value: i % 3 === 0 ? `value-${i}` : null }, keys[i]);
  });
  // The direct read, the pipeline, and this test's own INFO call: far fewer than one per read.
  assert.ok(reads <= 4, `Redis read events for 50 reads: ${reads}`);
});

test('a batch whose connection is gone fails every read in it (the store turns that into 503: redis-faults.test.ts), and the next read goes out again', async () => {
  const s = await StandaloneRedis.start();
  const client = new Redis(s.url, {
    maxRetriesPerRequest: 0,
    commandTimeout: 500,
    enableOfflineQueue: false,
    retryStrategy: () => 50,
  });
  client.on('error', () => {});
  try {
    await ready(client);
    const send = readBatcher(client);
    const k = 'rb-gone';
    await client.set(k, 'v');
    await s.kill();
    const results = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        send(
          () => client.get(k),
          (p) => p.get(k),
        ),
      ),
    );
    assert.ok(
      results.every((r) => r.status === 'rejected'),
      JSON.stringify(results.map((r) => r.status)),
    );
    await s.restart();
    await ready(client);
    await client.set(k, 'again');
    assert.equal(
      await send(
        () => client.get(k),
        (p) => p.get(k),
      ),
      'again',
    );
  } finally {
    client.disconnect();
    await s.stop();
  }
});

test('the store: concurrent session reads with and without the last-seen touch return each its own record', async () => {
  const prefix = `rbs-${randomBytes(4).toString('hex')}:`;
  const store = createRedisStore({ url: server.url, keyPrefix: prefix });
  try {
    const now = Date.now();
    const records: SessionRecord[] = Array.from({ length: 40 }, (_, i) => ({
      id: `id-${i}-${randomBytes(6).toString('hex')}`,
      iss: 'https://op.example',
      sub: `user-${i}`,
      claims: { groups: [], roles: [] },
      createdAt: now - 120_000,
      // Half were last seen two minutes ago: their touch is due.
      lastSeenAt: i % 2 === 0 ? now - 120_000 : now - 1000,
      lastRefreshAt: now - 120_000,
      absoluteExpiresAt: now + 3_600_000,
      ext: {},
    }));
    for (const r of records) await store.create(r);
    const touch = { now, afterMs: 60_000, idleMs: 1_800_000 };
    const got = await Promise.all([
      ...records.map((r) => store.get(r.id, touch)),
      ...records.map((r) => store.get(r.id)),
      store.get('absent', touch),
    ]);
    records.forEach((r, i) => {
      const touched = got[i]!;
      assert.equal(touched.sub, r.sub);
      assert.equal(touched.lastSeenAt, i % 2 === 0 ? now : r.lastSeenAt, `touch of ${r.sub}`);
      assert.equal(got[records.length + i]!.sub, r.sub);
    });
    assert.equal(got.at(-1), null);
    // The touches were written: a later plain read sees them.
    for (const [i, r] of records.entries())
      assert.equal((await store.get(r.id))!.lastSeenAt, i % 2 === 0 ? now : r.lastSeenAt);
  } finally {
    await store.close();
  }
});
