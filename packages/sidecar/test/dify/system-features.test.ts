import { test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustSystemFeatures } from '../../src/routes/system-features.js';

const community = {
  sso_enforced_for_signin: false,
  sso_enforced_for_signin_protocol: '',
  enable_email_password_login: true,
  enable_email_code_login: true,
  enable_social_oauth_login: true,
  is_allow_register: true,
  is_email_setup: false,
  license: { status: 'none', expired_at: '', workspaces: { enabled: false, size: 0, limit: 0 } },
  branding: { enabled: false, application_title: '', login_page_logo: '', workspace_logo: '', favicon: '' },
  webapp_auth: {
    enabled: false,
    allow_sso: false,
    sso_config: { protocol: '' },
    allow_email_code_login: false,
    allow_email_password_login: false,
  },
  billing: { enabled: false },
};

test('login policy fields are set, nothing else changes', () => {
  const out = adjustSystemFeatures(structuredClone(community), { breakGlass: false });
  assert.equal(out['sso_enforced_for_signin'], true);
  assert.equal(out['sso_enforced_for_signin_protocol'], 'oidc');
  assert.equal(out['enable_email_password_login'], false);
  assert.equal(out['enable_email_code_login'], false);
  assert.equal(out['enable_social_oauth_login'], false);
  assert.equal(out['is_allow_register'], false);
  for (const k of ['license', 'branding', 'webapp_auth', 'billing', 'is_email_setup'] as const)
    assert.deepEqual(out[k], community[k]);
  assert.deepEqual(Object.keys(out).sort(), Object.keys(community).sort());
});

test('break-glass keeps dify-api’s own password-login flag', () => {
  assert.equal(adjustSystemFeatures({ ...community }, { breakGlass: true })['enable_email_password_login'], true);
  assert.equal(
    adjustSystemFeatures({ ...community, enable_email_password_login: false }, { breakGlass: true })[
      'enable_email_password_login'
    ],
    false,
  );
});
