/**
 * @dify-sso-kit/dify-standin — a private, test-only double of dify-api's console contract and of
 * the stock console sign-in page. Never shipped.
 */
export { buildStandinApi, type StandinApiOptions, type StandinApiHandle } from './api.js';
export { buildStandinWeb, type StandinWebOptions } from './web.js';
export {
  NEWEST_VERSION,
  OLDEST_VERSION,
  MAIN_VERSION,
  ROLE_SOURCE,
  versionFeatures,
  compareVersions,
  parseVersion,
  type VersionFeatures,
} from './version.js';
export { realCookieName, isSecure, cookieDomain, type CookieRuleInput } from './lib/cookies.js';
export { parseSeed, type SeedData, type SeedAccount, type WorkspaceRole, type AccountStatus } from './lib/db.js';
export { INTROSPECTION_HEADER } from './routes/introspection.js';
export { SEED_IDS } from './seed-ids.js';
export { STANDIN_WEB_APPS, type StandinWebApp } from './routes/webapp.js';
