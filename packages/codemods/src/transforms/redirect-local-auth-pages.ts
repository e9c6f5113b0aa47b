import type { Transform } from '../lib/types.js';

/**
 * Route segments of Dify's own local-account flows that stay reachable by URL after the
 * sign-in form no longer links to them: sign-up, password reset, and the e-mail-code step.
 */
export const LOCAL_AUTH_SEGMENTS = [
  'web/app/signup',
  'web/app/forgot-password',
  'web/app/reset-password',
  'web/app/signin/check-code',
] as const;

const TEMPLATE = `'use client'
// Added by dify-sso-kit (\`dify-sso patch\`). Do not edit: re-run the patch to update, \`--revert\` to remove.
// This console signs in with single sign-on only: the page of this route segment is not
// rendered; the browser goes to the sign-in page instead.
import { useEffect } from 'react'
import { basePath } from '@/utils/var'

export default function SsoOnlyTemplate() {
  useEffect(() => {
    window.location.replace(\`\${basePath}/signin\`)
  }, [])
  return (
    <p className="mx-auto mt-8 w-full text-text-tertiary system-sm-regular">
      This console uses single sign-on. Redirecting to the sign-in page…
    </p>
  )
}
`;

/**
 * Adds a \`template.tsx\` to each local-account route segment (sign-up, forgot/reset password,
 * sign-in e-mail code) that renders a redirect to \`/signin\` instead of the page. Only files are
 * added: Dify's own pages, layouts, logo and copyright stay untouched, and --revert removes them.
 */
export const redirectLocalAuthPages: Transform = {
  slug: 'redirect-local-auth-pages',
  description:
    'Send the sign-up, forgot/reset-password and e-mail-code pages to /signin (adds a template.tsx per route segment)',
  edits: [],
  adds() {
    const bytes = new TextEncoder().encode(TEMPLATE);
    return new Map(LOCAL_AUTH_SEGMENTS.map((dir) => [`${dir}/template.tsx`, bytes]));
  },
  requires: LOCAL_AUTH_SEGMENTS.map((dir) => `${dir}/page.tsx`),
};
