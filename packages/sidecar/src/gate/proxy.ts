/**
 * Reverse-proxy mode (no nginx): the sidecar forwards every request to dify-api or Dify web
 * itself, after the same gate decision as `/sso/auth`.
 *
 * Follows the semantics of Dify's own nginx `proxy.conf` (dify `docker/nginx/proxy.conf.template`;
 * docs/dify-contract.md §D2.2): no buffering (SSE chunks leave as they arrive), HTTP/1.1, long read
 * timeouts (`gate.proxyTimeoutSeconds`), request bodies streamed (`gate.bodyLimitMegabytes`,
 * 100 MB by default), websocket upgrades on `/socket.io/` piped through once upstream answered
 * `101 Switching Protocols` (any other answer is relayed and both connections are closed; an
 * upgrade anywhere else, or to anything but `websocket`, is refused with 400 `upgrade_refused`),
 * `Host` = the public host and
 * `X-Forwarded-*` written by the sidecar (a client's values are kept only from `trustProxy` peers).
 * Routing mirrors Dify's nginx template: `/console/api`, `/api`, `/v1`, `/files`, `/mcp`,
 * `/triggers`, `/openapi` → api; `/socket.io/` → `dify.socketIoUrl` (default api); `/e/` →
 * `dify.pluginDaemonUrl` (404 when unset); everything else → web. Raw paths that nginx,
 * werkzeug or python-engineio could read differently are refused with 400 `invalid_path` before
 * any of this (`raw-path.ts`), and kit cookies are cut out of the Cookie header without changing
 * how werkzeug reads the rest (`removeCookies`).
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { Transform, type Duplex } from 'node:stream';
import replyFrom from '@fastify/reply-from';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cookieLines, cookieRecord, difyClearCookies, removeCookies } from '../dify/contract/cookies.js';
import { canonicalisePath } from './canonical-path.js';
import { clientAddress, headerValue, unmapV4 } from './cidr.js';
import { gateContextFor, type GateServices } from './context.js';
import { SERVICE_TOKEN_HEADER, decide, type GateDecision } from './decide.js';
import { CLIENT_RESERVED_HEADERS, refusedIdentityHeader, stripIdentityHeaders } from './identity-headers.js';
import { classifyPath } from './route-table.js';
import { isRefusedRawPath } from './raw-path.js';
import { DIFY_UNAVAILABLE, difyUnavailableHtml } from '../lib/dify-unavailable.js';

const API_PREFIXES = ['/console/api', '/api', '/v1', '/files', '/mcp', '/triggers', '/openapi'];
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** Upstream base URL for a request, or undefined when the path is not routed (`/e/` without a plugin daemon). */
export function upstreamFor(
  rawUri: string,
  svc: Pick<GateServices, 'apiUrl' | 'webUrl' | 'socketIoUrl' | 'pluginDaemonUrl'>,
): string | undefined {
  const path = canonicalisePath(rawUri)?.path ?? '/';
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  if (under('/socket.io')) return svc.socketIoUrl ?? svc.apiUrl;
  if (under('/e')) return svc.pluginDaemonUrl;
  if (API_PREFIXES.some(under)) return svc.apiUrl;
  return svc.webUrl ?? svc.apiUrl;
}

const decisions = new WeakMap<object, GateDecision>();

/** Cookie names of the kit itself, never forwarded to Dify. */
function isKitCookie(name: string): boolean {
  return /^(__Host-)?dify_sso(_tx|_bg)?$/.test(name);
}

/** Cookie header without the kit's cookies, cut out so that werkzeug reads the rest unchanged. */
function stripKitCookies(cookie: string | string[] | undefined): string | undefined {
  return removeCookies(cookie, isKitCookie);
}

const invalidPath = { code: 'invalid_path', message: 'Request path refused.', status: 400 } as const;

/** Upstream request headers: identity headers stripped, X-Forwarded-* rewritten, credentials per decision. */
export function upstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
  opts: {
    peer: string | undefined;
    trustedPeer: boolean;
    publicUrl: string;
    rawUri: string;
    decision: GateDecision | undefined;
  },
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(stripIdentityHeaders(headers))) if (v !== undefined) out[k.toLowerCase()] = v;
  const priorXff = opts.trustedPeer ? headerValue(headers['x-forwarded-for']) : undefined;
  const priorProto = opts.trustedPeer ? headerValue(headers['x-forwarded-proto']) : undefined;
  for (const k of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded'])
    delete out[k];
  const pub = new URL(opts.publicUrl);
  const peer = opts.peer ? unmapV4(opts.peer) : undefined;
  if (peer) out['x-forwarded-for'] = priorXff ? `${priorXff}, ${peer}` : peer;
  out['x-forwarded-proto'] = priorProto ?? pub.protocol.slice(0, -1);
  out['x-forwarded-host'] = pub.host;
  out['host'] = pub.host;
  const cookie = stripKitCookies(headers.cookie);
  if (cookie) out['cookie'] = cookie;
  else delete out['cookie'];
  const cls = classifyPath(canonicalisePath(opts.rawUri)?.path ?? '/');
  if (opts.decision?.allow && opts.decision.upstream) {
    out['authorization'] = opts.decision.upstream.authorization;
    out['x-workspace-id'] = opts.decision.upstream.workspaceId;
  } else if (cls === 'console') {
    // The gate decided on the cookies; no other console credential may ride along.
    delete out['authorization'];
  }
  return out;
}

function denyBody(
  reply: FastifyReply,
  d: Extract<GateDecision, { allow: false }>,
  svc: GateServices,
  signin: string,
): FastifyReply {
  if (d.loginRedirect) return reply.header('cache-control', 'no-store').redirect(d.loginRedirect, 302);
  if (d.clearDifyCookies) for (const c of difyClearCookies(svc.cookies)) reply.header('set-cookie', c);
  if (d.status === 401) reply.header('x-sso-signin', signin);
  return reply
    .code(d.status)
    .header('cache-control', 'no-store')
    .send({
      code: d.code,
      message: d.code === 'sso_required' ? 'Sign-in is only possible through single sign-on.' : 'Not authorized.',
      status: d.status,
    });
}

/**
 * Registers the catch-all forwarding routes and the websocket upgrade handler. Register it in
 * its own (encapsulated) context: it replaces the body parsers with a pass-through stream.
 */
export async function proxyRoutes(app: FastifyInstance, opts: { svc: GateServices }): Promise<void> {
  const { svc } = opts;
  const sso = app.sso;
  const config = sso.config;
  const timeoutMs = config.gate.proxyTimeoutSeconds * 1000;
  await app.register(replyFrom, {
    undici: { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 128, keepAliveTimeout: 60_000 },
    disableRequestLogging: true,
  });
  const limit = config.gate.bodyLimitMegabytes * 1024 * 1024;
  app.removeAllContentTypeParsers();
  // Bodies are streamed to Dify, never parsed: enforce the size limit on the stream itself.
  app.addContentTypeParser('*', { bodyLimit: limit }, (req, payload, done) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limit)
      return done(
        Object.assign(new Error('request body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }),
        undefined,
      );
    let seen = 0;
    const limited = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length;
        if (seen > limit) return cb(Object.assign(new Error('request body too large'), { statusCode: 413 }));
        cb(null, chunk);
      },
    });
    payload.on('error', (e) => limited.destroy(e));
    done(null, payload.pipe(limited));
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // Before any routing or classification (decide() refuses these too).
    if (isRefusedRawPath(request.url)) {
      sso.metrics.gateDecision('proxy', false, 'invalid_path');
      return reply.code(400).header('cache-control', 'no-store').send(invalidPath);
    }
    const peer = request.socket.remoteAddress;
    const gateReq = {
      method: request.method,
      rawUri: request.url,
      cookie: cookieLines(request.raw),
      authorization: headerValue(request.headers.authorization),
      clientIp: clientAddress(peer, request.headers, svc.trustedProxies),
      serviceToken: headerValue(request.headers[SERVICE_TOKEN_HEADER]),
      headers: request.headers,
    };
    // The header rule, as in nginx mode (auth-route.ts): reserved-prefix headers are refused, not only stripped.
    const refused = refusedIdentityHeader(Object.keys(request.headers), CLIENT_RESERVED_HEADERS);
    const decision: GateDecision = refused
      ? {
          allow: false,
          status: 400,
          code: 'identity_header',
          detail: `reserved identity header from the client (${refused})`,
        }
      : await decide(gateReq, gateContextFor(app, svc, request, gateReq));
    sso.metrics.gateDecision('proxy', decision.allow, decision.allow ? 'ok' : decision.code);
    if (!decision.allow) {
      if (decision.clearDifyCookies)
        sso.audit('auth.gate.rejected', {
          request,
          reason: decision.code,
          detail: decision.detail,
          clientIp: gateReq.clientIp,
        });
      return denyBody(reply, decision, svc, sso.signinUrl('session_expired'));
    }
    decisions.set(request, decision);
    const base = upstreamFor(request.url, svc);
    if (base === undefined)
      return reply.code(404).send({ code: 'not_found', message: 'Not routed by the sidecar.', status: 404 });
    return reply.from(base + request.url, {
      rewriteRequestHeaders: (req, headers) =>
        upstreamHeaders(headers as Record<string, string | string[] | undefined>, {
          peer,
          trustedPeer: svc.trustedProxies.contains(peer ? unmapV4(peer) : undefined),
          publicUrl: config.publicUrl,
          rawUri: req.url ?? '/',
          decision: decisions.get(request),
        }),
      // Hop-by-hop headers of upstream's answer are not relayed (RFC 9110 §7.6.1): a relayed
      // `Connection: keep-alive` would keep a client connection open that asked for `close`.
      rewriteHeaders: (headers) => withoutHopByHop(headers as Record<string, string | string[] | undefined>),
      // Dify does not answer (down, refused, timed out): a clear 502, the kit session untouched.
      onError: (r) => {
        const html = request.method === 'GET' && /\btext\/html\b/.test(headerValue(request.headers.accept) ?? '');
        r.code(502).header('cache-control', 'no-store');
        if (html) r.type('text/html; charset=utf-8').send(difyUnavailableHtml());
        else r.send(DIFY_UNAVAILABLE);
      },
    });
  };
  // Per-request access logs of proxied traffic are off (logLevel warn): they would dominate the
  // log volume; gate refusals of Dify logins are audited (`auth.gate.rejected`), errors logged.
  app.route({ method: METHODS, url: '/', handler, bodyLimit: limit, logLevel: 'warn' });
  app.route({ method: METHODS, url: '/*', handler, bodyLimit: limit, logLevel: 'warn' });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(app, svc, req, socket, head).catch(() => socket.destroy());
  };
  app.server.on('upgrade', onUpgrade);
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade);
  });
}

/**
 * Ends a client connection after a final answer: whatever the client sent after its upgrade
 * request is read and discarded (never parsed, never forwarded), so the connection can close.
 */
function finish(socket: Duplex, last?: string): void {
  socket.on('end', () => socket.destroy());
  socket.resume();
  if (last === undefined) socket.end();
  else socket.end(last);
}

/** A complete HTTP/1.1 answer on a raw socket, then the socket is closed. */
function refuseUpgrade(socket: Duplex, status: number, reason: string, code: string): void {
  const body = JSON.stringify({ code, status });
  finish(
    socket,
    `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nCache-Control: no-store\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

/** Dify serves websockets only under `/socket.io/` (python-engineio routes on that raw prefix). */
const WEBSOCKET_PREFIX = '/socket.io/';
/** A response's headers without the hop-by-hop ones, nor those its `Connection` header names. */
export function withoutHopByHop(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[] | undefined> {
  const named = new Set(
    [headers['connection']]
      .flat()
      .filter((v): v is string => typeof v === 'string')
      .flatMap((v) => v.split(','))
      .map((t) => t.trim().toLowerCase()),
  );
  const out: Record<string, string | string[] | undefined> = {};
  for (const [k, v] of Object.entries(headers)) {
    const name = k.toLowerCase();
    if (!HOP_BY_HOP.has(name) && !named.has(name)) out[k] = v;
  }
  return out;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'proxy-connection',
  'te',
  'trailer',
]);

/** Whether an upgrade request is one the sidecar forwards: GET, `Upgrade: websocket`, raw path under `/socket.io/`. */
export function isAllowedUpgrade(
  method: string | undefined,
  rawUri: string,
  upgradeHeader: string | string[] | undefined,
): boolean {
  if (method !== 'GET' || typeof upgradeHeader !== 'string') return false;
  if (upgradeHeader.trim().toLowerCase() !== 'websocket') return false;
  return rawUri.startsWith(WEBSOCKET_PREFIX);
}

async function upgrade(
  app: FastifyInstance,
  svc: GateServices,
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
): Promise<void> {
  const peer = req.socket.remoteAddress;
  const rawUri = req.url ?? '/';
  // Nothing the client sends after its upgrade request is forwarded before upstream switched
  // protocols: on any other outcome those bytes (e.g. a second request) are discarded unread.
  const metrics = app.sso.metrics;
  if (isRefusedRawPath(rawUri)) {
    metrics.gateDecision('proxy', false, 'invalid_path');
    return refuseUpgrade(socket, 400, 'Bad Request', 'invalid_path');
  }
  if (!isAllowedUpgrade(req.method, rawUri, req.headers.upgrade)) {
    metrics.gateDecision('proxy', false, 'upgrade_refused');
    return refuseUpgrade(socket, 400, 'Bad Request', 'upgrade_refused');
  }
  const gateReq = {
    method: req.method ?? 'GET',
    rawUri,
    cookie: cookieLines(req),
    authorization: headerValue(req.headers.authorization),
    clientIp: clientAddress(peer, req.headers, svc.trustedProxies),
  };
  // A minimal request view for the session check (cookies, headers, ip, log).
  const view = {
    headers: req.headers,
    cookies: cookieRecord(req.headers.cookie),
    ip: gateReq.clientIp,
    id: 'ws-upgrade',
    log: app.log,
    raw: req,
    url: rawUri,
    method: gateReq.method,
    socket: req.socket,
  } as unknown as FastifyRequest;
  const decision = await decide(gateReq, gateContextFor(app, svc, view, gateReq));
  metrics.gateDecision('proxy', decision.allow, decision.allow ? 'ok' : decision.code);
  if (!decision.allow) {
    return refuseUpgrade(
      socket,
      decision.status,
      decision.status === 401 ? 'Unauthorized' : decision.status === 400 ? 'Bad Request' : 'Forbidden',
      decision.code,
    );
  }
  const base = upstreamFor(rawUri, svc);
  if (base === undefined) return refuseUpgrade(socket, 404, 'Not Found', 'not_found');
  const target = new URL(base);
  const headers = upstreamHeaders(req.headers, {
    peer,
    trustedPeer: svc.trustedProxies.contains(peer ? unmapV4(peer) : undefined),
    publicUrl: app.sso.config.publicUrl,
    rawUri,
    decision,
  });
  headers['connection'] = 'Upgrade';
  headers['upgrade'] = 'websocket';
  for (const k of ['content-length', 'transfer-encoding', 'expect']) delete headers[k];
  let settled = false;
  const up = httpRequest({
    host: target.hostname,
    port: Number(target.port || (target.protocol === 'https:' ? 443 : 80)),
    method: 'GET',
    path: rawUri,
    headers,
    agent: false,
    setHost: false,
    timeout: app.sso.config.gate.proxyTimeoutSeconds * 1000,
  });
  up.on('timeout', () => up.destroy(new Error('upstream timeout')));
  const abort = () => {
    if (settled) return;
    settled = true;
    up.destroy();
  };
  socket.on('error', abort);
  socket.on('close', abort);
  up.on('error', () => {
    if (settled) return socket.destroy();
    settled = true;
    refuseUpgrade(socket, 502, 'Bad Gateway', 'upstream_unavailable');
  });
  // Not switched: relay upstream's answer with `Connection: close`, then close both sides.
  up.on('response', (res) => {
    if (settled) return res.destroy();
    settled = true;
    let head0 = `HTTP/1.1 ${res.statusCode ?? 502} ${res.statusMessage ?? ''}\r\n`;
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
      const k = res.rawHeaders[i] as string;
      if (HOP_BY_HOP.has(k.toLowerCase()) || k.toLowerCase() === 'content-length') continue;
      head0 += `${k}: ${res.rawHeaders[i + 1] as string}\r\n`;
    }
    // The body is delimited by the close (its length or chunking is upstream's, not ours).
    socket.write(`${head0}Connection: close\r\n\r\n`);
    res.on('data', (b: Buffer) => socket.write(b));
    res.on('end', () => {
      finish(socket);
      res.socket?.destroy();
    });
    res.on('error', () => socket.destroy());
  });
  up.on('upgrade', (res, upSocket, upHead) => {
    if (settled || res.statusCode !== 101) {
      upSocket.destroy();
      if (!settled) socket.destroy();
      settled = true;
      return;
    }
    settled = true;
    socket.off('error', abort);
    socket.off('close', abort);
    let head0 = `HTTP/1.1 101 ${res.statusMessage || 'Switching Protocols'}\r\n`;
    for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
      head0 += `${res.rawHeaders[i] as string}: ${res.rawHeaders[i + 1] as string}\r\n`;
    upSocket.setNoDelay(true);
    // Websockets need no half-close: when either side ends, tear both down (the HTTP server's
    // sockets allow half-open connections, which would otherwise linger).
    socket.on('error', () => upSocket.destroy());
    socket.on('close', () => upSocket.destroy());
    socket.on('end', () => upSocket.destroy());
    upSocket.on('end', () => socket.destroy());
    upSocket.on('error', () => socket.destroy());
    upSocket.on('close', () => socket.destroy());
    socket.write(`${head0}\r\n`);
    if (upHead.length > 0) socket.write(upHead);
    if (head.length > 0) upSocket.write(head);
    upSocket.pipe(socket);
    socket.pipe(upSocket);
  });
  up.end();
}
