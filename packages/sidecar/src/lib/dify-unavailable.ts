/**
 * What a user sees when Dify itself (dify-api or Dify web) does not answer while the kit is fine:
 * a 502 with a stable code, the same in both gate modes — nginx (`error_page 502 504` in the gated
 * locations, `gate/nginx.ts`) and reverse-proxy mode (`gate/proxy.ts`). The kit session is not
 * touched: once Dify is back, the same browser goes on without signing in again.
 *
 * @module
 */

/** JSON body (Dify's error shape `{ code, message, status }`, which the console shows as a message). */
export const DIFY_UNAVAILABLE = Object.freeze({
  code: 'dify_unavailable',
  message: 'Dify is not reachable right now. Your sign-in is kept; try again in a moment.',
  status: 502,
} as const);

/**
 * The same as a small HTML page, for page navigations (no scripts, no external resources).
 *
 * @example
 * ```ts
 * reply.code(502).type('text/html; charset=utf-8').send(difyUnavailableHtml())
 * ```
 */
export function difyUnavailableHtml(): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    '<title>Dify is not reachable</title></head>',
    '<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem">',
    '<h1>Dify is not reachable right now</h1>',
    `<p>${DIFY_UNAVAILABLE.message}</p>`,
    `<p><small>Error code: ${DIFY_UNAVAILABLE.code} (502)</small></p>`,
    '</body></html>',
    '',
  ].join('\n');
}
