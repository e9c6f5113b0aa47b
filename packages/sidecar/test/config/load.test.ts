/**
 * Config validation table: each bad value → its problem code and exact message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, configWarnings, maskedConfig, envName } from '../../src/config/load.js';
import { ConfigError } from '../../src/errors.js';

const BASE: Record<string, string> = {
  DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/realms/dify',
  DIFY_SSO_OIDC_CLIENT_ID: 'dify-console',
  DIFY_SSO_OIDC_CLIENT_SECRET: 'client-secret-value',
  DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
  DIFY_SSO_SESSION_SECRET: 'abcdefghijklmnopqrstuvwxyz0123456789ABCD',
};

function problems(env: Record<string, string | undefined>, readFile?: (p: string) => string) {
  try {
    loadConfig(env, readFile ? { readFile } : {});
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'ERR_CONFIG_INVALID');
    return err.problems.map((p) => ({ code: p.code, message: p.message }));
  }
  return [];
}

test('valid minimal env: secure defaults, frozen', () => {
  const c = loadConfig(BASE);
  assert.equal(c.listen, '127.0.0.1:8088');
  assert.equal(c.store, 'memory');
  assert.equal(c.allowInsecureHttp, false);
  assert.equal(c.signinPath, '/signin');
  assert.equal(c.homePath, '/apps');
  assert.deepEqual(c.oidc.idTokenAlgs, ['RS256', 'PS256', 'ES256']);
  assert.deepEqual(c.oidc.scopes, ['openid', 'profile', 'email']);
  assert.equal(c.oidc.clientAuthMethod, 'client_secret_basic');
  assert.equal(c.session.idleTimeoutSeconds, 7200);
  assert.equal(c.session.absoluteTimeoutSeconds, 43200);
  assert.ok(Object.isFrozen(c) && Object.isFrozen(c.oidc) && Object.isFrozen(c.oidc.scopes));
});

test('env names follow the config path', () => {
  assert.equal(envName('oidc.clientSecret'), 'DIFY_SSO_OIDC_CLIENT_SECRET');
  assert.equal(envName('session.idleTimeoutSeconds'), 'DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS');
  assert.equal(envName('allowInsecureHttp'), 'DIFY_SSO_ALLOW_INSECURE_HTTP');
});

const table: { name: string; env: Record<string, string | undefined>; code: string; message: string }[] = [
  {
    name: 'issuer missing',
    env: { DIFY_SSO_OIDC_ISSUER: undefined },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) is required',
  },
  {
    name: 'client id missing',
    env: { DIFY_SSO_OIDC_CLIENT_ID: '' },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"oidc.clientId" (DIFY_SSO_OIDC_CLIENT_ID) is required',
  },
  {
    name: 'public URL missing',
    env: { DIFY_SSO_PUBLIC_URL: undefined },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"publicUrl" (DIFY_SSO_PUBLIC_URL) is required',
  },
  {
    name: 'session secret missing',
    env: { DIFY_SSO_SESSION_SECRET: undefined },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"session.secret" (DIFY_SSO_SESSION_SECRET) is required',
  },
  {
    name: 'client secret missing (basic auth)',
    env: { DIFY_SSO_OIDC_CLIENT_SECRET: undefined },
    code: 'ERR_CONFIG_REQUIRED',
    message:
      '"oidc.clientSecret" (DIFY_SSO_OIDC_CLIENT_SECRET) is required when oidc.clientAuthMethod=client_secret_basic',
  },
  {
    name: 'private key missing (private_key_jwt)',
    env: { DIFY_SSO_OIDC_CLIENT_AUTH_METHOD: 'private_key_jwt' },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"oidc.privateKey" (DIFY_SSO_OIDC_PRIVATE_KEY) is required when oidc.clientAuthMethod=private_key_jwt',
  },
  {
    name: 'short session secret',
    env: { DIFY_SSO_SESSION_SECRET: 'short' },
    code: 'ERR_CONFIG_RANGE',
    message: '"session.secret" (DIFY_SSO_SESSION_SECRET) must be at least 32 characters',
  },
  {
    name: 'trivial session secret',
    env: { DIFY_SSO_SESSION_SECRET: 'a'.repeat(40) },
    code: 'ERR_CONFIG_RANGE',
    message: '"session.secret" (DIFY_SSO_SESSION_SECRET) must not be a repeated or trivial value',
  },
  {
    name: 'http issuer without flag',
    env: { DIFY_SSO_OIDC_ISSUER: 'http://127.0.0.1:18080/realms/x' },
    code: 'ERR_CONFIG_INSECURE',
    message:
      '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) must be an https URL (plain http needs DIFY_SSO_ALLOW_INSECURE_HTTP=true and a loopback host)',
  },
  {
    name: 'http issuer not on loopback',
    env: { DIFY_SSO_ALLOW_INSECURE_HTTP: 'true', DIFY_SSO_OIDC_ISSUER: 'http://idp.example.com' },
    code: 'ERR_CONFIG_INSECURE',
    message: '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) may use plain http only on a loopback host',
  },
  {
    name: 'http public URL without flag',
    env: { DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000' },
    code: 'ERR_CONFIG_INSECURE',
    message:
      '"publicUrl" (DIFY_SSO_PUBLIC_URL) must be an https URL (plain http needs DIFY_SSO_ALLOW_INSECURE_HTTP=true and a loopback host)',
  },
  {
    name: 'issuer not a URL',
    env: { DIFY_SSO_OIDC_ISSUER: 'idp.example.com' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) must be an https URL',
  },
  {
    name: 'issuer with query',
    env: { DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com/?x=1' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) must not contain credentials, a query or a fragment',
  },
  {
    name: 'public URL with path',
    env: { DIFY_SSO_PUBLIC_URL: 'https://dify.example.com/console' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"publicUrl" (DIFY_SSO_PUBLIC_URL) must be an origin without a path (e.g. https://dify.example.com)',
  },
  {
    name: 'bad boolean',
    env: { DIFY_SSO_ALLOW_INSECURE_HTTP: 'yes' },
    code: 'ERR_CONFIG_TYPE',
    message: '"allowInsecureHttp" (DIFY_SSO_ALLOW_INSECURE_HTTP) must be true or false',
  },
  {
    name: 'bad store',
    env: { DIFY_SSO_STORE: 'postgres' },
    code: 'ERR_CONFIG_ENUM',
    message: '"store" (DIFY_SSO_STORE) must be one of: memory, redis',
  },
  {
    name: 'redis without URL',
    env: { DIFY_SSO_STORE: 'redis' },
    code: 'ERR_CONFIG_REQUIRED',
    message: '"redis.url" (DIFY_SSO_REDIS_URL) is required when DIFY_SSO_STORE=redis',
  },
  {
    name: 'redis URL wrong scheme',
    env: { DIFY_SSO_STORE: 'redis', DIFY_SSO_REDIS_URL: 'http://127.0.0.1:6379' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"redis.url" (DIFY_SSO_REDIS_URL) must be a redis:// or rediss:// URL',
  },
  {
    name: 'listen without port',
    env: { DIFY_SSO_LISTEN: '127.0.0.1' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"listen" (DIFY_SSO_LISTEN) must be host:port (e.g. 127.0.0.1:8088)',
  },
  {
    name: 'listen port too big',
    env: { DIFY_SSO_LISTEN: '127.0.0.1:70000' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"listen" (DIFY_SSO_LISTEN) must be host:port (e.g. 127.0.0.1:8088)',
  },
  {
    name: 'alg none on allowlist',
    env: { DIFY_SSO_OIDC_ID_TOKEN_ALGS: 'RS256,none' },
    code: 'ERR_CONFIG_ENUM',
    message:
      '"oidc.idTokenAlgs" (DIFY_SSO_OIDC_ID_TOKEN_ALGS) contains "none"; allowed: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA',
  },
  {
    name: 'HS256 on bearer allowlist',
    env: { DIFY_SSO_BEARER_ALGORITHMS: 'HS256' },
    code: 'ERR_CONFIG_ENUM',
    message:
      '"bearer.algorithms" (DIFY_SSO_BEARER_ALGORITHMS) contains "HS256"; allowed: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA',
  },
  {
    name: 'idle not an integer',
    env: { DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS: '1h' },
    code: 'ERR_CONFIG_TYPE',
    message: '"session.idleTimeoutSeconds" (DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS) must be an integer',
  },
  {
    name: 'idle too small',
    env: { DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS: '10' },
    code: 'ERR_CONFIG_RANGE',
    message: '"session.idleTimeoutSeconds" (DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS) must be between 60 and 2592000',
  },
  {
    name: 'idle > absolute',
    env: { DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS: '90000', DIFY_SSO_SESSION_ABSOLUTE_TIMEOUT_SECONDS: '3600' },
    code: 'ERR_CONFIG_CONFLICT',
    message:
      '"session.idleTimeoutSeconds" (DIFY_SSO_SESSION_IDLE_TIMEOUT_SECONDS) must not exceed session.absoluteTimeoutSeconds',
  },
  {
    name: 'clock tolerance too large',
    env: { DIFY_SSO_OIDC_CLOCK_TOLERANCE_SECONDS: '3600' },
    code: 'ERR_CONFIG_RANGE',
    message: '"oidc.clockToleranceSeconds" (DIFY_SSO_OIDC_CLOCK_TOLERANCE_SECONDS) must be between 0 and 300',
  },
  {
    name: 'bad preset',
    env: { DIFY_SSO_OIDC_PRESET: 'okta' },
    code: 'ERR_CONFIG_ENUM',
    message: '"oidc.preset" (DIFY_SSO_OIDC_PRESET) must be one of: generic, keycloak, entra, google',
  },
  {
    name: 'signin path relative',
    env: { DIFY_SSO_SIGNIN_PATH: 'signin' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"signinPath" (DIFY_SSO_SIGNIN_PATH) must be an absolute path starting with a single /',
  },
  {
    name: 'home path scheme-relative',
    env: { DIFY_SSO_HOME_PATH: '//evil.com' },
    code: 'ERR_CONFIG_FORMAT',
    message: '"homePath" (DIFY_SSO_HOME_PATH) must be an absolute path starting with a single /',
  },
  {
    name: 'email domain with @',
    env: { DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS: 'example.com,@evil.com' },
    code: 'ERR_CONFIG_FORMAT',
    message:
      '"policy.allowedEmailDomains" (DIFY_SSO_POLICY_ALLOWED_EMAIL_DOMAINS) must be lower-case domain names (got "@evil.com")',
  },
  {
    name: 'entra multi-tenant issuer',
    env: { DIFY_SSO_OIDC_PRESET: 'entra', DIFY_SSO_OIDC_ISSUER: 'https://login.microsoftonline.com/common/v2.0' },
    code: 'ERR_CONFIG_CONFLICT',
    message:
      '"oidc.issuer" (DIFY_SSO_OIDC_ISSUER) must be a tenant issuer (https://login.microsoftonline.com/<tenant-id>/v2.0) with oidc.preset=entra',
  },
  {
    name: 'insecure http in production',
    env: { DIFY_SSO_ALLOW_INSECURE_HTTP: 'true', NODE_ENV: 'production' },
    code: 'ERR_CONFIG_CONFLICT',
    message: '"allowInsecureHttp" (DIFY_SSO_ALLOW_INSECURE_HTTP) must not be true when NODE_ENV=production',
  },
  {
    name: 'both value and _FILE',
    env: { DIFY_SSO_SESSION_SECRET_FILE: '/run/secrets/x' },
    code: 'ERR_CONFIG_FILE',
    message: '"session.secret": set only one of DIFY_SSO_SESSION_SECRET and DIFY_SSO_SESSION_SECRET_FILE',
  },
  {
    name: 'unreadable _FILE',
    env: { DIFY_SSO_OIDC_CLIENT_SECRET: undefined, DIFY_SSO_OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret' },
    code: 'ERR_CONFIG_FILE',
    message: '"oidc.clientSecret" (DIFY_SSO_OIDC_CLIENT_SECRET_FILE) could not be read',
  },
  {
    name: 'short previous secret',
    env: { DIFY_SSO_SESSION_PREVIOUS_SECRETS: 'short' },
    code: 'ERR_CONFIG_RANGE',
    message: '"session.previousSecrets" (DIFY_SSO_SESSION_PREVIOUS_SECRETS) items must be at least 32 characters',
  },
];

for (const row of table) {
  test(`config: ${row.name} → ${row.code}`, () => {
    const found = problems({ ...BASE, ...row.env }, (p) => {
      throw new Error(`no file ${p}`);
    });
    assert.deepEqual(found, [{ code: row.code, message: row.message }]);
  });
}

test('every problem is reported once, in one error', () => {
  const found = problems({ DIFY_SSO_STORE: 'x', DIFY_SSO_LISTEN: 'nope' });
  assert.deepEqual(found.map((p) => p.code).sort(), [
    'ERR_CONFIG_ENUM',
    'ERR_CONFIG_FORMAT',
    'ERR_CONFIG_REQUIRED',
    'ERR_CONFIG_REQUIRED',
    'ERR_CONFIG_REQUIRED',
    'ERR_CONFIG_REQUIRED',
    'ERR_CONFIG_REQUIRED',
  ]);
  const messages = found.map((p) => p.message);
  assert.equal(new Set(messages).size, messages.length, 'no duplicates');
  for (const env of [
    'DIFY_SSO_PUBLIC_URL',
    'DIFY_SSO_STORE',
    'DIFY_SSO_OIDC_ISSUER',
    'DIFY_SSO_OIDC_CLIENT_ID',
    'DIFY_SSO_SESSION_SECRET',
    'DIFY_SSO_LISTEN',
    'DIFY_SSO_OIDC_CLIENT_SECRET',
  ]) {
    assert.equal(messages.filter((m) => m.includes(`(${env})`)).length, 1, env);
  }
  assert.equal(found.length, 7);
});

test('secrets from _FILE (trailing newline stripped)', () => {
  const { DIFY_SSO_SESSION_SECRET: _s, ...rest } = BASE;
  const c = loadConfig(
    { ...rest, DIFY_SSO_SESSION_SECRET_FILE: '/run/secrets/session' },
    { readFile: (p) => (p === '/run/secrets/session' ? 'file-secret-0123456789-abcdefghijklmnop\n' : '') },
  );
  assert.equal(c.session.secret, 'file-secret-0123456789-abcdefghijklmnop');
});

test('lists are comma-separated and trimmed', () => {
  const c = loadConfig({
    ...BASE,
    DIFY_SSO_POLICY_ALLOWED_GROUPS: ' dify-admins , dify-editors ,',
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
  });
  assert.deepEqual(c.policy.allowedGroups, ['dify-admins', 'dify-editors']);
  assert.deepEqual(c.bearer.audience, ['dify-console-api']);
});

test('relaxations produce warnings; masked config hides secrets', () => {
  const c = loadConfig({
    ...BASE,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_OIDC_ISSUER: 'http://127.0.0.1:18080/realms/dify-sso',
  });
  assert.deepEqual(
    configWarnings(c).map((w) => w.code),
    ['WARN_CONFIG_INSECURE_HTTP', 'WARN_CONFIG_OPEN_POLICY'],
  );
  const m = JSON.stringify(maskedConfig(c));
  assert.equal(m.includes(BASE.DIFY_SSO_SESSION_SECRET!), false);
  assert.equal(m.includes(BASE.DIFY_SSO_OIDC_CLIENT_SECRET!), false);
  assert.ok(m.includes('[masked]'));
});
