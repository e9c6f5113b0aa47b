/**
 * npm run redis -- start|stop|status
 * A throwaway Redis (no persistence) on 127.0.0.1:16379 for tests and the demo.
 */
import { daemonPid, formatError, say, stopDaemon } from './lib/proc.js';
import { redisPing, startRedis } from './lib/redis.js';
import { ports, urls } from './lib/ports.js';

const cmd = process.argv[2] ?? 'status';
try {
  switch (cmd) {
    case 'start':
      if (daemonPid('redis') !== undefined && (await redisPing(ports.redis))) {
        say(`redis: already running (${urls.redis})`);
        break;
      }
      await startRedis({ port: ports.redis, daemon: true });
      say(`redis: ready on ${urls.redis}; stop with: npm run redis -- stop`);
      break;
    case 'stop':
      say((await stopDaemon('redis')) ? 'redis: stopped' : 'redis: was not running');
      break;
    case 'status': {
      const up = await redisPing(ports.redis);
      say(up ? `redis: up (${urls.redis})` : 'redis: down');
      process.exitCode = up ? 0 : 3;
      break;
    }
    default:
      say('usage: npm run redis -- start|stop|status');
      process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = 1;
}
