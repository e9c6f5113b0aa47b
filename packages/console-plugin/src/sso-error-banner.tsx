'use client';
import type { ReactElement } from 'react';
import { useEffect, useState } from 'react';
import { messageForCode } from './lib/messages.js';

/** Props of {@link SsoErrorBanner}. */
export type SsoErrorBannerProps = {
  /** A sidecar reason code. When omitted the banner reads `?message=` from the page URL. */
  code?: string;
  /** Extra class names appended to the banner's own. */
  className?: string;
};

/**
 * Shows why an SSO round trip ended back on the sign-in page. Known reason codes map to
 * fixed text; anything else shows a generic text (the query value itself is never rendered).
 *
 * @example
 * <SsoErrorBanner />                       // reads ?message=access_denied
 * <SsoErrorBanner code="idp_unavailable" />
 */
export function SsoErrorBanner({ code, className }: SsoErrorBannerProps): ReactElement | null {
  const [fromUrl, setFromUrl] = useState<string | undefined>(undefined);
  useEffect(() => {
    if (code !== undefined || typeof window === 'undefined') return;
    const value = new URLSearchParams(window.location.search).get('message');
    setFromUrl(value ?? undefined);
  }, [code]);
  const text = messageForCode(code ?? fromUrl);
  if (!text) return null;
  return (
    <div
      role="alert"
      className={[
        'w-full rounded-lg border border-state-destructive-border bg-state-destructive-hover px-3 py-2',
        'text-text-destructive system-sm-regular',
        className ?? '',
      ]
        .join(' ')
        .trim()}
    >
      {text}
    </div>
  );
}
