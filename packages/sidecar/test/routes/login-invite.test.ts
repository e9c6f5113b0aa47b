/**
 * GET /sso/login carries a Dify invitation token (the console plugin's button forwards the
 * sign-in page's `invite_token`) through the sealed transaction to the after-login hooks;
 * malformed tokens are dropped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HostileOp } from '../helpers/hostile-op.js';
import { absorb, cookieHeader, makeApp, type Jar } from '../helpers/harness.js';

async function loginWith(query: string): Promise<string | undefined> {
  const op = await HostileOp.start();
  let seen: string | undefined = 'hook not called';
  const t = await makeApp(op, {}, {}, (app) => app.sso.addAfterLoginHook((ctx) => void (seen = ctx.inviteToken)));
  try {
    const jar: Jar = new Map();
    const res = await t.app.inject({ method: 'GET', url: `/sso/login?${query}` });
    absorb(jar, res);
    assert.equal(res.statusCode, 302);
    assert.equal(String(res.headers.location).includes('invite'), false, 'the invitation never travels to the IdP');
    const q = op.authorize(String(res.headers.location), {
      sub: 'alice',
      claims: { email: 'alice@example.com', email_verified: true },
    });
    const cb = await t.app.inject({ method: 'GET', url: `/sso/callback${q}`, headers: { cookie: cookieHeader(jar) } });
    assert.equal(cb.statusCode, 302);
    assert.equal(cb.headers.location, '/apps');
    return seen;
  } finally {
    await t.app.close();
    await op.close();
  }
}

test('invite_token on /sso/login reaches the after-login hook', async () => {
  assert.equal(await loginWith('redirect=%2Fapps&invite_token=inv-123'), 'inv-123');
});

test('no invite_token: the hook sees none', async () => {
  assert.equal(await loginWith('redirect=%2Fapps'), undefined);
});

test('a malformed invite_token is dropped', async () => {
  assert.equal(await loginWith('redirect=%2Fapps&invite_token=%3Cscript%3E'), undefined);
});
