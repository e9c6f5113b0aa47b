import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { DifyBridgeServices } from '../dify/bridge.js'
import { readCookie } from '../dify/cookies.js'
import type { GateContext, GateRequest, SessionCheck } from './decide.js'
import { webAppGateFor } from '../webapps/gate.js'

/** Builds the gate context for one request (auth_request subrequest or proxied request). */
export function gateContextFor(app: FastifyInstance, svc: DifyBridgeServices, request: FastifyRequest, gateReq: GateRequest): GateContext {
  let session: Promise<SessionCheck> | undefined
  const config = app.sso.config
  return {
    cookies: svc.cookies,
    checkSession: () => (session ??= app.sso.checkSession(request)),
    verifyBearer: (t) => app.sso.verifyBearer(t),
    refreshTokenAccount: (t) => svc.seeder.accountOf(t),
    setupFinished: () => svc.setupFinished(),
    breakGlassActive: () =>
      svc.breakGlassCidrs.entries.length > 0 &&
      svc.breakGlassCidrs.contains(gateReq.clientIp) &&
      svc.breakGlassCookie.verify(readCookie(gateReq.cookie, svc.breakGlassCookie.name), gateReq.clientIp),
    machineRoutes: svc.machineRoutes,
    machineUpstream: config.dify.adminApiKey && config.dify.workspaceId ? { authorization: `Bearer ${config.dify.adminApiKey}`, workspaceId: config.dify.workspaceId } : undefined,
    webApps: config.gate.webApps,
    webAppGate: webAppGateFor(app, request, () => (session ??= app.sso.checkSession(request))),
    serviceApiBearer: config.gate.serviceApiBearer,
  }
}
