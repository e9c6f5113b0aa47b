import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { login } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { SEED_IDS, USERS, redisUrlDb, setCookieValue, startBridge, startStandin, type Standin } from './helpers.js';

let op: HostileOp;
before(async () => {
  op = await HostileOp.start();
});
after(async () => {
  await op.close();
});

async function withStack(
  fn: (s: Standin, b: Awaited<ReturnType<typeof startBridge>>) => Promise<void>,
  o: { version?: string; env?: Record<string, string | undefined> } = {},
) {
  const standin = await startStandin(o.version ? { version: o.version } : {});
  const bridge = await startBridge(standin, o.env ?? {}, { op });
  try {
    await fn(standin, bridge);
  } finally {
    await bridge.close();
    await standin.close();
  }
}

test('seeding round trip: alice lands in the console with Dify cookies and her mapped role', async () => {
  await withStack(async (standin, b) => {
    const { callbackRes, jar } = await login(b.app, op, { user: USERS.alice });
    assert.equal(callbackRes.statusCode, 302);
    assert.equal(callbackRes.headers.location, '/apps');
    const setCookie = callbackRes.headers['set-cookie'];
    const access = setCookieValue(setCookie, 'access_token');
    const refresh = setCookieValue(setCookie, 'refresh_token');
    const csrf = setCookieValue(setCookie, 'csrf_token');
    assert.ok(access && refresh && csrf, 'Dify cookies relayed on the final redirect');

    // Dify itself accepts the login (the stand-in verifies its own JWT + CSRF).
    const profile = await fetch(`${standin.url}/console/api/account/profile`, {
      headers: { cookie: `access_token=${access}; csrf_token=${csrf}`, 'x-csrf-token': csrf },
    });
    assert.equal(profile.status, 200);
    assert.equal(((await profile.json()) as { id: string }).id, SEED_IDS.aliceId);

    // Role mapping applied (seed: normal → admin).
    const [acct] = await standin.accounts('alice@example.com');
    assert.equal(acct?.memberships[0]?.role, 'admin');

    // Session record: account id + hash of the (rotated) refresh token the browser holds.
    const [rec] = await b.app.sso.store.listBySub(op.issuer, USERS.alice.sub);
    assert.equal(rec?.difyAccountId, SEED_IDS.aliceId);
    assert.equal(rec?.difyRefreshTokenHash, createHash('sha256').update(refresh).digest('hex'));

    // Redis layout: `<prefix>:refresh_token:<t>` → account (REDIS_KEY_PREFIX, 1.14.0+).
    assert.equal(await standin.redis.get(`${standin.prefix}:refresh_token:${refresh}`), SEED_IDS.aliceId);
    assert.equal(await standin.redis.get(`${standin.prefix}:account_refresh_token:${SEED_IDS.aliceId}`), refresh);
    assert.equal(b.audits('dify.session.seeded').length, 1);

    // Logout ends the kit session and deletes the seeded refresh token in Dify's Redis.
    const out = await b.app.inject({
      method: 'POST',
      url: '/sso/logout',
      headers: { cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '), origin: 'https://dify.example.com' },
    });
    assert.equal(out.statusCode, 303);
    assert.equal(await standin.redis.get(`${standin.prefix}:refresh_token:${refresh}`), null);
    const again = await fetch(`${standin.url}/console/api/refresh-token`, {
      method: 'POST',
      headers: { cookie: `refresh_token=${refresh}` },
    });
    assert.equal(again.status, 401);
  });
});

test('1.13 without a key prefix: keys are unprefixed', async () => {
  // Unprefixed keys: a DB of their own (another stack on the same Redis may use DB 0 unprefixed).
  const standin = await startStandin({ version: '1.13.3', redisKeyPrefix: '', redisUrl: redisUrlDb(11) });
  const b = await startBridge(
    standin,
    { DIFY_SSO_DIFY_REDIS_KEY_PREFIX: '', DIFY_SSO_DIFY_REDIS_URL: redisUrlDb(11) },
    { op },
  );
  try {
    const { callbackRes } = await login(b.app, op, { user: USERS.alice });
    const refresh = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token');
    assert.ok(refresh);
    assert.equal(await standin.redis.get(`refresh_token:${refresh}`), SEED_IDS.aliceId);
    await standin.redis.del(`refresh_token:${refresh}`, `account_refresh_token:${SEED_IDS.aliceId}`);
  } finally {
    await b.close();
    await standin.close();
  }
});

test('a key prefix against Dify < 1.14 is refused (no login, clear reason)', async () => {
  await withStack(
    async (_s, b) => {
      const { callbackRes } = await login(b.app, op, { user: USERS.alice });
      assert.equal(callbackRes.headers.location, '/signin?message=dify_unavailable');
      assert.ok(b.logs.some((l) => l.includes('ERR_DIFY_KEY_PREFIX_UNSUPPORTED')));
    },
    { version: '1.13.3' },
  );
});

for (const version of ['1.10.1', '1.9.2']) {
  test(`Dify ${version} is refused with ERR_DIFY_UNSUPPORTED_VERSION`, async () => {
    const standin = await startStandin({ version, redisKeyPrefix: '', redisUrl: redisUrlDb(11) });
    const b = await startBridge(
      standin,
      { DIFY_SSO_DIFY_REDIS_KEY_PREFIX: '', DIFY_SSO_DIFY_REDIS_URL: redisUrlDb(11) },
      { op },
    );
    try {
      const { callbackRes } = await login(b.app, op, { user: USERS.alice });
      assert.equal(callbackRes.headers.location, '/signin?message=dify_unsupported_version');
      assert.equal(setCookieValue(callbackRes.headers['set-cookie'], 'access_token'), undefined);
      const line = b.logs.find((l) => l.includes('ERR_DIFY_UNSUPPORTED_VERSION'));
      assert.ok(line?.includes(version), 'the log names the refused version');
    } finally {
      await b.close();
      await standin.close();
    }
  });
}

test('JIT: bob is provisioned as editor on first login (invite + activate)', async () => {
  await withStack(async (standin, b) => {
    assert.deepEqual(await standin.accounts('bob@example.com'), []);
    const { callbackRes } = await login(b.app, op, { user: USERS.bob });
    assert.equal(callbackRes.headers.location, '/apps');
    const [bob] = await standin.accounts('bob@example.com');
    assert.equal(bob?.status, 'active');
    assert.equal(bob?.memberships[0]?.role, 'editor');
    assert.equal(bob?.memberships[0]?.workspace_id, SEED_IDS.workspaceId);
    assert.equal(b.audits('account.provisioned').length, 1);
    // Second login reuses the link; no second invitation.
    await login(b.app, op, { user: USERS.bob });
    assert.equal(b.audits('account.provisioned').length, 1);
    assert.equal((await standin.accounts('bob@example.com')).length, 1);
  });
});

test('Dify 1.11.0: the refresh token that activation issues as a side effect is revoked', async () => {
  // Before 1.11.2, POST /activate logs the invitee in and answers with a token pair; the kit holds
  // it for no one, so after provisioning the only live Dify refresh token is the one seeded for
  // this session. Unprefixed keys: a DB of their own.
  const standin = await startStandin({ version: '1.11.0', redisKeyPrefix: '', redisUrl: redisUrlDb(12) });
  const b = await startBridge(
    standin,
    { DIFY_SSO_DIFY_REDIS_KEY_PREFIX: '', DIFY_SSO_DIFY_REDIS_URL: redisUrlDb(12) },
    { op },
  );
  try {
    const { callbackRes } = await login(b.app, op, { user: USERS.bob });
    assert.equal(callbackRes.headers.location, '/apps');
    const [bob] = await standin.accounts('bob@example.com');
    assert.ok(bob);
    const seeded = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token');
    assert.ok(seeded);
    const live: string[] = [];
    for (const key of await standin.redis.keys('refresh_token:*'))
      if ((await standin.redis.get(key)) === bob.id) live.push(key);
    assert.deepEqual(live, [`refresh_token:${seeded}`]);
    await standin.redis.del(`refresh_token:${seeded}`, `account_refresh_token:${bob.id}`);
  } finally {
    await b.close();
    await standin.close();
  }
});

test('carol (no mapped group) is denied no_role and no Dify account is created', async () => {
  await withStack(async (standin, b) => {
    const { callbackRes } = await login(b.app, op, { user: USERS.carol });
    assert.equal(callbackRes.headers.location, '/signin?message=no_role');
    assert.deepEqual(await standin.accounts('carol@example.com'), []);
    assert.equal(setCookieValue(callbackRes.headers['set-cookie'], 'access_token'), undefined);
  });
});

test('dave (unverified e-mail) is not linked to the existing dave account', async () => {
  await withStack(async (standin, b) => {
    const { callbackRes } = await login(b.app, op, { user: USERS.dave });
    assert.equal(callbackRes.headers.location, '/signin?message=email_not_verified');
    const [dave] = await standin.accounts('dave@example.com');
    assert.equal(dave?.memberships[0]?.role, 'normal', 'existing account untouched');
    assert.equal(setCookieValue(callbackRes.headers['set-cookie'], 'access_token'), undefined);
  });
});

test('JIT off: an unknown person is denied not_provisioned', async () => {
  await withStack(
    async (standin, b) => {
      const { callbackRes } = await login(b.app, op, { user: USERS.bob });
      assert.equal(callbackRes.headers.location, '/signin?message=not_provisioned');
      assert.deepEqual(await standin.accounts('bob@example.com'), []);
    },
    { env: { DIFY_SSO_JIT: 'false' } },
  );
});

test('the owner logs in unchanged (no mapping needed, role never touched)', async () => {
  await withStack(async (standin, b) => {
    const { callbackRes } = await login(b.app, op, { user: USERS.owner });
    assert.equal(callbackRes.headers.location, '/apps');
    const [owner] = await standin.accounts('owner@example.com');
    assert.equal(owner?.memberships[0]?.role, 'owner');
    // Even when a mapping would say otherwise.
    await login(b.app, op, {
      user: { sub: USERS.owner.sub, claims: { ...USERS.owner.claims, groups: ['dify-editors'] } },
    });
    assert.equal((await standin.accounts('owner@example.com'))[0]?.memberships[0]?.role, 'owner');
    assert.equal(b.audits('account.role_changed').length, 0);
  });
});

test('role mapping runs on every login; losing the mapping denies (and removes when configured)', async () => {
  await withStack(
    async (standin, b) => {
      await login(b.app, op, { user: USERS.alice });
      assert.equal((await standin.accounts('alice@example.com'))[0]?.memberships[0]?.role, 'admin');
      await login(b.app, op, {
        user: { sub: USERS.alice.sub, claims: { ...USERS.alice.claims, groups: ['dify-editors'] } },
      });
      assert.equal((await standin.accounts('alice@example.com'))[0]?.memberships[0]?.role, 'editor');
      const changed = b.audits('account.role_changed');
      assert.equal(changed.at(-1)?.['to'], 'editor');
      const { callbackRes } = await login(b.app, op, {
        user: { sub: USERS.alice.sub, claims: { ...USERS.alice.claims, groups: [] } },
      });
      assert.equal(callbackRes.headers.location, '/signin?message=no_role');
      assert.deepEqual((await standin.accounts('alice@example.com'))[0]?.memberships, [], 'removed from the workspace');
    },
    { env: { DIFY_SSO_REMOVE_UNMAPPED: 'true' } },
  );
});

test('the (iss, sub) link wins over a changed e-mail; a linked account is not taken over by e-mail', async () => {
  await withStack(async (_s, b) => {
    await login(b.app, op, { user: USERS.alice });
    // Same person, new e-mail at the IdP: still alice's account.
    const r1 = await login(b.app, op, {
      user: { sub: USERS.alice.sub, claims: { ...USERS.alice.claims, email: 'alice.new@example.com' } },
    });
    assert.equal(r1.callbackRes.headers.location, '/apps');
    // Another identity claiming alice's verified e-mail cannot take the linked account.
    const r2 = await login(b.app, op, { user: { sub: 'kc-impostor', claims: { ...USERS.alice.claims } } });
    assert.equal(r2.callbackRes.headers.location, '/signin?message=access_denied');
  });
});

test('ending all sessions of a user (back-channel / admin) deletes the seeded refresh token', async () => {
  await withStack(async (standin, b) => {
    const { callbackRes } = await login(b.app, op, { user: USERS.alice });
    const refresh = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token') as string;
    assert.equal(await standin.redis.get(`${standin.prefix}:refresh_token:${refresh}`), SEED_IDS.aliceId);
    assert.equal(await b.app.sso.endUserSessions(USERS.alice.sub, 'backchannel'), 1);
    assert.equal(await standin.redis.get(`${standin.prefix}:refresh_token:${refresh}`), null);
    assert.equal(await standin.redis.get(`${standin.prefix}:account_refresh_token:${SEED_IDS.aliceId}`), null);
    const rev = b.audits('dify.session.revoked');
    assert.equal(rev.at(-1)?.['cause'], 'backchannel');
  });
});
