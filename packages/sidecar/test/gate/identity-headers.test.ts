import { test } from 'node:test'
import assert from 'node:assert/strict'
import { isIdentityHeader, stripIdentityHeaders } from '../../src/gate/identity-headers.js'

const stripped = [
  'X-Forwarded-User', 'x-forwarded-user', 'X_Forwarded_User', 'X-FORWARDED-EMAIL', 'x_forwarded_email', 'X-Forwarded-Groups',
  'X-Forwarded-Preferred-Username', 'X-Forwarded-Access-Token', 'X-Auth-Request-User', 'x_auth_request_email', 'X-Auth-Request-Anything',
  'X-Remote-User', 'Remote-User', 'remote_user', 'X-User', 'X-Email', 'X-Original-URI', 'x_original_uri', 'X-Original-Method', 'X-Forwarded-Uri',
  'X-Workspace-Id', 'X_WORKSPACE_ID', 'X-Sso-Upstream-Authorization', 'x-dify-sso-account', 'X-Real-IP',
]
const kept = ['Accept', 'Content-Type', 'Cookie', 'Authorization', 'X-CSRF-Token', 'X-App-Code', 'X-App-Passport', 'User-Agent', 'X-Requested-With']

for (const h of stripped) test(`identity header stripped: ${h}`, () => assert.equal(isIdentityHeader(h), true))
for (const h of kept) test(`ordinary header kept: ${h}`, () => assert.equal(isIdentityHeader(h), false))

test('stripIdentityHeaders removes every spelling and keeps the rest', () => {
  const out = stripIdentityHeaders({ 'X_Forwarded_User': 'root', 'x-forwarded-email': 'a@b.c', accept: '*/*', 'x-csrf-token': 't' })
  assert.deepEqual(out, { accept: '*/*', 'x-csrf-token': 't' })
})
