/**
 * Which request an `auth_request` subrequest asks about: the original request target and method,
 * read from our nginx's headers or from ingress-nginx's external-auth headers (issue 13).
 *
 * | front door | target | method |
 * |---|---|---|
 * | the kit's nginx (`gate/nginx.ts`) | `X-Original-URI: $request_uri` | `X-Original-Method` |
 * | ingress-nginx `auth-url` | `X-Original-URL: $scheme://$http_host$request_uri` | `X-Original-Method` |
 *
 * ingress-nginx's external-auth location (its `nginx.tmpl`) also sets `X-Auth-Request-Redirect:
 * $request_uri` (unless the `auth-request-redirect` annotation overrides it), `X-Sent-From:
 * nginx-ingress-controller`, `X-Real-IP` and `X-Forwarded-For: $remote_addr`, blanks
 * `X-Forwarded-Proto`, and passes the client's own headers on. It sets `X-Original-URI` only when
 * the `auth-method` annotation is set. The client address is still taken from `X-Forwarded-For`
 * by the trust-proxy rule (`gate/cidr.ts`); `X-Real-IP` is never read.
 *
 * The raw target inside `X-Original-URL` is the text after `scheme://authority`, taken as it is
 * (never through a URL parser, which would resolve dot segments and re-encode), so `decide()`
 * applies exactly the raw-path refusals of `gate/raw-path.ts` to it. Refused, fail-closed, with
 * 400 and a stable code (sent as 403 + `X-Sso-Status: 400` by `/sso/auth`):
 *
 * | code | when |
 * |---|---|
 * | `invalid_path` | neither `X-Original-URI` nor `X-Original-URL` |
 * | `original_url_invalid` | `X-Original-URL` is not `http(s)://host[:port]` + target, is repeated or holds whitespace, or comes without `X-Original-Method` |
 * | `original_host_mismatch` | its host (or an explicit port) differs from `publicUrl`'s |
 * | `original_request_ambiguous` | `X-Original-URI` and `X-Original-URL` both present and naming different targets, or `X-Auth-Request-Redirect` differing from the target |
 *
 * The host check matters because `$http_host` is the client's `Host` header: a request sent to the
 * ingress under another host name must not be decided as one for Dify. The scheme is not compared
 * (TLS is often terminated in front of the controller, which then sees `http`).
 *
 * @module
 */
import { headerValue } from './cidr.js';

/** Codes of {@link readOriginalRequest} refusals (also the gate's reason codes). */
export type OriginalRequestRefusal =
  | 'invalid_path'
  | 'original_url_invalid'
  | 'original_host_mismatch'
  | 'original_request_ambiguous';

/** The original request an `auth_request` subrequest describes, or why it is refused. */
export type OriginalRequest =
  | {
      readonly ok: true;
      /** Raw request target (path + query) exactly as the client sent it. */
      readonly rawUri: string;
      /** `X-Original-Method`, if sent. */
      readonly method: string | undefined;
      /** Which header set described it. */
      readonly via: 'nginx' | 'ingress-nginx';
    }
  | { readonly ok: false; readonly code: OriginalRequestRefusal; readonly detail: string };

/** Header ingress-nginx sets to the original `$request_uri` (reserved prefix `x-auth-request-`). */
export const AUTH_REQUEST_REDIRECT_HEADER = 'x-auth-request-redirect';

const URL_SHAPE = /^(https?):\/\/([^/?#]*)(.*)$/is;
const AUTHORITY =
  /^(?:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)|(\[[0-9a-f:.]+\]))(?::(\d{1,5}))?$/i;

function refuse(code: OriginalRequestRefusal, detail: string): OriginalRequest {
  return { ok: false, code, detail };
}

function count(rawHeaders: readonly string[] | undefined, name: string): number {
  let n = 0;
  if (rawHeaders)
    for (let i = 0; i < rawHeaders.length; i += 2) if ((rawHeaders[i] as string).toLowerCase() === name) n++;
  return n;
}

/**
 * Reads the original request target and method of an `auth_request` subrequest from our nginx's
 * `X-Original-URI` or ingress-nginx's `X-Original-URL` (see the module documentation for every
 * refusal). Call it only for a peer in `trustProxy`.
 *
 * @param headers the subrequest's headers (Node's lower-cased view)
 * @param publicUrl the configured external origin (`publicUrl`)
 * @param rawHeaders Node's `rawHeaders`, used to refuse a repeated `X-Original-URL`
 * @example
 * readOriginalRequest({ 'x-original-url': 'https://dify.example.com/console/api/apps?page=1', 'x-original-method': 'GET' }, 'https://dify.example.com')
 * // { ok: true, rawUri: '/console/api/apps?page=1', method: 'GET', via: 'ingress-nginx' }
 */
export function readOriginalRequest(
  headers: Record<string, string | string[] | undefined>,
  publicUrl: string,
  rawHeaders?: readonly string[],
): OriginalRequest {
  const uri = headerValue(headers['x-original-uri']);
  const url = headerValue(headers['x-original-url']);
  const method = headerValue(headers['x-original-method']);
  if (url === undefined) {
    if (!uri) return refuse('invalid_path', 'X-Original-URI missing');
    return { ok: true, rawUri: uri, method, via: 'nginx' };
  }
  if (count(rawHeaders, 'x-original-url') > 1 || /\s/.test(url))
    return refuse('original_url_invalid', 'X-Original-URL repeated or holding whitespace');
  const m = URL_SHAPE.exec(url);
  if (!m) return refuse('original_url_invalid', 'X-Original-URL is not an absolute http(s) URL');
  const authority = AUTHORITY.exec(m[2] as string);
  if (!authority) return refuse('original_url_invalid', 'X-Original-URL has no valid host');
  const rawUri = m[3] as string;
  if (!method) return refuse('original_url_invalid', 'X-Original-URL without X-Original-Method');

  const pub = new URL(publicUrl);
  const host = (authority[1] ?? authority[2] ?? '').toLowerCase();
  if (host !== pub.hostname.toLowerCase())
    return refuse('original_host_mismatch', 'X-Original-URL host differs from publicUrl');
  const port = authority[3];
  const pubPort = pub.port || (pub.protocol === 'https:' ? '443' : '80');
  if (port !== undefined && String(Number(port)) !== pubPort)
    return refuse('original_host_mismatch', 'X-Original-URL port differs from publicUrl');

  if (uri !== undefined && uri !== rawUri)
    return refuse('original_request_ambiguous', 'X-Original-URI and X-Original-URL name different targets');
  const redirect = headerValue(headers[AUTH_REQUEST_REDIRECT_HEADER]);
  if (redirect !== undefined && (count(rawHeaders, AUTH_REQUEST_REDIRECT_HEADER) > 1 || redirect !== rawUri)) {
    return refuse('original_request_ambiguous', 'X-Auth-Request-Redirect differs from the X-Original-URL target');
  }
  return { ok: true, rawUri, method, via: 'ingress-nginx' };
}
