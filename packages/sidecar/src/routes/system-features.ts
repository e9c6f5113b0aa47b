/**
 * Adjusts dify-api's `GET /console/api/system-features` answer to the SSO policy.
 *
 * Fields (dify `api/services/feature_service.py` `SystemFeatureModel`; docs/dify-contract.md §5):
 * `sso_enforced_for_signin` → true and `sso_enforced_for_signin_protocol` → `oidc` make the stock
 * sign-in page render its SSO button (dify `web/app/signin/normal-form.tsx`,
 * `components/sso-auth.tsx`); the login methods and registration are switched off in the UI.
 * Nothing else is touched: licence, billing, branding, web-app auth and plugin fields pass
 * through exactly as dify-api sent them.
 */
export const ADJUSTED_FIELDS = [
  'sso_enforced_for_signin',
  'sso_enforced_for_signin_protocol',
  'enable_email_password_login',
  'enable_email_code_login',
  'enable_social_oauth_login',
  'is_allow_register',
] as const

/**
 * @example
 * adjustSystemFeatures({ sso_enforced_for_signin: false, license: { status: 'none' } }, { breakGlass: false })
 * // { sso_enforced_for_signin: true, sso_enforced_for_signin_protocol: 'oidc', …, license: { status: 'none' } }
 */
export function adjustSystemFeatures(body: Record<string, unknown>, options: { breakGlass: boolean }): Record<string, unknown> {
  const out: Record<string, unknown> = { ...body }
  out['sso_enforced_for_signin'] = true
  out['sso_enforced_for_signin_protocol'] = 'oidc'
  // Break-glass reopens password login for that client only: keep dify-api's own value then.
  if (!options.breakGlass) out['enable_email_password_login'] = false
  out['enable_email_code_login'] = false
  out['enable_social_oauth_login'] = false
  out['is_allow_register'] = false
  return out
}
