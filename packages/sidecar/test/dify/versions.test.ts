import { test } from 'node:test';
import assert from 'node:assert/strict';
import { difyVersionTraits } from '../../src/dify/contract/versions.js';

const supported: [string, boolean][] = [
  ['1.11.0', false],
  ['1.12.1', false],
  ['1.13.3', false],
  ['1.14.0', true],
  ['1.16.1', true],
  ['1.17.1', true],
  ['1.16.0-rc1', true],
];
for (const [v, prefix] of supported) {
  test(`Dify ${v} is supported (REDIS_KEY_PREFIX: ${prefix})`, () => {
    const t = difyVersionTraits(v);
    assert.equal(t.version, v);
    assert.equal(t.redisKeyPrefix, prefix);
  });
}

for (const v of ['1.10.1', '1.9.2', '0.15.3', '1.18.0', '2.0.0']) {
  test(`Dify ${v} is refused with ERR_DIFY_UNSUPPORTED_VERSION naming it`, () => {
    assert.throws(
      () => difyVersionTraits(v),
      (e: Error & { code?: string }) => e.code === 'ERR_DIFY_UNSUPPORTED_VERSION' && e.message.includes(v),
    );
  });
}

test('a newer minor passes only with allowNewer', () => {
  assert.equal(difyVersionTraits('1.18.0', { allowNewer: true }).redisKeyPrefix, true);
  assert.throws(() => difyVersionTraits('1.10.0', { allowNewer: true }), { code: 'ERR_DIFY_UNSUPPORTED_VERSION' });
});

for (const v of [undefined, '', 'main', 'v1', '1.x']) {
  test(`unusable X-Version ${JSON.stringify(v)} → ERR_DIFY_VERSION_UNKNOWN`, () => {
    assert.throws(() => difyVersionTraits(v), { code: 'ERR_DIFY_VERSION_UNKNOWN' });
  });
}

test('the version table holds the quirks the bridge relies on as data', () => {
  // activation also logged the invitee in before 1.11.2
  assert.equal(difyVersionTraits('1.11.0').activationIssuesLogin, true);
  assert.equal(difyVersionTraits('1.11.1').activationIssuesLogin, true);
  assert.equal(difyVersionTraits('1.11.2').activationIssuesLogin, false);
  assert.equal(difyVersionTraits('1.16.1').activationIssuesLogin, false);
  // `already_member` from 1.15
  assert.equal(difyVersionTraits('1.14.2').inviteAnswersAlreadyMember, false);
  assert.equal(difyVersionTraits('1.15.0').inviteAnswersAlreadyMember, true);
  assert.equal(difyVersionTraits('1.17.1').inviteAnswersAlreadyMember, true);
  // nothing reads a trait the table does not need
  assert.deepEqual(Object.keys(difyVersionTraits('1.16.1')).sort(), [
    'activationIssuesLogin',
    'from',
    'inviteAnswersAlreadyMember',
    'redisKeyPrefix',
    'version',
  ]);
});
