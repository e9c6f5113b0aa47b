/**
 * The kit's own cookie names. Over https every cookie carries the `__Host-` prefix (no
 * `Domain`, `Path=/`, `Secure`); the plain names exist only for plain-http development.
 *
 * @module
 */

/** Cookie names by purpose: `secure` over https, `insecure` on plain http (development only). */
export const COOKIE_NAMES = {
  /** The kit session (opaque id). */
  session: { secure: '__Host-dify_sso', insecure: 'dify_sso' },
  /** The sealed OIDC login transaction (state, nonce, PKCE verifier). */
  transaction: { secure: '__Host-dify_sso_tx', insecure: 'dify_sso_tx' },
  /** The break-glass window after a redeemed token. */
  breakGlass: { secure: '__Host-dify_sso_bg', insecure: 'dify_sso_bg' },
} as const;

/** A purpose of a kit cookie. */
export type KitCookie = keyof typeof COOKIE_NAMES;

/**
 * The cookie name for a purpose.
 *
 * @example
 * kitCookieName('session', true) // '__Host-dify_sso'
 */
export function kitCookieName(purpose: KitCookie, secure: boolean): string {
  return secure ? COOKIE_NAMES[purpose].secure : COOKIE_NAMES[purpose].insecure;
}
