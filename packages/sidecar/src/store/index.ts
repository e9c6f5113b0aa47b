/**
 * Session store factory.
 *
 * @module
 */
import type { SidecarConfig } from '../config/schema.js';
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
export function createStore(config: Pick<SidecarConfig, 'store' | 'redis'> & Partial<Pick<SidecarConfig, 'memory'>>, now?: () => number): SessionStore {
  if (config.store === 'redis') {
    return createRedisStore({ url: config.redis.url, keyPrefix: config.redis.keyPrefix, ...(now ? { now } : {}) });
  }
  return createMemoryStore(now, config.memory ? { maxSessions: config.memory.maxSessions } : {});
}
