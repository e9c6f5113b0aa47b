/**
 * OidcClient: background discovery retry (mock timers), kid absent with several keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { OidcClient } from '../../src/services/oidc-client.js';
import { loadConfig } from '../../src/config/load.js';
import { login, makeApp, testEnv } from '../helpers/harness.js';

test('discovery is retried in the background every discoveryRetrySeconds while the IdP is down', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  op.scenario.down = true;
  const config = loadConfig(testEnv(op, { DIFY_SSO_OIDC_DISCOVERY_RETRY_SECONDS: '15' }));
  let readyResolve!: () => void;
  const readyPromise = new Promise<void>((r) => (readyResolve = r));
  const errors: string[] = [];
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const client = new OidcClient({
    oidc: config.oidc,
    publicUrl: config.publicUrl,
    allowInsecureHttp: true,
    now: Date.now,
    onDiscoveryError: (e) => void errors.push(e.code),
    onReady: () => readyResolve(),
  });
  t.after(() => client.close());
  await client.start();
  assert.equal(client.ready, false);
  assert.deepEqual(errors, ['ERR_OIDC_DISCOVERY_FAILED']);
  const discoveries = () => op.requests.filter((r) => r.path === '/.well-known/openid-configuration').length;
  const before = discoveries();
  op.scenario.down = false;
  t.mock.timers.tick(14_000);
  assert.equal(discoveries(), before, 'no retry before the interval');
  t.mock.timers.tick(1_000);
  await readyPromise;
  assert.equal(client.ready, true);
  assert.equal(discoveries(), before + 1);
});

test('kid absent with several keys in the JWKS: the verifying candidate is used', async (t) => {
  const op = await HostileOp.start();
  t.after(() => op.close());
  await op.rotate('second');
  const a = await makeApp(op);
  t.after(() => a.app.close());
  op.scenario.idHeader = ({ kid: _k, ...h }) => h;
  const r = await login(a.app, op, { redirect: '/apps' });
  assert.equal(r.callbackRes.headers.location, '/apps');
});
