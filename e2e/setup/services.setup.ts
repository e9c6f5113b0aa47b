import { test as setup, expect } from '@playwright/test';
import { redisPing, startRedis } from '../../scripts/lib/redis.js';
import { keycloakReady, startKeycloak, discoveryUrl } from '../../scripts/lib/keycloak.js';
import { ports, urls } from '../../scripts/lib/ports.js';
import { readState, writeState } from './state.js';

// Real services shared by every spec. Reused when already running (npm test starts them for the
// node:test stage too); otherwise started as daemons here and stopped by the teardown project.
setup('redis and keycloak are up', async () => {
  setup.setTimeout(300_000);
  // Against a deployment (E2E_BASE_URL) the IdP and stores are the deployment's own.
  if (process.env.E2E_BASE_URL) return;
  const state = readState();
  if (!(await redisPing(ports.redis))) {
    await startRedis({ port: ports.redis, daemon: true, name: 'redis' });
    state.started.push('redis');
  }
  if (!(await keycloakReady())) {
    await startKeycloak({ daemon: true, log: (m) => console.log(m) });
    state.started.push('keycloak');
  }
  writeState(state);
  const discovery = (await (await fetch(discoveryUrl)).json()) as { issuer: string };
  expect(discovery.issuer).toBe(urls.keycloakIssuer);
});
