import { DifyError } from '../../errors.js';

/**
 * What the bridge knows about each supported Dify line. The session-seeding contract (Redis
 * keys, cookie names, `/console/api/refresh-token`) is internal to dify-api, so every version
 * the bridge runs against must be listed here and covered by tests.
 *
 * Sources: docs/dify-contract.md §1 (version boundaries), §3.2 (refresh keys)
 * (`X-Version` header, dify `api/extensions/ext_app_metrics.py`).
 */
export interface DifyVersionTraits {
  /** First version of the line (inclusive). */
  readonly from: string;
  /** `REDIS_KEY_PREFIX` exists: every key is `<prefix>:<key>` (1.14.0, langgenius/dify#35139). */
  readonly redisKeyPrefix: boolean;
  /**
   * `POST /console/api/activate` also logs the invitee in and answers with a token pair
   * (1.11.0–1.11.1): the bridge deletes that refresh token after JIT activation.
   */
  readonly activationIssuesLogin: boolean;
  /**
   * An invitation of an address that is already a member answers `already_member` without a URL
   * (1.15.0); before, `success` with a `/signin` URL. JIT treats both as "link, set the role".
   */
  readonly inviteAnswersAlreadyMember: boolean;
}

/** Oldest supported version (inclusive): the admin API key skips CSRF from 1.11.0. */
export const MIN_DIFY_VERSION = '1.11.0';
/** Newest supported minor line; versions of a newer minor are refused unless explicitly allowed. */
export const MAX_DIFY_MINOR = '1.17';

/**
 * Every version quirk the bridge relies on, one row per boundary (docs/dify-contract.md §1).
 * Not in the table because the bridge never depends on it: the removal of
 * `POST /console/api/workspaces/current` on upstream main (roles are read from the members list).
 */
export const DIFY_VERSION_TABLE: readonly DifyVersionTraits[] = [
  { from: '1.11.0', redisKeyPrefix: false, activationIssuesLogin: true, inviteAnswersAlreadyMember: false },
  { from: '1.11.2', redisKeyPrefix: false, activationIssuesLogin: false, inviteAnswersAlreadyMember: false },
  { from: '1.14.0', redisKeyPrefix: true, activationIssuesLogin: false, inviteAnswersAlreadyMember: false },
  { from: '1.15.0', redisKeyPrefix: true, activationIssuesLogin: false, inviteAnswersAlreadyMember: true },
];

export interface ParsedVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly text: string;
}

export function parseDifyVersion(text: string | null | undefined): ParsedVersion | undefined {
  if (!text) return undefined;
  const m = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+.].*)?$/.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), text: text.trim() };
}

export function compareVersions(a: ParsedVersion, b: ParsedVersion): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

/**
 * Returns the traits of a supported version or throws `ERR_DIFY_UNSUPPORTED_VERSION` naming it
 * (`ERR_DIFY_VERSION_UNKNOWN` when the header is missing or unparsable).
 *
 * @example
 * difyVersionTraits('1.14.2').redisKeyPrefix // true
 * difyVersionTraits('1.9.2') // throws ERR_DIFY_UNSUPPORTED_VERSION
 */
export function difyVersionTraits(
  text: string | null | undefined,
  options: { allowNewer?: boolean } = {},
): DifyVersionTraits & { version: string } {
  const v = parseDifyVersion(text);
  if (!v) {
    throw new DifyError(
      'ERR_DIFY_VERSION_UNKNOWN',
      `dify-api did not report a usable X-Version header (got ${text ? JSON.stringify(String(text).slice(0, 40)) : 'none'})`,
    );
  }
  const min = parseDifyVersion(MIN_DIFY_VERSION) as ParsedVersion;
  const maxMinor = parseDifyVersion(`${MAX_DIFY_MINOR}.0`) as ParsedVersion;
  const tooOld = compareVersions(v, min) < 0;
  const tooNew = v.major > maxMinor.major || (v.major === maxMinor.major && v.minor > maxMinor.minor);
  if (tooOld || (tooNew && !options.allowNewer)) {
    throw new DifyError(
      'ERR_DIFY_UNSUPPORTED_VERSION',
      `Dify ${v.text} is not supported (supported: ${MIN_DIFY_VERSION} to ${MAX_DIFY_MINOR}.x)`,
    );
  }
  let traits = DIFY_VERSION_TABLE[0] as DifyVersionTraits;
  for (const row of DIFY_VERSION_TABLE) {
    if (compareVersions(v, parseDifyVersion(row.from) as ParsedVersion) >= 0) traits = row;
  }
  return { ...traits, version: v.text };
}
