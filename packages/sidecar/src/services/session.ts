/**
 * Sessions: the opaque session cookie, server-side records (idle/absolute timeouts, liveness
 * refresh), the sealed login-transaction cookie, and session-end hooks.
 *
 * @module
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SidecarConfig } from '../config/schema.js';
import { OidcError, SsoError } from '../errors.js';
import { deriveKeys, randomToken, safeEqual, seal, sha256, unseal, type DerivedKey } from '../lib/crypto.js';
import { canonicalRedirect } from '../lib/redirect.js';
import type { SessionClaims, SessionRecord, SessionStore } from '../store/types.js';
import type { AuditFn } from './audit.js';
import type { IdpTokens, OidcClient } from './oidc-client.js';
import { randomPKCECodeVerifier } from 'openid-client';
import { CompactEncrypt, compactDecrypt, decodeJwt } from 'jose';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { extractClaims } from '../lib/access-policy.js';
import type {} from '@fastify/cookie';
import { COOKIE_NAMES } from '@dify-sso-kit/vocabulary';

/** Why a session ended. */
export type SessionEndCause = 'logout' | 'backchannel' | 'expired' | 'liveness' | 'admin';

/** Result of {@link SessionManager.checkSession}. */
export type SessionCheck =
  | { ok: true; session: SessionRecord }
  | { ok: false; reason: 'missing' | 'invalid' | 'expired' | 'revoked' | 'idp_unavailable' };

/** Runs for every session that ends; errors are logged and do not stop other hooks. */
export type SessionEndHook = (session: SessionRecord, cause: SessionEndCause) => void | Promise<void>;

/** The decrypted login transaction (sealed in the transaction cookie). */
export interface LoginTransaction {
  state: string;
  nonce: string;
  codeVerifier: string;
  redirect: string;
  inviteToken?: string;
}

/** Options of {@link SessionManager.beginLogin}. */
export interface BeginLoginOptions {
  /** Requested post-login target; canonicalised (same-origin relative only). */
  redirect?: string;
  /** Dify invite token carried through the login (bridge). */
  inviteToken?: string;
}

/** Cookie names in use (depend on https vs. the insecure-http development mode). */
export interface CookieNames {
  session: string;
  transaction: string;
}

/** Dependencies of {@link SessionManager}. */
export interface SessionManagerDeps {
  config: SidecarConfig;
  store: SessionStore;
  oidc: OidcClient;
  audit: AuditFn;
  now: () => number;
  log: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

const SESSION_ID_RE = /^[A-Za-z0-9_-]{43}$/;
/** JWE content type of compact sealed tokens ({@link SessionManager.sealTokens}). */
const TOKENS_CTY = 'dify-sso-tokens+deflate';

/** The JSON text a base64url segment encodes, when re-encoding it gives back exactly the segment. */
function segmentText(segment: string): string | undefined {
  const text = Buffer.from(segment, 'base64url').toString('utf8');
  return Buffer.from(text, 'utf8').toString('base64url') === segment ? text : undefined;
}

/** A JWT as `[header JSON, payload JSON, signature]` (so deflate sees the JSON), else the string itself. */
function packJwt(token: string): string | [string, string, string] {
  const parts = token.split('.');
  if (parts.length !== 3) return token;
  const header = segmentText(parts[0] as string);
  const payload = segmentText(parts[1] as string);
  return header !== undefined && payload !== undefined ? [header, payload, parts[2] as string] : token;
}

function unpackJwt(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === 'string')) {
    const [h, p, sig] = v as [string, string, string];
    return `${Buffer.from(h, 'utf8').toString('base64url')}.${Buffer.from(p, 'utf8').toString('base64url')}.${sig}`;
  }
  throw new TypeError('sealed tokens malformed');
}
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The IdP tokens a session keeps: the ID token (`id_token_hint` at logout) and the refresh token
 * (liveness refresh, revocation at logout). The IdP access token is used only during sign-in
 * (Keycloak roles, `routes/callback.ts`) and is not kept: a copy of the session store holds no
 * bearer credential for the IdP's APIs, and each session is about 0.7 KB smaller.
 */
export interface SessionTokens {
  idToken: string;
  refreshToken?: string;
}

/**
 * Cookie names for a public URL: `__Host-dify_sso` / `__Host-dify_sso_tx` over https,
 * `dify_sso` / `dify_sso_tx` on plain http (development only).
 *
 * @example
 * ```ts
 * cookieNames('https://dify.example.com').session // '__Host-dify_sso'
 * ```
 */
export function cookieNames(publicUrl: string): CookieNames {
  const secure = new URL(publicUrl).protocol === 'https:';
  return secure
    ? { session: COOKIE_NAMES.session.secure, transaction: COOKIE_NAMES.transaction.secure }
    : { session: COOKIE_NAMES.session.insecure, transaction: COOKIE_NAMES.transaction.insecure };
}

/**
 * Owns the session lifecycle. One instance per app (`app.sso`).
 *
 * @example
 * ```ts
 * const check = await sessions.checkSession(request); if (!check.ok) reply.code(401)
 * ```
 */
export class SessionManager {
  readonly names: CookieNames;
  readonly secure: boolean;
  #d: SessionManagerDeps;
  #txKeys: DerivedKey[];
  #atRestKeys: DerivedKey[];
  #endHooks: SessionEndHook[] = [];

  constructor(deps: SessionManagerDeps) {
    this.#d = deps;
    this.names = cookieNames(deps.config.publicUrl);
    this.secure = new URL(deps.config.publicUrl).protocol === 'https:';
    const secrets = [deps.config.session.secret, ...deps.config.session.previousSecrets];
    this.#txKeys = deriveKeys(secrets, 'transaction-cookie');
    this.#atRestKeys = deriveKeys(secrets, 'token-at-rest');
  }

  /** Registers a session-end hook. */
  addSessionEndHook(fn: SessionEndHook): void {
    this.#endHooks.push(fn);
  }

  #cookieOptions(maxAgeSeconds: number) {
    return { path: '/', httpOnly: true, secure: this.secure, sameSite: 'lax' as const, maxAge: maxAgeSeconds };
  }

  /**
   * Starts a login: CSPRNG state, nonce and PKCE verifier sealed in the transaction cookie.
   *
   * @throws {OidcError} reason `idp_unavailable` when discovery has not succeeded.
   */
  async beginLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    opts: BeginLoginOptions = {},
  ): Promise<{ url: string; state: string }> {
    const c = this.#d.config;
    const tx: LoginTransaction = {
      state: randomToken(32),
      nonce: randomToken(32),
      codeVerifier: randomPKCECodeVerifier(),
      redirect: canonicalRedirect(opts.redirect, c.publicUrl, c.homePath),
    };
    if (typeof opts.inviteToken === 'string' && /^[A-Za-z0-9._~+/=-]{1,512}$/.test(opts.inviteToken))
      tx.inviteToken = opts.inviteToken;
    const url = await this.#d.oidc.authorizationUrl(tx);
    const sealed = await seal({ ...tx }, this.#txKeys, c.session.transactionTtlSeconds, new Date(this.#d.now()));
    reply.setCookie(this.names.transaction, sealed, this.#cookieOptions(c.session.transactionTtlSeconds));
    this.#d.audit('auth.login.start', { request });
    return { url: url.href, state: tx.state };
  }

  /**
   * Reads, clears and opens the transaction cookie; the state becomes single-use across replicas.
   *
   * @throws {OidcError} `ERR_OIDC_TRANSACTION_INVALID` (`login_expired`) or `ERR_OIDC_STATE_MISMATCH` (`invalid_state`).
   */
  async consumeTransaction(
    request: FastifyRequest,
    reply: FastifyReply,
    returnedState: unknown,
  ): Promise<LoginTransaction> {
    const sealed = request.cookies[this.names.transaction];
    reply.clearCookie(this.names.transaction, this.#cookieOptions(0));
    if (!sealed)
      throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'no login transaction', { reason: 'login_expired' });
    let tx: LoginTransaction;
    try {
      tx = (await unseal(sealed, this.#txKeys, new Date(this.#d.now()))) as unknown as LoginTransaction;
    } catch (cause) {
      throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'login transaction invalid or expired', {
        cause,
        reason: 'login_expired',
      });
    }
    if (typeof tx.state !== 'string' || typeof returnedState !== 'string' || !safeEqual(tx.state, returnedState)) {
      throw new OidcError('ERR_OIDC_STATE_MISMATCH', 'state mismatch', { reason: 'invalid_state' });
    }
    const first = await this.#d.store.kv.setIfAbsent(
      `state:${sha256(tx.state)}`,
      '1',
      this.#d.config.session.transactionTtlSeconds + 60,
    );
    if (!first) throw new OidcError('ERR_OIDC_TRANSACTION_INVALID', 'state already used', { reason: 'invalid_state' });
    return tx;
  }

  /**
   * Encrypts the tokens a session keeps ({@link SessionTokens}; any access token given is
   * dropped) for storage, compactly: JWT header and payload segments are stored as the JSON text
   * they encode (base64url adds a third), the whole is deflated, then sealed as a JWE (`dir`,
   * `A256GCM`, `cty` {@link TOKENS_CTY}). {@link openTokens} rebuilds the exact token strings
   * and also opens the earlier layouts (JWE of the plain JSON; records that kept the access token).
   */
  async sealTokens(tokens: SessionTokens): Promise<string> {
    const key = this.#atRestKeys[0] as DerivedKey;
    const packed = {
      idToken: packJwt(tokens.idToken),
      // Always empty: 0.1.0 replicas sharing the store during a rolling upgrade require the field.
      accessToken: '',
      ...(tokens.refreshToken !== undefined ? { refreshToken: packJwt(tokens.refreshToken) } : {}),
    };
    return new CompactEncrypt(deflateRawSync(JSON.stringify(packed)))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid, cty: TOKENS_CTY })
      .encrypt(key.key);
  }

  /** Decrypts IdP tokens of a record (undefined when absent or undecryptable). */
  async openTokens(record: SessionRecord): Promise<SessionTokens | undefined> {
    if (!record.tokens) return undefined;
    try {
      const { plaintext, protectedHeader } = await compactDecrypt(
        record.tokens,
        (h) => {
          const k = this.#atRestKeys.find((x) => x.kid === h.kid);
          if (!k) throw new Error('unknown key id');
          return k.key;
        },
        { keyManagementAlgorithms: ['dir'], contentEncryptionAlgorithms: ['A256GCM'] },
      );
      const packed = JSON.parse(
        protectedHeader.cty === TOKENS_CTY
          ? inflateRawSync(plaintext, { maxOutputLength: 1 << 20 }).toString('utf8')
          : new TextDecoder().decode(plaintext),
      ) as Record<string, unknown>;
      return {
        idToken: unpackJwt(packed.idToken),
        ...(packed.refreshToken !== undefined ? { refreshToken: unpackJwt(packed.refreshToken) } : {}),
      };
    } catch {
      return undefined;
    }
  }

  /**
   * Creates a fresh session (new CSPRNG id; any session the browser presented is ended first:
   * no fixation) and sets the session cookie.
   */
  async createSession(
    request: FastifyRequest,
    reply: FastifyReply,
    input: { iss: string; sub: string; sid?: string; claims: SessionClaims; tokens: SessionTokens },
  ): Promise<SessionRecord> {
    const old = request.cookies[this.names.session];
    if (old && SESSION_ID_RE.test(old)) {
      const prev = await this.#d.store.delete(sha256(old));
      if (prev) await this.runEndHooks(prev, 'logout');
    }
    const now = this.#d.now();
    const value = randomToken(32);
    const record: SessionRecord = {
      id: sha256(value),
      iss: input.iss,
      sub: input.sub,
      ...(input.sid ? { sid: input.sid } : {}),
      claims: input.claims,
      tokens: await this.sealTokens(input.tokens),
      createdAt: now,
      lastSeenAt: now,
      lastRefreshAt: now,
      absoluteExpiresAt: now + this.#d.config.session.absoluteTimeoutSeconds * 1000,
      ext: {},
    };
    await this.#d.store.create(record);
    reply.setCookie(this.names.session, value, this.#cookieOptions(this.#d.config.session.absoluteTimeoutSeconds));
    return record;
  }

  /** Clears the session and transaction cookies on `reply`. */
  clearCookies(reply: FastifyReply): void {
    reply.clearCookie(this.names.session, this.#cookieOptions(0));
    reply.clearCookie(this.names.transaction, this.#cookieOptions(0));
  }

  /** The store id of the session cookie on `request`, if well-formed. */
  sessionIdOf(request: FastifyRequest): string | undefined {
    const raw = request.cookies[this.names.session];
    return raw && SESSION_ID_RE.test(raw) ? sha256(raw) : undefined;
  }

  /**
   * Returns the live session of `request` or a typed reason. Enforces idle and absolute
   * timeouts, touches last-seen (throttled to once a minute) and runs the liveness refresh.
   *
   * @throws {SessionStoreError} when the store is unreachable (fail closed: callers deny).
   */
  async checkSession(request: FastifyRequest): Promise<SessionCheck> {
    const raw = request.cookies[this.names.session];
    if (!raw) return { ok: false, reason: 'missing' };
    if (!SESSION_ID_RE.test(raw)) return { ok: false, reason: 'invalid' };
    const store = this.#d.store;
    const now = this.#d.now();
    const s = this.#d.config.session;
    // The last-seen touch rides on the read (one Redis command per check).
    const record = await store.get(sha256(raw), {
      now,
      afterMs: TOUCH_INTERVAL_MS,
      idleMs: s.idleTimeoutSeconds * 1000,
    });
    if (!record) return { ok: false, reason: 'revoked' };
    if (now >= record.absoluteExpiresAt || now - record.lastSeenAt >= s.idleTimeoutSeconds * 1000) {
      const gone = await store.delete(record.id);
      if (gone) {
        this.#d.audit('auth.session.expired', {
          request,
          iss: record.iss,
          sub: record.sub,
          reason: now >= record.absoluteExpiresAt ? 'absolute_timeout' : 'idle_timeout',
        });
        await this.runEndHooks(gone, 'expired');
      }
      return { ok: false, reason: 'expired' };
    }
    let current = record;
    if (s.livenessRefreshSeconds > 0 && now - record.lastRefreshAt >= s.livenessRefreshSeconds * 1000) {
      const outcome = await this.#liveness(request, record);
      if (outcome !== 'ok' && outcome !== 'skipped') return { ok: false, reason: outcome };
      if (outcome === 'ok') current = (await store.get(record.id)) ?? current;
    }
    // Only when the store did not touch on read (a store without touch support, a record in an older layout).
    if (now - current.lastSeenAt >= TOUCH_INTERVAL_MS) {
      const updated = await store.update(current.id, { lastSeenAt: now });
      if (!updated) return { ok: false, reason: 'revoked' };
      current = updated;
    }
    return { ok: true, session: current };
  }

  async #liveness(
    request: FastifyRequest,
    record: SessionRecord,
  ): Promise<'ok' | 'skipped' | 'revoked' | 'idp_unavailable'> {
    const store = this.#d.store;
    const lockKey = `refresh-lock:${record.id}`;
    if (!(await store.kv.setIfAbsent(lockKey, '1', 30))) return 'skipped';
    try {
      const tokens = await this.openTokens(record);
      if (!tokens?.refreshToken) {
        this.#d.log.warn(
          { code: 'ERR_OIDC_REFRESH_FAILED' },
          'liveness refresh impossible: no refresh token; ending session',
        );
        await this.#endForLiveness(request, record, 'no_refresh_token');
        return 'revoked';
      }
      let fresh: IdpTokens;
      try {
        fresh = await this.#d.oidc.refresh(tokens.refreshToken, record.sub);
      } catch (err) {
        if (err instanceof SsoError && err.reason === 'idp_unavailable') return 'idp_unavailable';
        await this.#endForLiveness(request, record, err instanceof SsoError ? err.reason : 'refresh_failed');
        return 'revoked';
      }
      const merged: SessionTokens = {
        idToken: fresh.idToken || tokens.idToken,
        ...((fresh.refreshToken ?? tokens.refreshToken)
          ? { refreshToken: fresh.refreshToken ?? tokens.refreshToken }
          : {}),
      };
      // Group and role changes at the IdP take effect here (the refreshed ID token was verified by oidc.refresh).
      const cfg = this.#d.config;
      const next = fresh.idToken
        ? extractClaims(cfg.oidc.preset, decodeJwt(fresh.idToken) as Parameters<typeof extractClaims>[1], cfg.policy)
        : undefined;
      const claims = next ? { ...record.claims, groups: next.groups, roles: next.roles } : undefined;
      const updated = await store.update(record.id, {
        tokens: await this.sealTokens(merged),
        lastRefreshAt: this.#d.now(),
        ...(claims ? { claims } : {}),
      });
      if (!updated) return 'revoked';
      this.#d.audit('auth.session.refreshed', { request, iss: record.iss, sub: record.sub });
      return 'ok';
    } finally {
      await store.kv.del(lockKey);
    }
  }

  async #endForLiveness(request: FastifyRequest, record: SessionRecord, reason: string): Promise<void> {
    const gone = await this.#d.store.delete(record.id);
    this.#d.audit('auth.session.revoked', { request, iss: record.iss, sub: record.sub, reason });
    if (gone) await this.runEndHooks(gone, 'liveness');
  }

  /** Runs every session-end hook for `session`; a failing hook is logged and skipped. */
  async runEndHooks(session: SessionRecord, cause: SessionEndCause): Promise<void> {
    for (const hook of this.#endHooks) {
      try {
        await hook(session, cause);
      } catch (err) {
        this.#d.log.error(
          { code: (err as { code?: string }).code ?? 'ERR_SESSION_HOOK', cause },
          'session end hook failed',
        );
      }
    }
  }

  /** Ends every session of `(iss, sub)` (admin "log this user out everywhere"); returns how many. */
  async endUserSessions(
    sub: string,
    cause: SessionEndCause = 'admin',
    iss = this.#d.config.oidc.issuer,
  ): Promise<number> {
    const gone = await this.#d.store.deleteBySub(iss, sub);
    for (const s of gone) await this.runEndHooks(s, cause);
    if (gone.length > 0) this.#d.audit('auth.session.revoked', { iss, sub, reason: cause, count: gone.length });
    return gone.length;
  }
}
