import { test } from 'node:test';
import assert from 'node:assert/strict';
import { domainMatches, emailDomain, extractClaims } from '../../src/lib/access-policy.js';

test('emailDomain: strict single-@ parsing', () => {
  const cases: [string, string | undefined][] = [
    ['alice@example.com', 'example.com'],
    ['Alice@Example.COM', 'example.com'],
    ['a.b+c@eu.example.com', 'eu.example.com'],
    ['a@evil.com@example.com', undefined],
    ['@example.com', undefined],
    ['alice@', undefined],
    ['alice', undefined],
    ['alice@example', undefined],
    ['alice@exa mple.com', undefined],
    ['alice@example.com\n', undefined],
    ['alice@-example.com', undefined],
    ['alice@example.com.', undefined],
    [`${'a'.repeat(65)}@example.com`, undefined],
  ];
  for (const [input, expected] of cases) assert.equal(emailDomain(input), expected, input);
});

test('domainMatches: label boundaries only', () => {
  assert.equal(domainMatches('example.com', 'example.com'), true);
  assert.equal(domainMatches('eu.example.com', 'example.com'), true);
  assert.equal(domainMatches('EU.Example.com', 'example.com'), true);
  assert.equal(domainMatches('badexample.com', 'example.com'), false);
  assert.equal(domainMatches('example.com.evil.com', 'example.com'), false);
  assert.equal(domainMatches('example.co', 'example.com'), false);
  assert.equal(domainMatches('eu.example.com', '.example.com'), true);
});

const policy = { allowedGroups: [], allowedRoles: [], allowedEmailDomains: [], groupsClaim: 'groups' };

test('extractClaims: keycloak realm + client roles, full-path groups', () => {
  const c = extractClaims(
    'keycloak',
    {
      groups: ['/dify-admins', 'x'],
      realm_access: { roles: ['r1'] },
      resource_access: { app: { roles: ['c1'] } },
      email: 'a@b.co',
      email_verified: true,
    },
    policy,
  );
  assert.deepEqual(c.groups, ['dify-admins', 'x']);
  assert.deepEqual(c.roles, ['r1', 'app:c1']);
  assert.equal(c.emailVerified, true);
});

test('extractClaims: generic with a dotted roles claim; non-string values ignored', () => {
  const c = extractClaims(
    'generic',
    { groups: ['g', 1, null], custom: { roles: ['x'] } },
    { ...policy, rolesClaim: 'custom.roles' },
  );
  assert.deepEqual(c.groups, ['g']);
  assert.deepEqual(c.roles, ['x']);
});
