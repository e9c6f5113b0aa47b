/**
 * npm run redis -- start|stop|status
 * A throwaway Redis (no persistence) on 127.0.0.1:16379 for tests and the demo.
 */
import { runDaemonCli } from './lib/daemon-cli.js';
import { redisPing, startRedis } from './lib/redis.js';
import { ports, urls } from './lib/ports.js';

await runDaemonCli(
  {
    name: 'redis',
    where: urls.redis,
    ready: () => redisPing(ports.redis),
    start: async () => void (await startRedis({ port: ports.redis, daemon: true })),
  },
  process.argv.slice(2),
);
