/**
 * Back-channel logouts that arrived while the session store was unreachable. The logout token
 * was verified (signature, `iss`, `aud`, `events`, …) but its sessions could not be deleted: the
 * OP is answered 503 (so the failure is visible on its side), and the logout is kept here and
 * retried every second until the store answers again, so that the session cannot outlive it
 * once Redis is back. While the store is down the gate refuses every request anyway (503), and
 * {@link withPendingLogouts} makes every session read of this process apply the waiting logouts
 * first: no request of this process can pass on such a session between the store's return and
 * the next retry.
 *
 * Bounded: entries expire after the session absolute timeout (no session they could match is
 * still alive then) and at most `maxEntries` are held (past that the oldest is dropped and an
 * error is logged). Held in the receiving process only: if that process dies before the store
 * is back, the OP's own retry (or the session's idle/absolute timeout) is what remains.
 *
 * @module
 */
import { SessionStoreError } from '../errors.js';
import type { SessionRecord, SessionStore } from '../store/types.js';

/** One deferred logout: every session of `(iss, sid)`, or of `(iss, sub)` when there is no `sid`. */
export interface DeferredLogout {
  iss: string;
  sid?: string;
  sub?: string;
}

/** What {@link PendingLogouts} reports to (set by the back-channel logout route). */
export interface PendingLogoutsHooks {
  /** Runs the session-end hooks (cause `backchannel`) for each ended session. */
  ended(session: SessionRecord): Promise<void>;
  /** Audits the completed logout (`auth.backchannel`, `deferred: true`). */
  done(logout: DeferredLogout, count: number): void;
  log: { error(obj: object, msg: string): void };
  /** How long an entry is retried (ms): the session absolute timeout. */
  ttlMs: number;
  retryMs?: number;
  maxEntries?: number;
}

const registry = new WeakMap<SessionStore, PendingLogouts>();

/**
 * Wraps the session store so that every `get` first applies the deferred back-channel logouts
 * (one branch when there are none; `ERR_SESSION_STORE_UNAVAILABLE` while they cannot be
 * applied). The {@link PendingLogouts} of the returned store is {@link pendingLogoutsOf} it.
 *
 * @example
 * ```ts
 * const store = withPendingLogouts(createStore(config))
 * ```
 */
export function withPendingLogouts(store: SessionStore): SessionStore {
  const pending = new PendingLogouts(store);
  const guarded: SessionStore = Object.freeze({
    ...store,
    kind: store.kind,
    get: async (id: string, touch?: Parameters<SessionStore['get']>[1]) => {
      if (pending.size > 0) {
        await pending.flush();
        if (pending.size > 0)
          throw new SessionStoreError(
            'ERR_SESSION_STORE_UNAVAILABLE',
            'deferred back-channel logouts not applied yet',
            { reason: 'session_error' },
          );
      }
      return store.get(id, touch);
    },
  });
  registry.set(guarded, pending);
  return guarded;
}

/** The deferred logouts of a store built by {@link withPendingLogouts}. */
export function pendingLogoutsOf(store: SessionStore): PendingLogouts | undefined {
  return registry.get(store);
}

/**
 * Retries deferred back-channel logouts until the store answers.
 *
 * @example
 * ```ts
 * const pending = pendingLogoutsOf(app.sso.store)
 * pending?.configure({ ended, done, log, ttlMs: 12 * 3600_000 }); pending?.add({ iss, sid })
 * ```
 */
export class PendingLogouts {
  #store: SessionStore;
  #d: PendingLogoutsHooks | undefined;
  #items = new Map<string, DeferredLogout & { until: number }>();
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;

  constructor(store: SessionStore) {
    this.#store = store;
  }

  /** Sets where completed logouts are reported (before the first {@link PendingLogouts.add}). */
  configure(hooks: PendingLogoutsHooks): void {
    this.#d = hooks;
    this.#closed = false;
  }

  /** Number of logouts waiting for the store. */
  get size(): number {
    return this.#items.size;
  }

  /** Keeps `logout` for retry (the same `iss`/`sid`/`sub` only once). */
  add(logout: DeferredLogout): void {
    if (!this.#d) throw new TypeError('PendingLogouts.configure() was not called');
    const key = `${logout.iss}\u0000${logout.sid ?? ''}\u0000${logout.sub ?? ''}`;
    this.#items.delete(key);
    const max = this.#d.maxEntries ?? 10_000;
    if (this.#items.size >= max) {
      this.#items.delete(this.#items.keys().next().value as string);
      this.#d.log.error(
        { code: 'ERR_SESSION_STORE_UNAVAILABLE' },
        'too many deferred back-channel logouts; the oldest was dropped',
      );
    }
    this.#items.set(key, { ...logout, until: Date.now() + this.#d.ttlMs });
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#timer || this.#items.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().finally(() => this.#schedule());
    }, this.#d?.retryMs ?? 1000);
    this.#timer.unref();
  }

  /** Tries every waiting logout once now (one run at a time). */
  flush(): Promise<void> {
    this.#running ??= this.#flush().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #flush(): Promise<void> {
    const d = this.#d;
    if (!d) return;
    for (const [key, item] of [...this.#items]) {
      if (item.until <= Date.now()) {
        this.#items.delete(key);
        continue;
      }
      let gone: SessionRecord[];
      try {
        gone = item.sid
          ? await this.#store.deleteBySid(item.iss, item.sid)
          : await this.#store.deleteBySub(item.iss, item.sub as string);
      } catch {
        return; // the store is still down: try again later
      }
      this.#items.delete(key);
      for (const s of gone) await d.ended(s);
      const { until: _until, ...logout } = item;
      d.done(logout, gone.length);
    }
  }

  /** Stops retrying. */
  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
