import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  IDENTITY_HEADERS,
  isIdentityHeader,
  nginxBlankDirectives,
  refusedIdentityHeader,
  stripIdentityHeaders,
} from '../../src/gate/identity-headers.js';

const stripped = [
  'X-Forwarded-User',
  'x-forwarded-user',
  'X_Forwarded_User',
  'X-FORWARDED-EMAIL',
  'x_forwarded_email',
  'X-Forwarded-Groups',
  'X-Forwarded-Preferred-Username',
  'X-Forwarded-Access-Token',
  'X-Auth-Request-User',
  'x_auth_request_email',
  'X-Auth-Request-Anything',
  'X-Remote-User',
  'Remote-User',
  'remote_user',
  'X-User',
  'X-Email',
  'X-Original-URI',
  'x_original_uri',
  'X-Original-Method',
  'X-Forwarded-Uri',
  'X-Workspace-Id',
  'X_WORKSPACE_ID',
  'X-Sso-Upstream-Authorization',
  'x-dify-sso-account',
  'X-Real-IP',
];
const kept = [
  'Accept',
  'Content-Type',
  'Cookie',
  'Authorization',
  'X-CSRF-Token',
  'X-App-Code',
  'X-App-Passport',
  'User-Agent',
  'X-Requested-With',
];

for (const h of stripped) test(`identity header stripped: ${h}`, () => assert.equal(isIdentityHeader(h), true));
for (const h of kept) test(`ordinary header kept: ${h}`, () => assert.equal(isIdentityHeader(h), false));

test('stripIdentityHeaders removes every spelling and keeps the rest', () => {
  const out = stripIdentityHeaders({
    X_Forwarded_User: 'root',
    'x-forwarded-email': 'a@b.c',
    accept: '*/*',
    'x-csrf-token': 't',
  });
  assert.deepEqual(out, { accept: '*/*', 'x-csrf-token': 't' });
});

// The header rule (issue 9, finding 8): reserved prefixes refused, listed names with `_` refused, the rest stripped.
const refusedCases: [names: string[], allowed: string[], want: string | undefined][] = [
  [['accept', 'X-Sso-Role'], [], 'x-sso-role'],
  [['x-auth-request-groups'], [], 'x-auth-request-groups'],
  [['X-Dify-Sso-Account'], [], 'x-dify-sso-account'],
  [['x_sso_role'], [], 'x-sso-role'],
  [['x-sso-token'], ['x-sso-token'], undefined],
  [['X-Sso-Token'], ['x-sso-token'], undefined],
  [['x_sso_token'], ['x-sso-token'], 'x-sso-token'],
  [['x-sso-gate-secret'], ['x-sso-token'], 'x-sso-gate-secret'],
  [['x_forwarded_user'], [], 'x-forwarded-user'],
  [['X_Real_IP'], [], 'x-real-ip'],
  [['x-real-ip', 'x-forwarded-user', 'X-Workspace-Id'], [], undefined],
  [['x_custom_header', 'accept', 'x-ssotoken'], [], undefined],
];
for (const [names, allowed, want] of refusedCases) {
  test(`refusedIdentityHeader(${JSON.stringify(names)}, ${JSON.stringify(allowed)}) → ${want}`, () =>
    assert.equal(refusedIdentityHeader(names, allowed), want));
}

test('nginx directives are generated from the one list: every name once, minus what the location sets', () => {
  const lines = nginxBlankDirectives();
  assert.equal(lines.length, IDENTITY_HEADERS.length);
  for (const [i, n] of IDENTITY_HEADERS.entries()) {
    assert.match(lines[i] as string, /^proxy_set_header [A-Za-z-]+ "";$/);
    assert.equal((lines[i] as string).split(' ')[1]?.toLowerCase(), n);
  }
  assert.ok(!nginxBlankDirectives(['X-WORKSPACE-ID']).some((l) => /^proxy_set_header X-Workspace-Id /.test(l)));
  for (const n of IDENTITY_HEADERS) assert.equal(isIdentityHeader(n), true, n);
});
