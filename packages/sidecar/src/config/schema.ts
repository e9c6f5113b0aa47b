/**
 * The sidecar's one configuration schema (TypeBox). It yields the config type, the validator
 * and defaults (`load.ts`) and the README options table (`docs.ts`).
 *
 * Env var = `DIFY_SSO_` + config path in upper snake case (`oidc.clientSecret` →
 * `DIFY_SSO_OIDC_CLIENT_SECRET`). Properties with `secret: true` also accept `…_FILE`.
 * Arrays are comma-separated lists.
 *
 * @module
 */
import { Type, type Static, type TLiteral, type TProperties, type TUnion } from '@sinclair/typebox';
import { difySchema } from './dify-schema.js';
import { redisConnectionProperties } from './redis-schema.js';

/** Prefix of every environment variable read by the sidecar. */
export const ENV_PREFIX = 'DIFY_SSO_';

const lit = <T extends string>(values: readonly T[], options: Record<string, unknown> = {}): TUnion<TLiteral<T>[]> =>
  Type.Union(
    values.map((v) => Type.Literal(v)),
    options,
  );

/** JWS algorithms that may be put on an allowlist (never `none`, never HS*). */
export const ASYMMETRIC_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;

/** Known IdP presets (see README "IdP presets"). */
export const PRESETS = ['generic', 'keycloak', 'entra', 'google'] as const;

/** The sidecar core's configuration properties. */
export const coreSchema = {
  publicUrl: Type.String({
    format: 'origin',
    description:
      'External origin of Dify as users see it (e.g. `https://dify.example.com`). Redirect URIs are built from it, never from `Host`. https unless `allowInsecureHttp`.',
  }),
  listen: Type.String({
    format: 'listen',
    default: '127.0.0.1:8088',
    description: 'Listen address `host:port` of the sidecar.',
  }),
  workers: Type.Integer({
    default: 1,
    minimum: 0,
    maximum: 256,
    description:
      'Worker processes sharing the listen port (node:cluster; the primary only supervises). `0` = one per available CPU with `store=redis`, 1 with the memory store. More than 1 needs `store=redis`: the memory store lives in one process.',
  }),
  allowInsecureHttp: Type.Boolean({
    default: false,
    description:
      '**Development only.** Allows plain-http issuer and public URL on loopback (`127.0.0.1`, `::1`, `localhost`); session cookie loses `Secure` and the `__Host-` prefix. Logs a warning; refused when `NODE_ENV=production`.',
  }),
  signinPath: Type.String({
    format: 'path',
    default: '/signin',
    description: 'Console sign-in page; errors redirect to `<signinPath>?message=<reason_code>`.',
  }),
  homePath: Type.String({
    format: 'path',
    default: '/apps',
    description: 'Console home; target after login when `redirect` is absent or rejected.',
  }),
  logLevel: lit(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], {
    default: 'info',
    description: 'pino log level (audit events are logged at `info`).',
  }),
  trustProxy: Type.Array(Type.String(), {
    default: [],
    description:
      'IPs/CIDRs of reverse proxies whose `X-Forwarded-For` is trusted for the client IP (e.g. `127.0.0.1,10.0.0.0/8`). Empty: socket address.',
  }),
  store: lit(['memory', 'redis'], {
    default: 'memory',
    description:
      'Session store: `memory` (one instance) or `redis` (replicas share sessions; standalone, Sentinel or Cluster, see `redis.mode`).',
  }),
  otel: Type.Object({
    endpoint: Type.Optional(
      Type.String({
        description:
          'OTLP/HTTP traces URL (JSON, e.g. `http://otel-collector:4318/v1/traces`); unset = tracing off and no OpenTelemetry module loaded. Also taken from `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`, or `OTEL_EXPORTER_OTLP_ENDPOINT` + `/v1/traces`, when unset. An http(s) URL without credentials; spans carry no secrets, but use https when `otel.headers` holds an API key.',
      }),
    ),
    serviceName: Type.String({
      default: 'dify-sso-sidecar',
      description: 'Resource attribute `service.name` of the spans (or `OTEL_SERVICE_NAME`).',
    }),
    headers: Type.Array(Type.String(), {
      default: [],
      secret: true,
      description: 'Extra headers of the OTLP export, `name=value` pairs (e.g. a collector API key).',
    }),
    samplePercent: Type.Integer({
      default: 100,
      minimum: 0,
      maximum: 100,
      description: 'Share of new traces recorded (parent-based: a sampled parent keeps its children).',
    }),
    timeoutSeconds: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 60,
      description: 'Timeout of one OTLP export request.',
    }),
  }),
  metrics: Type.Object({
    listen: Type.Optional(
      Type.String({
        format: 'listen',
        description:
          'Address `host:port` of the Prometheus endpoint `GET /sso/metrics` (e.g. `0.0.0.0:9464`); unset = no metrics. A listener of its own, never the port nginx proxies `/sso/` to. With workers, the primary serves the sum over all workers.',
      }),
    ),
  }),
  memory: Type.Object({
    maxSessions: Type.Integer({
      default: 100000,
      minimum: 100,
      maximum: 10000000,
      description:
        'Upper bound of sessions the `memory` store keeps; past it the least recently used session is evicted (its user signs in again). Expired sessions are swept as new ones arrive.',
    }),
  }),
  redis: Type.Object({
    ...redisConnectionProperties('the session store'),
    keyPrefix: Type.String({
      default: 'dify-sso:',
      minLength: 1,
      description:
        'Prefix of every key the sidecar writes to Redis. On Cluster it becomes a hash tag (`{dify-sso:}session:…`) so a session, its indexes and every key of one transaction share a slot.',
    }),
  }),
  oidc: Type.Object({
    issuer: Type.String({
      format: 'issuer',
      description: 'OpenID Provider issuer; must equal the discovery `issuer` byte for byte.',
    }),
    clientId: Type.String({ minLength: 1, description: 'OAuth client id registered at the IdP.' }),
    clientSecret: Type.Optional(
      Type.String({ minLength: 1, secret: true, description: 'Client secret (required for `client_secret_basic`).' }),
    ),
    clientAuthMethod: lit(['client_secret_basic', 'private_key_jwt'], {
      default: 'client_secret_basic',
      description: 'Token endpoint authentication.',
    }),
    privateKey: Type.Optional(
      Type.String({ secret: true, description: 'PKCS#8 PEM or private JWK (JSON) for `private_key_jwt`.' }),
    ),
    privateKeyAlg: lit(ASYMMETRIC_ALGS, {
      default: 'RS256',
      description: 'Signing algorithm of the `private_key_jwt` assertion.',
    }),
    privateKeyKid: Type.Optional(
      Type.String({ minLength: 1, description: '`kid` header of the `private_key_jwt` assertion.' }),
    ),
    scopes: Type.Array(Type.String(), {
      default: ['openid', 'profile', 'email'],
      description: 'Requested scopes (`openid` is always added).',
    }),
    idTokenAlgs: Type.Array(lit(ASYMMETRIC_ALGS), {
      default: ['RS256', 'PS256', 'ES256'],
      description: 'Allowlist of ID token / logout token signature algorithms.',
    }),
    preset: lit(PRESETS, {
      default: 'generic',
      description: 'IdP preset: where groups/roles come from (`keycloak`, `entra`, `google`).',
    }),
    fetchUserinfo: Type.Boolean({
      default: true,
      description: 'Call UserInfo after the code exchange (its `sub` must equal the ID token `sub`).',
    }),
    clockToleranceSeconds: Type.Integer({
      default: 30,
      minimum: 0,
      maximum: 300,
      description: 'Allowed clock skew for `exp`/`nbf`/`iat`.',
    }),
    logoutTokenMaxAgeSeconds: Type.Integer({
      default: 120,
      minimum: 10,
      maximum: 3600,
      description: 'Back-channel logout token `iat` window.',
    }),
    requireLogoutTokenTyp: Type.Boolean({
      default: false,
      description:
        'Require the `typ: logout+jwt` header on logout tokens (ASVS 10.5.5); off by default because many OPs omit it.',
    }),
    jwksCooldownSeconds: Type.Integer({
      default: 30,
      minimum: 0,
      maximum: 600,
      description:
        'Minimum time between JWKS re-fetches caused by logout or bearer tokens with an unknown `kid`. An ID token from the token endpoint with an unknown `kid` refetches at once (single-flight).',
    }),
    discoveryRetrySeconds: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 3600,
      description: 'Retry interval for discovery while the IdP is unreachable.',
    }),
    httpTimeoutSeconds: Type.Integer({
      default: 10,
      minimum: 1,
      maximum: 120,
      description: 'Timeout of requests to the IdP.',
    }),
  }),
  session: Type.Object({
    secret: Type.String({
      minLength: 32,
      secret: true,
      description:
        'Key material (≥ 32 characters) for sealing the transaction cookie and encrypting IdP tokens at rest.',
    }),
    previousSecrets: Type.Array(Type.String({ minLength: 32 }), {
      default: [],
      secret: true,
      description: 'Older session secrets still accepted for decryption (rotation), comma-separated.',
    }),
    idleTimeoutSeconds: Type.Integer({
      default: 7200,
      minimum: 60,
      maximum: 2592000,
      description: 'Session ends after this much inactivity (keep ≤ the IdP SSO idle timeout when liveness is on).',
    }),
    absoluteTimeoutSeconds: Type.Integer({
      default: 43200,
      minimum: 300,
      maximum: 2592000,
      description: 'Session ends this long after login, whatever the activity.',
    }),
    livenessRefreshSeconds: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 86400,
      description: 'Refresh at the IdP every N seconds (0 = off); `invalid_grant` ends the session.',
    }),
    transactionTtlSeconds: Type.Integer({
      default: 600,
      minimum: 60,
      maximum: 3600,
      description: 'Lifetime of the sealed login transaction cookie.',
    }),
  }),
  policy: Type.Object({
    allowedGroups: Type.Array(Type.String(), {
      default: [],
      description: 'If set, the user needs one of these groups.',
    }),
    allowedRoles: Type.Array(Type.String(), { default: [], description: 'If set, the user needs one of these roles.' }),
    allowedEmailDomains: Type.Array(Type.String(), {
      default: [],
      description:
        'If set, the user needs a verified e-mail in one of these domains (subdomains match on label boundaries).',
    }),
    groupsClaim: Type.String({
      default: 'groups',
      minLength: 1,
      description: 'Claim holding group names (dot path allowed).',
    }),
    rolesClaim: Type.Optional(
      Type.String({ minLength: 1, description: 'Claim holding role names (dot path); the preset decides when unset.' }),
    ),
  }),
  bearer: Type.Object({
    audience: Type.Array(Type.String(), {
      default: [],
      description: 'Accepted `aud` values of bearer tokens; empty disables bearer verification.',
    }),
    requiredScopes: Type.Array(Type.String(), {
      default: [],
      description: 'Scopes every bearer token must carry (`scope` or `scp`).',
    }),
    algorithms: Type.Array(lit(ASYMMETRIC_ALGS), {
      default: ['RS256', 'PS256', 'ES256'],
      description: 'Allowlist of bearer token algorithms.',
    }),
    requiredTyp: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Required `typ` header (e.g. `at+jwt`); unset accepts any (Keycloak uses `JWT`).',
      }),
    ),
    cacheMaxEntries: Type.Integer({
      default: 10000,
      minimum: 0,
      maximum: 1000000,
      description: 'Verified-token cache size (entries live until token expiry).',
    }),
  }),
} satisfies TProperties;

type ObjectProperties<T> = T extends { properties: infer P extends TProperties } ? P : T;

/**
 * The full schema: sidecar core plus the bridge fragment from `dify-schema.ts`.
 *
 * @example
 * ```ts
 * Object.keys(configSchema.properties) // ['publicUrl', 'listen', …, 'dify', …]
 * ```
 */
export const configSchema = Type.Object({
  ...coreSchema,
  ...(difySchema as ObjectProperties<typeof difySchema>),
});

/** The validated, frozen configuration. */
export type SidecarConfig = Static<typeof configSchema>;
