import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const base: Record<string, string> = {
  DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/realms/x',
  DIFY_SSO_OIDC_CLIENT_ID: 'dify-console',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'client-secret',
  DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
  DIFY_SSO_SESSION_SECRET: 'test-session-secret-0123456789-abcdefghijklmnop',
  DIFY_SSO_DIFY_API_URL: 'http://api:5001',
  DIFY_SSO_DIFY_ADMIN_API_KEY: 'k-7f3a9c1e5b2d8f4a6c0e',
  DIFY_SSO_DIFY_WORKSPACE_ID: '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57',
  DIFY_SSO_DIFY_REDIS_URL: 'redis://:pw@redis:6379/0',
  DIFY_SSO_ROLE_MAP: 'dify-admins=admin,dify-editors=editor',
};

test('a complete bridge configuration loads with secure defaults', () => {
  const c = loadConfig(base);
  assert.equal(c.dify.apiUrl, 'http://api:5001');
  assert.deepEqual(c.roleMap, ['dify-admins=admin', 'dify-editors=editor']);
  assert.deepEqual(c.roleClaim, ['groups']);
  assert.equal(c.jit, false);
  assert.equal(c.removeUnmapped, false);
  assert.equal(c.gate.mode, 'authrequest');
  assert.equal(c.gate.bodyLimitMegabytes, 100);
  assert.deepEqual(c.breakGlass.cidrs, []);
  assert.equal(c.dify.refreshTokenExpireDays, 30);
  assert.equal(c.dify.allowNewerVersions, false);
});

test('without DIFY_SSO_DIFY_API_URL the bridge is off and needs nothing', () => {
  const {
    DIFY_SSO_DIFY_API_URL: _a,
    DIFY_SSO_DIFY_ADMIN_API_KEY: _b,
    DIFY_SSO_DIFY_WORKSPACE_ID: _c,
    DIFY_SSO_DIFY_REDIS_URL: _d,
    DIFY_SSO_ROLE_MAP: _e,
    ...core
  } = base;
  assert.equal(loadConfig(core).dify.apiUrl, undefined);
});

const bad: [string, Record<string, string | undefined>, string, string, RegExp][] = [
  [
    'public admin key',
    { DIFY_SSO_DIFY_ADMIN_API_KEY: 'difyai123456' },
    'ERR_CONFIG_INSECURE',
    'DIFY_SSO_DIFY_ADMIN_API_KEY',
    /public default or placeholder/,
  ],
  [
    'short admin key',
    { DIFY_SSO_DIFY_ADMIN_API_KEY: 'abc123' },
    'ERR_CONFIG_INSECURE',
    'DIFY_SSO_DIFY_ADMIN_API_KEY',
    /at least 16 characters/,
  ],
  [
    'missing admin key',
    { DIFY_SSO_DIFY_ADMIN_API_KEY: undefined },
    'ERR_CONFIG_REQUIRED',
    'DIFY_SSO_DIFY_ADMIN_API_KEY',
    /is required when dify.apiUrl is set/,
  ],
  [
    'missing workspace',
    { DIFY_SSO_DIFY_WORKSPACE_ID: undefined },
    'ERR_CONFIG_REQUIRED',
    'DIFY_SSO_DIFY_WORKSPACE_ID',
    /is required/,
  ],
  [
    'bad workspace',
    { DIFY_SSO_DIFY_WORKSPACE_ID: 'not a uuid!' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_DIFY_WORKSPACE_ID',
    /UUID/,
  ],
  [
    'missing Dify Redis',
    { DIFY_SSO_DIFY_REDIS_URL: undefined },
    'ERR_CONFIG_REQUIRED',
    'DIFY_SSO_DIFY_REDIS_URL',
    /is required/,
  ],
  [
    'bad Dify Redis',
    { DIFY_SSO_DIFY_REDIS_URL: 'http://redis' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_DIFY_REDIS_URL',
    /redis:\/\//,
  ],
  ['bad api url', { DIFY_SSO_DIFY_API_URL: 'api:5001' }, 'ERR_CONFIG_FORMAT', 'DIFY_SSO_DIFY_API_URL', /http\(s\) URL/],
  [
    'owner in role map',
    { DIFY_SSO_ROLE_MAP: 'dify-owners=owner' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_ROLE_MAP',
    /never grants owner/,
  ],
  ['unknown role', { DIFY_SSO_ROLE_MAP: 'g=root' }, 'ERR_CONFIG_FORMAT', 'DIFY_SSO_ROLE_MAP', /unknown role "root"/],
  ['empty role map', { DIFY_SSO_ROLE_MAP: undefined }, 'ERR_CONFIG_REQUIRED', 'DIFY_SSO_ROLE_MAP', /fails closed/],
  [
    'bad claim path',
    { DIFY_SSO_ROLE_CLAIM: 'realm access.roles' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_ROLE_CLAIM',
    /dotted claim path/,
  ],
  [
    'bad CIDR',
    { DIFY_SSO_BREAK_GLASS_CIDRS: '10.0.0.0/33' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_BREAK_GLASS_CIDRS',
    /invalid prefix length/,
  ],
  [
    'not an IP',
    { DIFY_SSO_BREAK_GLASS_CIDRS: 'office' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_BREAK_GLASS_CIDRS',
    /IP address or CIDR/,
  ],
  [
    'proxy mode without web',
    { DIFY_SSO_GATE_MODE: 'proxy' },
    'ERR_CONFIG_REQUIRED',
    'DIFY_SSO_DIFY_WEB_URL',
    /gate.mode=proxy/,
  ],
  ['bad gate mode', { DIFY_SSO_GATE_MODE: 'sidecar' }, 'ERR_CONFIG_ENUM', 'DIFY_SSO_GATE_MODE', /authrequest, proxy/],
  [
    'machine routes without audience',
    { DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/apps*' },
    'ERR_CONFIG_CONFLICT',
    'DIFY_SSO_GATE_MACHINE_ROUTES',
    /bearer.audience/,
  ],
  [
    'machine route outside the console',
    { DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /v1/apps', DIFY_SSO_BEARER_AUDIENCE: 'a' },
    'ERR_CONFIG_FORMAT',
    'DIFY_SSO_GATE_MACHINE_ROUTES',
    /under \/console\/api\//,
  ],
  [
    'body limit too large',
    { DIFY_SSO_GATE_BODY_LIMIT_MEGABYTES: '4096' },
    'ERR_CONFIG_RANGE',
    'DIFY_SSO_GATE_BODY_LIMIT_MEGABYTES',
    /between 1 and 2048/,
  ],
];
for (const [name, patch, code, env, re] of bad) {
  test(`config refused: ${name} → ${code} on ${env}`, () => {
    const e = { ...base, ...patch };
    for (const [k, v] of Object.entries(patch)) if (v === undefined) delete e[k];
    assert.throws(
      () => loadConfig(e),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        const p = err.problems.find((x) => x.env === env);
        assert.ok(p, `problem for ${env} in ${JSON.stringify(err.problems)}`);
        assert.equal(p.code, code);
        assert.match(p.message, re);
        return true;
      },
    );
  });
}

test('every bridge problem is reported at once', () => {
  assert.throws(
    () =>
      loadConfig({
        ...base,
        DIFY_SSO_DIFY_ADMIN_API_KEY: 'changeme',
        DIFY_SSO_ROLE_MAP: 'x=owner',
        DIFY_SSO_BREAK_GLASS_CIDRS: 'nope',
      }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      const envs = err.problems.map((p) => p.env);
      for (const e of ['DIFY_SSO_DIFY_ADMIN_API_KEY', 'DIFY_SSO_ROLE_MAP', 'DIFY_SSO_BREAK_GLASS_CIDRS'])
        assert.ok(envs.includes(e), e);
      return true;
    },
  );
});
