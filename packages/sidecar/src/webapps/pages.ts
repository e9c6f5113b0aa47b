/**
 * The two HTML pages of web-app SSO: the denial page (which app, why, whom to ask) and the
 * embed page for a framed navigation without a kit session (an "open in a new tab" link: the
 * kit's `SameSite=Lax` cookie is not sent in a cross-site iframe, and the kit never weakens it).
 *
 * @module
 */
import type { WebAppDenial } from './policy.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  );
}

/** Headers of both pages: no script, nothing loaded, never cached. */
export const PAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

const WHY: Record<WebAppDenial | 'not_signed_in', string> = {
  webapp_login_required: 'You are not signed in.',
  not_signed_in: 'You are not signed in.',
  webapp_group_required: 'This app is open only to members of specific groups, and your account is not in any of them.',
  webapp_role_required: 'This app is open only to people with specific roles, and your account has none of them.',
};

function shell(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1f2937}h1{font-size:1.4rem}code{background:#f3f4f6;padding:0 .25rem}</style>
</head><body><main>
${body}
</main></body></html>
`;
}

/**
 * The denial page.
 *
 * @example
 * deniedPage({ appCode: 'abc', reason: 'webapp_group_required', contact: 'help@example.com' })
 */
export function deniedPage(o: { appCode: string | undefined; reason: WebAppDenial; contact: string }): string {
  const app = o.appCode ? `<code>${escapeHtml(o.appCode)}</code>` : 'this app';
  const ask = o.contact
    ? `To get access, ask ${escapeHtml(o.contact)}.`
    : 'To get access, ask the person who shared this app with you, or your IT help desk.';
  return shell(
    'Access denied',
    `<h1>You cannot use this app</h1>
<p>Access to the app ${app} was refused.</p>
<p>Why: ${escapeHtml(WHY[o.reason])}</p>
<p>${ask}</p>
<p>Reason code: <code>${escapeHtml(o.reason)}</code></p>`,
  );
}

/**
 * The embed page (shown inside an iframe without a kit session).
 *
 * @example
 * embedPage({ appCode: 'abc', href: '/chatbot/abc' })
 */
export function embedPage(o: { appCode: string; href: string }): string {
  return shell(
    'Sign-in needed',
    `<h1>Sign-in needed</h1>
<p>This app (<code>${escapeHtml(o.appCode)}</code>) is protected by your organisation's single sign-on, which cannot run inside an embedded frame.</p>
<p><a href="${escapeHtml(o.href)}" target="_blank" rel="noopener noreferrer">Open the app in a new tab</a></p>`,
  );
}
