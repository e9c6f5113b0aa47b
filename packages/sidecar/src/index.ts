/**
 * Public API of `@dify-sso-kit/sidecar`.
 *
 * @module
 */
export { buildApp, type AfterLoginContext, type AfterLoginHook, type AfterLoginResult, type BuildAppDeps, type SsoApi } from './app.js';
export { loadConfig, configWarnings, maskedConfig, envName, configLeaves, type LoadConfigOptions, type ConfigLeaf } from './config/load.js';
export { configSchema, type SidecarConfig } from './config/schema.js';
export * from './errors.js';
export type { SessionCheck, SessionEndCause, SessionEndHook, BeginLoginOptions, CookieNames } from './plugins/session.js';
export type { BearerClaims } from './plugins/token-verify.js';
export type { AuditEvent, AuditFields, AuditFn } from './plugins/audit.js';
export * from './store/index.js';
export { canonicalRedirect } from './lib/redirect.js';
