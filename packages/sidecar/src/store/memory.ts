/**
 * In-memory session store (single instance; default).
 *
 * @module
 */
import { STORE_GRACE_SECONDS, type KvStore, type SessionPatch, type SessionRecord, type SessionStore } from './types.js';

interface Entry<T> {
  value: T;
  expiresAt: number; // epoch ms; Infinity = never
}

/**
 * Creates an in-memory {@link SessionStore}.
 *
 * @param now injectable clock (epoch ms), for tests.
 * @example
 * ```ts
 * const store = createMemoryStore()
 * ```
 */
export function createMemoryStore(now: () => number = Date.now): SessionStore {
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
      map.delete(key);
      return null;
    }
    return e.value;
  };
  const clone = (r: SessionRecord): SessionRecord => structuredClone(r);
  const unindex = (r: SessionRecord) => {
    if (r.sid) bySid.get(sidKey(r.iss, r.sid))?.delete(r.id);
    bySub.get(subKey(r.iss, r.sub))?.delete(r.id);
  };
  const remove = (id: string): SessionRecord | null => {
    const r = live(sessions, id);
    const raw = sessions.get(id)?.value;
    sessions.delete(id);
    if (raw) unindex(raw);
    return r ? clone(r) : null;
  };
  const removeSet = (set: Set<string> | undefined): SessionRecord[] => {
    const out: SessionRecord[] = [];
    for (const id of [...(set ?? [])]) {
      const r = remove(id);
      if (r) out.push(r);
    }
    return out;
  };

  const kv: KvStore = {
    async get(key) {
      return live(kvMap, key);
    },
    async set(key, value, ttlSeconds) {
      kvMap.set(key, { value, expiresAt: ttlSeconds > 0 ? now() + ttlSeconds * 1000 : Infinity });
    },
    async del(key) {
      kvMap.delete(key);
    },
    async setIfAbsent(key, value, ttlSeconds) {
      if (live(kvMap, key) !== null) return false;
      kvMap.set(key, { value, expiresAt: ttlSeconds > 0 ? now() + ttlSeconds * 1000 : Infinity });
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
    async get(id) {
      const r = live(sessions, id);
      return r ? clone(r) : null;
    },
    async create(record) {
      const r = clone(record);
      sessions.set(r.id, { value: r, expiresAt: r.absoluteExpiresAt + STORE_GRACE_SECONDS * 1000 });
      if (r.sid) {
        const k = sidKey(r.iss, r.sid);
        if (!bySid.has(k)) bySid.set(k, new Set());
        bySid.get(k)!.add(r.id);
      }
      const k = subKey(r.iss, r.sub);
      if (!bySub.has(k)) bySub.set(k, new Set());
      bySub.get(k)!.add(r.id);
    },
    async update(id, patch: SessionPatch) {
      const e = sessions.get(id);
      if (!e || live(sessions, id) === null) return null;
      e.value = { ...e.value, ...structuredClone(patch) };
      return clone(e.value);
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
      for (const id of bySub.get(subKey(iss, sub)) ?? []) {
        const r = live(sessions, id);
        if (r) out.push(clone(r));
      }
      return out;
    },
    async ping() {},
    async close() {
      sessions.clear();
      kvMap.clear();
    },
  };
}
