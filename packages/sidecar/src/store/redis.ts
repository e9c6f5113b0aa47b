/**
 * Redis session store (many replicas; works with Dify's Redis thanks to the key prefix), on a
 * standalone Redis, behind Sentinel or on a Redis Cluster (see `lib/redis-client.ts`).
 *
 * Keys (all under `keyPrefix`): `session:<id>` (JSON record, TTL = absolute expiry + grace),
 * `sid:<hash(iss,sid)>` and `sub:<hash(iss,sub)>` (sets of session ids), `kv:<key>`.
 *
 * One round trip per gate decision: the record is written with `lastSeenAt` as its first member
 * (`{"lastSeenAt":<ms>,…}`), so {@link SESSION_GET_SCRIPT} reads it and, when the last-seen
 * throttle is due, rewrites only that leading number in place (`SET … KEEPTTL`), atomically, in
 * one `EVALSHA`. A script costs Redis about fifteen times a `GET` (measured with `INFO
 * commandstats`: 14.6 µs against 0.9 µs for a 3.5 KB record), so `get(id, touch)` sends it only
 * when the touch may be due by what this process last saw of the session (a bounded map of id →
 * `lastSeenAt`, {@link TOUCH_HINTS}); otherwise a plain `GET`. If the record read turns out due
 * all the same (another writer set an older `lastSeenAt`), the script follows: two commands, rare.
 * Reads that come together (concurrent gate decisions) leave as one pipeline ({@link readBatcher}).
 * The anchored match cannot hit anything else: it is the
 * first member of the top-level object (a JSON string never holds an unescaped `"`). A record
 * written in another member order is returned untouched and the session plugin rewrites it
 * through `update` (which writes the new order).
 *
 * On Cluster the prefix is a hash tag (`{dify-sso:}session:<id>`): every key of the store lives
 * in one slot, so the MULTI of `create` (session + both indexes), the MGET of `listBySub` and the
 * index walks of `deleteBySid`/`deleteBySub` work unchanged. A per-user tag is not possible:
 * `get(id)` and back-channel logout (`deleteBySid`) do not know the user. The store is small
 * (one record per signed-in person), so one slot is not a capacity limit.
 *
 * @module
 */
import { Redis, type ChainableCommander } from 'ioredis';
import { SessionStoreError } from '../errors.js';
import { sha256 } from '../lib/crypto.js';
import {
  createRedisClient,
  withDeadline,
  type RedisClient,
  type RedisClientTuning,
  type RedisConnectionSettings,
} from '../lib/redis-client.js';
import {
  STORE_GRACE_SECONDS,
  type KvStore,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
  type SessionTouch,
} from './types.js';

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** `redis://` or `rediss://` URL (ignored when `client` or `settings` is given). */
  url?: string;
  /** Connection settings of any topology (ignored when `client` is given). */
  settings?: RedisConnectionSettings;
  /** An existing ioredis client or Cluster (not closed by the store). */
  client?: RedisClient;
  /** Client timeouts and retries (default {@link STORE_REDIS_TUNING}); one store operation ends after command + connect timeout. */
  tuning?: RedisClientTuning;
  /** Prefix of every key (e.g. `dify-sso:`); a hash tag on Cluster. */
  keyPrefix: string;
  /** Injectable clock (epoch ms). */
  now?: () => number;
}

/** Client behaviour of the store: fail fast (the gate fails closed), retry once across a reconnect. */
export const STORE_REDIS_TUNING = { maxRetriesPerRequest: 1, commandTimeoutMs: 3000, connectTimeoutMs: 3000 } as const;

/**
 * The key prefix as used on `client`: on Cluster wrapped into a hash tag unless it has one.
 *
 * @example
 * ```ts
 * storeKeyPrefix('dify-sso:', true) // '{dify-sso:}'
 * storeKeyPrefix('dify-sso:', false) // 'dify-sso:'
 * ```
 */
export function storeKeyPrefix(keyPrefix: string, cluster: boolean): string {
  if (!cluster || /\{[^{}]+\}/.test(keyPrefix)) return keyPrefix;
  return `{${keyPrefix}}`;
}

/**
 * Lua of `get(id, touch)`: `GET`, and when `ARGV[1] - lastSeenAt` is in `[ARGV[2], ARGV[3])`
 * (touch due, not idle-expired) the leading `lastSeenAt` becomes `ARGV[1]` (`SET … KEEPTTL`).
 * Returns the (possibly touched) JSON or nil. One key: works on Cluster.
 */
export const SESSION_GET_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if not v then return false end
local head, seen = string.match(v, '^({"lastSeenAt":(%d+))[,}]')
if not head then return v end
local now = tonumber(ARGV[1])
local age = now - tonumber(seen)
if age >= tonumber(ARGV[2]) and age < tonumber(ARGV[3]) then
  v = '{"lastSeenAt":' .. ARGV[1] .. string.sub(v, #head + 1)
  redis.call('SET', KEYS[1], v, 'KEEPTTL')
end
return v
`;

/** Name of {@link SESSION_GET_SCRIPT} on the ioredis client (`defineCommand`: EVALSHA, EVAL on NOSCRIPT). */
const GET_COMMAND = 'difySsoSessionGet';
type ScriptedClient = RedisClient & { [GET_COMMAND](key: string, ...args: string[]): Promise<string | null> };

/** Sessions whose last-seen time this process remembers (oldest forgotten first); about 150 bytes each. */
export const TOUCH_HINTS = 20_000;

/**
 * Sends the gate's session reads ({@link createRedisStore} `get`): at once while no read is
 * awaiting its reply — one connection, a quiet sidecar: nothing is added to the latency — and
 * otherwise gathered until the end of this event-loop turn (`setImmediate`) and sent as one
 * pipeline: one write, one read on Redis and one wake-up for the batch instead of one per
 * decision. Under concurrency the replies to the reads in flight come no sooner than that anyway.
 * Each command keeps its own reply, error and the client's command timeout (ioredis pipelines
 * send every command through `sendCommand`).
 *
 * @example
 * ```ts
 * const send = readBatcher(redis)
 * const json = await send(() => redis.get(key), (p) => p.get(key))
 * ```
 */
export function readBatcher(
  redis: RedisClient,
): <T>(direct: () => Promise<T>, queue: (p: ChainableCommander) => void) => Promise<T> {
  type Waiting = {
    queue: (p: ChainableCommander) => void;
    resolve: (v: never) => void;
    reject: (e: unknown) => void;
  };
  let inFlight = 0;
  let batch: Waiting[] | undefined;
  const settle = (n: number) => () => {
    inFlight -= n;
  };
  const flush = () => {
    const items = batch as Waiting[];
    batch = undefined;
    const p = redis.pipeline();
    for (const w of items) w.queue(p);
    inFlight += items.length;
    p.exec()
      .then(
        (results) =>
          items.forEach((w, i) => {
            const [err, value] = results?.[i] ?? [new Error('pipeline aborted'), null];
            if (err) w.reject(err);
            else w.resolve(value as never);
          }),
        (err: unknown) => {
          for (const w of items) w.reject(err);
        },
      )
      .finally(settle(items.length));
  };
  return <T>(direct: () => Promise<T>, queue: (p: ChainableCommander) => void): Promise<T> => {
    if (inFlight === 0 && batch === undefined) {
      inFlight++;
      return direct().finally(settle(1));
    }
    return new Promise<T>((resolve, reject) => {
      if (batch === undefined) {
        batch = [];
        setImmediate(flush);
      }
      batch.push({ queue, resolve: resolve as (v: never) => void, reject });
    });
  };
}

/** The record as stored: `lastSeenAt` first (see {@link SESSION_GET_SCRIPT}). */
function serialise(record: SessionRecord): string {
  const { lastSeenAt, ...rest } = record;
  return JSON.stringify({ lastSeenAt: Math.floor(lastSeenAt), ...rest });
}

async function wrapWithin<T>(deadlineMs: number, op: () => Promise<T>): Promise<T> {
  try {
    // Upper bound of one store operation (several commands), whatever the topology does meanwhile.
    return await withDeadline(op(), deadlineMs);
  } catch (cause) {
    throw new SessionStoreError('ERR_SESSION_STORE_UNAVAILABLE', 'session store operation failed', {
      cause,
      reason: 'session_error',
    });
  }
}

/**
 * Creates a Redis-backed {@link SessionStore}.
 *
 * @example
 * ```ts
 * const store = createRedisStore({ url: 'redis://127.0.0.1:6379', keyPrefix: 'dify-sso:' })
 * ```
 */
export function createRedisStore(options: RedisStoreOptions): SessionStore {
  const now = options.now ?? Date.now;
  const tuning = options.tuning ?? STORE_REDIS_TUNING;
  const wrap = <T>(op: () => Promise<T>): Promise<T> =>
    wrapWithin(tuning.commandTimeoutMs + tuning.connectTimeoutMs, op);
  const owned = !options.client;
  const redis: RedisClient =
    options.client ??
    (options.settings
      ? createRedisClient(options.settings, tuning)
      : new Redis(options.url ?? 'redis://127.0.0.1:6379', {
          maxRetriesPerRequest: tuning.maxRetriesPerRequest,
          commandTimeout: tuning.commandTimeoutMs,
          connectTimeout: tuning.connectTimeoutMs,
          enableReadyCheck: true,
          lazyConnect: false,
        }));
  if (owned) redis.on('error', () => {}); // surfaced through command failures / readiness
  if (!(GET_COMMAND in redis)) redis.defineCommand(GET_COMMAND, { numberOfKeys: 1, lua: SESSION_GET_SCRIPT });
  const scripted = redis as ScriptedClient;
  const p = storeKeyPrefix(options.keyPrefix, redis.isCluster);
  const sessionKey = (id: string) => `${p}session:${id}`;
  const sidKey = (iss: string, sid: string) => `${p}sid:${sha256(`${iss}\u0000${sid}`)}`;
  const subKey = (iss: string, sub: string) => `${p}sub:${sha256(`${iss}\u0000${sub}`)}`;
  const kvKey = (k: string) => `${p}kv:${k}`;

  const parse = (json: string | null): SessionRecord | null => (json ? (JSON.parse(json) as SessionRecord) : null);
  const hints = new Map<string, number>();
  const hint = (r: SessionRecord | null, id: string): SessionRecord | null => {
    hints.delete(id);
    if (r) {
      hints.set(id, r.lastSeenAt);
      if (hints.size > TOUCH_HINTS) hints.delete(hints.keys().next().value as string);
    }
    return r;
  };
  const due = (seen: number, t: SessionTouch) => t.now - seen >= t.afterMs && t.now - seen < t.idleMs;
  const send = readBatcher(redis);
  const readSession = (id: string) => {
    const key = sessionKey(id);
    return send(
      () => redis.get(key),
      (b) => b.get(key),
    );
  };
  const scriptedGet = async (id: string, t: SessionTouch) => {
    const args = [sessionKey(id), String(Math.floor(t.now)), String(t.afterMs), String(t.idleMs)] as const;
    return parse(
      await send(
        () => scripted[GET_COMMAND](...args),
        (b) => (b as unknown as ScriptedClient)[GET_COMMAND](...args),
      ),
    );
  };

  const remove = async (id: string): Promise<SessionRecord | null> => {
    const json = await redis.getdel(sessionKey(id));
    const r = parse(json);
    if (r) {
      const m = redis.multi();
      if (r.sid) m.srem(sidKey(r.iss, r.sid), id);
      m.srem(subKey(r.iss, r.sub), id);
      await m.exec();
    }
    return r;
  };
  const removeIndex = async (key: string): Promise<SessionRecord[]> => {
    const ids = await redis.smembers(key);
    const out: SessionRecord[] = [];
    for (const id of ids) {
      const r = await remove(id);
      if (r) out.push(r);
    }
    await redis.del(key);
    return out;
  };

  const kv: KvStore = {
    get: (key) => wrap(() => redis.get(kvKey(key))),
    set: (key, value, ttl) =>
      wrap(async () => {
        if (ttl > 0) await redis.set(kvKey(key), value, 'EX', ttl);
        else await redis.set(kvKey(key), value);
      }),
    del: (key) =>
      wrap(async () => {
        await redis.del(kvKey(key));
      }),
    setIfAbsent: (key, value, ttl) =>
      wrap(async () => {
        const res =
          ttl > 0 ? await redis.set(kvKey(key), value, 'EX', ttl, 'NX') : await redis.set(kvKey(key), value, 'NX');
        return res === 'OK';
      }),
    getDel: (key) => wrap(() => redis.getdel(kvKey(key))),
  };

  return {
    kind: 'redis',
    kv,
    get: (id, touch) =>
      wrap(async () => {
        if (!touch) return parse(await readSession(id));
        const known = hints.get(id);
        if (known === undefined || due(known, touch)) return hint(await scriptedGet(id, touch), id);
        const r = parse(await readSession(id));
        return hint(r && due(r.lastSeenAt, touch) ? await scriptedGet(id, touch) : r, id);
      }),
    create: (record) =>
      wrap(async () => {
        const ttlMs = Math.max(1000, record.absoluteExpiresAt - now() + STORE_GRACE_SECONDS * 1000);
        const m = redis.multi();
        m.set(sessionKey(record.id), serialise(record), 'PX', ttlMs);
        if (record.sid) {
          m.sadd(sidKey(record.iss, record.sid), record.id);
          m.pexpire(sidKey(record.iss, record.sid), ttlMs);
        }
        m.sadd(subKey(record.iss, record.sub), record.id);
        m.pexpire(subKey(record.iss, record.sub), ttlMs);
        const res = await m.exec();
        const failed = res?.find(([err]) => err);
        if (!res || failed) throw failed?.[0] ?? new Error('transaction aborted');
      }),
    update: (id, patch: SessionPatch) =>
      wrap(async () => {
        const current = parse(await redis.get(sessionKey(id)));
        if (!current) return null;
        const next = { ...current, ...patch };
        const ok = await redis.set(sessionKey(id), serialise(next), 'KEEPTTL', 'XX');
        return hint(ok === 'OK' ? next : null, id);
      }),
    delete: (id) =>
      wrap(() => {
        hints.delete(id);
        return remove(id);
      }),
    deleteBySid: (iss, sid) => wrap(() => removeIndex(sidKey(iss, sid))),
    deleteBySub: (iss, sub) => wrap(() => removeIndex(subKey(iss, sub))),
    listBySub: (iss, sub) =>
      wrap(async () => {
        const ids = await redis.smembers(subKey(iss, sub));
        if (ids.length === 0) return [];
        const values = await redis.mget(ids.map(sessionKey));
        const out: SessionRecord[] = [];
        const stale: string[] = [];
        values.forEach((v, i) => {
          const r = parse(v);
          if (r) out.push(r);
          else stale.push(ids[i]!);
        });
        if (stale.length > 0) await redis.srem(subKey(iss, sub), ...stale);
        return out;
      }),
    ping: () =>
      wrap(async () => {
        await redis.ping();
      }),
    close: async () => {
      if (owned) redis.disconnect();
    },
  };
}
