/**
 * The one Redis connection factory of the sidecar, used by the session store (`redis.*`) and by
 * the Dify bridge for Dify's own Redis (`dify.redis*`). It speaks every topology Dify supports
 * (dify `api/extensions/ext_redis.py`, `api/configs/middleware/cache/redis_config.py`):
 *
 * | mode | Dify `.env` | ioredis |
 * | --- | --- | --- |
 * | `standalone` | `REDIS_HOST`/`REDIS_PORT`/`REDIS_DB` | `new Redis(url)` |
 * | `sentinel` | `REDIS_USE_SENTINEL`, `REDIS_SENTINELS`, `REDIS_SENTINEL_SERVICE_NAME`, `REDIS_SENTINEL_USERNAME/PASSWORD`, `REDIS_SENTINEL_SOCKET_TIMEOUT` | `new Redis({ sentinels, name })` |
 * | `cluster` | `REDIS_USE_CLUSTERS`, `REDIS_CLUSTERS`, `REDIS_CLUSTERS_PASSWORD` | `new Cluster(nodes)` |
 * | TLS (any) | `REDIS_USE_SSL`, `REDIS_SSL_CERT_REQS`, `REDIS_SSL_CA_CERTS`, `REDIS_SSL_CERTFILE`, `REDIS_SSL_KEYFILE` | `tls: { ca, cert, key, servername }` |
 *
 * @module
 */
import type { ConnectionOptions } from 'node:tls';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { type HostPort, parseHostPort } from './host-port.js';

/** Topology of a Redis deployment. */
export type RedisMode = 'standalone' | 'sentinel' | 'cluster';

/** Either ioredis client: both speak the same commands (`isCluster` tells them apart). */
export type RedisClient = Redis | Cluster;

/** Every connection setting, as the configuration schema yields them (see `config/redis-schema.ts`). */
export interface RedisConnectionSettings {
  /** Topology. */
  readonly mode: RedisMode;
  /** `redis://` or `rediss://` URL (standalone only). */
  readonly url?: string | undefined;
  /** Sentinels as `host:port` (sentinel only). */
  readonly sentinels: readonly string[];
  /** Master group name watched by the sentinels (Dify's `REDIS_SENTINEL_SERVICE_NAME`). */
  readonly sentinelName?: string | undefined;
  /** ACL user at the sentinels. */
  readonly sentinelUsername?: string | undefined;
  /** Password at the sentinels. */
  readonly sentinelPassword?: string | undefined;
  /** Timeout of each command sent to a sentinel, in ms (Dify's `REDIS_SENTINEL_SOCKET_TIMEOUT` × 1000). */
  readonly sentinelTimeoutMs: number;
  /** Cluster seed nodes as `host:port` (cluster only). */
  readonly clusterNodes: readonly string[];
  /** ACL user of the data nodes (overrides the URL's). */
  readonly username?: string | undefined;
  /** Password of the data nodes (overrides the URL's; Dify's `REDIS_CLUSTERS_PASSWORD` on Cluster). */
  readonly password?: string | undefined;
  /** Logical database (standalone and sentinel; Cluster has only 0). */
  readonly db: number;
  /** Speak TLS to the data nodes (implied by a `rediss://` URL). */
  readonly tls: boolean;
  /** PEM of the CA(s) that signed the server certificates (default: Node's public roots). */
  readonly tlsCa?: string | undefined;
  /** PEM client certificate (mutual TLS). */
  readonly tlsCert?: string | undefined;
  /** PEM private key of the client certificate. */
  readonly tlsKey?: string | undefined;
  /** Name checked against the server certificate (default: the host connected to). */
  readonly tlsServername?: string | undefined;
  /** `required` verifies the server certificate; `none` does not (relaxation, warned at startup). */
  readonly tlsVerify: 'required' | 'none';
}

/** Client behaviour that differs between callers (store vs. Dify bridge). */
export interface RedisClientTuning {
  /** Retries of one command across reconnects before it fails (ioredis `maxRetriesPerRequest`). */
  readonly maxRetriesPerRequest: number;
  /** Timeout of one command, in ms. */
  readonly commandTimeoutMs: number;
  /** Timeout of establishing a connection, in ms. */
  readonly connectTimeoutMs: number;
}

/**
 * TLS options of the data-node connections, or `undefined` for plain TCP.
 *
 * @example
 * ```ts
 * redisTlsOptions({ ...settings, tls: true, tlsCa: pem }) // { ca: pem, rejectUnauthorized: true }
 * ```
 */
export function redisTlsOptions(s: RedisConnectionSettings): ConnectionOptions | undefined {
  const urlTls = s.mode === 'standalone' && typeof s.url === 'string' && s.url.startsWith('rediss://');
  if (!s.tls && !urlTls) return undefined;
  return {
    ...(s.tlsCa ? { ca: s.tlsCa } : {}),
    ...(s.tlsCert ? { cert: s.tlsCert } : {}),
    ...(s.tlsKey ? { key: s.tlsKey } : {}),
    ...(s.tlsServername ? { servername: s.tlsServername } : {}),
    rejectUnauthorized: s.tlsVerify !== 'none',
  };
}

/** After a Sentinel failover a connection may still reach the demoted master: reconnect and resend. */
const reconnectOnReadonly = (err: Error): 2 | false => (err.message.startsWith('READONLY') ? 2 : false);

/**
 * Builds the ioredis client for `settings` (it connects in the background; errors surface
 * through commands, never as unhandled `error` events).
 *
 * @example
 * ```ts
 * const redis = createRedisClient({ mode: 'sentinel', sentinels: ['s1:26379'], sentinelName: 'mymaster', ... }, tuning)
 * await redis.ping()
 * ```
 */
export function createRedisClient(s: RedisConnectionSettings, tuning: RedisClientTuning): RedisClient {
  const tls = redisTlsOptions(s);
  const common: RedisOptions = {
    maxRetriesPerRequest: tuning.maxRetriesPerRequest,
    commandTimeout: tuning.commandTimeoutMs,
    connectTimeout: tuning.connectTimeoutMs,
    enableReadyCheck: true,
    ...(s.username !== undefined ? { username: s.username } : {}),
    ...(s.password !== undefined ? { password: s.password } : {}),
    ...(tls ? { tls } : {}),
  };
  let client: RedisClient;
  if (s.mode === 'cluster') {
    const nodes = s.clusterNodes.map((n) => parseHostPort(n)).filter((n): n is HostPort => n !== undefined);
    const options: ClusterOptions = {
      redisOptions: common,
      enableOfflineQueue: true,
      enableReadyCheck: true,
      slotsRefreshTimeout: tuning.connectTimeoutMs,
      retryDelayOnFailover: 100,
      retryDelayOnClusterDown: 100,
      clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
      // Keep host names as given so TLS checks the certificate against them.
      ...(tls
        ? { dnsLookup: (address: string, callback: (err: null, address: string) => void) => callback(null, address) }
        : {}),
    };
    client = new Cluster(nodes, options);
  } else if (s.mode === 'sentinel') {
    client = new Redis({
      ...common,
      sentinels: s.sentinels.map((n) => parseHostPort(n)).filter((n): n is HostPort => n !== undefined),
      name: s.sentinelName as string,
      db: s.db,
      sentinelCommandTimeout: s.sentinelTimeoutMs,
      ...(s.sentinelUsername !== undefined ? { sentinelUsername: s.sentinelUsername } : {}),
      ...(s.sentinelPassword !== undefined ? { sentinelPassword: s.sentinelPassword } : {}),
      ...(tls ? { enableTLSForSentinelMode: true } : {}),
      failoverDetector: true,
      reconnectOnError: reconnectOnReadonly,
      sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
  } else {
    const url = s.url ?? 'redis://127.0.0.1:6379';
    const fromUrl = new URL(url);
    client = new Redis(url, {
      ...common,
      ...(fromUrl.pathname.length > 1 ? {} : { db: s.db }),
      retryStrategy: (times) => Math.min(50 * times, 1000),
    });
  }
  client.on('error', () => {}); // surfaced through command failures and readiness
  return client;
}

/**
 * One-line description of where a client connects, without secrets (for logs).
 *
 * @example
 * ```ts
 * describeRedis(settings) // 'sentinel mymaster via 3 sentinels, TLS'
 * ```
 */
export function describeRedis(s: RedisConnectionSettings): string {
  const tls = redisTlsOptions(s) ? ', TLS' : '';
  if (s.mode === 'cluster') return `cluster of ${s.clusterNodes.length} seed node(s)${tls}`;
  if (s.mode === 'sentinel')
    return `sentinel ${s.sentinelName ?? '?'} via ${s.sentinels.length} sentinel(s), db ${s.db}${tls}`;
  const u = s.url ? new URL(s.url) : undefined;
  return `standalone ${u ? `${u.hostname}:${u.port || 6379}` : '?'}${tls}`;
}

/**
 * Closes a client for good: QUIT (lets queued replies arrive), then disconnect, which also ends
 * the Sentinel failover-detector connections that QUIT alone leaves reconnecting (ioredis 6).
 *
 * @example
 * ```ts
 * await closeRedisClient(redis)
 * ```
 */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  await client.quit().catch(() => undefined);
  client.disconnect();
}

/**
 * Rejects when `op` has not settled after `ms`: a Cluster client queues commands while it has
 * no slot map (a wrong password, every node down) and would otherwise wait without end, while
 * callers must fail closed in bounded time.
 *
 * @example
 * ```ts
 * await withDeadline(redis.get(key), 3000)
 * ```
 */
export function withDeadline<T>(op: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`Redis did not answer within ${ms} ms`), { code: 'ERR_REDIS_DEADLINE' })),
      ms,
    );
  });
  return Promise.race([op, deadline]).finally(() => clearTimeout(timer));
}
