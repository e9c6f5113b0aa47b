/**
 * `host:port` entries of Sentinel and Cluster node lists. Apart from the ioredis client factory
 * (`redis-client.ts`) so that configuration checks parse them without loading ioredis: the
 * sidecar's primary process only supervises workers and never needs a Redis client.
 *
 * @module
 */

/** A `host:port` entry, parsed. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/**
 * Parses `host:port` (`[v6]:port` for IPv6), or `undefined` when malformed.
 *
 * @example
 * ```ts
 * parseHostPort('redis-0.redis:26379') // { host: 'redis-0.redis', port: 26379 }
 * parseHostPort('nope') // undefined
 * ```
 */
export function parseHostPort(entry: string): HostPort | undefined {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-_]*[A-Za-z0-9])?):(\d{1,5})$/.exec(entry.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return undefined;
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
