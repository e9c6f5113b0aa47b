/**
 * Session store factory.
 *
 * @module
 */
import type { SidecarConfig } from '../config/schema.js';
import type { RedisConnectionSettings } from '../lib/redis-client.js';
import { createMemoryStore } from './memory.js';
import { createRedisStore } from './redis.js';
import type { SessionStore } from './types.js';

export * from './types.js';
export { createMemoryStore } from './memory.js';
export { createRedisStore } from './redis.js';

/**
 * Builds the store selected by `config.store`.
 *
 * @example
 * ```ts
 * const store = createStore(config)
 * ```
 */
export function createStore(
  config: Pick<SidecarConfig, 'store'> & { redis: Partial<RedisConnectionSettings> & { keyPrefix: string } } & Partial<
      Pick<SidecarConfig, 'memory'>
    >,
  now?: () => number,
): SessionStore {
  if (config.store === 'redis') {
    const { keyPrefix, ...connection } = config.redis;
    return createRedisStore({
      settings: { ...STANDALONE_DEFAULTS, ...connection },
      keyPrefix,
      ...(now ? { now } : {}),
    });
  }
  return createMemoryStore(now, config.memory ? { maxSessions: config.memory.maxSessions } : {});
}

/** Defaults of the connection fields (the schema's), for callers that give only a URL. */
export const STANDALONE_DEFAULTS: RedisConnectionSettings = {
  mode: 'standalone',
  sentinels: [],
  sentinelTimeoutMs: 500,
  clusterNodes: [],
  db: 0,
  tls: false,
  tlsVerify: 'required',
};
