/**
 * Reason codes the sidecar puts in `?message=` when it sends the browser back to the
 * sign-in page (or as `code` of a JSON refusal), and the text shown for each. Unknown values
 * get a generic text: the banner never echoes the query string, so a crafted link cannot put
 * words on the page.
 *
 * The keys are exactly the sidecar's reason codes (`REASON_CODES` of the vocabulary package,
 * `packages/vocabulary/src/reason-codes.ts`). These sources are copied into Dify's `web/`, where
 * that package does not exist, so the table is not typed with it here:
 * `test/reason-codes.test.ts` binds the two, and the repository's type-check fails when a code
 * has no message or a message has no code.
 */
export const SSO_ERROR_MESSAGES = {
  access_denied: 'Access was denied. Your account is not allowed to use this console.',
  no_role: 'Your account has no role in this console. Ask an administrator for access.',
  not_provisioned: 'Your account has not been set up for this console yet. Ask an administrator for access.',
  account_banned: 'Your console account is disabled. Ask an administrator.',
  email_not_verified: 'Your e-mail address is not verified at the identity provider.',
  email_not_linkable: 'Your e-mail address cannot be matched to a console account. Ask an administrator.',
  idp_unavailable: 'The sign-in service is unavailable right now. Please try again in a few minutes.',
  idp_error: 'The identity provider reported an error. Please try again.',
  issuer_mismatch: 'The sign-in response came from an unexpected identity provider. Please sign in again.',
  dify_unavailable: 'The console is unavailable right now. Please try again in a few minutes.',
  dify_unsupported_version: 'This console version is not supported by single sign-on. Ask an administrator.',
  invalid_state: 'The sign-in attempt expired or was started in another tab. Please sign in again.',
  login_expired: 'The sign-in attempt took too long. Please sign in again.',
  nonce_mismatch: 'The sign-in response could not be verified. Please sign in again.',
  invalid_id_token: 'The sign-in response could not be verified. Please sign in again.',
  token_exchange_failed: 'Sign-in failed. Please try again.',
  userinfo_invalid: 'Sign-in failed. Please try again.',
  session_error: 'Your session could not be started. Please try again.',
  internal_error: 'Sign-in failed. Please try again.',
  sso_required: 'This console only allows single sign-on. Please use the button below.',
  session_expired: 'Your session has ended. Please sign in again.',
  break_glass_denied: 'Emergency access was refused.',
} as const satisfies Record<string, string>;

/** A reason code the banner knows. */
export type SsoErrorCode = keyof typeof SSO_ERROR_MESSAGES;

/** Text shown for codes the banner does not know. */
export const GENERIC_SSO_ERROR = 'Sign-in did not complete. Please try again.';

/** True when `code` is a known reason code. */
export function isSsoErrorCode(code: string): code is SsoErrorCode {
  return Object.hasOwn(SSO_ERROR_MESSAGES, code);
}

/** Human text for a reason code; `undefined` for an empty code. */
export function messageForCode(code: string | null | undefined): string | undefined {
  if (!code) return undefined;
  const trimmed = code.trim();
  if (trimmed === '') return undefined;
  return isSsoErrorCode(trimmed) ? SSO_ERROR_MESSAGES[trimmed] : GENERIC_SSO_ERROR;
}
