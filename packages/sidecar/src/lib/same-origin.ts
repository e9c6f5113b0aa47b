/**
 * The Origin check of state-changing browser endpoints (logout): a cross-site page must not be
 * able to end a session (`SameSite=Lax` cookies ride along on top-level navigations).
 *
 * @module
 */
import type { FastifyRequest } from 'fastify';

/** Stable code of a refused cross-site request (403 body `code`). */
export const CROSS_SITE_CODE = 'cross_site_request';

/**
 * Whether `request` comes from a page of `publicUrl`'s origin: `Origin` must equal that origin
 * exactly (`null` and every other value are refused); when `Origin` is absent, only
 * `Sec-Fetch-Site: same-origin` is accepted. A request with neither header is refused.
 *
 * @example
 * isSameOriginRequest({ headers: { origin: 'https://dify.example.com' } }, 'https://dify.example.com/') // true
 * isSameOriginRequest({ headers: { 'sec-fetch-site': 'cross-site' } }, 'https://dify.example.com')     // false
 */
export function isSameOriginRequest(request: Pick<FastifyRequest, 'headers'>, publicUrl: string): boolean {
  const origin = request.headers.origin;
  if (origin !== undefined) return typeof origin === 'string' && origin === new URL(publicUrl).origin;
  return request.headers['sec-fetch-site'] === 'same-origin';
}
