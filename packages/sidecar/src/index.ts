/**
 * Public API of `@dify-sso-kit/sidecar`.
 *
 * @module
 */
export {
  buildApp,
  type AfterLoginContext,
  type AfterLoginHook,
  type AfterLoginResult,
  type BuildAppDeps,
  type SsoApi,
} from './app.js';
export {
  loadConfig,
  configWarnings,
  maskedConfig,
  envName,
  configLeaves,
  type LoadConfigOptions,
  type ConfigLeaf,
} from './config/load.js';
export { configSchema, type SidecarConfig } from './config/schema.js';
export * from './errors.js';
export type {
  SessionCheck,
  SessionEndCause,
  SessionEndHook,
  BeginLoginOptions,
  CookieNames,
  SessionTokens,
} from './services/session.js';
export type { BearerClaims } from './services/token-verify.js';
export type { AuditEvent, AuditFields, AuditFn } from './services/audit.js';
export * from './store/index.js';
export { canonicalRedirect } from './lib/redirect.js';
export {
  createRedisClient,
  closeRedisClient,
  describeRedis,
  type RedisClient,
  type RedisConnectionSettings,
  type RedisMode,
} from './lib/redis-client.js';
/** Maps the Redis part of a Dify `.env` onto `DIFY_SSO_DIFY_REDIS_*` (for `dify-sso deploy`). */
export { mapDifyRedisEnv, parseDotEnv, type DifyRedisEnvMapping } from './dify/contract/redis-env.js';

/**
 * The Dify bridge as a fastify plugin: identity → Dify account (link, JIT, role map), Dify
 * session seeding, the `/sso/auth` gate (and reverse-proxy mode), local-login lockdown, the
 * stock console's SSO button and logout, break-glass. `buildApp` registers it by itself when
 * `dify.apiUrl` is configured; register it yourself only on an app built without it.
 *
 * @example
 * ```ts
 * import { buildApp, loadConfig } from '@dify-sso-kit/sidecar'
 * const app = buildApp(loadConfig(process.env)) // bridge included when DIFY_SSO_DIFY_API_URL is set
 * await app.listen({ host: '127.0.0.1', port: 8088 })
 * app.difyBridge.apiUrl // the bridge services
 * ```
 */
export { difyBridge, type DifyBridgeOptions } from './plugins/dify-bridge.js';
export type { DifyBridgeServices } from './dify/bridge.js';

/**
 * nginx artefacts: {@link insertSsoLocations} inserts the sidecar's locations (`/sso/`,
 * `auth_request` on the console API, the stock SSO button, console logout) into a Dify nginx
 * template; {@link sidecarUpstreamBlock} the keep-alive `upstream` for the sidecar.
 *
 * @example
 * ```ts
 * import { insertSsoLocations } from '@dify-sso-kit/sidecar'
 * const conf = insertSsoLocations(readFileSync('docker/nginx/conf.d/default.conf.template', 'utf8'), { sidecar: 'http://dify_sso_sidecar' })
 * ```
 */
export {
  insertSsoLocations,
  sidecarUpstreamBlock,
  SIDECAR_UPSTREAM,
  type InsertOptions,
} from './deploy/nginx.js';

/**
 * The deployment generator behind `dify-sso deploy`: given Dify's `docker/` directory, renders
 * (or writes) `docker-compose.override.yaml` (the sidecar service, Dify's login flags on `api`)
 * and the nginx files taken from that version's own template.
 *
 * @example
 * ```ts
 * import { renderDeployment, writeDeployment } from '@dify-sso-kit/sidecar'
 * const { difyVersion, files } = renderDeployment({ difyDockerDir: '/opt/dify/docker', image: 'dify-sso-kit/sidecar:0.1.0' })
 * writeDeployment({ difyDockerDir: '/opt/dify/docker', image: 'dify-sso-kit/sidecar:0.1.0', gateWebApps: true })
 * ```
 */
export {
  renderDeployment,
  writeDeployment,
  difyVersionOf,
  type DeployOptions,
  type DeployResult,
} from './deploy/compose.js';
