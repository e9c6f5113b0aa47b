/**
 * Reason codes: the short words the sidecar sends to the browser when it refuses or ends a
 * sign-in — in `?message=` on the sign-in page, or as `code` of a JSON refusal the console
 * shows. The console plugin has one message per code (its message table is checked against this
 * list by the type-check), so a code added here without a message fails the build.
 *
 * Codes are public API: deprecate them, never rename.
 *
 * @module
 */

/** Every reason code, in no particular order. */
export const REASON_CODES = [
  // the person is not allowed in (access policy, Dify account rules)
  'access_denied',
  'no_role',
  'not_provisioned',
  'account_banned',
  'email_not_verified',
  'email_not_linkable',
  // the identity provider
  'idp_unavailable',
  'idp_error',
  'issuer_mismatch',
  'token_exchange_failed',
  'invalid_id_token',
  'nonce_mismatch',
  'userinfo_invalid',
  // the login round trip
  'invalid_state',
  'login_expired',
  // Dify
  'dify_unavailable',
  'dify_unsupported_version',
  // the kit itself
  'session_error',
  'session_expired',
  'internal_error',
  // JSON refusals the console shows (gate lockdown, break-glass)
  'sso_required',
  'break_glass_denied',
] as const;

/**
 * A reason code (closed union).
 *
 * @example
 * const reason: ReasonCode = 'no_role'
 */
export type ReasonCode = (typeof REASON_CODES)[number];

/**
 * Whether `value` is a reason code.
 *
 * @example
 * isReasonCode('no_role') // true
 * isReasonCode('<b>hi</b>') // false
 */
export function isReasonCode(value: unknown): value is ReasonCode {
  return typeof value === 'string' && (REASON_CODES as readonly string[]).includes(value);
}
