import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { DifyCookieSettings } from '../dify/contract/cookies.js';
import type { CidrList } from './cidr.js';
import type { GateContext, GateRequest, SessionCheck, WebAppGate } from './decide.js';
import type { RouteRule } from './route-table.js';

/**
 * What the gate needs from the rest of the sidecar, defined here so that the gate depends on
 * nothing but this interface and Dify's contract (`dify/contract/`): the Dify bridge
 * (`dify/bridge.ts`) implements it. See docs/architecture.md.
 */
export interface GateServices {
  /** dify-api base URL (no trailing slash). */
  readonly apiUrl: string;
  /** Dify web, socket.io and plugin-daemon base URLs (reverse-proxy mode). */
  readonly webUrl: string | undefined;
  readonly socketIoUrl: string | undefined;
  readonly pluginDaemonUrl: string | undefined;
  /** The three settings dify-api derives its cookie names and attributes from. */
  readonly cookies: DifyCookieSettings;
  /** Proxies whose `X-Forwarded-For` is believed (`trustProxy`). */
  readonly trustedProxies: CidrList;
  /** Admin-key machine routes (`gate.machineRoutes`). */
  readonly machineRoutes: readonly RouteRule[];
  /** The Dify account a Dify refresh token belongs to (Dify's Redis), or null. */
  refreshTokenAccount(refreshToken: string): Promise<string | null>;
  /** Whether Dify's setup is finished. */
  setupFinished(): Promise<boolean>;
  /** Whether the request's Cookie header holds a valid break-glass cookie for this client. */
  breakGlassActive(cookieHeader: string | readonly string[] | undefined, clientIp: string | undefined): boolean;
  /** Web-app SSO's check of one request (`webapps/gate.ts`), absent when web-app SSO is off. */
  readonly webAppGateFor?: (
    app: FastifyInstance,
    request: FastifyRequest,
    checkSession: () => Promise<unknown>,
  ) => WebAppGate | undefined;
}

/** Builds the gate context for one request (auth_request subrequest or proxied request). */
export function gateContextFor(
  app: FastifyInstance,
  svc: GateServices,
  request: FastifyRequest,
  gateReq: GateRequest,
): GateContext {
  let session: Promise<SessionCheck> | undefined;
  const config = app.sso.config;
  return {
    cookies: svc.cookies,
    checkSession: () => (session ??= app.sso.checkSession(request)),
    verifyBearer: (t) => app.sso.verifyBearer(t),
    refreshTokenAccount: (t) => svc.refreshTokenAccount(t),
    setupFinished: () => svc.setupFinished(),
    breakGlassActive: () => svc.breakGlassActive(gateReq.cookie, gateReq.clientIp),
    machineRoutes: svc.machineRoutes,
    machineUpstream:
      config.dify.adminApiKey && config.dify.workspaceId
        ? { authorization: `Bearer ${config.dify.adminApiKey}`, workspaceId: config.dify.workspaceId }
        : undefined,
    webApps: config.gate.webApps,
    webAppGate: svc.webAppGateFor?.(app, request, () => (session ??= app.sso.checkSession(request))),
    serviceApiBearer: config.gate.serviceApiBearer,
  };
}
