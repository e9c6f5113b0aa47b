/**
 * The Dify bridge as one fastify plugin on top of the sidecar core (`app.sso`):
 * - after-login hook: identity → Dify account (link / JIT / role sync), refresh-token seeding,
 *   Dify's Set-Cookie relayed on the final redirect;
 * - session-end hook: the seeded Dify refresh token is deleted (logout, back-channel, expiry);
 * - `GET /console/api/system-features` (adjusted to the SSO policy);
 * - `GET /console/api/enterprise/sso/oidc/login` (the stock SSO button: `{url, state}`);
 * - `POST /console/api/logout` (Dify logout + kit session end + IdP end-session URL);
 * - `GET|POST /sso/break-glass`;
 * - the gate: `/sso/auth` (always) and, with `gate.mode=proxy`, the reverse proxy.
 *
 * @module
 */
import fp from 'fastify-plugin'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RedisClient } from '../lib/redis-client.js'
import type { AfterLoginContext } from '../app.js'
import { DifyError, SsoError } from '../errors.js'
import { authRoute } from '../gate/auth-route.js'
import { clientAddress, headerValue } from '../gate/cidr.js'
import { proxyRoutes } from '../gate/proxy.js'
import { WEBAPP_PAGE_PREFIXES } from '../gate/policy.js'
import { webAppRoutes } from '../webapps/plugin.js'
import { CROSS_SITE_CODE, isSameOriginRequest } from '../lib/same-origin.js'
import type { SessionRecord } from '../store/types.js'
import { denyLogin } from './accounts.js'
import { redeemBreakGlassToken } from './break-glass.js'
import { createDifyBridge, type DifyBridgeServices } from './bridge.js'
import { difyClearCookies, readCookie } from './cookies.js'
import { adjustSystemFeatures } from './system-features.js'

/**
 * Injected dependencies of the bridge plugin (tests); production passes none.
 *
 * @example
 * buildApp(config, { dify: { redis: new Redis(url) } })
 */
export interface DifyBridgeOptions {
  /** Client of Dify's Redis (tests); default from the `dify.redis*` settings. */
  readonly redis?: RedisClient
  readonly fetch?: typeof fetch
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Dify bridge services (present when `dify.apiUrl` is configured). */
    difyBridge: DifyBridgeServices
  }
}

async function difyBridgePlugin(app: FastifyInstance, opts: DifyBridgeOptions): Promise<void> {
  const sso = app.sso
  const config = sso.config
  const audit = (event: string, fields: Record<string, unknown>) => sso.audit(event, fields)
  const svc = createDifyBridge(config, { kv: sso.store.kv, audit, ...(opts.redis ? { redis: opts.redis } : {}), ...(opts.fetch ? { fetch: opts.fetch } : {}) })
  app.decorate('difyBridge', svc)
  app.addHook('onClose', async () => svc.close())
  if (config.dify.allowNewerVersions) app.log.warn({ code: 'WARN_CONFIG_DIFY_NEWER_VERSIONS' }, 'DIFY_SSO_DIFY_ALLOW_NEWER_VERSIONS=true: Dify versions newer than the tested table are accepted')
  const doFetch = opts.fetch ?? fetch
  // Report the running Dify version (or its refusal) at startup, without making startup depend on Dify.
  app.addHook('onReady', async () => {
    void svc.admin.version().then(
      (t) => app.log.info({ difyVersion: t.version }, 'Dify version supported'),
      (err: unknown) => app.log.error({ code: (err as { code?: string }).code ?? 'ERR_DIFY_UNREACHABLE', detail: (err as Error).message }, 'Dify version check failed; logins will be refused until it passes'),
    )
  })

  sso.addAfterLoginHook(async (ctx: AfterLoginContext) => seedLogin(app, svc, ctx))
  sso.addSessionEndHook(async (session, cause) => revokeDify(app, svc, session, cause))

  const clientIp = (request: FastifyRequest) => clientAddress(request.socket.remoteAddress, request.headers, svc.trustedProxies)
  const breakGlassActive = (request: FastifyRequest) => {
    const ip = clientIp(request)
    return svc.breakGlassCidrs.entries.length > 0 && svc.breakGlassCidrs.contains(ip) && svc.breakGlassCookie.verify(readCookie(request.headers.cookie, svc.breakGlassCookie.name), ip)
  }

  // ---- system-features ---------------------------------------------------------------------
  app.get('/console/api/system-features', async (request, reply) => {
    let res: Response
    try {
      res = await doFetch(`${svc.apiUrl}/console/api/system-features`, {
        headers: { accept: 'application/json', ...(request.headers['accept-language'] ? { 'accept-language': String(request.headers['accept-language']) } : {}) },
        signal: AbortSignal.timeout(config.dify.timeoutSeconds * 1000),
      })
    } catch {
      return reply.code(502).header('cache-control', 'no-store').send({ code: 'dify_unavailable', message: 'dify-api is not reachable', status: 502 })
    }
    const version = res.headers.get('x-version')
    if (version) reply.header('x-version', version)
    const text = await res.text()
    let body: unknown
    try {
      body = JSON.parse(text)
    } catch {
      return reply.code(502).header('cache-control', 'no-store').send({ code: 'dify_unavailable', message: 'dify-api answered with non-JSON', status: 502 })
    }
    reply.header('cache-control', 'no-store')
    if (res.status !== 200 || typeof body !== 'object' || body === null || Array.isArray(body)) return reply.code(res.status).send(body)
    return reply.code(200).send(adjustSystemFeatures(body as Record<string, unknown>, { breakGlass: breakGlassActive(request) }))
  })

  // ---- the stock SSO button ----------------------------------------------------------------
  app.get<{ Params: { protocol: string }; Querystring: { invite_token?: string } }>('/console/api/enterprise/sso/:protocol/login', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    if (request.params.protocol !== 'oidc') return reply.code(404).send({ code: 'not_found', message: 'Only the oidc protocol is served.', status: 404 })
    const invite = request.query.invite_token
    try {
      const { url, state } = await sso.beginLogin(request, reply, typeof invite === 'string' && invite !== '' ? { inviteToken: invite } : {})
      return reply.send({ url, state })
    } catch (err) {
      if (err instanceof SsoError && err.reason === 'idp_unavailable') return reply.code(503).send({ code: 'idp_unavailable', message: 'The identity provider is not available.', status: 503 })
      throw err
    }
  })
  app.all('/console/api/enterprise/*', async (_request, reply) =>
    reply.code(404).header('cache-control', 'no-store').send({ code: 'not_found', message: 'The requested URL was not found on the server.', status: 404 }),
  )

  // ---- console logout ----------------------------------------------------------------------
  // The stock SPA posts `Content-Type: application/json` with an empty body, which dify-api accepts.
  const emptyJsonBody = { onRequest: async (request: FastifyRequest) => { if (request.headers['content-length'] === '0') delete request.headers['content-type'] } }
  app.post('/console/api/logout', emptyJsonBody, async (request, reply) => consoleLogout(app, svc, request, reply, doFetch))

  // ---- break-glass -------------------------------------------------------------------------
  app.get('/sso/break-glass', async (request, reply) => {
    const ip = clientIp(request)
    if (svc.breakGlassCidrs.entries.length === 0 || !svc.breakGlassCidrs.contains(ip)) {
      audit('break_glass.denied', { request, reason: 'cidr', clientIp: ip })
      return reply.code(403).send({ code: 'break_glass_denied' })
    }
    return reply
      .header('content-security-policy', "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
      .type('text/html; charset=utf-8')
      .send(
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Break-glass access</title></head><body>' +
          '<h1>Break-glass access</h1><p>Paste the one-time token printed by <code>dify-sso break-glass issue</code>.</p>' +
          '<form method="post" action="/sso/break-glass"><label for="token">Token</label> <input id="token" name="token" autocomplete="off" required> <button type="submit">Reopen password login</button></form></body></html>',
      )
  })
  app.post('/sso/break-glass', async (request, reply) => {
    const ip = clientIp(request)
    if (svc.breakGlassCidrs.entries.length === 0 || !svc.breakGlassCidrs.contains(ip) || !ip) {
      audit('break_glass.denied', { request, reason: 'cidr', clientIp: ip })
      return reply.code(403).send({ code: 'break_glass_denied' })
    }
    const body = (request.body ?? {}) as Record<string, unknown>
    const token = typeof body['token'] === 'string' ? body['token'].trim() : ''
    const result = await redeemBreakGlassToken(sso.store.kv, token)
    if (!result.ok) {
      audit('break_glass.denied', { request, reason: result.reason, clientIp: ip })
      return reply.code(403).send({ code: 'break_glass_denied' })
    }
    audit('break_glass.used', { request, clientIp: ip, windowSeconds: config.breakGlass.windowSeconds })
    reply.header('set-cookie', svc.breakGlassCookie.issue(ip, config.breakGlass.windowSeconds))
    return reply.redirect(config.signinPath, 303)
  })

  // ---- the gate ----------------------------------------------------------------------------
  authRoute(app, svc)
  if (config.gate.webApps && config.gate.webAppPolicy !== undefined) await app.register(webAppRoutes, { apiUrl: svc.apiUrl, timeoutMs: config.dify.timeoutSeconds * 1000, ...(opts.fetch ? { fetch: opts.fetch } : {}) })
  if (config.gate.mode === 'proxy') await app.register(proxyRoutes, { svc })
}

async function seedLogin(app: FastifyInstance, svc: DifyBridgeServices, ctx: AfterLoginContext): Promise<{ setCookie: string[] }> {
  const sso = app.sso
  const { session, claims } = ctx
  const email = typeof claims['email'] === 'string' ? claims['email'] : session.claims.email
  const emailVerified = claims['email_verified'] === true || (claims['email_verified'] === undefined && session.claims.emailVerified === true)
  const name = typeof claims['name'] === 'string' ? claims['name'] : (session.claims.name ?? session.claims.preferredUsername)
  let resolved
  try {
    resolved = await svc.resolver.resolve({ iss: session.iss, sub: session.sub, claims, email, emailVerified, name })
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause
    if (cause instanceof DifyError) app.log.error({ code: cause.code, detail: cause.message }, 'Dify account resolution failed')
    // Web-app SSO: a person without a console role may still sign in for a published web app (the
    // session has no Dify account, so the console stays closed to it; the web-app policy decides).
    if (isWebAppOnlyLogin(app, ctx.redirectTo, err)) {
      sso.audit('webapp.session', { request: ctx.request, iss: session.iss, sub: session.sub, reason: 'no_console_role' })
      return { setCookie: [] }
    }
    throw err
  }
  let seeded
  try {
    seeded = await svc.seeder.seed(resolved.accountId)
  } catch (err) {
    const code = err instanceof DifyError ? err.code : 'ERR_DIFY_SEED_FAILED'
    app.log.error({ code, detail: err instanceof DifyError ? err.message : undefined }, 'Dify session seeding failed')
    throw denyLogin(code === 'ERR_DIFY_UNSUPPORTED_VERSION' || code === 'ERR_DIFY_VERSION_UNKNOWN' ? 'dify_unsupported_version' : 'dify_unavailable', 'Dify session seeding failed', err)
  }
  const updated = await sso.store.update(session.id, { difyAccountId: resolved.accountId, difyRefreshTokenHash: seeded.refreshTokenHash })
  if (!updated) {
    await svc.seeder.revoke(resolved.accountId, seeded.refreshTokenHash, false)
    throw denyLogin('session_error', 'session vanished during login')
  }
  sso.audit('dify.session.seeded', { request: ctx.request, iss: session.iss, sub: session.sub, difyAccountId: resolved.accountId, role: resolved.role, linked: resolved.linked })
  return { setCookie: seeded.setCookie }
}

function isWebAppOnlyLogin(app: FastifyInstance, redirectTo: string, err: unknown): boolean {
  const gate = app.sso.config.gate
  if (!gate.webApps || gate.webAppPolicy === undefined || !(err instanceof SsoError) || err.reason !== 'no_role') return false
  const path = redirectTo.split(/[?#]/, 1)[0] ?? ''
  return WEBAPP_PAGE_PREFIXES.some((p) => path.startsWith(p + '/'))
}

async function revokeDify(app: FastifyInstance, svc: DifyBridgeServices, session: SessionRecord, cause: string): Promise<void> {
  if (!session.difyAccountId) return
  const others = (await app.sso.store.listBySub(session.iss, session.sub)).filter((s) => s.id !== session.id && s.difyAccountId === session.difyAccountId)
  const deleted = await svc.seeder.revoke(session.difyAccountId, session.difyRefreshTokenHash, others.length === 0)
  app.sso.audit('dify.session.revoked', { iss: session.iss, sub: session.sub, difyAccountId: session.difyAccountId, cause, difyRefreshRevoked: deleted })
}

/**
 * `POST /console/api/logout` (the stock console's logout, dify `api/controllers/console/auth/login.py`
 * `LogoutApi`, POST since 1.9.2): forwards to dify-api with the browser's cookies (Dify deletes
 * its refresh token and clears its cookies), ends the kit session (session-end hooks delete
 * the seeded refresh token too), ends the IdP session from the server (the stock SPA never
 * visits `redirect_url`; see `OidcClient.endIdpSession`; audited as `auth.logout` with
 * `idpLogout: ended|failed|unsupported`), clears the kit cookies, then continues to the IdP:
 * - XHR / fetch (the stock SPA): 200 `{"result":"success","redirect_url":"<IdP end-session URL or sign-in page>"}`;
 * - a form POST (Accept: text/html): 303 to that URL.
 *
 * Only from the public origin (`Origin` equal to it, or without `Origin`
 * `Sec-Fetch-Site: same-origin`); otherwise 403 `cross_site_request`, and neither Dify's nor the
 * kit's session changes.
 */
async function consoleLogout(app: FastifyInstance, svc: DifyBridgeServices, request: FastifyRequest, reply: FastifyReply, doFetch: typeof fetch): Promise<FastifyReply> {
  const sso = app.sso
  const config = sso.config
  if (!isSameOriginRequest(request, config.publicUrl)) {
    request.log.warn({ code: CROSS_SITE_CODE }, 'cross-site console logout refused')
    return reply.code(403).header('cache-control', 'no-store').send({ code: CROSS_SITE_CODE, message: 'Logout is only accepted from this site.', status: 403 })
  }
  const relay: string[] = []
  try {
    const res = await doFetch(`${svc.apiUrl}/console/api/logout`, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        ...(request.headers.cookie ? { cookie: String(request.headers.cookie) } : {}),
        ...(headerValue(request.headers['x-csrf-token']) ? { 'x-csrf-token': headerValue(request.headers['x-csrf-token']) as string } : {}),
      },
      signal: AbortSignal.timeout(config.dify.timeoutSeconds * 1000),
      redirect: 'manual',
    })
    relay.push(...res.headers.getSetCookie())
    await res.arrayBuffer().catch(() => undefined)
  } catch {
    request.log.warn({ code: 'ERR_DIFY_UNREACHABLE' }, 'Dify logout failed; clearing cookies locally')
  }
  if (relay.length === 0) relay.push(...difyClearCookies(svc.cookies))

  const id = sso.sessions.sessionIdOf(request)
  const record = id ? await sso.store.delete(id) : null
  let idToken: string | undefined
  if (record) {
    const tokens = await sso.sessions.openTokens(record)
    idToken = tokens?.idToken || undefined
    // The stock SPA ignores `redirect_url` and goes to its sign-in page, so the browser never
    // visits the IdP: end the IdP session from here too (best effort; the outcome is audited).
    const idp = await sso.oidc.endIdpSession({ ...(idToken ? { idToken } : {}), ...(tokens?.refreshToken ? { refreshToken: tokens.refreshToken } : {}) })
    if (idp.idpLogout === 'failed') request.log.warn({ code: 'WARN_OIDC_IDP_LOGOUT_FAILED' }, 'ending the IdP session from the server failed; the browser-facing end-session URL is still returned')
    sso.audit('auth.logout', { request, iss: record.iss, sub: record.sub, ...(record.sid ? { sid: record.sid } : {}), via: 'console', ...idp })
    await sso.sessions.runEndHooks(record, 'logout')
  }
  sso.sessions.clearCookies(reply)
  for (const c of relay) reply.header('set-cookie', c)
  const endSession = await sso.oidc.endSessionUrlIfReachable({ ...(idToken ? { idTokenHint: idToken } : {}), postLogoutRedirectUri: new URL(config.signinPath, config.publicUrl).href })
  const target = endSession?.href ?? config.signinPath
  reply.header('cache-control', 'no-store')
  const accept = String(request.headers.accept ?? '')
  if (accept.includes('text/html') && !accept.includes('application/json')) return reply.redirect(target, 303)
  return reply.code(200).send({ result: 'success', redirect_url: target })
}

/**
 * Registers the Dify bridge on an app built by `buildApp` (needs `app.sso`).
 *
 * @example
 * const app = buildApp(config); await app.register(difyBridge); await app.listen({ port: 8088 })
 */
export const difyBridge = fp(difyBridgePlugin, { name: 'dify-sso-bridge', fastify: '5.x' })
export default difyBridge
