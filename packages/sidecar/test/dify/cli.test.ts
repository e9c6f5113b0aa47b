import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from '../../src/cli.js';
import { redeemBreakGlassToken } from '../../src/break-glass/store.js';
import { createRedisStore } from '../../src/store/redis.js';
import { redisUrl, uniquePrefix } from './helpers.js';

const baseEnv = {
  DIFY_SSO_OIDC_ISSUER: 'http://127.0.0.1:1/realms/x',
  DIFY_SSO_OIDC_CLIENT_ID: 'dify-console',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'client-secret-for-tests',
  DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
  DIFY_SSO_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghijklmnop',
  DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
};

test('dify-sso break-glass issue: prints a one-time token, stores only its hash, audits break_glass.issued', async () => {
  const prefix = `${uniquePrefix()}:`;
  let out = '';
  let err = '';
  const code = await runCli(
    ['break-glass', 'issue', '--ttl', '10m'],
    {
      ...baseEnv,
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: redisUrl(),
      DIFY_SSO_REDIS_KEY_PREFIX: prefix,
      DIFY_SSO_BREAK_GLASS_CIDRS: '10.0.0.0/8',
    },
    { out: (t) => void (out += t), err: (t) => void (err += t) },
  );
  assert.equal(code, 0, err);
  const token = out.trim();
  assert.match(token, /^bg_[A-Za-z0-9_-]{43}$/);
  const audit = err
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(audit[0]?.['event'], 'break_glass.issued');
  assert.ok(!err.includes(token), 'the token is printed once, on stdout only');
  const store = createRedisStore({ url: redisUrl(), keyPrefix: prefix });
  try {
    const keys = await (store as unknown as { kv: { get(k: string): Promise<string | null> } }).kv.get(
      `dify:breakglass:${token}`,
    );
    assert.equal(keys, null, 'the token itself is not a key: only its hash is stored');
    assert.deepEqual(await redeemBreakGlassToken(store.kv, token), { ok: true });
    assert.deepEqual(await redeemBreakGlassToken(store.kv, token), { ok: false, reason: 'invalid' });
  } finally {
    await store.close();
  }
});

test('dify-sso break-glass issue refuses the memory store (the sidecar could never see the token)', async () => {
  let err = '';
  const code = await runCli(['break-glass', 'issue'], { ...baseEnv }, { out: () => {}, err: (t) => void (err += t) });
  assert.equal(code, 1);
  assert.match(err, /DIFY_SSO_STORE=redis/);
});

test('dify-sso break-glass issue with an invalid configuration lists the problems', async () => {
  let err = '';
  const code = await runCli(['break-glass', 'issue'], {}, { out: () => {}, err: (t) => void (err += t) });
  assert.equal(code, 1);
  assert.match(err, /ERR_CONFIG/);
});
