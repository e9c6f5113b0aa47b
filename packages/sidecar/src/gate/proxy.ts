/**
 * Reverse-proxy mode (no nginx): the sidecar forwards every request to dify-api or Dify web
 * itself, after the same gate decision as `/sso/auth`.
 *
 * Follows the semantics of Dify's own nginx `proxy.conf` (dify `docker/nginx/proxy.conf.template`;
 * dify-deployment.md §2.2): no buffering (SSE chunks leave as they arrive), HTTP/1.1, long read
 * timeouts (`gate.proxyTimeoutSeconds`), request bodies streamed (`gate.bodyLimitMegabytes`,
 * 100 MB by default), websocket upgrades piped through, `Host` = the public host and
 * `X-Forwarded-*` written by the sidecar (a client's values are kept only from `trustProxy` peers).
 * Routing mirrors Dify's nginx template: `/console/api`, `/api`, `/v1`, `/files`, `/mcp`,
 * `/triggers`, `/openapi` → api; `/socket.io/` → `dify.socketIoUrl` (default api); `/e/` →
 * `dify.pluginDaemonUrl` (404 when unset); everything else → web.
 *
 * @module
 */
import { connect } from 'node:net'
import type { IncomingMessage } from 'node:http'
import { Transform, type Duplex } from 'node:stream'
import replyFrom from '@fastify/reply-from'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { DifyBridgeServices } from '../dify/bridge.js'
import { difyClearCookies } from '../dify/cookies.js'
import { canonicalisePath } from './canonical-path.js'
import { clientAddress, headerValue, unmapV4 } from './cidr.js'
import { gateContextFor } from './context.js'
import { SERVICE_TOKEN_HEADER, decide, type GateDecision } from './decide.js'
import { CLIENT_RESERVED_HEADERS, refusedIdentityHeader, stripIdentityHeaders } from './identity-headers.js'
import { classifyPath } from './policy.js'

const API_PREFIXES = ['/console/api', '/api', '/v1', '/files', '/mcp', '/triggers', '/openapi']
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

/** Upstream base URL for a request, or undefined when the path is not routed (`/e/` without a plugin daemon). */
export function upstreamFor(rawUri: string, svc: Pick<DifyBridgeServices, 'apiUrl' | 'webUrl' | 'socketIoUrl' | 'pluginDaemonUrl'>): string | undefined {
  const path = canonicalisePath(rawUri)?.path ?? '/'
  const under = (p: string) => path === p || path.startsWith(p + '/')
  if (under('/socket.io')) return svc.socketIoUrl ?? svc.apiUrl
  if (under('/e')) return svc.pluginDaemonUrl
  if (API_PREFIXES.some(under)) return svc.apiUrl
  return svc.webUrl ?? svc.apiUrl
}

const decisions = new WeakMap<object, GateDecision>()

/** Cookie names of the kit itself, never forwarded to Dify. */
function isKitCookie(name: string): boolean {
  return /^(__Host-)?dify_sso(_tx|_bg)?$/.test(name)
}

function stripKitCookies(cookie: string | string[] | undefined): string | undefined {
  if (!cookie) return undefined
  const kept = (Array.isArray(cookie) ? cookie.join('; ') : cookie)
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && !isKitCookie(p.split('=', 1)[0] ?? ''))
  return kept.length > 0 ? kept.join('; ') : undefined
}

/** Upstream request headers: identity headers stripped, X-Forwarded-* rewritten, credentials per decision. */
export function upstreamHeaders(
  headers: Record<string, string | string[] | undefined>,
  opts: { peer: string | undefined; trustedPeer: boolean; publicUrl: string; rawUri: string; decision: GateDecision | undefined },
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [k, v] of Object.entries(stripIdentityHeaders(headers))) if (v !== undefined) out[k.toLowerCase()] = v
  const priorXff = opts.trustedPeer ? headerValue(headers['x-forwarded-for']) : undefined
  const priorProto = opts.trustedPeer ? headerValue(headers['x-forwarded-proto']) : undefined
  for (const k of ['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'forwarded']) delete out[k]
  const pub = new URL(opts.publicUrl)
  const peer = opts.peer ? unmapV4(opts.peer) : undefined
  if (peer) out['x-forwarded-for'] = priorXff ? `${priorXff}, ${peer}` : peer
  out['x-forwarded-proto'] = priorProto ?? pub.protocol.slice(0, -1)
  out['x-forwarded-host'] = pub.host
  out['host'] = pub.host
  const cookie = stripKitCookies(headers.cookie)
  if (cookie) out['cookie'] = cookie
  else delete out['cookie']
  const cls = classifyPath(canonicalisePath(opts.rawUri)?.path ?? '/')
  if (opts.decision?.allow && opts.decision.upstream) {
    out['authorization'] = opts.decision.upstream.authorization
    out['x-workspace-id'] = opts.decision.upstream.workspaceId
  } else if (cls === 'console') {
    // The gate decided on the cookies; no other console credential may ride along.
    delete out['authorization']
  }
  return out
}

function denyBody(reply: FastifyReply, d: Extract<GateDecision, { allow: false }>, svc: DifyBridgeServices, signin: string): FastifyReply {
  if (d.loginRedirect) return reply.header('cache-control', 'no-store').redirect(d.loginRedirect, 302)
  if (d.clearDifyCookies) for (const c of difyClearCookies(svc.cookies)) reply.header('set-cookie', c)
  if (d.status === 401) reply.header('x-sso-signin', signin)
  return reply
    .code(d.status)
    .header('cache-control', 'no-store')
    .send({ code: d.code, message: d.code === 'sso_required' ? 'Sign-in is only possible through single sign-on.' : 'Not authorized.', status: d.status })
}

/**
 * Registers the catch-all forwarding routes and the websocket upgrade handler. Register it in
 * its own (encapsulated) context: it replaces the body parsers with a pass-through stream.
 */
export async function proxyRoutes(app: FastifyInstance, opts: { svc: DifyBridgeServices }): Promise<void> {
  const { svc } = opts
  const sso = app.sso
  const config = sso.config
  const timeoutMs = config.gate.proxyTimeoutSeconds * 1000
  await app.register(replyFrom, {
    undici: { headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connections: 128, keepAliveTimeout: 60_000 },
    disableRequestLogging: true,
  })
  const limit = config.gate.bodyLimitMegabytes * 1024 * 1024
  app.removeAllContentTypeParsers()
  // Bodies are streamed to Dify, never parsed: enforce the size limit on the stream itself.
  app.addContentTypeParser('*', { bodyLimit: limit }, (req, payload, done) => {
    const declared = Number(req.headers['content-length'] ?? NaN)
    if (Number.isFinite(declared) && declared > limit) return done(Object.assign(new Error('request body too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' }), undefined)
    let seen = 0
    const limited = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        seen += chunk.length
        if (seen > limit) return cb(Object.assign(new Error('request body too large'), { statusCode: 413 }))
        cb(null, chunk)
      },
    })
    payload.on('error', (e) => limited.destroy(e))
    done(null, payload.pipe(limited))
  })

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const peer = request.socket.remoteAddress
    const gateReq = {
      method: request.method,
      rawUri: request.url,
      cookie: request.headers.cookie,
      authorization: headerValue(request.headers.authorization),
      clientIp: clientAddress(peer, request.headers, svc.trustedProxies),
      serviceToken: headerValue(request.headers[SERVICE_TOKEN_HEADER]),
    }
    // The header rule, as in nginx mode (auth-route.ts): reserved-prefix headers are refused, not only stripped.
    const refused = refusedIdentityHeader(Object.keys(request.headers), CLIENT_RESERVED_HEADERS)
    const decision: GateDecision = refused
      ? { allow: false, status: 400, code: 'identity_header', detail: `reserved identity header from the client (${refused})` }
      : await decide(gateReq, gateContextFor(app, svc, request, gateReq))
    if (!decision.allow) {
      if (decision.clearDifyCookies) sso.audit('auth.gate.rejected', { request, reason: decision.code, detail: decision.detail, clientIp: gateReq.clientIp })
      return denyBody(reply, decision, svc, sso.signinUrl('session_expired'))
    }
    decisions.set(request, decision)
    const base = upstreamFor(request.url, svc)
    if (base === undefined) return reply.code(404).send({ code: 'not_found', message: 'Not routed by the sidecar.', status: 404 })
    return reply.from(base + request.url, {
      rewriteRequestHeaders: (req, headers) =>
        upstreamHeaders(headers as Record<string, string | string[] | undefined>, {
          peer,
          trustedPeer: svc.trustedProxies.contains(peer ? unmapV4(peer) : undefined),
          publicUrl: config.publicUrl,
          rawUri: req.url ?? '/',
          decision: decisions.get(request),
        }),
    })
  }
  // Per-request access logs of proxied traffic are off (logLevel warn): they would dominate the
  // log volume; gate refusals of Dify logins are audited (`auth.gate.rejected`), errors logged.
  app.route({ method: METHODS, url: '/', handler, bodyLimit: limit, logLevel: 'warn' })
  app.route({ method: METHODS, url: '/*', handler, bodyLimit: limit, logLevel: 'warn' })

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    void upgrade(app, svc, req, socket, head).catch(() => socket.destroy())
  }
  app.server.on('upgrade', onUpgrade)
  app.addHook('onClose', async () => {
    app.server.off('upgrade', onUpgrade)
  })
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i <= 0) continue
    const k = part.slice(0, i).trim()
    if (!(k in out)) out[k] = part.slice(i + 1).trim()
  }
  return out
}

async function upgrade(app: FastifyInstance, svc: DifyBridgeServices, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  const peer = req.socket.remoteAddress
  const rawUri = req.url ?? '/'
  const gateReq = {
    method: req.method ?? 'GET',
    rawUri,
    cookie: req.headers.cookie,
    authorization: headerValue(req.headers.authorization),
    clientIp: clientAddress(peer, req.headers, svc.trustedProxies),
  }
  // A minimal request view for the session check (cookies, headers, ip, log).
  const view = { headers: req.headers, cookies: parseCookies(req.headers.cookie), ip: gateReq.clientIp, id: 'ws-upgrade', log: app.log, raw: req, url: rawUri, method: gateReq.method, socket: req.socket } as unknown as FastifyRequest
  const decision = await decide(gateReq, gateContextFor(app, svc, view, gateReq))
  if (!decision.allow) {
    socket.end(`HTTP/1.1 ${decision.status} ${decision.status === 401 ? 'Unauthorized' : 'Forbidden'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${JSON.stringify({ code: decision.code }).length}\r\n\r\n${JSON.stringify({ code: decision.code })}`)
    return
  }
  const base = upstreamFor(rawUri, svc)
  if (base === undefined) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    return
  }
  const target = new URL(base)
  const headers = upstreamHeaders(req.headers, {
    peer,
    trustedPeer: svc.trustedProxies.contains(peer ? unmapV4(peer) : undefined),
    publicUrl: app.sso.config.publicUrl,
    rawUri,
    decision,
  })
  headers['connection'] = 'Upgrade'
  if (req.headers.upgrade) headers['upgrade'] = req.headers.upgrade
  const up = connect(Number(target.port || (target.protocol === 'https:' ? 443 : 80)), target.hostname)
  up.setNoDelay(true)
  socket.on('error', () => up.destroy())
  socket.on('close', () => up.destroy())
  // Websockets need no half-close: when either side ends, tear both down (the HTTP server's
  // sockets allow half-open connections, which would otherwise linger).
  socket.on('end', () => up.destroy())
  up.on('end', () => socket.destroy())
  up.on('error', () => socket.destroy())
  up.on('close', () => socket.destroy())
  up.once('connect', () => {
    let head0 = `${gateReq.method} ${rawUri} HTTP/1.1\r\n`
    for (const [k, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) head0 += `${k}: ${x}\r\n`
    up.write(head0 + '\r\n')
    if (head.length > 0) up.write(head)
    up.pipe(socket)
    socket.pipe(up)
  })
}
