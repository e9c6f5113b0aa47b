/**
 * `buildStandinApi(options)`: a test double of dify-api's console contract. Never listens; the
 * caller (src/server.ts or a test) does.
 *
 * NOT DIFY. A private test double for dify-sso-kit; never shipped. Each route module names the
 * Dify file and versions it follows.
 */
import fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import multipart from '@fastify/multipart';
import { Redis } from 'ioredis';
import type { ResolvedStandinOptions, StandinContext } from './lib/context.js';
import { StandinDb, type SeedData } from './lib/db.js';
import { DifyHttpError, WERKZEUG_NOT_FOUND_HTML } from './lib/errors.js';
import { Passport, RedisKeys, RefreshStore } from './lib/tokens.js';
import { NEWEST_VERSION, versionFeatures } from './version.js';
import { accountRoutes } from './routes/account.js';
import { authRoutes } from './routes/auth.js';
import { featureRoutes } from './routes/features.js';
import { introspectionRoutes } from './routes/introspection.js';
import { memberRoutes } from './routes/members.js';
import { streamingRoutes } from './routes/streaming.js';
import { websocketRoutes } from './routes/websocket.js';
import { webAppRoutes } from './routes/webapp.js';
import defaultSeed from './seed.json' with { type: 'json' };

/** Options of {@link buildStandinApi}; names mirror dify-api's env variables. */
export interface StandinApiOptions {
  /** `SECRET_KEY`: signs access and CSRF JWTs (HS256). Required. */
  secretKey: string;
  /** Dify's Redis: an ioredis client (not closed by the app) or a `redis://` URL (closed on app close). */
  redis: Redis | string;
  /** Impersonated Dify version (`X-Version`, behaviour switches). Default {@link NEWEST_VERSION}. */
  version?: string;
  /** `REDIS_KEY_PREFIX` (honoured from 1.14.0). Default ''. */
  redisKeyPrefix?: string;
  /** `ADMIN_API_KEY`. Default ''. */
  adminApiKey?: string;
  /** `ADMIN_API_KEY_ENABLE`. Default false. */
  adminApiKeyEnable?: boolean;
  /** `ACCESS_TOKEN_EXPIRE_MINUTES`. Default 60. */
  accessTokenExpireMinutes?: number;
  /** `REFRESH_TOKEN_EXPIRE_DAYS`. Default 30. */
  refreshTokenExpireDays?: number;
  /** `CONSOLE_API_URL`. Default ''. */
  consoleApiUrl?: string;
  /** `CONSOLE_WEB_URL`. Default ''. */
  consoleWebUrl?: string;
  /** `COOKIE_DOMAIN` (honoured from 1.10.0). Default ''. */
  cookieDomain?: string;
  /** `ENABLE_EMAIL_PASSWORD_LOGIN`. Default true. */
  enableEmailPasswordLogin?: boolean;
  /** `ENABLE_EMAIL_CODE_LOGIN`. Default false. */
  enableEmailCodeLogin?: boolean;
  /** `ENABLE_SOCIAL_OAUTH_LOGIN`. Default false. */
  enableSocialOauthLogin?: boolean;
  /** `ALLOW_REGISTER`. Default false. */
  allowRegister?: boolean;
  /** `ALLOW_CREATE_WORKSPACE`. Default false. */
  allowCreateWorkspace?: boolean;
  /** `MAIL_TYPE` (only its emptiness matters: `is_email_setup`). Default ''. */
  mailType?: string;
  githubClientId?: string;
  githubClientSecret?: string;
  googleClientId?: string;
  googleClientSecret?: string;
  /** `INVITE_EXPIRY_HOURS`. Default 72. */
  inviteExpiryHours?: number;
  /** `FILES_ACCESS_TIMEOUT` seconds. Default 300. */
  filesAccessTimeoutSeconds?: number;
  /** Largest accepted upload. Default 100 MiB + 1 MiB of slack. */
  uploadLimitBytes?: number;
  /** Secret for the test-only `/__standin/*` routes; empty disables them (404). Default ''. */
  introspectionSecret?: string;
  /** Accounts, workspaces and setup state ("Dify's Postgres"). Default: src/seed.json. */
  seed?: SeedData;
  /** Clock (ms since epoch) for token minting and checks. Default `Date.now`. */
  now?: () => number;
  /** Fastify logger option. Default false. */
  logger?: FastifyServerOptions['logger'];
}

export interface StandinApiHandle {
  readonly context: StandinContext;
}

declare module 'fastify' {
  interface FastifyInstance {
    standin: StandinApiHandle;
  }
}

function resolve(o: StandinApiOptions): ResolvedStandinOptions {
  if (typeof o.secretKey !== 'string' || o.secretKey.length === 0) {
    throw Object.assign(new TypeError('"secretKey" must be a non-empty string'), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  for (const k of ['accessTokenExpireMinutes', 'refreshTokenExpireDays'] as const) {
    const v = o[k];
    if (v !== undefined && !(typeof v === 'number' && v > 0)) {
      throw Object.assign(new TypeError(`"${k}" must be a positive number`), { code: 'ERR_INVALID_ARG_VALUE' });
    }
  }
  return {
    secretKey: o.secretKey,
    version: o.version ?? NEWEST_VERSION,
    edition: 'SELF_HOSTED',
    redisKeyPrefix: o.redisKeyPrefix ?? '',
    adminApiKey: o.adminApiKey ?? '',
    adminApiKeyEnable: o.adminApiKeyEnable ?? false,
    accessTokenExpireMinutes: o.accessTokenExpireMinutes ?? 60,
    refreshTokenExpireDays: o.refreshTokenExpireDays ?? 30,
    consoleApiUrl: o.consoleApiUrl ?? '',
    consoleWebUrl: o.consoleWebUrl ?? '',
    cookieDomain: o.cookieDomain ?? '',
    enableEmailPasswordLogin: o.enableEmailPasswordLogin ?? true,
    enableEmailCodeLogin: o.enableEmailCodeLogin ?? false,
    enableSocialOauthLogin: o.enableSocialOauthLogin ?? false,
    allowRegister: o.allowRegister ?? false,
    allowCreateWorkspace: o.allowCreateWorkspace ?? false,
    mailType: o.mailType ?? '',
    githubClientId: o.githubClientId ?? '',
    githubClientSecret: o.githubClientSecret ?? '',
    googleClientId: o.googleClientId ?? '',
    googleClientSecret: o.googleClientSecret ?? '',
    inviteExpiryHours: o.inviteExpiryHours ?? 72,
    filesAccessTimeoutSeconds: o.filesAccessTimeoutSeconds ?? 300,
    uploadLimitBytes: o.uploadLimitBytes ?? 101 * 1024 * 1024,
    introspectionSecret: o.introspectionSecret ?? '',
    deployEnv: 'PRODUCTION',
  };
}

function originOf(url: string): string {
  try {
    return url ? new URL(url).origin : '';
  } catch {
    return '';
  }
}

/**
 * Build the dify-api double.
 *
 * @example
 * const app = buildStandinApi({ secretKey: 'test-secret', redis: 'redis://127.0.0.1:16379', redisKeyPrefix: 't1' });
 * await app.listen({ host: '127.0.0.1', port: 15001 });
 */
export function buildStandinApi(options: StandinApiOptions): FastifyInstance {
  const resolved = resolve(options);
  const features = versionFeatures(resolved.version);
  const ownsRedis = typeof options.redis === 'string';
  const redis =
    typeof options.redis === 'string' ? new Redis(options.redis, { maxRetriesPerRequest: 2 }) : options.redis;
  const now = options.now ?? Date.now;
  const keys = new RedisKeys(resolved.redisKeyPrefix, features.redisKeyPrefix);
  const context: StandinContext = {
    options: resolved,
    features,
    db: new StandinDb(options.seed ?? (defaultSeed as SeedData)),
    redis,
    keys,
    passport: new Passport({ secretKey: resolved.secretKey, now }),
    refresh: new RefreshStore({ redis, keys, refreshTokenExpireDays: resolved.refreshTokenExpireDays }),
    cookieRule: {
      consoleApiUrl: resolved.consoleApiUrl,
      consoleWebUrl: resolved.consoleWebUrl,
      cookieDomain: resolved.cookieDomain,
      features,
    },
    now,
    outbox: [],
    gates: new Map(),
  };

  const app = fastify({
    logger: options.logger ?? false,
    bodyLimit: 2 * 1024 * 1024,
    routerOptions: { ignoreTrailingSlash: true },
  });
  app.decorate('standin', { context });

  // The stock SPA posts `Content-Type: application/json` with an empty body (refresh-token).
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(new DifyHttpError(400, 'bad_request', 'Failed to decode JSON object'), undefined);
    }
  });
  app.register(multipart, { limits: { fileSize: resolved.uploadLimitBytes } });
  // form posts reach the handlers (e.g. an upload without a file → 400 no_file_uploaded, not 415)
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, body),
  );

  // follows api/extensions/ext_app_metrics.py: every response carries X-Version and X-Env;
  // follows api/extensions/ext_blueprints.py (Flask-CORS on the console blueprint, 1.12.1–1.16.1):
  // the console web origin with credentials and the exposed headers, observed on every response.
  const corsOrigin = originOf(resolved.consoleWebUrl);
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('x-version', features.version);
    reply.header('x-env', resolved.deployEnv);
    if (corsOrigin) {
      reply.header('access-control-allow-origin', corsOrigin);
      reply.header('access-control-expose-headers', 'X-Env, X-Trace-Id, X-Version');
      reply.header('access-control-allow-credentials', 'true');
    }
    if (features.varyCookie) reply.header('vary', 'Cookie');
  });

  app.setErrorHandler((err, request, reply) => {
    if (err instanceof DifyHttpError) {
      // flask-restx's handler adds the challenge to the 401s it renders (api/libs/external_api.py)
      if (err.status === 401 && err.viaErrorHandler) reply.header('www-authenticate', 'Bearer realm="api"');
      return reply.code(err.status).send(err.body);
    }
    const status = (err as { statusCode?: number }).statusCode;
    if (status === 413) return reply.code(413).send({ code: 'file_too_large', message: '', status: 413 });
    if (typeof status === 'number' && status >= 400 && status < 500) {
      return reply.code(status).send({ code: 'bad_request', message: (err as Error).message, status });
    }
    request.log.error({ err }, 'unhandled error');
    return reply.code(500).send({
      code: 'internal_server_error',
      message:
        'The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.',
      status: 500,
    });
  });
  // Werkzeug routing: a path some route serves with another method → 405 JSON; a path no route
  // matches → Werkzeug's HTML page (observed for /console/api/* too, e.g. the enterprise SSO paths
  // community dify-api does not serve)
  const routePatterns: { re: RegExp; methods: string[] }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = ([] as string[]).concat(route.method);
    if (!route.url.startsWith('/console/api/') || route.url.includes('*')) return;
    const escaped = route.url.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z_]+/g, '[^/]+');
    routePatterns.push({ re: new RegExp(`^${escaped}/?$`), methods });
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const matching = routePatterns.filter((r) => r.re.test(path));
    // (a path that matched a route with this very method but was refused by it, e.g. a non-UUID
    // member id, is a plain 404)
    if (
      request.method !== 'OPTIONS' &&
      matching.length > 0 &&
      !matching.some((r) => r.methods.includes(request.method))
    ) {
      return reply
        .code(405)
        .send({ code: 'method_not_allowed', message: 'The method is not allowed for the requested URL.', status: 405 });
    }
    return reply.code(404).type('text/html; charset=utf-8').send(WERKZEUG_NOT_FOUND_HTML);
  });
  // CORS preflight: 200, empty body, no authentication
  app.options('/console/api/*', async (_request, reply) => reply.code(200).type('text/html; charset=utf-8').send(''));

  // follows api/controllers/health (app_factory.py): GET /health
  app.get('/health', async () => ({ pid: process.pid, status: 'ok', version: features.version }));

  featureRoutes(app, context);
  authRoutes(app, context);
  accountRoutes(app, context);
  memberRoutes(app, context);
  streamingRoutes(app, context);
  introspectionRoutes(app, context);
  websocketRoutes(app, context);
  webAppRoutes(app, context);

  if (ownsRedis) app.addHook('onClose', async () => void (await redis.quit()));
  return app;
}
