import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadStandinConfig } from '../src/config.js';
import { NEWEST_VERSION, compareVersions, parseVersion, versionFeatures } from '../src/version.js';

describe('version switches', () => {
  it('defaults to the newest modelled version', () => {
    assert.equal(NEWEST_VERSION, '1.16.1');
  });

  const table: [string, Partial<Record<string, boolean>>][] = [
    [
      '1.9.2',
      {
        cookieDomain: false,
        adminKeySkipsCsrf: false,
        base64Secrets: false,
        redisKeyPrefix: false,
        slimSystemFeatures: false,
      },
    ],
    ['1.10.0', { cookieDomain: true, adminKeySkipsCsrf: false }],
    ['1.11.0', { adminKeySkipsCsrf: true, base64Secrets: false }],
    ['1.11.1', { base64Secrets: false }],
    ['1.11.2', { base64Secrets: true }],
    ['1.11.1', { activateIssuesNoLogin: false }],
    ['1.11.2', { activateIssuesNoLogin: true, workspaceCreditFields: false, caseInsensitiveInvite: false }],
    ['1.11.3', { workspaceCreditFields: true, caseInsensitiveInvite: true }],
    ['1.11.4', { fastopenapiSetup: false, systemFeatures112: false }],
    ['1.12.0', { fastopenapiSetup: true, systemFeatures112: true }],
    ['1.13.3', { redisKeyPrefix: false, collaborationWebsocket: false, systemFeatures114: false }],
    [
      '1.14.0',
      { redisKeyPrefix: true, collaborationWebsocket: true, systemFeatures114: true, deploymentEditionField: false },
    ],
    ['1.14.1', { memberRoleErrorCodes: false }],
    ['1.14.2', { memberRoleErrorCodes: true, inviteFlowV2: false, rbacFields: false, workspaceLastOpened: false }],
    [
      '1.15.0',
      {
        workspaceLastOpened: true,
        customConfigObject: true,
        inviteFlowV2: true,
        rbacFields: true,
        inviteErrorsV3: false,
        deploymentEditionField: false,
        slimSystemFeatures: false,
      },
    ],
    [
      '1.16.0',
      {
        customConfigObject: false,
        inviteErrorsV3: true,
        refreshErrorsUnmasked: true,
        workspaceCredits: true,
        varyCookie: true,
        slimSystemFeatures: false,
      },
    ],
    [
      '1.16.1',
      {
        slimSystemFeatures: true,
        deploymentEditionField: true,
        redisKeyPrefix: true,
        adminKeySkipsCsrf: true,
        upstreamMain: false,
        workspaceCurrentPost: true,
        currentWorkspaceSummary: false,
      },
    ],
    [
      'main',
      {
        slimSystemFeatures: true,
        deploymentEditionField: true,
        upstreamMain: true,
        workspaceCurrentPost: false,
        currentWorkspaceSummary: true,
      },
    ],
    ['1.17.0', { upstreamMain: false, workspaceCurrentPost: false, currentWorkspaceSummary: true }],
  ];

  it('main reports the version its api/pyproject.toml carries (1.16.1)', () => {
    assert.equal(versionFeatures('main').version, '1.16.1');
    assert.equal(loadStandinConfig({ SECRET_KEY: 'k', DIFY_STANDIN_VERSION: 'main' }).api.version, 'main');
  });
  for (const [v, expected] of table) {
    it(v, () => {
      const f = versionFeatures(v) as unknown as Record<string, boolean>;
      for (const [k, want] of Object.entries(expected)) assert.equal(f[k], want, k);
    });
  }

  it('refuses versions before 1.9.2 and malformed versions', () => {
    assert.throws(() => versionFeatures('1.9.1'), {
      message: '"DIFY_STANDIN_VERSION" must be 1.9.2 or newer (got "1.9.1")',
    });
    assert.throws(() => parseVersion('latest'), {
      message: '"DIFY_STANDIN_VERSION" must be a version like 1.16.1, or main (got "latest")',
    });
  });

  it('compares numerically', () => {
    assert.equal(compareVersions('1.10.0', '1.9.2'), 1);
    assert.equal(compareVersions('v1.16.1', '1.16.1-fix.0'), 0);
  });
});

describe('loadStandinConfig', () => {
  it('applies Dify defaults', () => {
    const c = loadStandinConfig({ SECRET_KEY: 'k' });
    assert.equal(c.api.version, '1.16.1');
    assert.equal(c.api.enableEmailPasswordLogin, true);
    assert.equal(c.api.allowRegister, false);
    assert.equal(c.api.accessTokenExpireMinutes, 60);
    assert.equal(c.api.refreshTokenExpireDays, 30);
    assert.equal(c.api.adminApiKeyEnable, false);
    assert.deepEqual(c.listen, { host: '127.0.0.1', port: 15001 });
    assert.deepEqual(c.webListen, { host: '127.0.0.1', port: 13000 });
    assert.equal(c.redisUrl, 'redis://127.0.0.1:16379');
    assert.equal(c.web.variant, 'stock');
    assert.ok(Object.isFrozen(c));
  });

  it("reads Dify's names and the stand-in's own", () => {
    const c = loadStandinConfig({
      SECRET_KEY: 'k',
      ADMIN_API_KEY: 'adm',
      ENABLE_EMAIL_PASSWORD_LOGIN: 'false',
      ALLOW_REGISTER: 'True',
      REDIS_KEY_PREFIX: 'dify',
      COOKIE_DOMAIN: '.example.com',
      DIFY_STANDIN_VERSION: '1.12.1',
      DIFY_STANDIN_WEB_LISTEN: 'off',
      DIFY_STANDIN_WEB_VARIANT: 'plugin',
    });
    assert.equal(c.api.adminApiKeyEnable, true, 'ADMIN_API_KEY alone enables the key');
    assert.equal(c.api.enableEmailPasswordLogin, false);
    assert.equal(c.api.allowRegister, true);
    assert.equal(c.api.redisKeyPrefix, 'dify');
    assert.equal(c.api.version, '1.12.1');
    assert.equal(c.webListen, null);
    assert.equal(c.web.variant, 'plugin');
    assert.equal(c.web.cookieDomain, '.example.com');
  });

  it('collects every problem into one ERR_CONFIG_INVALID', () => {
    try {
      loadStandinConfig({
        ENABLE_EMAIL_PASSWORD_LOGIN: 'maybe',
        ACCESS_TOKEN_EXPIRE_MINUTES: '-1',
        DIFY_STANDIN_LISTEN: 'nowhere',
        DIFY_STANDIN_VERSION: '0.9.0',
      });
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'ERR_CONFIG_INVALID');
      assert.deepEqual(err.problems, [
        '"SECRET_KEY" is required',
        '"DIFY_STANDIN_VERSION" must be 1.9.2 or newer (got "0.9.0")',
        '"ACCESS_TOKEN_EXPIRE_MINUTES" must be a positive number (got "-1")',
        '"ENABLE_EMAIL_PASSWORD_LOGIN" must be true or false (got "maybe")',
        '"DIFY_STANDIN_LISTEN" must be host:port (got "nowhere")',
      ]);
    }
  });
});
