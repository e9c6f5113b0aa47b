/**
 * Validation of the Redis connection settings (`DIFY_SSO_REDIS_*`, `DIFY_SSO_DIFY_REDIS_*`):
 * every problem is collected into one ERR_CONFIG_INVALID, each with its own code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const BASE = {
  DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/realms/x',
  DIFY_SSO_OIDC_CLIENT_ID: 'dify',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'client-secret-0123456789',
  DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
  DIFY_SSO_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghijklmnop',
};
const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';

function problems(env: Record<string, string>): [string, string][] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.code, 'ERR_CONFIG_INVALID');
    return e.problems.map((p) => [p.env, p.code] as [string, string]).sort();
  }
  return [];
}

test('store=redis: each topology needs its own fields', () => {
  assert.deepEqual(problems({ DIFY_SSO_STORE: 'redis' }), [['DIFY_SSO_REDIS_URL', 'ERR_CONFIG_REQUIRED']]);
  assert.deepEqual(problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_MODE: 'sentinel' }), [
    ['DIFY_SSO_REDIS_SENTINELS', 'ERR_CONFIG_REQUIRED'],
    ['DIFY_SSO_REDIS_SENTINEL_NAME', 'ERR_CONFIG_REQUIRED'],
  ]);
  assert.deepEqual(problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_MODE: 'cluster' }), [
    ['DIFY_SSO_REDIS_CLUSTER_NODES', 'ERR_CONFIG_REQUIRED'],
  ]);
  assert.deepEqual(problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_MODE: 'ring' }), [
    ['DIFY_SSO_REDIS_MODE', 'ERR_CONFIG_ENUM'],
  ]);
  assert.deepEqual(
    problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_MODE: 'cluster', DIFY_SSO_REDIS_CLUSTER_NODES: 'a:1,b:2' }),
    [],
  );
  assert.deepEqual(
    problems({
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_MODE: 'sentinel',
      DIFY_SSO_REDIS_SENTINELS: 's:26379',
      DIFY_SSO_REDIS_SENTINEL_NAME: 'm',
    }),
    [],
  );
});

test('settings of another topology, a db on Cluster, bad host:port lists are refused', () => {
  assert.deepEqual(
    problems({
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_MODE: 'cluster',
      DIFY_SSO_REDIS_CLUSTER_NODES: 'a:1,b:99999',
      DIFY_SSO_REDIS_URL: 'redis://r:6379',
      DIFY_SSO_REDIS_DB: '2',
      DIFY_SSO_REDIS_SENTINEL_NAME: 'm',
    }),
    [
      ['DIFY_SSO_REDIS_CLUSTER_NODES', 'ERR_CONFIG_FORMAT'],
      ['DIFY_SSO_REDIS_DB', 'ERR_CONFIG_CONFLICT'],
      ['DIFY_SSO_REDIS_SENTINEL_NAME', 'ERR_CONFIG_CONFLICT'],
      ['DIFY_SSO_REDIS_URL', 'ERR_CONFIG_CONFLICT'],
    ],
  );
  assert.deepEqual(problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'http://r:6379' }), [
    ['DIFY_SSO_REDIS_URL', 'ERR_CONFIG_FORMAT'],
  ]);
});

test('TLS: PEM only, certificate and key together, and only with TLS on', () => {
  assert.deepEqual(
    problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'redis://r:6379', DIFY_SSO_REDIS_TLS_CA: PEM }),
    [['DIFY_SSO_REDIS_TLS_CA', 'ERR_CONFIG_CONFLICT']],
  );
  assert.deepEqual(
    problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'rediss://r:6379', DIFY_SSO_REDIS_TLS_CA: '/etc/ca.pem' }),
    [['DIFY_SSO_REDIS_TLS_CA', 'ERR_CONFIG_FORMAT']],
  );
  assert.deepEqual(
    problems({ DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'rediss://r:6379', DIFY_SSO_REDIS_TLS_CERT: PEM }),
    [['DIFY_SSO_REDIS_TLS_KEY', 'ERR_CONFIG_REQUIRED']],
  );
  assert.deepEqual(
    problems({
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: 'rediss://r:6379',
      DIFY_SSO_REDIS_TLS_CA: PEM,
      DIFY_SSO_REDIS_TLS_CERT: PEM,
      DIFY_SSO_REDIS_TLS_KEY: PEM.replace(/CERTIFICATE/g, 'PRIVATE KEY'),
    }),
    [],
  );
});

test("the bridge's Dify Redis is checked the same way under DIFY_SSO_DIFY_REDIS_*", () => {
  const bridge = {
    DIFY_SSO_DIFY_API_URL: 'http://api:5001',
    DIFY_SSO_DIFY_ADMIN_API_KEY: 'admin-key-9f2c41d7e85b3a60',
    DIFY_SSO_DIFY_WORKSPACE_ID: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
    DIFY_SSO_ROLE_MAP: 'g=admin',
  };
  assert.deepEqual(problems(bridge), [['DIFY_SSO_DIFY_REDIS_URL', 'ERR_CONFIG_REQUIRED']]);
  assert.deepEqual(
    problems({ ...bridge, DIFY_SSO_DIFY_REDIS_MODE: 'sentinel', DIFY_SSO_DIFY_REDIS_SENTINELS: 'nope' }),
    [
      ['DIFY_SSO_DIFY_REDIS_SENTINELS', 'ERR_CONFIG_FORMAT'],
      ['DIFY_SSO_DIFY_REDIS_SENTINEL_NAME', 'ERR_CONFIG_REQUIRED'],
    ],
  );
  assert.deepEqual(
    problems({
      ...bridge,
      DIFY_SSO_DIFY_REDIS_MODE: 'cluster',
      DIFY_SSO_DIFY_REDIS_CLUSTER_NODES: 'n1:7001',
      DIFY_SSO_DIFY_REDIS_TLS: 'true',
    }),
    [],
  );
});
