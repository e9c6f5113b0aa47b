/**
 * `/sso/auth`: the decision endpoint for nginx `auth_request`.
 *
 * nginx sends the original request's headers plus `X-Original-URI: $request_uri`,
 * `X-Original-Method: $request_method` and `X-Forwarded-For` (ingress-nginx's `auth-url` sends
 * `X-Original-URL` instead: `original-request.ts`, which also lists the refusals
 * `original_url_invalid`, `original_host_mismatch` and `original_request_ambiguous`, all 400); they are read only from peers in
 * `trustProxy` (oauth2-proxy GHSA-7x63-xv5r-3p2x). Machine credentials are only returned to a
 * subrequest carrying `X-Sso-Gate-Secret` = `gate.authRequestSecret` (or when every trusted proxy
 * is loopback). Answers:
 * - **204** pass. For machine requests also `X-Sso-Upstream-Authorization` and
 *   `X-Sso-Upstream-Workspace-Id`, which nginx puts on the upstream request (it replaces the
 *   client's `Authorization` and `X-WORKSPACE-ID` on every gated request, so these can only come
 *   from the gate);
 * - **401** `{"code":"unauthorized"}`, `Location` and `X-Sso-Signin` = sign-in page,
 *   `X-Sso-Set-Cookie-0..2` = Set-Cookie values clearing Dify's cookies when a Dify login
 *   without a kit session was seen; for a published web-app page also `X-Sso-Login` =
 *   `/sso/login?redirect=<percent-encoded raw path>`, which nginx's `@sso_login` redirects to
 *   (through `auth_request_set`: nginx never builds the target from its decoded `$uri`);
 * - **403** `{"code":"sso_required"|"insufficient_scope"|"machine_route_denied"|"invalid_path"|"untrusted_proxy"|"identity_header"|"original_url_invalid"|"original_host_mismatch"|"original_request_ambiguous"}`
 *   with the code also in `X-Sso-Code` (nginx renders it as the JSON body). `auth_request`
 *   passes only 401 and 403 on, so a decision of status 400 (`invalid_path`, `identity_header`)
 *   is sent as 403 with `X-Sso-Status: 400`, and nginx's `@sso_403` answers 400.
 *
 * The header rule (`refusedIdentityHeader`): a header with a reserved prefix (`X-Sso-*`,
 * `X-Auth-Request-*`, `X-Dify-Sso-*`) other than the client's `X-Sso-Token` and the gate secret
 * nginx sets here, or a listed identity header spelled with `_`, is refused with
 * `identity_header`: nginx cannot blank headers by prefix.
 *
 * @module
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { cookieLines, difyClearCookies } from '../dify/contract/cookies.js';
import { clientAddress, headerValue, unmapV4 } from './cidr.js';
import { gateContextFor, type GateServices } from './context.js';
import { SERVICE_TOKEN_HEADER, decide, type GateDecision } from './decide.js';
import { CLIENT_RESERVED_HEADERS, refusedIdentityHeader } from './identity-headers.js';
import { AUTH_REQUEST_REDIRECT_HEADER, readOriginalRequest } from './original-request.js';

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Header nginx adds to the `auth_request` subrequest with `gate.authRequestSecret`. */
export const GATE_SECRET_HEADER = 'x-sso-gate-secret';

function isLoopbackCidr(entry: string): boolean {
  const [addr, bits] = entry.split('/');
  if (addr === '::1') return bits === undefined || bits === '128';
  return /^127\./.test(addr ?? '') && (bits === undefined || Number(bits) >= 8);
}

/**
 * Whether this subrequest may receive upstream credentials (the admin key for machine routes):
 * it carries `gate.authRequestSecret`, or — without a secret — every trusted proxy is on this
 * host (loopback), so no other machine can ask.
 */
export function mayReceiveCredentials(
  secret: string | undefined,
  given: string | string[] | undefined,
  trustProxy: readonly string[],
): boolean {
  if (secret) {
    const g = Buffer.from(typeof given === 'string' ? given : '');
    const s = Buffer.from(secret);
    return g.length === s.length && timingSafeEqual(g, s);
  }
  return trustProxy.length > 0 && trustProxy.every(isLoopbackCidr);
}

export function authRoute(app: FastifyInstance, svc: GateServices): void {
  app.route({
    method: [...METHODS],
    url: SSO_PATHS.auth,
    logLevel: 'warn',
    handler: async (request: FastifyRequest, reply: FastifyReply) => {
      const peer = request.socket.remoteAddress;
      if (!svc.trustedProxies.contains(peer ? unmapV4(peer) : undefined)) {
        return send(
          reply,
          { allow: false, status: 403, code: 'untrusted_proxy', detail: 'auth_request from an untrusted peer' },
          svc,
          app,
        );
      }
      const h = request.headers;
      // Our nginx's X-Original-URI or ingress-nginx's X-Original-URL (gate/original-request.ts).
      const original = readOriginalRequest(h, app.sso.config.publicUrl, request.raw.rawHeaders);
      if (!original.ok) {
        // No target at all stays the 403 it always was; a malformed or ambiguous one is a 400.
        return send(
          reply,
          {
            allow: false,
            status: original.code === 'invalid_path' ? 403 : 400,
            code: original.code,
            detail: original.detail,
          },
          svc,
          app,
        );
      }
      const gateReq = {
        method: original.method ?? request.method,
        rawUri: original.rawUri,
        cookie: cookieLines(request.raw),
        authorization: headerValue(h.authorization),
        clientIp: clientAddress(peer, h, svc.trustedProxies),
        serviceToken: headerValue(h[SERVICE_TOKEN_HEADER]),
        headers: h,
      };
      // nginx itself sets the gate secret on this subrequest (replacing any client value); without a configured secret, none may arrive.
      const reserved =
        original.via === 'ingress-nginx'
          ? [...CLIENT_RESERVED_HEADERS, AUTH_REQUEST_REDIRECT_HEADER]
          : CLIENT_RESERVED_HEADERS;
      const allowed = app.sso.config.gate.authRequestSecret ? [...reserved, GATE_SECRET_HEADER] : reserved;
      const refused = refusedIdentityHeader(Object.keys(h), allowed);
      let decision: GateDecision = refused
        ? {
            allow: false,
            status: 400,
            code: 'identity_header',
            detail: `reserved identity header from the client (${refused})`,
          }
        : await decide(gateReq, gateContextFor(app, svc, request, gateReq));
      // In reverse-proxy mode the sidecar applies machine credentials itself: /sso/auth never hands them out.
      // ingress-nginx can copy an auth response header only under its own name (auth-response-headers),
      // never onto Authorization: machine credentials are not handed to it either.
      if (
        decision.allow &&
        decision.upstream &&
        (app.sso.config.gate.mode === 'proxy' ||
          original.via === 'ingress-nginx' ||
          !mayReceiveCredentials(
            app.sso.config.gate.authRequestSecret,
            h[GATE_SECRET_HEADER],
            app.sso.config.trustProxy,
          ))
      ) {
        decision = {
          allow: false,
          status: 403,
          code: 'machine_route_denied',
          detail: 'upstream credentials are handed only to nginx (gate.authRequestSecret)',
        };
      }
      if (!decision.allow) {
        request.log.debug({ code: decision.code, detail: decision.detail }, 'gate denied');
        // A Dify login presented without its kit session (stolen cookie, or a session that just ended).
        if (decision.clearDifyCookies)
          app.sso.audit('auth.gate.rejected', {
            request,
            reason: decision.code,
            detail: decision.detail,
            clientIp: gateReq.clientIp,
          });
      }
      return send(reply, decision, svc, app);
    },
  });
}

function send(reply: FastifyReply, d: GateDecision, svc: GateServices, app: FastifyInstance): FastifyReply {
  reply.header('cache-control', 'no-store');
  if (d.allow) {
    if (d.upstream) {
      reply.header('x-sso-upstream-authorization', d.upstream.authorization);
      reply.header('x-sso-upstream-workspace-id', d.upstream.workspaceId);
    }
    return reply.code(204).send();
  }
  // auth_request treats anything but 2xx/401/403 as an error (500): map 400 to 403.
  const status = d.status === 401 ? 401 : 403;
  reply.header('x-sso-code', d.code);
  if (d.status === 400) reply.header('x-sso-status', '400');
  if (status === 401) {
    const signin = app.sso.signinUrl('session_expired');
    reply.header('location', signin);
    reply.header('x-sso-signin', signin);
    if (d.loginRedirect) reply.header('x-sso-login', d.loginRedirect);
    if (d.clearDifyCookies) {
      for (const [i, c] of difyClearCookies(svc.cookies).entries()) reply.header(`x-sso-set-cookie-${i}`, c);
    }
  }
  return reply.code(status).send({ code: d.code });
}
