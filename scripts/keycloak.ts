/**
 * npm run keycloak -- start|stop|status
 * Starts the test Keycloak as a background daemon (pid file in the cache folder), waits until
 * the realm's discovery document answers, and stops it cleanly.
 */
import { say } from './lib/proc.js';
import { runDaemonCli } from './lib/daemon-cli.js';
import { keycloakReady, startKeycloak, discoveryUrl } from './lib/keycloak.js';

await runDaemonCli(
  {
    name: 'keycloak',
    where: discoveryUrl,
    ready: keycloakReady,
    start: async () => void (await startKeycloak({ daemon: true, log: say })),
  },
  process.argv.slice(2),
);
