/**
 * The IdP's JSON Web Key Set, cached per process, with two refetch rules for an unknown `kid`:
 *
 * - **trusted channel** (an ID token in the token endpoint's response, which the sidecar fetched
 *   itself over an authenticated TLS connection): refetch at once, even within the cooldown. An
 *   IdP that rotated its signing key signs new logins with a key the cache has not seen; the
 *   cooldown must not turn every login of the next 30 s into `invalid_id_token`.
 * - **untrusted channel** (back-channel logout tokens, bearer tokens, anything a third party can
 *   post): refetch only when the last fetch is older than the cooldown, so a flood of tokens
 *   with made-up `kid`s cannot make the sidecar hammer the IdP.
 *
 * Fetches are single-flight: every caller that finds a key missing while a fetch runs waits for
 * that fetch, and a caller whose miss was observed on a key set that has since been replaced
 * retries on the new one without fetching again. Keys are never taken from the token (`jku`,
 * `x5u`, `jwk` and `x5c` are refused before this runs, in `oidc-client.ts`).
 *
 * @module
 */
import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { withSpan } from './tracing.js';

/** Where a JWT came from, for the unknown-`kid` refetch rule. */
export type JwtChannel = 'token_endpoint' | 'untrusted';

/** Options of {@link JwksCache}. */
export interface JwksCacheOptions {
  /** The discovered `jwks_uri`. */
  url: URL;
  /** Minimum time between refetches caused by untrusted tokens with an unknown `kid` (ms). */
  cooldownMs: number;
  /** The key set is refetched before use once it is older than this (ms). */
  maxAgeMs: number;
  /** Timeout of one fetch (ms). */
  timeoutMs: number;
  /** Monotonic clock in ms (default `performance.now`); never the injectable wall clock of JWT checks. */
  clock?: () => number;
}

/**
 * A remote JWKS with a per-channel unknown-`kid` rule (see the module comment).
 *
 * @example
 * ```ts
 * const jwks = new JwksCache({ url, cooldownMs: 30_000, maxAgeMs: 600_000, timeoutMs: 10_000 })
 * await jwks.reload()
 * await jwtVerify(idToken, jwks.getKey('token_endpoint'), options)
 * ```
 */
export class JwksCache {
  #o: JwksCacheOptions;
  #clock: () => number;
  #local: ReturnType<typeof createLocalJWKSet> | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | undefined;
  /** Incremented each time a fetched key set replaces the cached one. */
  #generation = 0;
  /** Number of completed fetches (successful or not), for tests and diagnostics. */
  fetches = 0;

  constructor(options: JwksCacheOptions) {
    this.#o = options;
    this.#clock = options.clock ?? (() => performance.now());
  }

  /** Whether a key set is loaded. */
  get loaded(): boolean {
    return this.#local !== undefined;
  }

  /** Whether an untrusted token with an unknown `kid` would have to wait (last fetch within the cooldown). */
  get coolingDown(): boolean {
    return this.#clock() - this.#fetchedAt < this.#o.cooldownMs;
  }

  /**
   * Fetches the key set now, or joins the fetch already running.
   *
   * @throws when the IdP does not answer 200 with a JWK Set within the timeout (the cached set is kept).
   */
  reload(): Promise<void> {
    this.#pending ??= this.#fetch().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetch(): Promise<void> {
    await withSpan('dify_sso.jwks.fetch', {}, async (span) => {
      try {
        const res = await fetch(this.#o.url, {
          method: 'GET',
          redirect: 'manual',
          headers: { accept: 'application/json, application/jwk-set+json' },
          signal: AbortSignal.timeout(this.#o.timeoutMs),
        });
        span.setAttribute('http.response.status_code', res.status);
        if (res.status !== 200) {
          await res.arrayBuffer().catch(() => undefined);
          throw new joseErrors.JOSEError('Expected 200 OK from the JSON Web Key Set HTTP response');
        }
        const json = (await res.json()) as JSONWebKeySet;
        const next = createLocalJWKSet(json);
        span.setAttribute('dify_sso.jwks.keys', json.keys.length);
        this.#local = next;
        this.#generation++;
      } finally {
        this.#fetchedAt = this.#clock();
        this.fetches++;
      }
    });
  }

  /**
   * A jose key resolver for tokens of `channel`.
   *
   * @example
   * ```ts
   * await jwtVerify(logoutToken, jwks.getKey('untrusted'), options)
   * ```
   */
  getKey(channel: JwtChannel): JWTVerifyGetKey {
    return async (header, token) => {
      if (!this.#local || this.#clock() - this.#fetchedAt >= this.#o.maxAgeMs) {
        try {
          await this.reload();
        } catch (err) {
          // A stale set is better than none; a missing one is an error.
          if (!this.#local) throw err;
        }
      }
      const local = this.#local as ReturnType<typeof createLocalJWKSet>;
      const seen = this.#generation;
      try {
        return await local(header, token);
      } catch (err) {
        if (!(err instanceof joseErrors.JWKSNoMatchingKey)) throw err;
        // Another caller replaced the set since this one looked: retry on the new set, no fetch.
        if (this.#generation !== seen) return (this.#local as ReturnType<typeof createLocalJWKSet>)(header, token);
        if (channel === 'untrusted' && this.coolingDown && !this.#pending) throw err;
        await this.reload();
        return (this.#local as ReturnType<typeof createLocalJWKSet>)(header, token);
      }
    };
  }
}
