import { defineConfig } from '@playwright/test';
import { findChromium, chromiumArgs } from './scripts/lib/chromium.js';

/**
 * One suite, two targets: the local stack (default; real Keycloak, Redis, nginx, sidecar and
 * the Dify stand-in) or a running deployment (E2E_BASE_URL; see e2e/README.md).
 * Browser: Debian's Chromium through `executablePath` (no browser download).
 */
const ci = !!process.env.CI;
// DIFY_SSO_E2E_SIDECAR=container: the stack runs the sidecar image; e2e/container checks that container.
const containerSidecar = process.env.DIFY_SSO_E2E_SIDECAR === 'container';
// DIFY_SSO_E2E_WEB=image: the stack serves the patched web image built by `dify-sso image web`; e2e/image checks it.
const webImage = process.env.DIFY_SSO_E2E_WEB === 'image';

export default defineConfig({
  testDir: './e2e',
  outputDir: './test-results',
  forbidOnly: ci,
  retries: ci ? 1 : 0,
  workers: 1,
  fullyParallel: false,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    trace: 'on-first-retry',
    launchOptions: { executablePath: findChromium(), args: chromiumArgs },
  },
  projects: [
    // Real services (Redis, Keycloak), then the kit's stack on top; each teardown stops exactly
    // what its setup started, in reverse order.
    { name: 'setup', testMatch: /setup\/services\.setup\.ts/, teardown: 'teardown' },
    { name: 'teardown', testMatch: /setup\/services\.teardown\.ts/ },
    { name: 'stack', testMatch: /setup\/stack\.setup\.ts/, dependencies: ['setup'], teardown: 'stack-teardown' },
    { name: 'stack-teardown', testMatch: /setup\/stack\.teardown\.ts/ },
    { name: 'smoke', testMatch: /smoke\/.*\.spec\.ts/, dependencies: ['setup'] },
    { name: 'chromium', testMatch: /specs\/.*\.spec\.ts/, dependencies: ['stack', 'smoke'] },
    ...(containerSidecar
      ? [{ name: 'sidecar-image', testMatch: /container\/.*\.spec\.ts/, dependencies: ['stack'] }]
      : []),
    ...(webImage ? [{ name: 'web-image', testMatch: /image\/.*\.spec\.ts/, dependencies: ['stack'] }] : []),
  ],
});
