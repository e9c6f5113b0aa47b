import type { Transform } from './lib/types.js';
import { addPluginFiles } from './transforms/add-plugin-files.js';
import { addSsoButton } from './transforms/add-sso-button.js';
import { addSsoErrorBanner } from './transforms/add-sso-error-banner.js';
import { localFonts } from './transforms/local-fonts.js';
import { removeEmailCodeLogin } from './transforms/remove-email-code-login.js';
import { removeLoginDivider } from './transforms/remove-login-divider.js';
import { removeNoLoginMethodNotice } from './transforms/remove-no-login-method-notice.js';
import { removePasswordLogin } from './transforms/remove-password-login.js';
import { removeSignup } from './transforms/remove-signup.js';
import { redirectLocalAuthPages } from './transforms/redirect-local-auth-pages.js';
import { removeSocialLogin } from './transforms/remove-social-login.js';
import { routeLogoutThroughSso } from './transforms/route-logout-through-sso.js';

/** Every transform, by slug. Slugs are public API: never renamed. */
export const TRANSFORMS = {
  'add-plugin-files': addPluginFiles,
  'add-sso-button': addSsoButton,
  'add-sso-error-banner': addSsoErrorBanner,
  'remove-social-login': removeSocialLogin,
  'remove-password-login': removePasswordLogin,
  'remove-email-code-login': removeEmailCodeLogin,
  'remove-signup': removeSignup,
  'remove-login-divider': removeLoginDivider,
  'remove-no-login-method-notice': removeNoLoginMethodNotice,
  'route-logout-through-sso': routeLogoutThroughSso,
  'redirect-local-auth-pages': redirectLocalAuthPages,
  'local-fonts': localFonts,
} as const satisfies Record<string, Transform>;

/** A transform slug. */
export type Slug = keyof typeof TRANSFORMS;

/** Sign-in and logout path of every supported version, in application order. */
const SSO_ONLY: readonly Slug[] = [
  'add-plugin-files',
  'add-sso-button',
  'add-sso-error-banner',
  'remove-social-login',
  'remove-password-login',
  'remove-email-code-login',
  'remove-signup',
  'remove-login-divider',
  'remove-no-login-method-notice',
  'route-logout-through-sso',
  'redirect-local-auth-pages',
];

/** One line of supported Dify versions sharing a patch set. */
export type VersionLine = {
  /** Exact `version` values of web/package.json. */
  versions: readonly string[];
  /** Transforms applied, in order. */
  slugs: readonly Slug[];
  /**
   * Which fixture reproduction (test/__fixtures__/stock/<shape>/) stands for this line's files;
   * used by scripts/gen-patches.ts to compute before/after fingerprints.
   */
  shape: string;
  /** What the shape of this line looks like (for the README). */
  notes: string;
};

/**
 * Dify versions the kit knows, keyed by the exact `version` in web/package.json. Versions
 * not listed are refused (ERR_PATCH_UNSUPPORTED_VERSION): a new Dify release is added here
 * only after its files were checked against the transforms.
 */
export const VERSION_LINES: readonly VersionLine[] = [
  {
    versions: ['1.11.0', '1.11.1', '1.11.2', '1.11.3', '1.11.4', '1.12.0', '1.12.1', '1.13.0'],
    slugs: [...SSO_ONLY, 'local-fonts'],
    shape: '1.11',
    notes: 'init() callback + Toast.notify for ?message=; root layout loads Instrument Serif from next/font/google',
  },
  {
    versions: ['1.13.1', '1.13.2'],
    slugs: SSO_ONLY,
    shape: '1.13.1',
    notes: 'as 1.11 but @/next wrappers; no next/font/google any more',
  },
  {
    versions: ['1.13.3', '1.14.0', '1.14.1', '1.14.2'],
    slugs: SSO_ONLY,
    shape: '1.13.3',
    notes: 'init() callback + toast.error for ?message=',
  },
  {
    versions: ['1.15.0'],
    slugs: SSO_ONLY,
    shape: '1.15',
    notes: 'react-query hooks, has*Login flags, useEffect toast for ?message=',
  },
  {
    versions: ['1.16.1'],
    slugs: SSO_ONLY,
    shape: '1.16',
    notes: 'as 1.15; sign-up href built from the query string; one-line toast effect',
  },
];

/** Every supported version. */
export const SUPPORTED_VERSIONS: readonly string[] = VERSION_LINES.flatMap((l) => l.versions);

/** The version line of `version`, or undefined when the kit does not support it. */
export function lineFor(version: string): VersionLine | undefined {
  return VERSION_LINES.find((l) => l.versions.includes(version));
}

/** Transforms for `version` in application order, or undefined when unsupported. */
export function transformsFor(version: string): Transform[] | undefined {
  const line = lineFor(version);
  return line?.slugs.map((s) => TRANSFORMS[s]);
}
