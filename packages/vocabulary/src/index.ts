/**
 * `@dify-sso-kit/vocabulary`: the words the kit speaks in more than one place (the sidecar,
 * the console plugin, the generated nginx configuration), defined once.
 *
 * @example
 * import { REASON_CODES, SSO_PATHS, IDENTITY_HEADERS, kitCookieName, type ReasonCode } from '@dify-sso-kit/vocabulary'
 *
 * @module
 */
export { REASON_CODES, isReasonCode, type ReasonCode } from './reason-codes.js';
export { COOKIE_NAMES, kitCookieName, type KitCookie } from './cookies.js';
export { SSO_PREFIX, SSO_PATHS, type SsoPath } from './paths.js';
export {
  IDENTITY_HEADERS,
  IDENTITY_HEADER_PREFIXES,
  SERVICE_TOKEN_HEADER,
  CLIENT_RESERVED_HEADERS,
} from './headers.js';
