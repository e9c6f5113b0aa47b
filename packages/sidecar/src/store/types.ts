/**
 * Session store contract shared by the memory and Redis implementations.
 *
 * @module
 */

/** Claims kept on the session for policy decisions and the Dify bridge. */
export interface SessionClaims {
  /** Group names (from the preset's groups claim). */
  groups: string[];
  /** Role names (from the preset's roles claim, e.g. Keycloak realm/client roles). */
  roles: string[];
  /** E-mail address, if the IdP released one. */
  email?: string;
  /** Whether the IdP says the e-mail is verified. */
  emailVerified?: boolean;
  /** Display name. */
  name?: string;
  /** `preferred_username`, if any. */
  preferredUsername?: string;
}

/** A server-side session record. Timestamps are epoch milliseconds. */
export interface SessionRecord {
  /** Store key: SHA-256 of the opaque cookie value (the cookie value itself is never stored). */
  id: string;
  /** Issuer of the ID token. */
  iss: string;
  /** Subject at the issuer. A person is `(iss, sub)`. */
  sub: string;
  /** IdP session id (`sid` claim), when the IdP sends one. */
  sid?: string;
  /** Claims needed for policy and role mapping. */
  claims: SessionClaims;
  /** IdP tokens (ID, access, refresh), encrypted at rest (JWE dir/A256GCM, key derived from the session secret). */
  tokens?: string;
  /** When the session was created. */
  createdAt: number;
  /** Last time the session was used (throttled). */
  lastSeenAt: number;
  /** Hard end of the session (created + absolute timeout). */
  absoluteExpiresAt: number;
  /** Last successful liveness refresh at the IdP (or login time). */
  lastRefreshAt: number;
  /** Linked Dify account id (set by the bridge). */
  difyAccountId?: string;
  /** Hash of the Dify refresh token seeded for this session (set by the bridge). */
  difyRefreshTokenHash?: string;
  /** Free-form extension data (JSON-serialisable). */
  ext: Record<string, unknown>;
}

/** Fields that may be changed by {@link SessionStore.update}. */
export type SessionPatch = Partial<Omit<SessionRecord, 'id' | 'iss' | 'sub' | 'sid' | 'createdAt'>>;

/**
 * Last-seen update folded into {@link SessionStore.get}: when the record was last seen at least
 * `afterMs` and less than `idleMs` ago, the store sets `lastSeenAt` to `now` in the same
 * operation (on Redis: one command) and returns the touched record. A record already idle for
 * `idleMs` is returned untouched (never revived).
 */
export interface SessionTouch {
  /** Current time (epoch ms). */
  readonly now: number;
  /** Minimum age of `lastSeenAt` before it is moved (throttle). */
  readonly afterMs: number;
  /** Idle timeout: a record last seen this long ago is left as it is. */
  readonly idleMs: number;
}

/** Small key-value helper (key-prefixed, TTL-bound), used for jti replay, account links, break-glass tokens. */
export interface KvStore {
  /** Value of `key`, or `null`. */
  get(key: string): Promise<string | null>;
  /** Sets `key` to `value` for `ttlSeconds` (0 = no expiry). */
  set(key: string, value: string, ttlSeconds: number): Promise<void>;
  /** Deletes `key`. */
  del(key: string): Promise<void>;
  /** Sets `key` only if absent; `true` when this call set it (atomic on Redis). */
  setIfAbsent(key: string, value: string, ttlSeconds: number): Promise<boolean>;
  /** Atomically reads and deletes `key` (single-use tokens). */
  getDel(key: string): Promise<string | null>;
}

/**
 * Session store: memory (one instance) or Redis (replicas). Indexed by `(iss, sid)` and
 * `(iss, sub)` so back-channel logout and "end all sessions of a user" are O(sessions of that user).
 */
export interface SessionStore {
  /** Which implementation this is. */
  readonly kind: 'memory' | 'redis';
  /**
   * Record by id, or `null` (expired by TTL or deleted). With `touch`, also moves `lastSeenAt`
   * as {@link SessionTouch} says, in the same round trip; a store that cannot returns the record
   * untouched and the caller falls back to {@link SessionStore.update}.
   */
  get(id: string, touch?: SessionTouch): Promise<SessionRecord | null>;
  /** Stores a new record; it expires from the store one hour after `absoluteExpiresAt`. */
  create(record: SessionRecord): Promise<void>;
  /** Merges `patch` into an existing record (never recreates a deleted one); returns the new record or `null`. */
  update(id: string, patch: SessionPatch): Promise<SessionRecord | null>;
  /** Deletes one record; returns it if it existed. */
  delete(id: string): Promise<SessionRecord | null>;
  /** Deletes every session of IdP session `sid` at `iss`; returns them. */
  deleteBySid(iss: string, sid: string): Promise<SessionRecord[]>;
  /** Deletes every session of user `(iss, sub)`; returns them. */
  deleteBySub(iss: string, sub: string): Promise<SessionRecord[]>;
  /** Lists every live session of user `(iss, sub)`. */
  listBySub(iss: string, sub: string): Promise<SessionRecord[]>;
  /** Generic small KV (same prefix/backend). */
  readonly kv: KvStore;
  /** Throws if the backend is unreachable. */
  ping(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}

/** Seconds a record stays in the store after its absolute expiry (so expiry is reported as `expired`, not `revoked`). */
export const STORE_GRACE_SECONDS = 3600;
