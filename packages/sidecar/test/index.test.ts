/** The package's public surface includes the bridge, the nginx renderers and the deployment generator. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as api from '../src/index.js';

test('public exports: bridge plugin, nginx renderers, deployment generator, error catalogue', () => {
  for (const name of [
    'buildApp',
    'loadConfig',
    'difyBridge',
    'insertSsoLocations',
    'sidecarUpstreamBlock',
    'renderDeployment',
    'writeDeployment',
    'difyVersionOf',
    'SsoError',
    'DifyError',
  ] as const) {
    assert.equal(typeof api[name], 'function', name);
  }
  assert.equal(api.SIDECAR_UPSTREAM, 'dify_sso_sidecar');
  assert.ok(Object.keys(api.ERROR_CODES).includes('ERR_DIFY_ADMIN_API'));
});
