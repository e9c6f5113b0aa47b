'use client';
import type { ReactElement } from 'react';

/** Props of {@link BreakGlassLink}. */
export type BreakGlassLinkProps = {
  /** Break-glass page URL. Nothing is rendered when it is missing or empty. */
  href?: string;
  /** Visible text. Default "Emergency access". */
  label?: string;
  /** Extra class names appended to the link's own. */
  className?: string;
};

/**
 * A discreet link to the administrators' break-glass page, rendered only when configured
 * (a non-empty `href`). Break-glass itself is enforced by the sidecar (allowlisted IPs,
 * one-time tokens); hiding or showing the link is not a security control.
 *
 * @example
 * <BreakGlassLink href={process.env.NEXT_PUBLIC_DIFY_SSO_BREAK_GLASS_URL} />
 */
export function BreakGlassLink({ href, label, className }: BreakGlassLinkProps): ReactElement | null {
  if (!href || href.trim() === '') return null;
  return (
    <a
      href={href}
      rel="nofollow noopener"
      className={['block text-center text-text-tertiary system-xs-regular hover:underline', className ?? '']
        .join(' ')
        .trim()}
    >
      {label ?? 'Emergency access'}
    </a>
  );
}
