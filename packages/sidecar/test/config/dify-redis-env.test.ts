/**
 * Dify `.env` → `DIFY_SSO_DIFY_REDIS_*`: each topology Dify's `.env` can describe, checked by
 * loading the mapped variables through the real config loader.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, configWarnings } from '../../src/config/load.js';
import { difyRedisPath, redisSettingsAt } from '../../src/config/redis-schema.js';
import { mapDifyRedisEnv, parseDotEnv } from '../../src/dify/contract/redis-env.js';
import { ConfigError } from '../../src/errors.js';

const BRIDGE_ENV = {
  DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/realms/x',
  DIFY_SSO_OIDC_CLIENT_ID: 'dify',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'client-secret-0123456789',
  DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
  DIFY_SSO_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghijklmnop',
  DIFY_SSO_DIFY_API_URL: 'http://api:5001',
  DIFY_SSO_DIFY_ADMIN_API_KEY: 'admin-key-9f2c41d7e85b3a60',
  DIFY_SSO_DIFY_WORKSPACE_ID: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
  DIFY_SSO_ROLE_MAP: 'dify-admins=admin',
};

const files: Record<string, string> = {
  '/certs/ca.pem': '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
};
const load = (env: Record<string, string>) =>
  loadConfig(
    { ...BRIDGE_ENV, ...env },
    {
      readFile: (p) =>
        files[p] ??
        (() => {
          throw new Error('ENOENT');
        })(),
    },
  );

test("Dify's docker/.env.example Redis section: standalone redis://redis:6379/0, the public password is flagged", () => {
  const dotEnv = [
    '# ------------------------------',
    '# Redis Configuration',
    '# ------------------------------',
    'REDIS_HOST=redis',
    'REDIS_PORT=6379',
    'REDIS_USERNAME=',
    'REDIS_PASSWORD=difyai123456',
    'REDIS_USE_SSL=false',
    'REDIS_SSL_CERT_REQS=CERT_NONE',
    'REDIS_SSL_CA_CERTS=',
    'REDIS_DB=0',
    'REDIS_USE_SENTINEL=false',
    'REDIS_SENTINELS=',
    'REDIS_SENTINEL_SOCKET_TIMEOUT=0.1',
    'REDIS_USE_CLUSTERS=false',
    'REDIS_CLUSTERS=',
    'REDIS_CLUSTERS_PASSWORD=',
  ].join('\n');
  const { env, warnings } = mapDifyRedisEnv(dotEnv);
  assert.deepEqual(env, {
    DIFY_SSO_DIFY_REDIS_MODE: 'standalone',
    DIFY_SSO_DIFY_REDIS_URL: 'redis://redis:6379/0',
    DIFY_SSO_DIFY_REDIS_PASSWORD: 'difyai123456',
  });
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_PUBLIC_PASSWORD'],
    'CERT_NONE is not a problem while TLS is off',
  );
  const s = redisSettingsAt(load(env), difyRedisPath);
  assert.equal(s.mode, 'standalone');
  assert.equal(s.url, 'redis://redis:6379/0');
  assert.equal(s.password, 'difyai123456');
});

test('Sentinel: sentinels, service name, sentinel and data-node credentials, db, socket timeout in ms', () => {
  const { env, warnings } = mapDifyRedisEnv(`
REDIS_USE_SENTINEL=true
REDIS_SENTINELS= sentinel-0:26379 , sentinel-1:26379,,sentinel-2:26379
REDIS_SENTINEL_SERVICE_NAME=mymaster
REDIS_SENTINEL_USERNAME=sentinel-user
REDIS_SENTINEL_PASSWORD="s3ntinel pass"
REDIS_SENTINEL_SOCKET_TIMEOUT=0.5
REDIS_USERNAME=dify
REDIS_PASSWORD='data # pass'
REDIS_DB=2
REDIS_KEY_PREFIX= prod-a   # several Difys share this Redis
`);
  assert.deepEqual(warnings, []);
  const c = load(env);
  assert.deepEqual(
    { ...redisSettingsAt(c, difyRedisPath) },
    {
      mode: 'sentinel',
      sentinels: ['sentinel-0:26379', 'sentinel-1:26379', 'sentinel-2:26379'],
      sentinelName: 'mymaster',
      sentinelUsername: 'sentinel-user',
      sentinelPassword: 's3ntinel pass',
      sentinelTimeoutMs: 500,
      clusterNodes: [],
      username: 'dify',
      password: 'data # pass',
      db: 2,
      tls: false,
      tlsVerify: 'required',
    },
  );
  assert.equal(c.dify.redisKeyPrefix, 'prod-a');
});

test('Cluster: nodes and REDIS_CLUSTERS_PASSWORD (the only credential Dify gives its Cluster client); REDIS_DB is dropped with a warning', () => {
  const { env, warnings } = mapDifyRedisEnv(
    'REDIS_USE_CLUSTERS=true\nREDIS_CLUSTERS=n1:7001,n2:7002,n3:7003\nREDIS_CLUSTERS_PASSWORD=cluster-pw\nREDIS_PASSWORD=other\nREDIS_DB=3\n',
  );
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_CLUSTER_DB'],
  );
  const s = redisSettingsAt(load(env), difyRedisPath);
  assert.equal(s.mode, 'cluster');
  assert.deepEqual(s.clusterNodes, ['n1:7001', 'n2:7002', 'n3:7003']);
  assert.equal(s.password, 'cluster-pw');
  assert.equal(s.db, 0);
});

test('both modes on: Sentinel wins, as in dify-api', () => {
  const { env, warnings } = mapDifyRedisEnv(
    'REDIS_USE_SENTINEL=1\nREDIS_SENTINELS=s:26379\nREDIS_SENTINEL_SERVICE_NAME=m\nREDIS_USE_CLUSTERS=true\nREDIS_CLUSTERS=n:7001\n',
  );
  assert.equal(env.DIFY_SSO_DIFY_REDIS_MODE, 'sentinel');
  assert.equal(env.DIFY_SSO_DIFY_REDIS_CLUSTER_NODES, undefined);
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_BOTH_MODES'],
  );
});

test('TLS: CERT_REQUIRED with CA and client certificate become …_FILE settings; the loader reads them', () => {
  const { env, warnings } = mapDifyRedisEnv(
    'REDIS_HOST=redis.internal\nREDIS_PORT=6380\nREDIS_USE_SSL=true\nREDIS_SSL_CERT_REQS=CERT_REQUIRED\nREDIS_SSL_CA_CERTS=/certs/ca.pem\n',
  );
  assert.equal(env.DIFY_SSO_DIFY_REDIS_URL, 'rediss://redis.internal:6380/0');
  assert.equal(env.DIFY_SSO_DIFY_REDIS_TLS_CA_FILE, '/certs/ca.pem');
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_TLS_FILES'],
  );
  const c = load(env);
  const s = redisSettingsAt(c, difyRedisPath);
  assert.equal(s.tls, true);
  assert.equal(s.tlsVerify, 'required');
  assert.match(s.tlsCa ?? '', /BEGIN CERTIFICATE/);
  assert.ok(!configWarnings(c).some((w) => w.code === 'WARN_CONFIG_REDIS_TLS_UNVERIFIED'));
});

test("TLS with Dify's default CERT_NONE maps to tlsVerify=none, flagged by the mapper and at startup", () => {
  const { env, warnings } = mapDifyRedisEnv('REDIS_HOST=redis\nREDIS_USE_SSL=true\n');
  assert.equal(env.DIFY_SSO_DIFY_REDIS_TLS_VERIFY, 'none');
  assert.deepEqual(
    warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_TLS_UNVERIFIED'],
  );
  assert.ok(configWarnings(load(env)).some((w) => w.code === 'WARN_CONFIG_REDIS_TLS_UNVERIFIED'));
});

test('a malformed sentinel list is refused by the loader, naming the position, never the content', () => {
  const { env } = mapDifyRedisEnv(
    'REDIS_USE_SENTINEL=true\nREDIS_SENTINELS=good:26379,s3cr3t-pasted-here\nREDIS_SENTINEL_SERVICE_NAME=m\n',
  );
  assert.throws(
    () => load(env),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      const p = e.problems.find((x) => x.env === 'DIFY_SSO_DIFY_REDIS_SENTINELS');
      assert.equal(p?.code, 'ERR_CONFIG_FORMAT');
      assert.match(p!.message, /position 2/);
      assert.ok(!e.message.includes('s3cr3t'));
      return true;
    },
  );
});

test('parseDotEnv: comments, export, quotes, inline comments', () => {
  assert.deepEqual(parseDotEnv('# x\nexport A=1\nB="two # three"\nC=four # five\nD=\n bad line\n'), {
    A: '1',
    B: 'two # three',
    C: 'four',
    D: '',
  });
});
