// Added by dify-sso-kit (`dify-sso patch`). Do not edit: re-run the patch to update, `--revert` to remove.
/**
 * Reason codes the sidecar puts in `?message=` when it sends the browser back to the
 * sign-in page, and the text shown for each. Unknown values get a generic text: the
 * banner never echoes the query string, so a crafted link cannot put words on the page.
 */
export const SSO_ERROR_MESSAGES = {
  access_denied: 'Access was denied. Your account is not allowed to use this console.',
  idp_unavailable: 'The sign-in service is unavailable right now. Please try again in a few minutes.',
  state_mismatch: 'The sign-in attempt expired or was started in another tab. Please sign in again.',
  login_failed: 'Sign-in failed. Please try again.',
  not_provisioned: 'Your account has not been set up for this console yet. Ask an administrator for access.',
  sso_required: 'This console only allows single sign-on. Please use the button below.',
  session_expired: 'Your session has ended. Please sign in again.',
  email_not_verified: 'Your e-mail address is not verified at the identity provider.',
} as const satisfies Record<string, string>

/** A reason code the banner knows. */
export type SsoErrorCode = keyof typeof SSO_ERROR_MESSAGES

/** Text shown for codes the banner does not know. */
export const GENERIC_SSO_ERROR = 'Sign-in did not complete. Please try again.'

/** True when `code` is a known reason code. */
export function isSsoErrorCode(code: string): code is SsoErrorCode {
  return Object.prototype.hasOwnProperty.call(SSO_ERROR_MESSAGES, code)
}

/** Human text for a reason code; `undefined` for an empty code. */
export function messageForCode(code: string | null | undefined): string | undefined {
  if (!code)
    return undefined
  const trimmed = code.trim()
  if (trimmed === '')
    return undefined
  return isSsoErrorCode(trimmed) ? SSO_ERROR_MESSAGES[trimmed] : GENERIC_SSO_ERROR
}
