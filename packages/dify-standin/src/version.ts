/**
 * Dify versions the stand-in can impersonate, and the behaviour switches that differ between them.
 *
 * Every switch names the Dify change it follows. Versions are compared numerically
 * (`major.minor.patch`); the stand-in refuses anything older than 1.9.2, the first release whose
 * console credentials live in httpOnly cookies.
 *
 * Boundaries: where a behaviour was observed only on 1.12.1 and 1.16.1, the switch sits at the first
 * Dify version-bump commit whose history contains the change (the commit named on the switch); the
 * few without such a commit say "boundary unverified".
 */

/** The newest Dify release the stand-in models; the default of `DIFY_STANDIN_VERSION`. */
export const NEWEST_VERSION = '1.16.1';

/** The oldest version the stand-in can impersonate (cookie-based console sessions). */
export const OLDEST_VERSION = '1.9.2';

/**
 * `DIFY_STANDIN_VERSION=main`: upstream main after the 1.16.1 release (as of August 2026). Its
 * `api/pyproject.toml` still says `version = "1.16.1"`, so it answers `X-Version: 1.16.1` and has
 * every 1.16.1 switch, plus what main changed since (see {@link VersionFeatures.workspaceCurrentPost}).
 * A checkout of main is not the 1.16.1 release: main's console builds with Next.js 16.3.0
 * (pnpm-workspace.yaml catalog), the 1.16.1 release with 16.2.12.
 */
export const MAIN_VERSION = 'main';

/**
 * How a client reads the signed-in person's role, on every version the stand-in models
 * (1.9.2 through main): the members list answers each member's `role`; the caller is the entry
 * whose `id` is the `id` of `GET /console/api/account/profile` (the profile has no role). Any
 * member may read the list (login_required, no admin check). `POST /workspaces/current` also
 * answers the caller's `role`, but only while {@link VersionFeatures.workspaceCurrentPost}.
 */
export const ROLE_SOURCE = {
  method: 'GET',
  path: '/console/api/workspaces/current/members',
  field: 'accounts[].role',
} as const;

export type VersionTuple = readonly [number, number, number];

/**
 * Parse `major.minor.patch` (an optional leading `v` and any `-suffix` are ignored).
 *
 * @example parseVersion('1.16.1') // [1, 16, 1]
 */
export function parseVersion(input: string): VersionTuple {
  const match = /^v?(\d+)\.(\d+)\.(\d+)(?:[-+].*)?$/.exec(input.trim());
  if (!match) {
    throw new TypeError(`"DIFY_STANDIN_VERSION" must be a version like 1.16.1, or main (got "${input}")`);
  }
  return [Number(match[1]), Number(match[2]), Number(match[3])];
}

/** -1, 0 or 1 as `a` is older than, equal to or newer than `b`. */
export function compareVersions(a: string | VersionTuple, b: string | VersionTuple): number {
  const x = typeof a === 'string' ? parseVersion(a) : a;
  const y = typeof b === 'string' ? parseVersion(b) : b;
  for (let i = 0; i < 3; i += 1) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}

/** Behaviour switches derived from the impersonated version. */
export interface VersionFeatures {
  readonly version: string;
  /** ≥1.10.0: `COOKIE_DOMAIN` sets the cookie Domain and disables the `__Host-` prefix (api/libs/token.py, ff32dff16). */
  readonly cookieDomain: boolean;
  /** ≥1.11.0: a request authenticated with `ADMIN_API_KEY` skips the CSRF check (api/libs/token.py, 88bfeee23). */
  readonly adminKeySkipsCsrf: boolean;
  /** ≥1.11.2: `password` and `code` request fields are base64 of the UTF-8 value (api/controllers/console/wraps.py, #29659). */
  readonly base64Secrets: boolean;
  /** ≥1.14.0: `REDIS_KEY_PREFIX` turns every key into `<prefix>:<key>` (api/extensions/ext_redis.py, #35139). */
  readonly redisKeyPrefix: boolean;
  /** ≥1.14.0: `/socket.io/` (collaboration websocket, cookie-authenticated) exists in the deployment. */
  readonly collaborationWebsocket: boolean;
  /** ≥1.11.2: `POST /activate` no longer logs the invitee in (before: `data` with the token triple, last login set; api/controllers/console/auth/activate.py, d005689d0a; observed on real 1.11.0). */
  readonly activateIssuesNoLogin: boolean;
  /** ≥1.11.3: `POST /workspaces/current` carries `trial_credits`, `trial_credits_used`, `next_credit_reset_date` (api/controllers/console/workspace/workspace.py, fe0802262c; absent on real 1.11.0). */
  readonly workspaceCreditFields: boolean;
  /** ≥1.11.3: invite-email lower-cases addresses and finds accounts case-insensitively; before, the address is kept as typed and matched exactly (api/controllers/console/workspace/members.py + account_service.py, 491e1fd6a4; observed on real 1.11.0). */
  readonly caseInsensitiveInvite: boolean;
  /** ≥1.12.0: system-features gains `trial_models`, `enable_trial_app`, `enable_explore_banner` (api/services/feature_service.py, 7c12e923b6; absent on real 1.11.0). */
  readonly systemFeatures112: boolean;
  /** ≥1.12.0: the upload record adds `original_url`, `user_id`, `tenant_id`, `conversation_id`, `file_key`; the upload config adds `file_upload_limit`, `attachment_image_file_size_limit` (api/controllers/console/files.py; absent on real 1.11.0, present on 1.12.1; boundary unverified). */
  readonly uploadFieldsV112: boolean;
  /** ≥1.15.0: the upload record carries `reference`; `file-preview` answers `application/octet-stream` (real 1.12.1: the file's type; 1.15.0 and 1.16.1: octet-stream; boundary unverified). */
  readonly uploadFieldsV115: boolean;
  /** ≥1.12.0: `/setup` is served by fastopenapi (api/controllers/console/setup.py, eba5eac3fa): GET always carries `setup_at` (null before setup), POST after setup answers 403 `{"error":{"type":"authorization_error",…}}` instead of `already_setup`. */
  readonly fastopenapiSetup: boolean;
  /** ≥1.14.0: system-features gains `app_dsl_version`, `enable_collaboration_mode`, `enable_creators_platform` (api/services/feature_service.py). Field set from Dify's git history; 1.14.x was not run. */
  readonly systemFeatures114: boolean;
  /** ≥1.14.2: update-role answers dedicated codes (`role-already-assigned`, `cannot-operate-self`, 403 `forbidden`, 404 `member-not-found`) and admins may update and remove non-owner members (api/controllers/console/workspace/members.py + api/services/account_service.py, 680ef077ae). */
  readonly memberRoleErrorCodes: boolean;
  /** ≥1.15.0: invitation flow of 26b0137c83 (api/services/account_service.py `invite_new_member`, api/controllers/console/auth/activate.py): an active non-member gets a token and joins only on activation, an active member answers `already_member`, token data carries `role` and `requires_setup`, a token stays valid while its account exists (membership no longer required), `activate/check` adds `account_status`/`requires_setup`, `name`/`interface_language`/`timezone` become optional (required only when setup is needed, else 403 `already_activate`), invite `role` is a plain string (unknown → `invalid-role`). */
  readonly inviteFlowV2: boolean;
  /** ≥1.15.0: members carry `roles:[{id,name}]` (api/controllers/console/workspace/members.py, RBAC 33edf97f81) and system-features gains `enable_app_deploy`, `enable_learn_app`, `rbac_enabled`, drops `app_dsl_version`, `trial_models`. */
  readonly rbacFields: boolean;
  /** ≥1.16.0: invite-email validates `emails` with at least one entry and raises `InvalidMemberRoleError` (`{"code":"invalid_role","message":"Invalid role.","status":400}`) (api/controllers/console/workspace/members.py, 323654afe2 / 509a8b1452). */
  readonly inviteErrorsV3: boolean;
  /** ≥1.16.0: refresh-token no longer prefixes loader errors with the HTTP status ("Account is banned." instead of "401 Unauthorized: Account is banned.") (api/controllers/console/auth/login.py, fc01d112a0). */
  readonly refreshErrorsUnmasked: boolean;
  /** ≥1.16.0: `POST /workspaces/current` adds `trial_credits_exhausted_at` (api/controllers/console/workspace/workspace.py, 85cc183501) and answers `plan: null` on a community deployment (observed on 1.16.1, `"basic"` on 1.12.1; boundary of `plan` unverified). */
  readonly workspaceCredits: boolean;
  /** ≥1.15.0: `GET /workspaces` items carry `last_opened_at` (api/controllers/console/workspace/workspace.py, 9b74df21d0; observed on 1.15.0 and 1.16.1, not on 1.12.1). */
  readonly workspaceLastOpened: boolean;
  /** 1.15.x only: `POST /workspaces/current` answers `custom_config: {remove_webapp_brand: false, replace_webapp_logo: null}` instead of null (observed on 1.15.0; null on 1.12.1 and 1.16.1; boundaries unverified). */
  readonly customConfigObject: boolean;
  /** ≥1.16.0: `Vary: Cookie` on every response (observed on 1.16.1, not on 1.12.1; boundary unverified). */
  readonly varyCookie: boolean;
  /** ≥1.16.1: `is_allow_create_workspace`, `plugin_manager`, `max_plugin_package_size`, trial fields leave system-features; `license` shrinks to `{status}`; `enable_step_by_step_tour`, `knowledge_fs_enabled`, `webapp_auth.allow_public_access` join (api/services/feature_service.py, aff5c47541). */
  readonly slimSystemFeatures: boolean;
  /** ≥1.16.1: system-features starts with `deployment_edition` (api/services/feature_service.py, 66a545fc6d). */
  readonly deploymentEditionField: boolean;
  /** Whether this is upstream main after 1.16.1 ({@link MAIN_VERSION}) rather than a release. */
  readonly upstreamMain: boolean;
  /**
   * `POST /workspaces/current` (`TenantApi.post`, the current workspace with the caller's `role`) exists:
   * every release up to 1.16.1. Main removed it in baba36d47d (2026-08-07, #40121, api/controllers/console/workspace/workspace.py)
   * for `GET /workspaces/current/summary` ({@link currentWorkspaceSummary}); a POST there is a plain 404. From
   * 1.17.0 the stand-in assumes the release carries main's change (boundary unverified: no 1.17 release yet).
   */
  readonly workspaceCurrentPost: boolean;
  /** main (and ≥1.17.0, unverified): `GET /workspaces/current/summary` answers `{id, name, role, plan, credits}` (baba36d47d). */
  readonly currentWorkspaceSummary: boolean;
}

/**
 * Resolve the switches for one version.
 *
 * @example versionFeatures('1.11.0').adminKeySkipsCsrf // true
 */
export function versionFeatures(version: string): VersionFeatures {
  const upstreamMain = version.trim() === MAIN_VERSION;
  const v = parseVersion(upstreamMain ? NEWEST_VERSION : version);
  if (compareVersions(v, OLDEST_VERSION) < 0) {
    throw new TypeError(`"DIFY_STANDIN_VERSION" must be ${OLDEST_VERSION} or newer (got "${version}")`);
  }
  const atLeast = (w: string): boolean => compareVersions(v, w) >= 0;
  return Object.freeze({
    version: v.join('.'),
    cookieDomain: atLeast('1.10.0'),
    adminKeySkipsCsrf: atLeast('1.11.0'),
    base64Secrets: atLeast('1.11.2'),
    redisKeyPrefix: atLeast('1.14.0'),
    collaborationWebsocket: atLeast('1.14.0'),
    activateIssuesNoLogin: atLeast('1.11.2'),
    workspaceCreditFields: atLeast('1.11.3'),
    caseInsensitiveInvite: atLeast('1.11.3'),
    systemFeatures112: atLeast('1.12.0'),
    uploadFieldsV112: atLeast('1.12.0'),
    uploadFieldsV115: atLeast('1.15.0'),
    fastopenapiSetup: atLeast('1.12.0'),
    systemFeatures114: atLeast('1.14.0'),
    memberRoleErrorCodes: atLeast('1.14.2'),
    inviteFlowV2: atLeast('1.15.0'),
    rbacFields: atLeast('1.15.0'),
    inviteErrorsV3: atLeast('1.16.0'),
    refreshErrorsUnmasked: atLeast('1.16.0'),
    workspaceCredits: atLeast('1.16.0'),
    workspaceLastOpened: atLeast('1.15.0'),
    customConfigObject: atLeast('1.15.0') && !atLeast('1.16.0'),
    varyCookie: atLeast('1.16.0'),
    slimSystemFeatures: atLeast('1.16.1'),
    deploymentEditionField: atLeast('1.16.1'),
    upstreamMain,
    workspaceCurrentPost: !upstreamMain && !atLeast('1.17.0'),
    currentWorkspaceSummary: upstreamMain || atLeast('1.17.0'),
  });
}
