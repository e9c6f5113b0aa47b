import { accessTokenUserId } from '../dify/contract/access-token.js';
import { readDifyAuthCookies, type DifyCookieSettings } from '../dify/contract/cookies.js';
import { canonicalisePath } from './canonical-path.js';
import { isRefusedRawPath } from './raw-path.js';
import {
  LOCKED_ROUTES,
  PUBLIC_CONSOLE_ROUTES,
  REFRESH_ROUTE,
  SETUP_WRITE_ROUTES,
  classifyPath,
  hasFileSignature,
  matchesRule,
  type LockFamily,
  type RouteRule,
} from './route-table.js';

/** The parts of a request the gate decides on. In auth_request mode they come from nginx's `X-Original-*` headers. */
export interface GateRequest {
  readonly method: string;
  /** Raw request URI (path + query) as the client sent it (`$request_uri`). */
  readonly rawUri: string;
  /** Cookie header; an array when the request carried several Cookie header lines. */
  readonly cookie: string | readonly string[] | undefined;
  readonly authorization: string | undefined;
  readonly clientIp: string | undefined;
  /** IdP bearer JWT sent next to a Dify app key on the service API (`X-Sso-Token`), if any. */
  readonly serviceToken?: string | undefined;
  /** The request's headers (web-app SSO reads `X-App-Passport`, `Sec-Fetch-Dest` and the Cookie header names). */
  readonly headers?: Readonly<Record<string, string | readonly string[] | undefined>> | undefined;
}

/** A web-app SSO verdict (issue 12; `webapps/service.ts`): the gate maps it onto its decision. */
export type WebAppGateVerdict =
  | { readonly allow: true; readonly via: 'public' | 'session' }
  | {
      readonly allow: false;
      readonly status: 400 | 401 | 403;
      readonly code: string;
      readonly detail: string;
      readonly appCode?: string | undefined;
    };

/** Per-person web-app access (`gate.webAppPolicy`); the gate defines what it needs, `webapps/` implements it. */
export interface WebAppGate {
  /** A published web-app page of app `appCode` (as in the raw path). */
  page(appCode: string | undefined): Promise<WebAppGateVerdict>;
  /** A web-app API call (canonical path). */
  api(
    method: string,
    path: string,
    headers: Readonly<Record<string, string | readonly string[] | undefined>>,
  ): Promise<WebAppGateVerdict>;
}

/** Header carrying the IdP bearer JWT on the service API (second factor next to the Dify app key). */
export { SERVICE_TOKEN_HEADER } from '@dify-sso-kit/vocabulary';

/** Minimal view of a kit session result (`app.sso.checkSession`). */
export type SessionCheck =
  | { ok: true; session: { difyAccountId?: string | undefined } }
  | { ok: false; reason: string };

export interface GateContext {
  readonly cookies: DifyCookieSettings;
  /** `app.sso.checkSession` bound to this request (called at most once). */
  checkSession(): Promise<SessionCheck>;
  /** Verifies an IdP bearer JWT; throws an error with a `code` (`ERR_TOKEN_*`). */
  verifyBearer?: ((token: string) => Promise<unknown>) | undefined;
  /** Account id Dify's Redis holds for a refresh token (`refresh_token:<t>`), or null. */
  refreshTokenAccount(token: string): Promise<string | null>;
  /** Whether Dify's first-run setup is finished (GET /console/api/setup). */
  setupFinished(): Promise<boolean>;
  /** Whether the request carries a valid break-glass cookie for this client. */
  breakGlassActive(): boolean;
  /** Routes a verified bearer may call; empty disables machine access. */
  readonly machineRoutes: readonly RouteRule[];
  /** Upstream credentials for machine requests (admin key + workspace). */
  readonly machineUpstream?: { readonly authorization: string; readonly workspaceId: string } | undefined;
  /** Require a kit session for the web-app API (`/api/**`). */
  readonly webApps: boolean;
  /** Web-app SSO (per-person passports, per-app policy); without it `webApps` only requires a kit session. */
  readonly webAppGate?: WebAppGate | undefined;
  /** Require a verified IdP bearer (`X-Sso-Token`) next to the Dify app key on `/v1/**`. */
  readonly serviceApiBearer?: boolean | undefined;
}

export type GateDecision =
  | {
      readonly allow: true;
      /** Why it passed (for debug logs and tests). */
      readonly via:
        | 'public'
        | 'session'
        | 'refresh'
        | 'machine'
        | 'service_bearer'
        | 'break_glass'
        | 'passthrough'
        | 'signed_file'
        | 'setup_open';
      /** Set only for machine requests: credentials nginx / the proxy puts on the upstream request. */
      readonly upstream?: { readonly authorization: string; readonly workspaceId: string };
    }
  | {
      readonly allow: false;
      readonly status: 400 | 401 | 403;
      /** Stable code for the JSON body (`sso_required`, `unauthorized`, `invalid_token`, `insufficient_scope`, `invalid_path`, `ambiguous_cookie`, …). */
      readonly code: string;
      /** Detail for logs. */
      readonly detail: string;
      readonly family?: LockFamily;
      /** Clear Dify's console cookies on this answer (a Dify login without a kit session). */
      readonly clearDifyCookies?: boolean;
      /** A page navigation: send the browser to `/sso/login?redirect=<path>` instead of a 401. */
      readonly loginRedirect?: string;
    };

const deny = (
  status: 400 | 401 | 403,
  code: string,
  detail: string,
  extra: { family?: LockFamily; clearDifyCookies?: boolean; loginRedirect?: string } = {},
): GateDecision => ({
  allow: false,
  status,
  code,
  detail,
  ...extra,
});

/**
 * The gate's decision for one request (the same in auth_request and reverse-proxy mode).
 *
 * Order: raw-path refusal (400 `invalid_path`, `raw-path.ts`) → canonicalise → lockdown (403 `sso_required`, break-glass reopens password login only)
 * → setup-after-setup → public console paths → per-class rules. A console request passes only
 * with a live kit session whose `difyAccountId` equals the `user_id` of Dify's access-token
 * cookie; without an access cookie, `POST /console/api/refresh-token` passes only when Dify's
 * Redis maps the refresh cookie to that same account.
 */
export async function decide(req: GateRequest, ctx: GateContext): Promise<GateDecision> {
  const method = req.method.toUpperCase();
  if (isRefusedRawPath(req.rawUri))
    return deny(
      400,
      'invalid_path',
      'raw path refused (encoded slash/dot, dot segment, ";", control character, bad escape or not origin-form)',
    );
  const canon = canonicalisePath(req.rawUri);
  if (!canon) return deny(400, 'invalid_path', 'path cannot be canonicalised');
  const path = canon.path;

  for (const r of LOCKED_ROUTES) {
    if (matchesRule(r, method, path)) {
      if (r.family === 'password_login' && path === '/console/api/login' && ctx.breakGlassActive()) {
        return { allow: true, via: 'break_glass' };
      }
      return deny(403, 'sso_required', `local login endpoint (${r.family})`, { family: r.family });
    }
  }
  if (SETUP_WRITE_ROUTES.some((r) => matchesRule(r, method, path))) {
    if (await ctx.setupFinished()) return deny(403, 'sso_required', 'setup already finished', { family: 'setup' });
    return { allow: true, via: 'setup_open' };
  }

  const cls = classifyPath(path);
  if (cls === 'passthrough') return { allow: true, via: 'passthrough' };
  if (cls === 'files') {
    if (hasFileSignature(req.rawUri)) return { allow: true, via: 'signed_file' };
    const s = await ctx.checkSession();
    return s.ok
      ? { allow: true, via: 'session' }
      : deny(401, 'unauthorized', `unsigned file request without session (${s.reason})`);
  }
  if (cls === 'service') {
    if (!ctx.serviceApiBearer) return { allow: true, via: 'passthrough' };
    if (method === 'OPTIONS') return { allow: true, via: 'passthrough' };
    const token = /^(?:Bearer\s+)?(\S+)\s*$/i.exec(req.serviceToken ?? '')?.[1];
    if (!token || !ctx.verifyBearer)
      return deny(401, 'invalid_token', 'service API needs an IdP bearer in X-Sso-Token');
    try {
      await ctx.verifyBearer(token);
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      if (code === 'ERR_TOKEN_SCOPE') return deny(403, 'insufficient_scope', 'service bearer lacks the required scope');
      return deny(401, 'invalid_token', `service bearer rejected (${typeof code === 'string' ? code : 'error'})`);
    }
    return { allow: true, via: 'service_bearer' };
  }
  if (cls === 'webapp_page') {
    if (!ctx.webApps) return { allow: true, via: 'passthrough' };
    const s = ctx.webAppGate ? { ok: false as const, reason: 'web-app policy' } : await ctx.checkSession();
    if (s.ok) return { allow: true, via: 'session' };
    // The raw path, percent-encoded as a whole into `redirect` (never the canonical form: it is
    // lower-cased and decoded, and app codes are case-sensitive); /sso/login re-checks it.
    const q = req.rawUri.indexOf('?');
    const target = req.rawUri.slice(0, q === -1 ? undefined : q);
    if (ctx.webAppGate) return webAppPage(req, target, ctx.webAppGate);
    return deny(401, 'unauthorized', `web-app page without session (${s.reason})`, {
      loginRedirect: `/sso/login?redirect=${encodeURIComponent(target)}`,
    });
  }
  if (cls === 'webapp') {
    if (!ctx.webApps) return { allow: true, via: 'passthrough' };
    if (ctx.webAppGate) {
      const v = await ctx.webAppGate.api(method, path, req.headers ?? {});
      return v.allow
        ? { allow: true, via: v.via === 'public' ? 'public' : 'session' }
        : deny(v.status, v.code, v.detail);
    }
    const s = await ctx.checkSession();
    return s.ok
      ? { allow: true, via: 'session' }
      : deny(401, 'unauthorized', `web-app API without session (${s.reason})`);
  }

  // console
  if (!canon.altered && PUBLIC_CONSOLE_ROUTES.some((r) => matchesRule(r, method, path)))
    return { allow: true, via: 'public' };

  // Dify's cookies exactly as dify-api reads them (werkzeug); a header other readers could read
  // differently is refused, and Dify's cookies are cleared so a stale duplicate cannot persist.
  const dify = readDifyAuthCookies(req.cookie, ctx.cookies);
  if (!dify.ok) return deny(401, 'ambiguous_cookie', dify.detail, { clearDifyCookies: true });
  const { access, refresh } = dify;

  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(req.authorization ?? '')?.[1];
  if (access === undefined && bearer !== undefined) return machine(bearer, method, path, canon.altered, ctx);

  if (ctx.breakGlassActive()) return { allow: true, via: 'break_glass' };

  const s = await ctx.checkSession();
  if (!s.ok) {
    return deny(401, 'unauthorized', `no live kit session (${s.reason})`, {
      clearDifyCookies: access !== undefined || refresh !== undefined,
    });
  }
  const accountId = s.session.difyAccountId;
  if (!accountId) return deny(401, 'unauthorized', 'kit session has no Dify account', { clearDifyCookies: true });

  if (access !== undefined) {
    const userId = accessTokenUserId(access);
    if (userId === accountId) return { allow: true, via: 'session' };
    return deny(401, 'unauthorized', 'Dify access cookie does not belong to the kit session', {
      clearDifyCookies: true,
    });
  }
  if (matchesRule(REFRESH_ROUTE, method, path)) {
    if (refresh === undefined) return deny(401, 'unauthorized', 'refresh without refresh cookie');
    const owner = await ctx.refreshTokenAccount(refresh);
    if (owner !== null && owner === accountId) return { allow: true, via: 'refresh' };
    return deny(401, 'unauthorized', 'refresh token does not belong to the kit session', { clearDifyCookies: true });
  }
  // Live kit session but no Dify access cookie yet: dify-api answers 401 itself and the console
  // refreshes (docs/dify-contract.md §6.6). Nothing reaches Dify with someone else's credentials:
  // Authorization is never forwarded for cookie requests.
  return { allow: true, via: 'session' };
}

/**
 * A published web-app page under web-app SSO: public apps pass; a person who may use the app
 * passes; a navigation without a session goes to the SSO login — or, inside a frame
 * (`Sec-Fetch-Dest: iframe`/`frame`), to the "open in a new tab" page; a refused person goes
 * to the denial page (both HTML pages of the sidecar, reached through `loginRedirect` in either
 * gate mode).
 */
async function webAppPage(req: GateRequest, rawPath: string, gate: WebAppGate): Promise<GateDecision> {
  const [, kind, code] = rawPath.split('/');
  const v = await gate.page(code);
  if (v.allow) return { allow: true, via: v.via === 'public' ? 'public' : 'session' };
  const app = encodeURIComponent(code ?? '');
  if (v.status === 401) {
    const dest = req.headers?.['sec-fetch-dest'];
    if (dest === 'iframe' || dest === 'frame')
      return deny(401, v.code, `${v.detail} (framed)`, {
        loginRedirect: `/sso/webapp/embed?app=${app}&kind=${encodeURIComponent(kind ?? '')}`,
      });
    return deny(401, v.code, v.detail, { loginRedirect: `/sso/login?redirect=${encodeURIComponent(rawPath)}` });
  }
  // auth_request passes only 401/403 on, and only a 401 carries the redirect target: the denial
  // page is reached through the same redirect; the page itself answers 403.
  return deny(401, v.code, v.detail, { loginRedirect: `/sso/webapp/denied?app=${app}` });
}

async function machine(
  token: string,
  method: string,
  path: string,
  altered: boolean,
  ctx: GateContext,
): Promise<GateDecision> {
  if (!ctx.verifyBearer || ctx.machineRoutes.length === 0 || !ctx.machineUpstream) {
    return deny(401, 'invalid_token', 'bearer tokens are not accepted on the console API');
  }
  try {
    await ctx.verifyBearer(token);
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (code === 'ERR_TOKEN_SCOPE') return deny(403, 'insufficient_scope', 'bearer lacks the required scope');
    return deny(401, 'invalid_token', `bearer rejected (${typeof code === 'string' ? code : 'error'})`);
  }
  if (altered || !ctx.machineRoutes.some((r) => matchesRule(r, method, path))) {
    return deny(403, 'machine_route_denied', 'route not in gate.machineRoutes');
  }
  return { allow: true, via: 'machine', upstream: ctx.machineUpstream };
}
