/** Stable error codes of the Dify bridge (public API: never renamed). */
export type DifyErrorCode =
  | 'ERR_DIFY_UNSUPPORTED_VERSION'
  | 'ERR_DIFY_VERSION_UNKNOWN'
  | 'ERR_DIFY_ADMIN_API'
  | 'ERR_DIFY_UNREACHABLE'
  | 'ERR_DIFY_SEED_FAILED'
  | 'ERR_DIFY_KEY_PREFIX_UNSUPPORTED'
  | 'ERR_DIFY_NGINX_TEMPLATE'
  | 'ERR_DIFY_BREAK_GLASS'

/**
 * Error raised by the Dify bridge. `code` is stable; the message never contains tokens,
 * cookies or Dify response bodies.
 */
export class DifyError extends Error {
  readonly code: DifyErrorCode
  /** HTTP status of a failed Dify call, when there was one. */
  readonly status: number | undefined
  constructor(code: DifyErrorCode, message: string, options?: { cause?: unknown; status?: number }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.status = options?.status
  }
}

/**
 * Login denial raised inside the after-login hook; `reason` becomes `?message=<reason>` on the
 * sign-in page.
 */
export type DenyReason = 'not_provisioned' | 'access_denied' | 'no_role' | 'email_not_verified' | 'account_banned' | 'dify_unavailable'

export class LoginDeniedError extends Error {
  readonly code = 'ERR_SESSION_DENIED' as const
  readonly reason: DenyReason
  constructor(reason: DenyReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.reason = reason
  }
}
