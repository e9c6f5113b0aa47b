import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mapRole, parseRoleMap } from '../../src/dify/role-map.js';

test('parses value=role pairs', () => {
  const { map, problems } = parseRoleMap('dify-admins=admin, dify-editors=editor', 'groups');
  assert.deepEqual(problems, []);
  assert.deepEqual(map.entries, [
    { value: 'dify-admins', role: 'admin' },
    { value: 'dify-editors', role: 'editor' },
  ]);
});

const bad: [string, RegExp][] = [
  ['dify-owners=owner', /never grants owner/],
  ['x=superuser', /unknown role "superuser"/],
  ['justtext', /must be <claim value>=<role>/],
  ['=admin', /must be <claim value>=<role>/],
  ['x=', /must be <claim value>=<role>/],
];
for (const [text, re] of bad) {
  test(`refuses role map ${JSON.stringify(text)}`, () => {
    const { problems, map } = parseRoleMap(text, 'groups');
    assert.equal(problems.length, 1);
    assert.match(problems[0] as string, re);
    assert.equal(map.entries.length, 0);
  });
}

test('refuses an invalid claim path', () => {
  assert.match(parseRoleMap('a=admin', 'groups,bad path').problems[0] as string, /not a dotted claim path/);
});

const { map } = parseRoleMap(
  'dify-admins=admin,dify-editors=editor,readers=normal,kb=dataset_operator',
  'groups,realm_access.roles',
);
const cases: [string, Record<string, unknown>, string | undefined][] = [
  ['admin group', { groups: ['dify-admins'] }, 'admin'],
  ['keycloak full path', { groups: ['/dify-editors'] }, 'editor'],
  ['most privileged wins', { groups: ['readers', 'dify-editors', 'kb'] }, 'editor'],
  ['nested claim path', { realm_access: { roles: ['dify-admins'] } }, 'admin'],
  ['string claim', { groups: 'readers' }, 'normal'],
  ['no matching group: fail closed', { groups: ['other'] }, undefined],
  ['claim missing: fail closed', {}, undefined],
  ['claim of wrong type: fail closed', { groups: { 'dify-admins': true } }, undefined],
  ['non-string members ignored', { groups: [1, null, { x: 1 }] }, undefined],
  ['case-sensitive', { groups: ['DIFY-ADMINS'] }, undefined],
];
for (const [name, claims, want] of cases) test(`mapRole: ${name}`, () => assert.equal(mapRole(claims, map), want));

test('an empty role map denies everyone', () => {
  assert.equal(mapRole({ groups: ['dify-admins'] }, parseRoleMap('', 'groups').map), undefined);
});
