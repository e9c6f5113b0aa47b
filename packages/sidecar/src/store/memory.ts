/**
 * In-memory session store (single instance; default).
 *
 * - Records are deep-frozen when written and handed out as they are: a read costs no copy, and
 *   no caller can change a stored record except through {@link SessionStore.update}.
 * - Bounded: at most `maxSessions` sessions; past that the least recently used one (by creation
 *   or last update, which the session plugin does at most once a minute per session) is evicted.
 * - Expired sessions and KV entries are swept as new ones are written (a few per write), so an
 *   idle store does not grow with abandoned sessions.
 * - Compact: a record is copied field by field (no `structuredClone`), strings many sessions
 *   share (issuer, group and role names) are kept once, empty `ext` and claim lists share one
 *   frozen instance, and the `(iss, sid)` / `(iss, sub)` indexes hold a bare id until a second
 *   session shares the key (a `Set` only then), keyed per issuer by the record's own strings.
 *   See the sidecar README (Memory) for the measured cost per session.
 *
 * @module
 */
import {
  STORE_GRACE_SECONDS,
  type KvStore,
  type SessionClaims,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from './types.js';

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

/** Distinct shared strings kept (issuers, group and role names); past it strings are stored as given. */
const INTERN_LIMIT = 10_000;
const EMPTY_LIST: readonly string[] = Object.freeze([]);
const EMPTY_EXT: Record<string, unknown> = Object.freeze({});

/** An index from a key (sid or sub) of one issuer to the ids of its sessions: a bare id while there is one. */
type Index = Map<string, Map<string, string | Set<string>>>;

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
  const bySid: Index = new Map();
  const bySub: Index = new Map();
  const pool = new Map<string, string>();
  const intern = (v: string): string => {
    const known = pool.get(v);
    if (known !== undefined) return known;
    if (pool.size < INTERN_LIMIT) pool.set(v, v);
    return v;
  };
  const list = (xs: readonly string[]): string[] =>
    xs.length === 0 ? (EMPTY_LIST as string[]) : (Object.freeze(xs.map(intern)) as string[]);
  const compactClaims = (c: SessionClaims): SessionClaims => {
    const { groups, roles, ...rest } = c;
    return Object.freeze({ groups: list(groups), roles: list(roles), ...copy(rest) });
  };
  /** A frozen copy of `r` that shares nothing mutable with the caller. */
  const compact = (r: SessionRecord): SessionRecord => {
    const { iss, claims, ext, ...rest } = r;
    return deepFreeze({
      ...rest,
      iss: intern(iss),
      claims: compactClaims(claims),
      ext: Object.keys(ext).length === 0 ? EMPTY_EXT : structuredClone(ext),
    }) as SessionRecord;
  };
  // Scalars are copied as they are (strings are immutable); anything nested is cloned.
  function copy<T extends object>(o: T): T {
    return Object.values(o).some((v) => v !== null && typeof v === 'object') ? structuredClone(o) : { ...o };
  }

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
  const addIndex = (index: Index, iss: string, key: string, id: string) => {
    let keys = index.get(iss);
    if (!keys) {
      keys = new Map();
      index.set(iss, keys);
    }
    const cur = keys.get(key);
    if (cur === undefined || cur === id) keys.set(key, id);
    else if (typeof cur === 'string') keys.set(key, new Set([cur, id]));
    else cur.add(id);
  };
  const dropIndex = (index: Index, iss: string, key: string, id: string) => {
    const keys = index.get(iss);
    const cur = keys?.get(key);
    if (!keys || cur === undefined) return;
    if (typeof cur === 'string') {
      if (cur === id) keys.delete(key);
    } else {
      cur.delete(id);
      if (cur.size === 1) keys.set(key, cur.values().next().value as string);
    }
    if (keys.size === 0) index.delete(iss);
  };
  const idsOf = (index: Index, iss: string, key: string): string[] => {
    const cur = index.get(iss)?.get(key);
    return cur === undefined ? [] : typeof cur === 'string' ? [cur] : [...cur];
  };
  const unindex = (r: SessionRecord) => {
    if (r.sid) dropIndex(bySid, r.iss, r.sid, r.id);
    dropIndex(bySub, r.iss, r.sub, r.id);
  };
  /** Removes a session; returns it when it was still live. */
  function remove(id: string): SessionRecord | null {
    const e = sessions.get(id);
    if (!e) return null;
    sessions.delete(id);
    unindex(e.value);
    return e.expiresAt > now() ? e.value : null;
  }
  const removeAll = (ids: readonly string[]): SessionRecord[] => {
    const out: SessionRecord[] = [];
    for (const id of ids) {
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
      const r = compact(record);
      remove(r.id);
      sessions.set(r.id, { value: r, expiresAt: r.absoluteExpiresAt + STORE_GRACE_SECONDS * 1000 });
      if (r.sid) addIndex(bySid, r.iss, r.sid, r.id);
      addIndex(bySub, r.iss, r.sub, r.id);
      sweepSessions();
    },
    async update(id, patch: SessionPatch) {
      const e = sessions.get(id);
      if (!e || live(sessions, id) === null) return null;
      const { claims, ext, ...rest } = structuredClone(patch);
      const next = deepFreeze({
        ...e.value,
        ...rest,
        ...(claims ? { claims: compactClaims(claims) } : {}),
        ...(ext ? { ext: Object.keys(ext).length === 0 ? EMPTY_EXT : ext } : {}),
      });
      // Re-insert: the most recently written session moves to the end (LRU order).
      sessions.delete(id);
      sessions.set(id, { value: next, expiresAt: e.expiresAt });
      return next;
    },
    async delete(id) {
      return remove(id);
    },
    async deleteBySid(iss, sid) {
      return removeAll(idsOf(bySid, iss, sid));
    },
    async deleteBySub(iss, sub) {
      return removeAll(idsOf(bySub, iss, sub));
    },
    async listBySub(iss, sub) {
      const out: SessionRecord[] = [];
      for (const id of idsOf(bySub, iss, sub)) {
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
      pool.clear();
    },
  };
}
