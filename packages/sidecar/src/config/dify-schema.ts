/**
 * Configuration fragment of the Dify bridge, merged into the sidecar's one schema by `schema.ts`.
 *
 * The bridge is on when `dify.apiUrl` is set; every other bridge key is then checked by
 * {@link difyConfigChecks}. Env var = `DIFY_SSO_` + path in upper snake case
 * (`dify.apiUrl` → `DIFY_SSO_DIFY_API_URL`, `breakGlass.cidrs` → `DIFY_SSO_BREAK_GLASS_CIDRS`).
 *
 * @module
 */
import { Type, type TProperties } from '@sinclair/typebox';
import type { ConfigCheck } from './checks.js';
import { parseRoleMap } from '../dify/role-map.js';
import { parseCidrList } from '../gate/cidr.js';
import { parseMachineRoutes } from '../gate/route-table.js';
import { difyRedisPath, redisConnectionCheck, redisConnectionProperties } from './redis-schema.js';

type PrefixedRedis<T> = { [K in keyof T as `redis${Capitalize<K & string>}`]: T[K] };

/** `mode` → `redisMode`, …: Dify's Redis settings live flat in `dify.*` (`DIFY_SSO_DIFY_REDIS_MODE`, …). */
function prefixedRedisProperties<T extends TProperties>(props: T): PrefixedRedis<T> {
  return Object.fromEntries(
    Object.entries(props).map(([k, v]) => [`redis${k[0]!.toUpperCase()}${k.slice(1)}`, v]),
  ) as PrefixedRedis<T>;
}

/**
 * Values that must never be used as Dify's ADMIN_API_KEY: placeholders from setup guides and
 * Dify's own public defaults of other secrets (docker/.env.example), which people copy around.
 */
export const PUBLIC_ADMIN_KEYS: readonly string[] = [
  'sk-9f73s3ljTXVcMT3Blb3ljTqtsKiGHXVcMT3BlbkFJLK7U',
  'difyai123456',
  'dify-sandbox',
  'your-admin-api-key',
  'your_admin_api_key',
  'admin-api-key',
  'changeme',
  'change-me',
  'admin',
  'secret',
  'password',
];

/** Properties merged into the sidecar's configuration schema. */
export const difySchema = {
  dify: Type.Object({
    apiUrl: Type.Optional(
      Type.String({
        description:
          'Base URL of dify-api as the sidecar reaches it (e.g. `http://api:5001`). Setting it turns the Dify bridge on.',
      }),
    ),
    webUrl: Type.Optional(
      Type.String({ description: 'Base URL of Dify web (e.g. `http://web:3000`); needed by reverse-proxy mode only.' }),
    ),
    socketIoUrl: Type.Optional(
      Type.String({
        description:
          'Reverse-proxy mode: base URL of the collaboration websocket service (Dify ≥ 1.14 `api_websocket`, e.g. `http://api_websocket:5001`) for `/socket.io/`; default `dify.apiUrl`.',
      }),
    ),
    pluginDaemonUrl: Type.Optional(
      Type.String({
        description:
          'Reverse-proxy mode: base URL of the plugin daemon (e.g. `http://plugin_daemon:5002`) for `/e/`; unset: `/e/` is not routed.',
      }),
    ),
    adminApiKey: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description:
          "Dify's `ADMIN_API_KEY` (dify-api needs `ADMIN_API_KEY_ENABLE=true`). Used for member management; public placeholder values are refused.",
      }),
    ),
    workspaceId: Type.Optional(
      Type.String({ description: 'Id of the Dify workspace (tenant) the kit manages; sent as `X-WORKSPACE-ID`.' }),
    ),
    ...prefixedRedisProperties(redisConnectionProperties("Dify's Redis (where the bridge seeds refresh tokens)")),
    redisKeyPrefix: Type.String({
      default: '',
      description: "Dify's `REDIS_KEY_PREFIX` (Dify ≥ 1.14.0): keys become `<prefix>:<key>`.",
    }),
    consoleApiUrl: Type.String({
      default: '',
      description:
        "Dify's `CONSOLE_API_URL` (same value as on dify-api); decides Dify's cookie names (`__Host-` prefix).",
    }),
    consoleWebUrl: Type.String({ default: '', description: "Dify's `CONSOLE_WEB_URL` (same value as on dify-api)." }),
    cookieDomain: Type.String({ default: '', description: "Dify's `COOKIE_DOMAIN` (same value as on dify-api)." }),
    refreshTokenExpireDays: Type.Integer({
      default: 30,
      minimum: 1,
      maximum: 3650,
      description: "Dify's `REFRESH_TOKEN_EXPIRE_DAYS`: TTL of the seeded refresh token.",
    }),
    allowNewerVersions: Type.Boolean({
      default: false,
      description: '**Relaxation.** Run against Dify minors newer than the tested version table. Logs a warning.',
    }),
    timeoutSeconds: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 120,
      description: 'Timeout of the sidecar’s own calls to dify-api.',
    }),
  }),
  roleMap: Type.Array(Type.String(), {
    default: [],
    description:
      'IdP claim value → Dify role, e.g. `dify-admins=admin,dify-editors=editor` (roles: admin, editor, normal, dataset_operator; never owner). No match → login denied (`no_role`).',
  }),
  roleClaim: Type.Array(Type.String(), {
    default: ['groups'],
    description: 'Dotted claim paths holding the values matched by `roleMap` (e.g. `groups,realm_access.roles`).',
  }),
  jit: Type.Boolean({
    default: false,
    description:
      'Provision unknown people just in time (invite + activate through the admin API) when `roleMap` gives them a role.',
  }),
  removeUnmapped: Type.Boolean({
    default: false,
    description: 'Remove a member from the workspace when no role mapping remains for them (never the owner).',
  }),
  breakGlass: Type.Object({
    cidrs: Type.Array(Type.String(), {
      default: [],
      description:
        'Client networks allowed to redeem a break-glass token at `/sso/break-glass`. Empty: break-glass is off.',
    }),
    windowSeconds: Type.Integer({
      default: 900,
      minimum: 60,
      maximum: 3600,
      description: 'How long a redeemed break-glass token reopens password login for that client.',
    }),
  }),
  gate: Type.Object({
    mode: Type.Union([Type.Literal('authrequest'), Type.Literal('proxy')], {
      default: 'authrequest',
      description: '`authrequest`: nginx asks `/sso/auth`; `proxy`: the sidecar forwards every request to Dify itself.',
    }),
    webApps: Type.Boolean({
      default: false,
      description: 'Require a kit session for the published web-app API (`/api/…`) too.',
    }),
    webAppPolicy: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Web-app SSO (needs `gate.webApps`): JSON or YAML file mapping app codes / app ids to `public`, `authenticated`, `{groups: [...]}` or `{roles: [...]}`, plus a `default`; the sidecar then owns `/api/passport` (one Dify end user per person) and checks passport ownership on every `/api/…` call. Reloaded on SIGHUP.',
      }),
    ),
    webAppUserId: Type.Union([Type.Literal('pseudonym'), Type.Literal('email'), Type.Literal('preferred_username')], {
      default: 'pseudonym',
      description:
        "Web-app SSO: the Dify end user's `user_id` — a stable pseudonym of the person (HMAC of `iss`+`sub`), the verified e-mail, or `preferred_username`.",
    }),
    webAppUserIdKey: Type.Optional(
      Type.String({
        minLength: 32,
        secret: true,
        description:
          'Web-app SSO: HMAC key of the pseudonymous `user_id` (keep it stable: changing it gives everyone new end users). Unset: an unkeyed SHA-256.',
      }),
    ),
    serviceApiBearer: Type.Boolean({
      default: false,
      description:
        'Service API (`/v1/…`): require an IdP bearer JWT in `X-Sso-Token` (verified like console bearers: `bearer.audience`, `bearer.requiredScopes`) next to the Dify app key.',
    }),
    machineRoutes: Type.Array(Type.String(), {
      default: [],
      description:
        'Console routes a verified bearer token may call, as `GET /console/api/apps*` (method, path, `*` = prefix). They run with the admin key as the workspace owner: keep to read routes.',
    }),
    authRequestSecret: Type.Optional(
      Type.String({
        minLength: 32,
        secret: true,
        description:
          'Shared secret nginx sends to `/sso/auth` (`X-Sso-Gate-Secret`). Needed for machine access in `authrequest` mode unless every `trustProxy` entry is loopback: only nginx may receive the upstream admin credentials.',
      }),
    ),
    proxyTimeoutSeconds: Type.Integer({
      default: 3600,
      minimum: 10,
      maximum: 86400,
      description: 'Reverse-proxy mode: upstream read timeout (SSE, long runs).',
    }),
    bodyLimitMegabytes: Type.Integer({
      default: 100,
      minimum: 1,
      maximum: 2048,
      description: 'Reverse-proxy mode: largest request body (uploads).',
    }),
  }),
} satisfies TProperties;

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

function isHttpUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !u.search && !u.hash && !u.username;
  } catch {
    return false;
  }
}

/** Semantic checks for the bridge's part of the configuration. */
export const difyConfigChecks: readonly ConfigCheck[] = [
  (c, report) => {
    const apiUrl = getPath(c, 'dify.apiUrl');
    if (apiUrl === undefined) return;
    if (typeof apiUrl !== 'string' || !isHttpUrl(apiUrl))
      report('ERR_CONFIG_FORMAT', 'dify.apiUrl', 'must be an http(s) URL without query (e.g. http://api:5001)');
    const webUrl = getPath(c, 'dify.webUrl');
    if (typeof webUrl === 'string' && !isHttpUrl(webUrl))
      report('ERR_CONFIG_FORMAT', 'dify.webUrl', 'must be an http(s) URL without query (e.g. http://web:3000)');
    for (const k of ['socketIoUrl', 'pluginDaemonUrl']) {
      const v = getPath(c, `dify.${k}`);
      if (typeof v === 'string' && !isHttpUrl(v))
        report('ERR_CONFIG_FORMAT', `dify.${k}`, 'must be an http(s) URL without query');
    }
    if (getPath(c, 'gate.mode') === 'proxy' && webUrl === undefined)
      report('ERR_CONFIG_REQUIRED', 'dify.webUrl', 'is required when gate.mode=proxy');
    const key = getPath(c, 'dify.adminApiKey');
    if (key === undefined) report('ERR_CONFIG_REQUIRED', 'dify.adminApiKey', 'is required when dify.apiUrl is set');
    else if (typeof key === 'string' && (PUBLIC_ADMIN_KEYS.includes(key) || key.length < 16 || new Set(key).size < 6)) {
      report(
        'ERR_CONFIG_INSECURE',
        'dify.adminApiKey',
        'must be a random value of at least 16 characters (a public default or placeholder was given)',
      );
    }
    const ws = getPath(c, 'dify.workspaceId');
    if (ws === undefined) report('ERR_CONFIG_REQUIRED', 'dify.workspaceId', 'is required when dify.apiUrl is set');
    else if (typeof ws === 'string' && !/^[0-9a-fA-F-]{8,64}$/.test(ws))
      report('ERR_CONFIG_FORMAT', 'dify.workspaceId', 'must be a Dify workspace id (UUID)');
    const prefix = getPath(c, 'dify.redisKeyPrefix');
    if (typeof prefix === 'string' && /\s/.test(prefix))
      report('ERR_CONFIG_FORMAT', 'dify.redisKeyPrefix', 'must not contain whitespace');
  },
  redisConnectionCheck(difyRedisPath, (c) => getPath(c, 'dify.apiUrl') !== undefined, 'dify.apiUrl is set'),
  (c, report) => {
    const entries = getPath(c, 'roleMap');
    const claims = getPath(c, 'roleClaim');
    if (!Array.isArray(entries) || !Array.isArray(claims)) return;
    const { problems, map } = parseRoleMap(entries.join(','), claims.join(','));
    for (const p of problems)
      report(
        p.startsWith('"roleClaim"') ? 'ERR_CONFIG_FORMAT' : 'ERR_CONFIG_FORMAT',
        p.startsWith('"roleClaim"') ? 'roleClaim' : 'roleMap',
        p,
      );
    if (getPath(c, 'dify.apiUrl') !== undefined && map.entries.length === 0 && problems.length === 0) {
      report(
        'ERR_CONFIG_REQUIRED',
        'roleMap',
        'must map at least one claim value to a Dify role when dify.apiUrl is set (the bridge fails closed)',
      );
    }
  },
  (c, report) => {
    const cidrs = getPath(c, 'breakGlass.cidrs');
    if (!Array.isArray(cidrs)) return;
    try {
      parseCidrList(cidrs as string[], 'breakGlass.cidrs');
    } catch (e) {
      report('ERR_CONFIG_FORMAT', 'breakGlass.cidrs', (e as Error).message);
    }
  },
  (c, report) => {
    const routes = getPath(c, 'gate.machineRoutes');
    if (!Array.isArray(routes)) return;
    const { problems } = parseMachineRoutes(routes as string[]);
    if (getPath(c, 'gate.webAppPolicy') !== undefined && getPath(c, 'gate.webApps') !== true)
      report('ERR_CONFIG_CONFLICT', 'gate.webAppPolicy', 'needs gate.webApps=true');
    for (const p of problems) report('ERR_CONFIG_FORMAT', 'gate.machineRoutes', p);
    if (
      getPath(c, 'gate.serviceApiBearer') === true &&
      (getPath(c, 'bearer.audience') as unknown[] | undefined)?.length === 0
    ) {
      report(
        'ERR_CONFIG_CONFLICT',
        'gate.serviceApiBearer',
        'needs bearer.audience (bearer verification) to be configured',
      );
    }
    if (routes.length > 0 && (getPath(c, 'bearer.audience') as unknown[] | undefined)?.length === 0) {
      report(
        'ERR_CONFIG_CONFLICT',
        'gate.machineRoutes',
        'needs bearer.audience (bearer verification) to be configured',
      );
    }
  },
];
