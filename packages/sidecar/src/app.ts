/**
 * `buildApp(config, deps?)`: the sidecar's fastify instance (never listens).
 *
 * @module
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import { SSO_PREFIX } from '@dify-sso-kit/vocabulary';
import type { Logger, DestinationStream } from 'pino';
import type { SidecarConfig } from './config/schema.js';
import { configWarnings } from './config/load.js';
import { SessionStoreError, SsoError, type ReasonCode } from './errors.js';
import { createAudit, createLogger, type AuditFn } from './services/audit.js';
import { countAuthRequestDecisions, createMetrics, type SidecarMetrics } from './services/metrics.js';
import { OidcClient } from './services/oidc-client.js';
import { oidcClientPlugin } from './plugins/oidc-lifecycle.js';
import { requestIdPlugin, generateRequestId } from './plugins/request-id.js';
import {
  SessionManager,
  type BeginLoginOptions,
  type CookieNames,
  type SessionCheck,
  type SessionEndCause,
  type SessionEndHook,
} from './services/session.js';
import { TokenVerifier, type BearerClaims } from './services/token-verify.js';
import { backchannelLogoutRoutes } from './routes/backchannel-logout.js';
import { callbackRoutes } from './routes/callback.js';
import { healthRoutes } from './routes/health.js';
import { loginRoutes } from './routes/login.js';
import { logoutRoutes } from './routes/logout.js';
import { createStore } from './store/index.js';
import { difyBridge, type DifyBridgeOptions } from './plugins/dify-bridge.js';
import type { SessionStore } from './store/types.js';
import type { AfterLoginHook } from './services/after-login.js';
import { traceRequests, traceStore } from './lib/tracing.js';
import { withPendingLogouts } from './lib/pending-logouts.js';

export type { AfterLoginContext, AfterLoginHook, AfterLoginResult } from './services/after-login.js';

/** The extension surface decorated on the app as `app.sso`. */
export interface SsoApi {
  /** Validated configuration. */
  readonly config: SidecarConfig;
  /** The session store (memory or Redis), with its `kv` helper. */
  readonly store: SessionStore;
  /** The OpenID Provider client. */
  readonly oidc: OidcClient;
  /** Session lifecycle manager. */
  readonly sessions: SessionManager;
  /** Cookie names in use. */
  readonly cookieNames: CookieNames;
  /** Registered after-login hooks (read by the callback route). */
  readonly afterLoginHooks: readonly AfterLoginHook[];
  /** The live session of `request`, or a typed reason. */
  checkSession(request: FastifyRequest): Promise<SessionCheck>;
  /** Starts a login; sets the sealed transaction cookie on `reply`. */
  beginLogin(
    request: FastifyRequest,
    reply: FastifyReply,
    opts?: BeginLoginOptions,
  ): Promise<{ url: string; state: string }>;
  /** Adds an after-login hook. */
  addAfterLoginHook(fn: AfterLoginHook): void;
  /** Adds a session-end hook (`logout`, `backchannel`, `expired`, `liveness`, `admin`). */
  addSessionEndHook(fn: SessionEndHook): void;
  /** Verifies an IdP-issued JWT access token. @throws {TokenError} */
  verifyBearer(token: string): Promise<BearerClaims>;
  /** Writes an audit event (JSON line, redacted). */
  audit: AuditFn;
  /** Prometheus metrics of this process (served by `server.ts` on `metrics.listen`). */
  readonly metrics: SidecarMetrics;
  /** Ends every session of a user at the configured issuer; returns the count. */
  endUserSessions(sub: string, cause?: SessionEndCause): Promise<number>;
  /** `<signinPath>?message=<reason>`. */
  signinUrl(reason: ReasonCode): string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** dify-sso-kit sidecar API (see `SsoApi`). */
    sso: SsoApi;
  }
}

/** Optional dependencies of {@link buildApp} (tests inject these). */
export interface BuildAppDeps {
  /** Use this store instead of building one from the config. */
  store?: SessionStore;
  /** Use this pino logger. */
  logger?: Logger;
  /** Or: write logs to this stream (tests capture audit output). */
  logStream?: DestinationStream;
  /** Clock (epoch ms) for sessions and JWT checks. */
  now?: () => number;
  /** Options of the Dify bridge (registered when `dify.apiUrl` is set), e.g. an injected Redis client. */
  dify?: DifyBridgeOptions;
  /** Metrics registry to count into (default: a fresh one without process metrics). */
  metrics?: SidecarMetrics;
}

/**
 * Fastify's schema compilers. No route declares a fastify schema (requests are checked where
 * they are read: the route handlers, `config/`), so Ajv and fast-json-stringify — about 600 KB
 * of JavaScript that fastify would otherwise load into every process — are never needed; a route
 * that declares one fails at registration with this message instead of loading them.
 */
const noSchemaCompilers = {
  buildValidator: () => () => {
    throw new Error('dify-sso-kit routes declare no fastify schemas: validate where the request is read');
  },
  buildSerializer: () => () => {
    throw new Error('dify-sso-kit routes declare no fastify schemas: replies are plain JSON');
  },
};

/**
 * Builds the sidecar app with every identity route and the `app.sso` API. Never listens;
 * `server.ts` does. Discovery starts on `ready()` and retries in the background.
 *
 * @example
 * ```ts
 * const app = buildApp(loadConfig(env)); await app.listen({ host: '127.0.0.1', port: 8088 })
 * ```
 */
export function buildApp(config: SidecarConfig, deps: BuildAppDeps = {}): FastifyInstance {
  const now = deps.now ?? Date.now;
  const logger =
    deps.logger ?? createLogger({ level: config.logLevel, ...(deps.logStream ? { stream: deps.logStream } : {}) });
  const app = Fastify({
    loggerInstance: logger,
    genReqId: generateRequestId,
    trustProxy: config.trustProxy.length > 0 ? [...config.trustProxy] : false,
    bodyLimit: 64 * 1024,
    schemaController: { compilersFactory: noSchemaCompilers },
  }) as unknown as FastifyInstance;
  for (const w of configWarnings(config)) app.log.warn({ code: w.code }, w.message);

  const metrics = deps.metrics ?? createMetrics({ defaultMetrics: false });
  // Deferred back-channel logouts (store down when they came) are applied before any session read.
  const store = withPendingLogouts(traceStore(metrics.wrapStore(deps.store ?? createStore(config, now))));
  const audit = metrics.wrapAudit(createAudit(app.log, config.oidc.preset));
  const oidc = new OidcClient({
    oidc: config.oidc,
    publicUrl: config.publicUrl,
    allowInsecureHttp: config.allowInsecureHttp,
    now,
    onDiscoveryError: (err) =>
      app.log.warn(
        { code: err.code, cause: (err.cause as { code?: string })?.code },
        'OpenID Provider discovery failed; retrying in the background',
      ),
    onReady: () => app.log.info({ issuer: config.oidc.issuer }, 'OpenID Provider discovered'),
  });
  const sessions = new SessionManager({ config, store, oidc, audit, now, log: app.log });
  const verifier = new TokenVerifier({ bearer: config.bearer, oidc, audit, now });
  const afterLoginHooks: AfterLoginHook[] = [];

  const sso: SsoApi = {
    config,
    store,
    oidc,
    sessions,
    cookieNames: sessions.names,
    afterLoginHooks,
    checkSession: (request) => sessions.checkSession(request),
    beginLogin: (request, reply, opts) => sessions.beginLogin(request, reply, opts),
    addAfterLoginHook: (fn) => {
      afterLoginHooks.push(fn);
    },
    addSessionEndHook: (fn) => sessions.addSessionEndHook(fn),
    verifyBearer: (token) => verifier.verify(token),
    audit,
    metrics,
    endUserSessions: (sub, cause) => sessions.endUserSessions(sub, cause),
    signinUrl: (reason) =>
      `${config.signinPath}?message=${encodeURIComponent(/^[a-z0-9_]{1,64}$/.test(reason) ? reason : 'internal_error')}`,
  };
  app.decorate('sso', sso);

  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 64 * 1024 },
    (_req, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(body as string)));
    },
  );
  // Hooks on every request are callback-style: an async hook costs a promise and a microtask turn per request.
  app.addHook('onSend', (request, reply, payload, done) => {
    if (request.url.startsWith(`${SSO_PREFIX}/`)) {
      reply.header('cache-control', 'no-store');
      reply.header('referrer-policy', 'no-referrer');
      reply.header('x-content-type-options', 'nosniff');
    }
    done(null, payload);
  });
  app.setErrorHandler(async (err: Error & { statusCode?: number; code?: string }, request, reply) => {
    // The session store unreachable (Redis down, Sentinel switching masters): 503, never an answer that lets a request through.
    const status =
      err instanceof SessionStoreError
        ? 503
        : typeof err.statusCode === 'number' && err.statusCode >= 400
          ? err.statusCode
          : 500;
    if (status >= 500)
      request.log.error({ code: err.code ?? (err instanceof SsoError ? err.code : 'ERR_INTERNAL') }, 'request failed');
    return reply
      .code(status)
      .send({ code: err.code ?? 'ERR_INTERNAL', message: status >= 500 ? 'internal error' : err.message });
  });

  countAuthRequestDecisions(app, metrics);
  traceRequests(app);
  const unwatchIdp = metrics.watchIdp(new URL(config.oidc.issuer).origin);
  app.addHook('onClose', async () => unwatchIdp());
  app.register(cookie);
  app.register(requestIdPlugin);
  app.register(oidcClientPlugin, { client: oidc });
  app.addHook('onClose', async () => {
    if (!deps.store) await store.close();
  });
  app.register(loginRoutes);
  app.register(callbackRoutes);
  app.register(logoutRoutes);
  app.register(backchannelLogoutRoutes);
  app.register(healthRoutes);
  // The Dify bridge (identity → account, session seeding, gate, lockdown) when configured.
  if (config.dify.apiUrl !== undefined) app.register(difyBridge, deps.dify ?? {});
  return app;
}
