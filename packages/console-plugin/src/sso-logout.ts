import { buildLogoutUrl } from './lib/redirect.js';

/** Options of {@link ssoLogout}. */
export type SsoLogoutOptions = {
  /** Where the sidecar routes are mounted. Default `/sso`. */
  ssoPrefix?: string;
};

/**
 * Ends the console session at the sidecar: submits a POST form to `/sso/logout`, which
 * deletes the kit session and Dify's tokens and continues to the IdP's logout. The page
 * navigates away, so the returned promise never settles (code after `await` never runs).
 *
 * @example
 * const handleLogout = async () => { resetUser(); ssoLogout() }
 */
export function ssoLogout(options: SsoLogoutOptions = {}): Promise<never> {
  if (typeof document !== 'undefined') {
    const form = document.createElement('form');
    form.method = 'POST';
    form.action = buildLogoutUrl(options.ssoPrefix);
    form.style.display = 'none';
    document.body.appendChild(form);
    form.submit();
  }
  return new Promise<never>(() => {});
}
