/**
 * The Dify bridge as one fastify plugin on top of the sidecar core (`app.sso`). It builds the
 * bridge's services (`dify/bridge.ts`) and wires them in:
 * - after-login hook: identity → Dify account (link / JIT / role sync), refresh-token seeding,
 *   Dify's Set-Cookie relayed on the final redirect;
 * - session-end hook: the seeded Dify refresh token is deleted (logout, back-channel, expiry);
 * - routes: `GET /console/api/system-features` (`routes/system-features.ts`), the stock SSO button
 *   (`routes/enterprise-sso.ts`), `POST /console/api/logout` (`routes/console-logout.ts`),
 *   `GET|POST /sso/break-glass` (`break-glass/route.ts`);
 * - the gate: `/sso/auth` (always) and, with `gate.mode=proxy`, the reverse proxy (`gate/`).
 *
 * Options are checked when the plugin is registered (`ERR_INVALID_ARG_TYPE`).
 *
 * @module
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RedisClient } from '../lib/redis-client.js';
import type { AfterLoginContext } from '../services/after-login.js';
import { DifyError, SsoError } from '../errors.js';
import { WEBAPP_PAGE_PREFIXES } from '../gate/route-table.js';
import { breakGlassRoutes } from '../break-glass/route.js';
import { authRoute } from '../gate/auth-route.js';
import { clientAddress } from '../gate/cidr.js';
import type { GateServices } from '../gate/context.js';
import { consoleLogoutRoute } from '../routes/console-logout.js';
import { enterpriseSsoRoutes } from '../routes/enterprise-sso.js';
import { systemFeaturesRoute } from '../routes/system-features.js';
import { webAppRoutes } from '../webapps/plugin.js';
import { webAppGateFor } from '../webapps/gate.js';
import type { SessionRecord } from '../store/types.js';
import { denyLogin } from '../dify/accounts.js';
import { createDifyBridge, type DifyBridgeServices } from '../dify/bridge.js';

/**
 * Injected dependencies of the bridge plugin (tests); production passes none.
 *
 * @example
 * buildApp(config, { dify: { redis: new Redis(url) } })
 */
export interface DifyBridgeOptions {
  /** Client of Dify's Redis (tests); default from the `dify.redis*` settings. */
  readonly redis?: RedisClient;
  readonly fetch?: typeof fetch;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Dify bridge services (present when `dify.apiUrl` is configured). */
    difyBridge: DifyBridgeServices;
  }
}

/** Throws `ERR_INVALID_ARG_TYPE` for options of the wrong shape (checked at registration). */
function checkOptions(opts: unknown): DifyBridgeOptions {
  const bad = (name: string, expected: string) =>
    Object.assign(new TypeError(`"${name}" must be ${expected}`), { code: 'ERR_INVALID_ARG_TYPE' });
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw bad('options', 'an object');
  const o = opts as Record<string, unknown>;
  if (o['fetch'] !== undefined && typeof o['fetch'] !== 'function') throw bad('fetch', 'a function');
  const redis = o['redis'] as Record<string, unknown> | undefined;
  if (redis !== undefined && (redis === null || typeof redis !== 'object' || typeof redis['get'] !== 'function'))
    throw bad('redis', 'a Redis client');
  return opts as DifyBridgeOptions;
}

async function difyBridgePlugin(app: FastifyInstance, options: DifyBridgeOptions): Promise<void> {
  const opts = checkOptions(options);
  const sso = app.sso;
  const config = sso.config;
  const audit = (event: string, fields: Record<string, unknown>) => sso.audit(event, fields);
  const svc = createDifyBridge(config, {
    kv: sso.store.kv,
    audit,
    ...(opts.redis ? { redis: opts.redis } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
  });
  app.decorate('difyBridge', svc);
  app.addHook('onClose', async () => svc.close());
  if (config.dify.allowNewerVersions)
    app.log.warn(
      { code: 'WARN_CONFIG_DIFY_NEWER_VERSIONS' },
      'DIFY_SSO_DIFY_ALLOW_NEWER_VERSIONS=true: Dify versions newer than the tested table are accepted',
    );
  const doFetch = opts.fetch ?? fetch;
  // Report the running Dify version (or its refusal) at startup, without making startup depend on Dify.
  app.addHook('onReady', async () => {
    void svc.admin.version().then(
      (t) => app.log.info({ difyVersion: t.version }, 'Dify version supported'),
      (err: unknown) =>
        app.log.error(
          { code: (err as { code?: string }).code ?? 'ERR_DIFY_UNREACHABLE', detail: (err as Error).message },
          'Dify version check failed; logins will be refused until it passes',
        ),
    );
  });

  sso.addAfterLoginHook(async (ctx: AfterLoginContext) => seedLogin(app, svc, ctx));
  sso.addSessionEndHook(async (session, cause) => revokeDify(app, svc, session, cause));

  const clientIp = (request: FastifyRequest) =>
    clientAddress(request.socket.remoteAddress, request.headers, svc.trustedProxies);
  systemFeaturesRoute(app, {
    apiUrl: svc.apiUrl,
    fetch: doFetch,
    breakGlassActive: (request) => svc.breakGlassActive(request.headers.cookie, clientIp(request)),
  });
  enterpriseSsoRoutes(app);
  consoleLogoutRoute(app, { apiUrl: svc.apiUrl, cookies: svc.cookies, fetch: doFetch });
  breakGlassRoutes(app, { cidrs: svc.breakGlassCidrs, cookie: svc.breakGlassCookie, clientIp });

  // ---- the gate ----------------------------------------------------------------------------
  // The gate sees the bridge and web-app SSO through the interface it defines (gate/context.ts).
  const gate: GateServices = Object.assign(Object.create(svc) as DifyBridgeServices, { webAppGateFor });
  authRoute(app, gate);
  if (config.gate.webApps && config.gate.webAppPolicy !== undefined)
    await app.register(webAppRoutes, {
      apiUrl: svc.apiUrl,
      timeoutMs: config.dify.timeoutSeconds * 1000,
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
    });
  // Loaded only in reverse-proxy mode: @fastify/reply-from and undici are a fifth of the process's memory.
  if (config.gate.mode === 'proxy') await app.register((await import('../gate/proxy.js')).proxyRoutes, { svc: gate });
}

async function seedLogin(
  app: FastifyInstance,
  svc: DifyBridgeServices,
  ctx: AfterLoginContext,
): Promise<{ setCookie: string[] }> {
  const sso = app.sso;
  const { session, claims } = ctx;
  const email = typeof claims['email'] === 'string' ? claims['email'] : session.claims.email;
  const emailVerified =
    claims['email_verified'] === true ||
    (claims['email_verified'] === undefined && session.claims.emailVerified === true);
  const name =
    typeof claims['name'] === 'string' ? claims['name'] : (session.claims.name ?? session.claims.preferredUsername);
  let resolved;
  try {
    resolved = await svc.resolver.resolve({ iss: session.iss, sub: session.sub, claims, email, emailVerified, name });
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    if (cause instanceof DifyError)
      app.log.error({ code: cause.code, detail: cause.message }, 'Dify account resolution failed');
    // Web-app SSO: a person without a console role may still sign in for a published web app (the
    // session has no Dify account, so the console stays closed to it; the web-app policy decides).
    if (isWebAppOnlyLogin(app, ctx.redirectTo, err)) {
      sso.audit('webapp.session', {
        request: ctx.request,
        iss: session.iss,
        sub: session.sub,
        reason: 'no_console_role',
      });
      return { setCookie: [] };
    }
    throw err;
  }
  let seeded;
  try {
    seeded = await svc.seeder.seed(resolved.accountId);
  } catch (err) {
    const code = err instanceof DifyError ? err.code : 'ERR_DIFY_SEED_FAILED';
    app.log.error({ code, detail: err instanceof DifyError ? err.message : undefined }, 'Dify session seeding failed');
    throw denyLogin(
      code === 'ERR_DIFY_UNSUPPORTED_VERSION' || code === 'ERR_DIFY_VERSION_UNKNOWN'
        ? 'dify_unsupported_version'
        : 'dify_unavailable',
      'Dify session seeding failed',
      err,
    );
  }
  const updated = await sso.store.update(session.id, {
    difyAccountId: resolved.accountId,
    difyRefreshTokenHash: seeded.refreshTokenHash,
  });
  if (!updated) {
    await svc.seeder.revoke(resolved.accountId, seeded.refreshTokenHash, false);
    throw denyLogin('session_error', 'session vanished during login');
  }
  sso.audit('dify.session.seeded', {
    request: ctx.request,
    iss: session.iss,
    sub: session.sub,
    difyAccountId: resolved.accountId,
    role: resolved.role,
    linked: resolved.linked,
  });
  return { setCookie: seeded.setCookie };
}

function isWebAppOnlyLogin(app: FastifyInstance, redirectTo: string, err: unknown): boolean {
  const gate = app.sso.config.gate;
  if (!gate.webApps || gate.webAppPolicy === undefined || !(err instanceof SsoError) || err.reason !== 'no_role')
    return false;
  const path = redirectTo.split(/[?#]/, 1)[0] ?? '';
  return WEBAPP_PAGE_PREFIXES.some((p) => path.startsWith(`${p}/`));
}

async function revokeDify(
  app: FastifyInstance,
  svc: DifyBridgeServices,
  session: SessionRecord,
  cause: string,
): Promise<void> {
  if (!session.difyAccountId) return;
  const others = (await app.sso.store.listBySub(session.iss, session.sub)).filter(
    (s) => s.id !== session.id && s.difyAccountId === session.difyAccountId,
  );
  const deleted = await svc.seeder.revoke(session.difyAccountId, session.difyRefreshTokenHash, others.length === 0);
  app.sso.audit('dify.session.revoked', {
    iss: session.iss,
    sub: session.sub,
    difyAccountId: session.difyAccountId,
    cause,
    difyRefreshRevoked: deleted,
  });
}

/**
 * Registers the Dify bridge on an app built by `buildApp` (needs `app.sso`).
 *
 * @example
 * const app = buildApp(config); await app.register(difyBridge); await app.listen({ port: 8088 })
 */
export const difyBridge = fp(difyBridgePlugin, { name: 'dify-sso-bridge', fastify: '5.x' });
export default difyBridge;
