/**
 * npm run keycloak -- start|stop|status
 * Starts the test Keycloak as a background daemon (pid file in the cache folder), waits until
 * the realm's discovery document answers, and stops it cleanly.
 */
import { daemonPid, formatError, say, stopDaemon } from './lib/proc.js';
import { keycloakReady, startKeycloak, discoveryUrl } from './lib/keycloak.js';

const log = (m: string): void => say(m);
const cmd = process.argv[2] ?? 'status';
try {
  switch (cmd) {
    case 'start': {
      if (daemonPid('keycloak') !== undefined && (await keycloakReady())) {
        log(`keycloak: already running (${discoveryUrl})`);
        break;
      }
      await startKeycloak({ daemon: true, log });
      log(`keycloak: ready; stop with: npm run keycloak -- stop`);
      break;
    }
    case 'stop':
      log((await stopDaemon('keycloak')) ? 'keycloak: stopped' : 'keycloak: was not running');
      break;
    case 'status': {
      const up = await keycloakReady();
      log(up ? `keycloak: up (${discoveryUrl})` : 'keycloak: down');
      process.exitCode = up ? 0 : 3;
      break;
    }
    default:
      log('usage: npm run keycloak -- start|stop|status');
      process.exitCode = 2;
  }
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = 1;
}
