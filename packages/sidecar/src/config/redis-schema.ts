/**
 * Redis connection settings, one fragment used twice by the configuration schema: under
 * `redis.*` for the kit's session store (`DIFY_SSO_REDIS_MODE`, …) and under `dify.redis*` for
 * Dify's own Redis, where the bridge seeds refresh tokens (`DIFY_SSO_DIFY_REDIS_MODE`, …).
 * Names follow Dify's `.env` (dify `docker/.env.example`, `api/configs/middleware/cache/redis_config.py`);
 * `mapDifyRedisEnv` (dify/redis-env.ts) translates one into the other.
 *
 * @module
 */
import { Type, type TProperties } from '@sinclair/typebox';
import type { ConfigCheck } from './checks.js';
import { parseHostPort } from '../lib/host-port.js';
import type { RedisConnectionSettings } from '../lib/redis-client.js';

/** Names of the connection fields (as under `redis.*`). */
export const REDIS_FIELDS = [
  'mode',
  'url',
  'sentinels',
  'sentinelName',
  'sentinelUsername',
  'sentinelPassword',
  'sentinelTimeoutMs',
  'clusterNodes',
  'username',
  'password',
  'db',
  'tls',
  'tlsCa',
  'tlsCert',
  'tlsKey',
  'tlsServername',
  'tlsVerify',
] as const;

/** One connection field name. */
export type RedisField = (typeof REDIS_FIELDS)[number];

/**
 * The connection properties; `whose` goes into the descriptions (`the session store`, `Dify's Redis`).
 *
 * @example
 * ```ts
 * Type.Object({ ...redisConnectionProperties('the session store'), keyPrefix: Type.String() })
 * ```
 */
export function redisConnectionProperties(whose: string) {
  return {
    mode: Type.Union([Type.Literal('standalone'), Type.Literal('sentinel'), Type.Literal('cluster')], {
      default: 'standalone',
      description: `Topology of ${whose}: \`standalone\` (one URL), \`sentinel\` (Dify's \`REDIS_USE_SENTINEL=true\`) or \`cluster\` (\`REDIS_USE_CLUSTERS=true\`).`,
    }),
    url: Type.Optional(
      Type.String({
        secret: true,
        description: `URL of ${whose} (\`redis://[:password@]host:port/db\`, \`rediss://\` for TLS); \`standalone\` only.`,
      }),
    ),
    sentinels: Type.Array(Type.String(), {
      default: [],
      description: `Sentinels of ${whose} as \`host:port,host:port\` (Dify's \`REDIS_SENTINELS\`); \`sentinel\` only.`,
    }),
    sentinelName: Type.Optional(
      Type.String({
        minLength: 1,
        description: `Master group name the sentinels watch (Dify's \`REDIS_SENTINEL_SERVICE_NAME\`).`,
      }),
    ),
    sentinelUsername: Type.Optional(
      Type.String({ minLength: 1, description: `ACL user at the sentinels (Dify's \`REDIS_SENTINEL_USERNAME\`).` }),
    ),
    sentinelPassword: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: `Password at the sentinels (Dify's \`REDIS_SENTINEL_PASSWORD\`).`,
      }),
    ),
    sentinelTimeoutMs: Type.Integer({
      default: 500,
      minimum: 10,
      maximum: 60000,
      description: `Timeout of each sentinel command in ms (Dify's \`REDIS_SENTINEL_SOCKET_TIMEOUT\`, in seconds there).`,
    }),
    clusterNodes: Type.Array(Type.String(), {
      default: [],
      description: `Seed nodes of ${whose} as \`host:port,host:port\` (Dify's \`REDIS_CLUSTERS\`); \`cluster\` only.`,
    }),
    username: Type.Optional(
      Type.String({
        minLength: 1,
        description: `ACL user of ${whose} (Dify's \`REDIS_USERNAME\`); overrides the URL's.`,
      }),
    ),
    password: Type.Optional(
      Type.String({
        minLength: 1,
        secret: true,
        description: `Password of ${whose} (Dify's \`REDIS_PASSWORD\`, or \`REDIS_CLUSTERS_PASSWORD\` on Cluster); overrides the URL's.`,
      }),
    ),
    db: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 65535,
      description: `Logical database (Dify's \`REDIS_DB\`; a URL path wins); must be 0 on Cluster.`,
    }),
    tls: Type.Boolean({
      default: false,
      description: `Speak TLS to ${whose} (Dify's \`REDIS_USE_SSL\`); implied by a \`rediss://\` URL.`,
    }),
    tlsCa: Type.Optional(
      Type.String({
        secret: true,
        description:
          "PEM of the CA that signed the Redis server certificates (Dify's `REDIS_SSL_CA_CERTS`, usually as `…_FILE`); default: the system roots.",
      }),
    ),
    tlsCert: Type.Optional(
      Type.String({
        secret: true,
        description: "PEM client certificate for mutual TLS (Dify's `REDIS_SSL_CERTFILE`).",
      }),
    ),
    tlsKey: Type.Optional(
      Type.String({
        secret: true,
        description: "PEM private key of the client certificate (Dify's `REDIS_SSL_KEYFILE`).",
      }),
    ),
    tlsServername: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Host name checked against the server certificate (default: the host connected to).',
      }),
    ),
    tlsVerify: Type.Union([Type.Literal('required'), Type.Literal('none')], {
      default: 'required',
      description:
        "**`none` is a relaxation** (Dify's `REDIS_SSL_CERT_REQS=CERT_NONE`): the server certificate is not verified. Logs a warning.",
    }),
  } satisfies TProperties;
}

/** Maps a connection field to its config path (e.g. `sentinels` → `dify.redisSentinels`). */
export type RedisPathOf = (field: RedisField) => string;

/** Paths of the session store's fields: `redis.<field>`. */
export const storeRedisPath: RedisPathOf = (f) => `redis.${f}`;
/** Paths of Dify's Redis fields: `dify.redis<Field>`. */
export const difyRedisPath: RedisPathOf = (f) => `dify.redis${f[0]!.toUpperCase()}${f.slice(1)}`;

function getPath(source: Record<string, unknown>, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = (node as Record<string, unknown> | undefined)?.[part];
  return node;
}

/**
 * The {@link RedisConnectionSettings} at `pathOf` in a validated config.
 *
 * @example
 * ```ts
 * const settings = redisSettingsAt(config, storeRedisPath)
 * ```
 */
export function redisSettingsAt(config: object, pathOf: RedisPathOf): RedisConnectionSettings {
  const out: Record<string, unknown> = {};
  for (const f of REDIS_FIELDS) {
    const v = getPath(config as Record<string, unknown>, pathOf(f));
    if (v !== undefined) out[f] = v;
  }
  return out as unknown as RedisConnectionSettings;
}

const PEM = /-----BEGIN [A-Z0-9 ]+-----/;

/**
 * Semantic checks of one connection: the fields a topology needs, the ones it must not have,
 * host:port lists, PEM shapes. `active(config)` tells whether the connection is used at all.
 *
 * @example
 * ```ts
 * const check = redisConnectionCheck(storeRedisPath, (c) => c.store === 'redis', 'DIFY_SSO_STORE=redis')
 * ```
 */
export function redisConnectionCheck(
  pathOf: RedisPathOf,
  active: (c: Record<string, unknown>) => boolean,
  when: string,
): ConfigCheck {
  return (c, report) => {
    const get = (f: RedisField) => getPath(c, pathOf(f));
    const url = get('url');
    if (typeof url === 'string') {
      let u: URL | undefined;
      try {
        u = new URL(url);
      } catch {
        u = undefined;
      }
      if (!u || (u.protocol !== 'redis:' && u.protocol !== 'rediss:'))
        report('ERR_CONFIG_FORMAT', pathOf('url'), 'must be a redis:// or rediss:// URL');
    }
    const mode = get('mode');
    if (mode !== 'standalone' && mode !== 'sentinel' && mode !== 'cluster') return; // already reported (ERR_CONFIG_ENUM)
    const hostPorts = (f: 'sentinels' | 'clusterNodes') => {
      const list = get(f);
      if (!Array.isArray(list)) return;
      const bad = (list as string[]).map((e, i) => (parseHostPort(e) ? -1 : i + 1)).filter((i) => i > 0);
      // Positions only: a malformed entry may be a pasted secret.
      if (bad.length > 0)
        report('ERR_CONFIG_FORMAT', pathOf(f), `entries must be host:port (bad entry at position ${bad.join(', ')})`);
    };
    hostPorts('sentinels');
    hostPorts('clusterNodes');
    const on = active(c);
    if (mode === 'sentinel') {
      if (on && (get('sentinels') as unknown[] | undefined)?.length === 0)
        report('ERR_CONFIG_REQUIRED', pathOf('sentinels'), `is required when ${pathOf('mode')}=sentinel`);
      if (on && get('sentinelName') === undefined)
        report('ERR_CONFIG_REQUIRED', pathOf('sentinelName'), `is required when ${pathOf('mode')}=sentinel`);
    } else if (mode === 'cluster') {
      if (on && (get('clusterNodes') as unknown[] | undefined)?.length === 0)
        report('ERR_CONFIG_REQUIRED', pathOf('clusterNodes'), `is required when ${pathOf('mode')}=cluster`);
      if (typeof get('db') === 'number' && get('db') !== 0)
        report('ERR_CONFIG_CONFLICT', pathOf('db'), 'must be 0 on Redis Cluster (it has one database)');
    } else if (on && url === undefined) {
      report('ERR_CONFIG_REQUIRED', pathOf('url'), `is required when ${when}`);
    }
    if (mode !== 'standalone' && url !== undefined)
      report(
        'ERR_CONFIG_CONFLICT',
        pathOf('url'),
        `is for mode=standalone; ${pathOf('mode')}=${String(mode)} connects through ${mode === 'sentinel' ? pathOf('sentinels') : pathOf('clusterNodes')}`,
      );
    if (mode !== 'sentinel') {
      for (const f of ['sentinelName', 'sentinelUsername', 'sentinelPassword'] as const) {
        if (get(f) !== undefined)
          report('ERR_CONFIG_CONFLICT', pathOf(f), `is only used with ${pathOf('mode')}=sentinel`);
      }
      if ((get('sentinels') as unknown[] | undefined)?.length)
        report('ERR_CONFIG_CONFLICT', pathOf('sentinels'), `is only used with ${pathOf('mode')}=sentinel`);
    }
    if (mode !== 'cluster' && (get('clusterNodes') as unknown[] | undefined)?.length)
      report('ERR_CONFIG_CONFLICT', pathOf('clusterNodes'), `is only used with ${pathOf('mode')}=cluster`);
    const tlsOn =
      get('tls') === true || (mode === 'standalone' && typeof url === 'string' && url.startsWith('rediss://'));
    for (const f of ['tlsCa', 'tlsCert', 'tlsKey'] as const) {
      const v = get(f);
      if (v === undefined) continue;
      if (!tlsOn) report('ERR_CONFIG_CONFLICT', pathOf(f), `needs ${pathOf('tls')}=true (or a rediss:// URL)`);
      else if (typeof v === 'string' && !PEM.test(v))
        report('ERR_CONFIG_FORMAT', pathOf(f), 'must be PEM (-----BEGIN …-----); give a file with the …_FILE variable');
    }
    if ((get('tlsCert') === undefined) !== (get('tlsKey') === undefined)) {
      report(
        'ERR_CONFIG_REQUIRED',
        pathOf(get('tlsCert') === undefined ? 'tlsCert' : 'tlsKey'),
        `is required with ${pathOf(get('tlsCert') === undefined ? 'tlsKey' : 'tlsCert')} (mutual TLS needs both)`,
      );
    }
  };
}
