/**
 * Issue 12: group changes at the IdP take effect at the next liveness refresh (the web-app
 * policy reads the session's groups and roles).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { login, makeApp } from '../helpers/harness.js';
import { accessDenial } from '../../src/webapps/policy.js';

let op: HostileOp;
before(async () => {
  op = await HostileOp.start();
});
after(async () => {
  await op.close();
});

test('the liveness refresh replaces the session groups with those of the refreshed ID token', async () => {
  let clock = Date.now();
  const a = await makeApp(op, { DIFY_SSO_SESSION_LIVENESS_REFRESH_SECONDS: '60' }, { now: () => clock });
  op.now = () => clock;
  try {
    const r = await login(a.app, op, { user: { sub: 'grp-1', claims: { groups: ['finance'] } } });
    const c = { '__Host-dify_sso': r.jar.get('__Host-dify_sso')! };
    const check = () => a.app.sso.checkSession({ cookies: c } as never);
    const first = await check();
    assert.ok(first.ok);
    assert.deepEqual(first.session.claims.groups, ['finance']);
    assert.equal(accessDenial({ groups: ['finance'] }, first.session.claims), undefined);
    op.scenario.refreshIdClaims = (claims) => ({ ...claims, groups: ['sales'] });
    clock += 61_000;
    const second = await check();
    assert.ok(second.ok);
    assert.deepEqual(second.session.claims.groups, ['sales']);
    assert.equal(accessDenial({ groups: ['finance'] }, second.session.claims), 'webapp_group_required');
  } finally {
    op.now = Date.now;
    await a.app.close();
  }
});
