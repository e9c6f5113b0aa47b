/**
 * The Dify bridge's services, built once per app from the configuration: admin API client,
 * session seeder (Dify's Redis), account resolver, break-glass cookie, setup-status cache.
 *
 * @module
 */
import type { SidecarConfig } from '../config/schema.js';
import { difyRedisPath, redisSettingsAt } from '../config/redis-schema.js';
import { closeRedisClient, createRedisClient, type RedisClient } from '../lib/redis-client.js';
import { parseCidrList, type CidrList } from '../gate/cidr.js';
import { parseMachineRoutes, type RouteRule } from '../gate/route-table.js';
import type { KvStore } from '../store/types.js';
import { AccountResolver } from './accounts.js';
import { DifyAdminClient } from './admin-client.js';
import { BreakGlassCookie, breakGlassActive } from '../break-glass/cookie.js';
import type { GateServices } from '../gate/context.js';
import type { DifyCookieSettings } from './contract/cookies.js';
import { parseRoleMap } from './role-map.js';
import { SessionSeeder } from './contract/session-seed.js';

/** The bridge's services; they implement what the gate needs ({@link GateServices}). */
export interface DifyBridgeServices extends GateServices {
  readonly apiUrl: string;
  readonly webUrl: string | undefined;
  readonly socketIoUrl: string | undefined;
  readonly pluginDaemonUrl: string | undefined;
  readonly cookies: DifyCookieSettings;
  readonly admin: DifyAdminClient;
  readonly seeder: SessionSeeder;
  readonly resolver: AccountResolver;
  readonly breakGlassCookie: BreakGlassCookie;
  readonly breakGlassCidrs: CidrList;
  readonly trustedProxies: CidrList;
  readonly machineRoutes: readonly RouteRule[];
  readonly redis: RedisClient;
  /** Whether Dify's setup is finished (cached once true: setup never un-finishes). */
  setupFinished(): Promise<boolean>;
  close(): Promise<void>;
}

export interface DifyBridgeDeps {
  /** Client of Dify's Redis (not closed by the bridge); default: built from the `dify.redis*` settings. */
  readonly redis?: RedisClient;
  readonly fetch?: typeof fetch;
  readonly kv: KvStore;
  readonly audit: (event: string, fields: Record<string, unknown>) => void;
}

export function difyCookieSettings(config: SidecarConfig): DifyCookieSettings {
  return {
    consoleApiUrl: config.dify.consoleApiUrl,
    consoleWebUrl: config.dify.consoleWebUrl,
    cookieDomain: config.dify.cookieDomain,
  };
}

/** Builds the services; throws a TypeError (`ERR_CONFIG_INVALID`) when the bridge is not configured. */
export function createDifyBridge(config: SidecarConfig, deps: DifyBridgeDeps): DifyBridgeServices {
  const d = config.dify;
  const redisConfigured =
    d.redisMode === 'sentinel'
      ? d.redisSentinels.length > 0
      : d.redisMode === 'cluster'
        ? d.redisClusterNodes.length > 0
        : d.redisUrl !== undefined;
  if (!d.apiUrl || !d.adminApiKey || !d.workspaceId || (!redisConfigured && !deps.redis)) {
    throw Object.assign(
      new TypeError(
        '"dify.apiUrl", "dify.adminApiKey", "dify.workspaceId" and Dify\'s Redis ("dify.redisUrl", or the sentinels / cluster nodes of "dify.redisMode") must be set for the Dify bridge',
      ),
      { code: 'ERR_CONFIG_INVALID' },
    );
  }
  const apiUrl = d.apiUrl.replace(/\/+$/, '');
  const ownsRedis = !deps.redis;
  const redis =
    deps.redis ??
    createRedisClient(redisSettingsAt(config, difyRedisPath), {
      maxRetriesPerRequest: 2,
      commandTimeoutMs: d.timeoutSeconds * 1000,
      connectTimeoutMs: d.timeoutSeconds * 1000,
    });
  const admin = new DifyAdminClient({
    apiUrl,
    adminApiKey: d.adminApiKey,
    workspaceId: d.workspaceId,
    allowNewerVersions: d.allowNewerVersions,
    timeoutMs: d.timeoutSeconds * 1000,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const cookies = difyCookieSettings(config);
  const seeder = new SessionSeeder({
    redis,
    apiUrl,
    cookies,
    keyPrefix: d.redisKeyPrefix,
    refreshTokenExpireDays: d.refreshTokenExpireDays,
    version: () => admin.version(),
    observeVersion: (h) => admin.observeVersion(h),
    timeoutMs: d.timeoutSeconds * 1000,
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
  });
  const { map } = parseRoleMap(config.roleMap.join(','), config.roleClaim.join(','));
  const resolver = new AccountResolver({
    admin,
    kv: deps.kv,
    roleMap: map,
    jit: config.jit,
    removeUnmapped: config.removeUnmapped,
    audit: deps.audit,
    discardRefreshToken: (accountId, token) => seeder.discard(accountId, token),
  });
  const breakGlassCookie = new BreakGlassCookie({
    sessionSecret: config.session.secret,
    secure: new URL(config.publicUrl).protocol === 'https:',
  });
  const breakGlassCidrs = parseCidrList(config.breakGlass.cidrs, 'breakGlass.cidrs');
  const doFetch = deps.fetch ?? fetch;
  let finished = false;
  return {
    apiUrl,
    webUrl: d.webUrl?.replace(/\/+$/, ''),
    socketIoUrl: d.socketIoUrl?.replace(/\/+$/, ''),
    pluginDaemonUrl: d.pluginDaemonUrl?.replace(/\/+$/, ''),
    cookies,
    admin,
    seeder,
    resolver,
    breakGlassCookie,
    breakGlassCidrs,
    trustedProxies: parseCidrList(config.trustProxy, 'trustProxy'),
    machineRoutes: parseMachineRoutes(config.gate.machineRoutes).rules,
    redis,
    refreshTokenAccount: (refreshToken) => seeder.accountOf(refreshToken),
    breakGlassActive: (cookieHeader, clientIp) =>
      breakGlassActive({ cidrs: breakGlassCidrs, cookie: breakGlassCookie }, cookieHeader, clientIp),
    async setupFinished() {
      if (finished) return true;
      try {
        const res = await doFetch(`${apiUrl}/console/api/setup`, {
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(d.timeoutSeconds * 1000),
        });
        const body = (await res.json()) as { step?: unknown };
        finished = res.ok && body.step === 'finished';
        return finished;
      } catch {
        return true; // fail closed: treat setup as done (POST /setup stays locked) while dify-api is unreachable
      }
    },
    async close() {
      if (ownsRedis) await closeRedisClient(redis);
    },
  };
}
