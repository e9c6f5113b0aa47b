'use client';
import type { ReactElement } from 'react';
import { useState } from 'react';
import { buildLoginUrl } from './lib/redirect.js';

/** Props of {@link SsoSignInButton}. */
export type SsoSignInButtonProps = {
  /** Post-login path (same-origin). Defaults to the page's `redirect_url` query value, else `/apps`. */
  redirect?: string;
  /** Visible text. Defaults to the accessible name, "Sign in with <idpName or 'SSO'>". */
  label?: string;
  /** Name of the organisation's identity provider, used in the accessible name. */
  idpName?: string;
  /** Dify's `NEXT_PUBLIC_BASE_PATH`; prefixed to the post-login path. */
  basePath?: string;
  /** Where the sidecar routes are mounted. Default `/sso`. */
  ssoPrefix?: string;
  /** Extra class names appended to the button's own. */
  className?: string;
};

/**
 * The console's only sign-in control: a full-page navigation to the sidecar's
 * `/sso/login?redirect=<post-login path>`. It makes no request of its own and stores nothing.
 *
 * @example
 * <SsoSignInButton idpName="Acme ID" basePath={basePath} />
 */
export function SsoSignInButton({
  redirect,
  label,
  idpName,
  basePath,
  ssoPrefix,
  className,
}: SsoSignInButtonProps): ReactElement {
  const [pending, setPending] = useState(false);
  const name = `Sign in with ${idpName && idpName.trim() !== '' ? idpName.trim() : 'SSO'}`;
  const onClick = () => {
    if (typeof window === 'undefined') return;
    setPending(true);
    const url = buildLoginUrl({
      redirect,
      search: window.location.search,
      origin: window.location.origin,
      basePath,
      ssoPrefix,
    });
    window.location.assign(url);
  };
  return (
    <button
      type="button"
      aria-label={name}
      aria-busy={pending || undefined}
      disabled={pending}
      onClick={onClick}
      className={[
        'inline-flex h-10 w-full items-center justify-center gap-2 rounded-lg px-4',
        'bg-components-button-primary-bg text-components-button-primary-text system-md-semibold',
        'hover:bg-components-button-primary-bg-hover disabled:cursor-wait disabled:opacity-70',
        className ?? '',
      ]
        .join(' ')
        .trim()}
    >
      {label ?? name}
    </button>
  );
}
