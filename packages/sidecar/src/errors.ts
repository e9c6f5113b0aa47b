/**
 * The sidecar's only error catalogue.
 *
 * Every error the sidecar raises is an {@link SsoError} (or a subclass that fixes the code).
 * Codes are public API: they are documented in the README and never renamed.
 * HTTP errors are built with `@fastify/error` and never carry IdP bodies or token material.
 *
 * @module
 */
import createError from '@fastify/error';
import { isReasonCode, type ReasonCode } from '@dify-sso-kit/vocabulary';

export { REASON_CODES, isReasonCode, type ReasonCode } from '@dify-sso-kit/vocabulary';

/**
 * Every stable error code of the sidecar (`ERR_<AREA>_<DETAIL>`) with when it happens.
 *
 * @example
 * ```ts
 * Object.keys(ERROR_CODES).includes(err.code)
 * ```
 */
export const ERROR_CODES = {
  ERR_CONFIG_INVALID: 'The configuration is invalid; the message lists every problem.',
  ERR_CONFIG_WEBAPP_POLICY:
    'The web-app policy file (`gate.webAppPolicy`) cannot be read or is invalid; the message lists every problem. At start-up the sidecar exits; on reload the previous policy stays in force.',
  ERR_OIDC_DISCOVERY_FAILED: 'OpenID Provider discovery or JWKS loading failed (IdP unreachable or metadata invalid).',
  ERR_OIDC_IDP_UNAVAILABLE: 'The OpenID Provider is not (yet) available; sign-in is refused until discovery succeeds.',
  ERR_OIDC_TRANSACTION_INVALID: 'The login transaction cookie is missing, expired, tampered with or already used.',
  ERR_OIDC_STATE_MISMATCH: 'The `state` returned by the IdP does not match the login transaction.',
  ERR_OIDC_ISSUER_MISMATCH:
    'The authorization response `iss` (RFC 9207) is missing or names another issuer (mix-up defence).',
  ERR_OIDC_CALLBACK_ERROR: 'The IdP answered the authorization request with an error.',
  ERR_OIDC_CODE_EXCHANGE_FAILED: 'The authorization code could not be exchanged at the token endpoint.',
  ERR_OIDC_ID_TOKEN_INVALID: 'The ID token failed validation (signature, alg, iss, aud, azp, exp, iat or sub).',
  ERR_OIDC_NONCE_MISMATCH: 'The ID token `nonce` does not match the login transaction.',
  ERR_OIDC_USERINFO_INVALID: 'The UserInfo response failed (request error or `sub` differs from the ID token).',
  ERR_OIDC_ACCESS_DENIED: 'The access policy (groups, roles, e-mail domains) denied this user.',
  ERR_OIDC_EMAIL_NOT_VERIFIED: 'The access policy uses e-mail but the IdP did not mark the e-mail as verified.',
  ERR_OIDC_REFRESH_FAILED: 'The liveness refresh at the IdP failed (invalid_grant or changed iss/sub).',
  ERR_TOKEN_INVALID: 'A JWT (bearer or logout token) failed validation.',
  ERR_TOKEN_EXPIRED: 'A JWT is expired or not yet valid.',
  ERR_TOKEN_ALG_NOT_ALLOWED: 'A JWT uses an algorithm outside the allowlist (including `none` and HS*).',
  ERR_TOKEN_HEADER_FORBIDDEN: 'A JWT header carries `jku`, `x5u`, `x5c` or an embedded `jwk`.',
  ERR_TOKEN_ISSUER: 'A JWT `iss` is not exactly the configured issuer.',
  ERR_TOKEN_AUDIENCE: 'A JWT `aud` does not contain a required audience.',
  ERR_TOKEN_SCOPE: 'A bearer token lacks a required scope.',
  ERR_TOKEN_REPLAYED: 'A logout token `jti` was already used.',
  ERR_TOKEN_NOT_CONFIGURED: 'Bearer verification is not configured (no audience).',
  ERR_SESSION_STORE_UNAVAILABLE: 'The session store (Redis) could not be reached.',
  ERR_SESSION_INVALID: 'The session cookie or record is malformed.',
  ERR_SESSION_HOOK: 'An after-login hook failed unexpectedly; the login is refused with `internal_error`.',
  ERR_DIFY_UNSUPPORTED_VERSION:
    "dify-api reports (`X-Version`) a version outside the bridge's version table; logins are refused.",
  ERR_DIFY_VERSION_UNKNOWN:
    'dify-api sent no usable `X-Version` header, or the deployment generator found no `dify-api` image version.',
  ERR_DIFY_ADMIN_API:
    "A member-management call with Dify's admin key failed (non-2xx status, non-JSON or unexpected answer).",
  ERR_DIFY_UNREACHABLE: 'dify-api did not answer (connection error or `dify.timeoutSeconds` exceeded).',
  ERR_DIFY_SEED_FAILED:
    "Dify session seeding failed: the refresh token could not be written to Dify's Redis, or dify-api refused the seeded refresh.",
  ERR_DIFY_KEY_PREFIX_UNSUPPORTED:
    '`dify.redisKeyPrefix` is set but the running Dify has no `REDIS_KEY_PREFIX` (before 1.14.0).',
  ERR_DIFY_NGINX_TEMPLATE: "Dify's nginx template is missing or has a shape the SSO locations cannot be inserted into.",
  ERR_DIFY_BREAK_GLASS:
    'Reserved for break-glass failures (today they are reported as `break_glass.denied` audit events and CLI messages).',
} as const;

/** Literal union of every sidecar error code. */
export type SsoErrorCode = keyof typeof ERROR_CODES;

/**
 * Why a JWT (bearer, logout token) or a liveness refresh was refused: audit only, never shown to
 * the browser (`malformed`, `expired`, `audience`, `claim_<name>`, `replayed`, `invalid_grant`, …).
 */
export type RejectionReason = string;

/** Options accepted by {@link SsoError}. */
export interface SsoErrorOptions<R extends string = ReasonCode> {
  /** Underlying error, always passed on. */
  cause?: unknown;
  /** Reason code for the sign-in page / audit log (a {@link RejectionReason} for {@link TokenError}). */
  reason?: R;
}

/**
 * Base class of every sidecar error: a literal `code`, `name` from the constructor and `cause`.
 *
 * @example
 * ```ts
 * throw new SsoError('ERR_OIDC_ACCESS_DENIED', 'not in an allowed group', { reason: 'access_denied' });
 * ```
 */
export class SsoError<R extends string = ReasonCode> extends Error {
  /** Stable error code. */
  readonly code: SsoErrorCode;
  /** Short reason code suitable for `?message=` and audit events (`internal_error` when none was given). */
  readonly reason: R | 'internal_error';

  constructor(code: SsoErrorCode, message: string, options: SsoErrorOptions<R> = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.reason = options.reason ?? 'internal_error';
  }
}

/**
 * The reason code to show on the sign-in page for an error: its own when it is one, else
 * `internal_error` (a token rejection reason is never shown).
 *
 * @example
 * ```ts
 * signInReason(new OidcError('ERR_OIDC_NONCE_MISMATCH', 'x', { reason: 'nonce_mismatch' })) // 'nonce_mismatch'
 * ```
 */
export function signInReason(err: unknown): ReasonCode {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return err instanceof SsoError && isReasonCode(reason) ? reason : 'internal_error';
}

/** The Dify bridge's codes (`ERR_DIFY_*`): a subset of {@link SsoErrorCode}, public API, never renamed. */
export type DifyErrorCode = Extract<SsoErrorCode, `ERR_DIFY_${string}`>;

/**
 * Error raised by the Dify bridge. `code` is stable; the message never contains tokens,
 * cookies or Dify response bodies. `reason` (for the sign-in page) is
 * `dify_unsupported_version` for the version codes and `dify_unavailable` otherwise.
 *
 * @example
 * ```ts
 * throw new DifyError('ERR_DIFY_ADMIN_API', 'dify-api answered 500 to GET /members', { status: 500 })
 * ```
 */
export class DifyError extends SsoError {
  declare readonly code: DifyErrorCode;
  /** HTTP status of a failed Dify call, when there was one. */
  readonly status: number | undefined;

  constructor(code: DifyErrorCode, message: string, options: { cause?: unknown; status?: number } = {}) {
    super(code, message, {
      ...(options.cause === undefined ? {} : { cause: options.cause }),
      reason:
        code === 'ERR_DIFY_UNSUPPORTED_VERSION' || code === 'ERR_DIFY_VERSION_UNKNOWN'
          ? 'dify_unsupported_version'
          : 'dify_unavailable',
    });
    this.status = options.status;
  }
}

/** One configuration problem, with its own stable code. */
export interface ConfigProblem {
  /** Stable problem code, e.g. `ERR_CONFIG_REQUIRED`. */
  code: ConfigProblemCode;
  /** Config path, e.g. `oidc.issuer`. */
  path: string;
  /** Environment variable, e.g. `DIFY_SSO_OIDC_ISSUER`. */
  env: string;
  /** Human message naming the path and the expected form. */
  message: string;
}

/** Stable codes of individual configuration problems (listed inside `ERR_CONFIG_INVALID`). */
export const CONFIG_PROBLEM_CODES = {
  ERR_CONFIG_REQUIRED: 'A required value is missing.',
  ERR_CONFIG_TYPE: 'A value has the wrong type (number, boolean, list).',
  ERR_CONFIG_ENUM: 'A value is not one of the allowed choices.',
  ERR_CONFIG_RANGE: 'A number or length is outside its allowed range.',
  ERR_CONFIG_FORMAT: 'A value does not have the expected form (URL, path, host:port, domain).',
  ERR_CONFIG_INSECURE: 'A plain-http URL was given without DIFY_SSO_ALLOW_INSECURE_HTTP, or not on loopback.',
  ERR_CONFIG_FILE: 'A `…_FILE` could not be read, or both the value and its `…_FILE` were given.',
  ERR_CONFIG_CONFLICT: 'Two settings contradict each other.',
} as const;

/** Literal union of configuration problem codes. */
export type ConfigProblemCode = keyof typeof CONFIG_PROBLEM_CODES;

/**
 * Thrown by `loadConfig` with every problem found at once.
 *
 * @example
 * ```ts
 * try { loadConfig(env) } catch (e) { if (e instanceof ConfigError) for (const p of e.problems) log(p.code) }
 * ```
 */
export class ConfigError extends SsoError {
  /** Every problem found, in schema order. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    super(
      'ERR_CONFIG_INVALID',
      `Invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - [${p.code}] ${p.message}`).join('\n'),
      { reason: 'internal_error' },
    );
    this.problems = Object.freeze([...problems]);
  }
}

/**
 * A JWT failed verification. `code` is one of the `ERR_TOKEN_*` codes.
 *
 * @example
 * ```ts
 * try { await app.sso.verifyBearer(t) } catch (e) { if (e instanceof TokenError) reply.code(401) }
 * ```
 */
export class TokenError extends SsoError<RejectionReason> {}

/**
 * An OpenID Connect login step failed; `reason` goes to the sign-in page (a failed liveness
 * refresh carries `invalid_grant` or `refresh_refused`, which only the audit log sees).
 *
 * @example
 * ```ts
 * throw new OidcError('ERR_OIDC_NONCE_MISMATCH', 'nonce mismatch', { reason: 'nonce_mismatch' });
 * ```
 */
export class OidcError extends SsoError<ReasonCode | 'invalid_grant' | 'refresh_refused'> {}

/**
 * The session store failed.
 *
 * @example
 * ```ts
 * throw new SessionStoreError('ERR_SESSION_STORE_UNAVAILABLE', 'redis down', { cause });
 * ```
 */
export class SessionStoreError extends SsoError {}

/**
 * HTTP 400 for an invalid back-channel logout request (never explains why to the caller).
 *
 * @example
 * ```ts
 * throw new BackchannelLogoutInvalidError()
 * ```
 */
export const BackchannelLogoutInvalidError = createError('ERR_TOKEN_INVALID', 'invalid logout token', 400);

/**
 * HTTP 401 for a rejected bearer token.
 *
 * @example
 * ```ts
 * throw new BearerRejectedError()
 * ```
 */
export const BearerRejectedError = createError('ERR_TOKEN_INVALID', 'invalid bearer token', 401);

/**
 * HTTP 503 when the store is unreachable.
 *
 * @example
 * ```ts
 * throw new StoreUnavailableHttpError()
 * ```
 */
export const StoreUnavailableHttpError = createError('ERR_SESSION_STORE_UNAVAILABLE', 'session store unavailable', 503);
