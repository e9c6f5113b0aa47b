/**
 * In-memory session store (single instance; default).
 *
 * - Records are deep-frozen when written and handed out as they are: a read costs no copy, and
 *   no caller can change a stored record except through {@link SessionStore.update}.
 * - Bounded: at most `maxSessions` sessions; past that the least recently used one (by creation
 *   or last update, which the session plugin does at most once a minute per session) is evicted.
 * - Expired sessions and KV entries are swept as new ones are written (a few per write), so an
 *   idle store does not grow with abandoned sessions.
 *
 * @module
 */
import { STORE_GRACE_SECONDS, type KvStore, type SessionPatch, type SessionRecord, type SessionStore } from './types.js';

interface Entry<T> {
  value: T;
  expiresAt: number; // epoch ms; Infinity = never
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /** Upper bound of sessions kept (least recently used evicted first). Default 100,000. */
  readonly maxSessions?: number;
  /** Upper bound of KV entries kept (oldest evicted first). Default 4 × `maxSessions`. */
  readonly maxKvEntries?: number;
}

/** Entries looked at per write by the incremental expiry sweep. */
const SWEEP_PER_WRITE = 4;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}

/** The memory store, with its current size (for metrics and tests). */
export interface MemorySessionStore extends SessionStore {
  readonly kind: 'memory';
  /** Entries currently held (expired ones not yet swept included). */
  stats(): { sessions: number; kvEntries: number };
}

/**
 * Creates an in-memory {@link SessionStore}.
 *
 * @param now injectable clock (epoch ms), for tests.
 * @example
 * ```ts
 * const store = createMemoryStore(Date.now, { maxSessions: 50_000 })
 * ```
 */
export function createMemoryStore(now: () => number = Date.now, options: MemoryStoreOptions = {}): MemorySessionStore {
  const maxSessions = options.maxSessions ?? 100_000;
  const maxKv = options.maxKvEntries ?? maxSessions * 4;
  if (!Number.isInteger(maxSessions) || maxSessions < 1) {
    throw Object.assign(new TypeError('"maxSessions" must be a positive integer'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  // Map iteration order is insertion order: re-inserting on write keeps the least recently
  // written entry first, which makes both LRU eviction and the expiry sweep O(1) per step.
  const sessions = new Map<string, Entry<SessionRecord>>();
  const kvMap = new Map<string, Entry<string>>();
  const bySid = new Map<string, Set<string>>();
  const bySub = new Map<string, Set<string>>();
  const sidKey = (iss: string, sid: string) => `${iss}\u0000${sid}`;
  const subKey = (iss: string, sub: string) => `${iss}\u0000${sub}`;

  const live = <T>(map: Map<string, Entry<T>>, key: string): T | null => {
    const e = map.get(key);
    if (!e) return null;
    if (e.expiresAt <= now()) {
      if (map === (sessions as Map<string, Entry<unknown>>)) remove(key);
      else map.delete(key);
      return null;
    }
    return e.value;
  };
  const addIndex = (index: Map<string, Set<string>>, key: string, id: string) => {
    let set = index.get(key);
    if (!set) index.set(key, (set = new Set()));
    set.add(id);
  };
  const dropIndex = (index: Map<string, Set<string>>, key: string, id: string) => {
    const set = index.get(key);
    if (!set) return;
    set.delete(id);
    if (set.size === 0) index.delete(key);
  };
  const unindex = (r: SessionRecord) => {
    if (r.sid) dropIndex(bySid, sidKey(r.iss, r.sid), r.id);
    dropIndex(bySub, subKey(r.iss, r.sub), r.id);
  };
  /** Removes a session; returns it when it was still live. */
  function remove(id: string): SessionRecord | null {
    const e = sessions.get(id);
    if (!e) return null;
    sessions.delete(id);
    unindex(e.value);
    return e.expiresAt > now() ? e.value : null;
  }
  const removeSet = (set: Set<string> | undefined): SessionRecord[] => {
    const out: SessionRecord[] = [];
    for (const id of [...(set ?? [])]) {
      const r = remove(id);
      if (r) out.push(r);
    }
    return out;
  };
  /** Drops up to SWEEP_PER_WRITE expired entries from the front, and the oldest past `max`. */
  function sweep<T>(map: Map<string, Entry<T>>, max: number, drop: (key: string) => void): void {
    const t = now();
    let looked = 0;
    for (const [key, e] of map) {
      if (map.size > max) {
        drop(key);
        continue;
      }
      if (looked++ >= SWEEP_PER_WRITE) break;
      if (e.expiresAt <= t) drop(key);
    }
  }
  const sweepSessions = () => sweep(sessions, maxSessions, (id) => void remove(id));
  const sweepKv = () => sweep(kvMap, maxKv, (key) => void kvMap.delete(key));
  const putKv = (key: string, value: string, ttlSeconds: number) => {
    kvMap.delete(key);
    kvMap.set(key, { value, expiresAt: ttlSeconds > 0 ? now() + ttlSeconds * 1000 : Infinity });
    sweepKv();
  };

  const kv: KvStore = {
    async get(key) {
      return live(kvMap, key);
    },
    async set(key, value, ttlSeconds) {
      putKv(key, value, ttlSeconds);
    },
    async del(key) {
      kvMap.delete(key);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(kvMap, key) !== null) return false;
      putKv(key, value, ttlSeconds);
      return true;
    },
    async getDel(key) {
      const v = live(kvMap, key);
      kvMap.delete(key);
      return v;
    },
  };

  return {
    kind: 'memory',
    kv,
    async get(id, touch) {
      const r = live(sessions, id);
      if (!r || !touch) return r;
      const age = touch.now - r.lastSeenAt;
      if (age < touch.afterMs || age >= touch.idleMs) return r;
      const e = sessions.get(id) as Entry<SessionRecord>;
      const next = Object.freeze({ ...r, lastSeenAt: touch.now });
      sessions.delete(id);
      sessions.set(id, { value: next, expiresAt: e.expiresAt });
      return next;
    },
    async create(record) {
      const r = deepFreeze(structuredClone(record));
      remove(r.id);
      sessions.set(r.id, { value: r, expiresAt: r.absoluteExpiresAt + STORE_GRACE_SECONDS * 1000 });
      if (r.sid) addIndex(bySid, sidKey(r.iss, r.sid), r.id);
      addIndex(bySub, subKey(r.iss, r.sub), r.id);
      sweepSessions();
    },
    async update(id, patch: SessionPatch) {
      const e = sessions.get(id);
      if (!e || live(sessions, id) === null) return null;
      const next = deepFreeze({ ...e.value, ...structuredClone(patch) });
      // Re-insert: the most recently written session moves to the end (LRU order).
      sessions.delete(id);
      sessions.set(id, { value: next, expiresAt: e.expiresAt });
      return next;
    },
    async delete(id) {
      return remove(id);
    },
    async deleteBySid(iss, sid) {
      return removeSet(bySid.get(sidKey(iss, sid)));
    },
    async deleteBySub(iss, sub) {
      return removeSet(bySub.get(subKey(iss, sub)));
    },
    async listBySub(iss, sub) {
      const out: SessionRecord[] = [];
      for (const id of [...(bySub.get(subKey(iss, sub)) ?? [])]) {
        const r = live(sessions, id);
        if (r) out.push(r);
      }
      return out;
    },
    stats() {
      return { sessions: sessions.size, kvEntries: kvMap.size };
    },
    async ping() {},
    async close() {
      sessions.clear();
      kvMap.clear();
      bySid.clear();
      bySub.clear();
    },
  };
}
