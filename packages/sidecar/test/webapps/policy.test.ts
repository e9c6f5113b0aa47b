import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  accessDenial,
  loadWebAppPolicy,
  modeFor,
  parseWebAppPolicy,
  WebAppPolicyError,
  WebAppPolicyHolder,
} from '../../src/webapps/policy.js';
import { tempDir } from '../gate/nginx-helpers.js';

const ID = '4d6f7e0a-1b2c-4d3e-8f90-123456789abc';

test('a valid policy: codes, ids (case-insensitive), modes and default', () => {
  const { policy, problems } = parseWebAppPolicy({
    default: 'authenticated',
    contact: 'help desk',
    apps: { Abc123: 'public', [ID.toUpperCase()]: { groups: ['finance', 'finance'] }, Hr1: { roles: ['hr'] } },
  });
  assert.deepEqual(problems, []);
  assert.equal(modeFor(policy!, 'Abc123', undefined), 'public');
  assert.equal(modeFor(policy!, 'abc123', undefined), 'authenticated', 'app codes are case-sensitive');
  assert.deepEqual(modeFor(policy!, 'Other', ID), { groups: ['finance'] });
  assert.deepEqual(modeFor(policy!, 'Hr1', ID), { roles: ['hr'] }, 'the code entry wins over the id entry');
  assert.equal(policy!.contact, 'help desk');
});

test('every problem is listed once', () => {
  const cases: [unknown, string[]][] = [
    [[], ['the document must be an object with "default" and "apps"']],
    [{}, ['"default" is required (the mode of apps not listed)']],
    [{ default: 'everyone' }, ['"default" must be "public", "authenticated", {groups: [...]} or {roles: [...]}']],
    [
      {
        default: 'public',
        extra: 1,
        contact: 5,
        apps: { 'bad/key': 'public', ok1: { groups: [] }, ok2: { roles: ['a'], groups: ['b'] }, ok3: { roles: [''] } },
      },
      [
        'unknown key "extra" (allowed: default, contact, apps)',
        '"contact" must be a string of at most 500 characters',
        'apps key "bad/key" is neither an app code (1–64 letters and digits) nor an app id (UUID)',
        'apps["ok1"].groups must be a non-empty list of names',
        'apps["ok2"] must be "public", "authenticated", {groups: [...]} or {roles: [...]}',
        'apps["ok3"].roles must be a non-empty list of names',
      ],
    ],
    [{ default: 'public', apps: [] }, ['"apps" must be an object of app code or app id → mode']],
    [
      { default: 'public', apps: { [ID]: 'public', [ID.toUpperCase()]: 'authenticated' } },
      [`apps key "${ID.toUpperCase()}" is listed twice`],
    ],
  ];
  for (const [doc, expected] of cases) {
    const r = parseWebAppPolicy(doc);
    assert.equal(r.policy, undefined);
    assert.deepEqual(r.problems, expected);
  }
});

test('files: YAML and JSON load; an invalid or unreadable file throws ERR_CONFIG_WEBAPP_POLICY; a failed reload keeps the old policy', () => {
  const dir = tempDir();
  const y = join(dir, 'p.yaml');
  writeFileSync(y, 'default: public\napps:\n  Abc: { roles: [hr] }\n');
  assert.deepEqual(modeFor(loadWebAppPolicy(y), 'Abc', undefined), { roles: ['hr'] });
  const j = join(dir, 'p.json');
  writeFileSync(j, '{"default": "authenticated"}');
  assert.equal(loadWebAppPolicy(j).default, 'authenticated');
  writeFileSync(j, '{"default": ');
  assert.throws(
    () => loadWebAppPolicy(j),
    (e: unknown) =>
      e instanceof WebAppPolicyError && e.code === 'ERR_CONFIG_WEBAPP_POLICY' && e.problems[0] === 'is not valid JSON',
  );
  assert.throws(
    () => loadWebAppPolicy(join(dir, 'missing.yaml')),
    (e: unknown) => e instanceof WebAppPolicyError && /cannot be read \(ENOENT\)/.test(e.problems[0] ?? ''),
  );
  writeFileSync(y, 'a: &x 1\nb: *x\n');
  assert.throws(() => loadWebAppPolicy(y), WebAppPolicyError, 'YAML aliases are refused');
  writeFileSync(y, 'default: public\n');
  const h = new WebAppPolicyHolder(y);
  writeFileSync(y, 'default: nope\n');
  assert.throws(() => h.reload(), WebAppPolicyError);
  assert.equal(h.current.default, 'public');
});

test('access: public, authenticated, groups, roles; no session is login_required', () => {
  const p = { groups: ['finance'], roles: ['hr'] };
  assert.equal(accessDenial('public', undefined), undefined);
  assert.equal(accessDenial('authenticated', undefined), 'webapp_login_required');
  assert.equal(accessDenial('authenticated', p), undefined);
  assert.equal(accessDenial({ groups: ['finance'] }, p), undefined);
  assert.equal(accessDenial({ groups: ['sales'] }, p), 'webapp_group_required');
  assert.equal(accessDenial({ roles: ['hr'] }, p), undefined);
  assert.equal(accessDenial({ roles: ['admin'] }, p), 'webapp_role_required');
});
