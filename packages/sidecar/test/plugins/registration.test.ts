/**
 * The fastify plugins check their options when they are registered: a wrong
 * option fails `ready()` with `ERR_INVALID_ARG_TYPE`, before any service is built or any route
 * is added.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { difyBridge } from '../../src/plugins/dify-bridge.js';
import { testEnv } from '../helpers/harness.js';

// No `dify.apiUrl`: buildApp does not register the bridge itself, the test does.
const config = loadConfig(
  testEnv({ issuer: 'https://idp.example.com', clientId: 'c', clientSecret: 'client-secret-0123456789' }),
);

for (const [name, options] of [
  ['fetch that is not a function', { fetch: 'https://api' }],
  ['redis that is not a client', { redis: { url: 'redis://x' } }],
  ['redis null', { redis: null }],
  ['options that are not an object', 'nope'],
] as const) {
  test(`difyBridge refuses ${name} at registration (ERR_INVALID_ARG_TYPE)`, async (t) => {
    const app = buildApp(config, { logStream: { write: () => undefined } });
    t.after(() => app.close());
    app.register(difyBridge, options as never);
    await assert.rejects(
      async () => {
        await app.ready();
      },
      (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE' && e instanceof TypeError,
    );
    assert.equal(app.hasRoute({ method: 'GET', url: '/console/api/system-features' }), false);
  });
}

test('difyBridge with well-formed options gets past the option check (then needs the dify.* settings)', async (t) => {
  const app = buildApp(config, { logStream: { write: () => undefined } });
  t.after(() => app.close());
  app.register(difyBridge, { fetch });
  await assert.rejects(
    async () => {
      await app.ready();
    },
    (e: Error & { code?: string }) => e.code === 'ERR_CONFIG_INVALID',
  );
});

test('oidcClientPlugin refuses a client that is not an OidcClient at registration', async (t) => {
  const { default: Fastify } = await import('fastify');
  const { oidcClientPlugin } = await import('../../src/plugins/oidc-lifecycle.js');
  const app = Fastify();
  t.after(() => app.close());
  app.register(oidcClientPlugin, { client: { start: async () => undefined, close: () => undefined } } as never);
  await assert.rejects(
    async () => {
      await app.ready();
    },
    (e: Error & { code?: string }) => e.code === 'ERR_INVALID_ARG_TYPE',
  );
});
