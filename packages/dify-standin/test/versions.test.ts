/**
 * Version-dependent answers of the member API, refresh and system-features, as observed on real
 * dify-api 1.12.1 and 1.16.1 (boundaries from Dify's git history, see src/version.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import defaultSeed from '../src/seed.json' with { type: 'json' };
import type { SeedData } from '../src/lib/db.js';
import { SEED_IDS } from '../src/seed-ids.js';
import { ADMIN_KEY, INTROSPECTION, standin } from './helpers.js';

const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'x-workspace-id': SEED_IDS.workspaceId };
const MEMBERS = '/console/api/workspaces/current/members';

function seedWith(extra: SeedData['accounts']): SeedData {
  const s = structuredClone(defaultSeed) as SeedData;
  s.accounts.push(...extra);
  return s;
}

type App = ReturnType<typeof standin>['app'];
const invite = (app: App, payload: unknown) =>
  app.inject({
    method: 'POST',
    url: `${MEMBERS}/invite-email`,
    headers: adminHeaders,
    payload: payload as Record<string, unknown>,
  });
const members = async (app: App) =>
  (await app.inject({ url: MEMBERS, headers: adminHeaders })).json() as { accounts: Record<string, unknown>[] };
const tokenOf = (url: string) => new URL(url, 'http://x').searchParams.get('token') ?? '';

describe('members list', () => {
  it('has no "result" key; members carry roles from 1.15.0', async (t) => {
    const a = standin({ version: '1.14.2' });
    const b = standin({ version: '1.15.0' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const old = await members(a.app);
    const neu = await members(b.app);
    assert.deepEqual(Object.keys(old), ['accounts']);
    assert.deepEqual(Object.keys(old.accounts[0] ?? {}), [
      'avatar',
      'id',
      'name',
      'email',
      'last_login_at',
      'last_active_at',
      'created_at',
      'role',
      'status',
      'avatar_url',
    ]);
    assert.deepEqual(Object.keys(neu.accounts[0] ?? {}), [
      'avatar',
      'id',
      'name',
      'email',
      'last_login_at',
      'last_active_at',
      'created_at',
      'role',
      'roles',
      'status',
      'avatar_url',
    ]);
    const owner = neu.accounts.find((m) => m['role'] === 'owner');
    assert.deepEqual(owner?.['roles'], [{ id: 'owner', name: 'owner' }]);
  });
});

describe('invite-email role and list validation', () => {
  const cases: [string, unknown, number, unknown][] = [
    ['1.12.1', { emails: ['x@example.com'], role: 'owner' }, 400, { code: 'invalid-role', message: 'Invalid role' }],
    [
      '1.15.0',
      { emails: ['x@example.com'], role: 'superuser' },
      400,
      { code: 'invalid-role', message: 'Invalid role' },
    ],
    [
      '1.16.1',
      { emails: ['x@example.com'], role: 'owner' },
      400,
      { code: 'invalid_role', message: 'Invalid role.', status: 400 },
    ],
    [
      '1.16.1',
      { emails: ['x@example.com'], role: 'superuser' },
      400,
      { code: 'invalid_role', message: 'Invalid role.', status: 400 },
    ],
  ];
  for (const [version, payload, status, body] of cases) {
    it(`${version} ${JSON.stringify(payload)}`, async (t) => {
      const s = standin({ version });
      t.after(() => s.close());
      const r = await invite(s.app, payload);
      assert.equal(r.statusCode, status);
      assert.deepEqual(r.json(), body);
    });
  }

  it('1.12.1: an unknown role fails the payload schema (enum)', async (t) => {
    const s = standin({ version: '1.12.1' });
    t.after(() => s.close());
    const r = await invite(s.app, { emails: ['x@example.com'], role: 'superuser' });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().code, 'invalid_param');
    assert.match(r.json().message, /Input should be 'owner', 'admin', 'editor', 'normal' or 'dataset_operator'/);
  });

  it('emails: [] is an empty success before 1.16.0 and a schema error from 1.16.0', async (t) => {
    const a = standin({ version: '1.12.1' });
    const b = standin({ version: '1.16.1' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const old = await invite(a.app, { emails: [], role: 'editor' });
    assert.equal(old.statusCode, 201);
    assert.deepEqual(old.json(), { result: 'success', invitation_results: [], tenant_id: SEED_IDS.workspaceId });
    const neu = await invite(b.app, { emails: [], role: 'editor' });
    assert.equal(neu.statusCode, 400);
    assert.equal(neu.json().code, 'invalid_param');
    assert.match(neu.json().message, /at least 1 item/);
  });

  it('mixed-case addresses: lower-cased from 1.11.3, kept as typed (and matched exactly) before', async (t) => {
    const a = standin({ version: '1.11.0' });
    const b = standin({ version: '1.12.1' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const old = (await invite(a.app, { emails: ['Bob@Example.com'], role: 'editor' })).json().invitation_results[0];
    assert.equal(old.email, 'Bob@Example.com');
    assert.match(old.url, /email=Bob%40Example\.com&/);
    await invite(a.app, { emails: ['bob@example.com'], role: 'editor' });
    assert.deepEqual(
      (await members(a.app)).accounts
        .filter((m) => String(m['email']).toLowerCase() === 'bob@example.com')
        .map((m) => m['name']),
      ['Bob', 'bob'],
    );
    const neu = (await invite(b.app, { emails: ['Bob@Example.com'], role: 'editor' })).json().invitation_results[0];
    assert.equal(neu.email, 'bob@example.com');
    assert.equal((await members(b.app)).accounts.find((m) => m['email'] === 'bob@example.com')?.['name'], 'bob');
  });

  it('inviting oneself is a per-address failure', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const r = await invite(s.app, { emails: ['owner@example.com'], role: 'editor' });
    assert.equal(r.statusCode, 201);
    assert.deepEqual(r.json().invitation_results, [
      { status: 'failed', email: 'owner@example.com', message: 'Cannot operate self.' },
    ]);
  });
});

describe('inviting existing accounts', () => {
  it('1.16.1: an active member answers already_member, its role unchanged', async (t) => {
    const s = standin({ version: '1.16.1' });
    t.after(() => s.close());
    const r = await invite(s.app, { emails: ['Alice@Example.com'], role: 'admin' });
    assert.deepEqual(r.json().invitation_results, [
      { status: 'already_member', email: 'alice@example.com', message: 'Account already in workspace.' },
    ]);
    assert.equal((await members(s.app)).accounts.find((m) => m['email'] === 'alice@example.com')?.['role'], 'normal');
  });

  it('1.12.1: an active member answers success with the sign-in URL', async (t) => {
    const s = standin({ version: '1.12.1', consoleWebUrl: 'http://console.test' });
    t.after(() => s.close());
    const r = await invite(s.app, { emails: ['alice@example.com'], role: 'admin' });
    assert.deepEqual(r.json().invitation_results, [
      { status: 'success', email: 'alice@example.com', url: 'http://console.test/signin' },
    ]);
  });

  it('1.16.1: an active non-member gets a token, joins with the invited role only on activation (set-up fields optional)', async (t) => {
    const id = randomUUID();
    const s = standin({
      version: '1.16.1',
      seed: seedWith([{ id, name: 'Nora', email: 'nora@example.com', timezone: 'Europe/Berlin' }]),
    });
    t.after(() => s.close());
    const r = await invite(s.app, { emails: ['nora@example.com'], role: 'editor' });
    const res = r.json().invitation_results[0];
    assert.equal(res.status, 'success');
    const token = tokenOf(res.url);
    assert.ok(token);
    assert.equal(
      (await members(s.app)).accounts.some((m) => m['id'] === id),
      false,
      'not joined yet',
    );
    const stored = JSON.parse((await s.redis.get(`${s.prefix}:member_invite:token:${token}`)) ?? '{}');
    assert.deepEqual(stored, {
      account_id: id,
      email: 'nora@example.com',
      workspace_id: SEED_IDS.workspaceId,
      role: 'editor',
      requires_setup: false,
    });
    const check = await s.app.inject({ url: `/console/api/activate/check?email=nora%40example.com&token=${token}` });
    assert.deepEqual(check.json(), {
      is_valid: true,
      data: {
        workspace_name: 'Example Workspace',
        workspace_id: SEED_IDS.workspaceId,
        email: 'nora@example.com',
        account_status: 'active',
        requires_setup: false,
      },
    });
    const act = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { email: 'nora@example.com', token },
    });
    assert.equal(act.statusCode, 200, act.body);
    const joined = (await members(s.app)).accounts.find((m) => m['id'] === id);
    assert.equal(joined?.['role'], 'editor');
    assert.equal(joined?.['name'], 'Nora', 'set-up fields untouched for an active account');
  });

  it('1.16.1: a pending invitee re-invited gets a second token; both stay valid until used', async (t) => {
    const s = standin({ version: '1.16.1' });
    t.after(() => s.close());
    const first = tokenOf(
      (await invite(s.app, { emails: ['bob@example.com'], role: 'editor' })).json().invitation_results[0].url,
    );
    const second = tokenOf(
      (await invite(s.app, { emails: ['bob@example.com'], role: 'admin' })).json().invitation_results[0].url,
    );
    assert.notEqual(first, second);
    assert.equal(
      (await members(s.app)).accounts.find((m) => m['email'] === 'bob@example.com')?.['role'],
      'editor',
      're-invite does not change the role',
    );
    // a pending account must set itself up: missing fields → 403, token kept
    const bare = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { email: 'bob@example.com', token: first },
    });
    assert.equal(bare.statusCode, 403);
    assert.equal(bare.json().code, 'already_activate');
    const ok = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { email: 'bob@example.com', token: first, name: 'Bob', interface_language: 'en-US', timezone: 'UTC' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    // the other token still checks valid (account active now); the account stays a member
    const check = await s.app.inject({ url: `/console/api/activate/check?token=${second}` });
    assert.equal(check.json().is_valid, true);
    assert.equal(check.json().data.account_status, 'active');
  });

  it('1.12.1: activation requires name, interface_language and timezone (schema)', async (t) => {
    const s = standin({ version: '1.12.1' });
    t.after(() => s.close());
    const token = tokenOf(
      (await invite(s.app, { emails: ['bob@example.com'], role: 'editor' })).json().invitation_results[0].url,
    );
    const check = await s.app.inject({ url: `/console/api/activate/check?email=bob%40example.com&token=${token}` });
    assert.deepEqual(Object.keys(check.json().data), ['workspace_name', 'workspace_id', 'email']);
    const bare = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { email: 'bob@example.com', token },
    });
    assert.equal(bare.statusCode, 400);
    assert.equal(bare.json().code, 'invalid_param');
    assert.match(bare.json().message, /^3 validation errors for ActivatePayload/);
  });

  it('1.11.0: activation logs the invitee in (token triple in the body, last login set)', async (t) => {
    const s = standin({ version: '1.11.0' });
    const id = { value: '' };
    t.after(async () => {
      // before 1.14.0 REDIS_KEY_PREFIX is ignored: remove the unprefixed refresh keys
      const rt = await s.redis.get(`account_refresh_token:${id.value}`);
      await s.redis.del(`account_refresh_token:${id.value}`, `refresh_token:${rt}`);
      await s.close();
    });
    const token = tokenOf(
      (await invite(s.app, { emails: ['bob@example.com'], role: 'editor' })).json().invitation_results[0].url,
    );
    const act = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { email: 'bob@example.com', token, name: 'Bob', interface_language: 'en-US', timezone: 'UTC' },
    });
    assert.equal(act.statusCode, 200, act.body);
    assert.deepEqual(Object.keys(act.json().data), ['access_token', 'refresh_token', 'csrf_token']);
    assert.equal(act.headers['set-cookie'], undefined);
    const bob = (await members(s.app)).accounts.find((m) => m['email'] === 'bob@example.com');
    id.value = String(bob?.['id']);
    assert.equal(typeof bob?.['last_login_at'], 'number');
  });

  it('workspace_id together with email is looked up under the legacy key: never valid, token not consumed', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const token = tokenOf(
      (await invite(s.app, { emails: ['bob@example.com'], role: 'editor' })).json().invitation_results[0].url,
    );
    const q = `workspace_id=${SEED_IDS.workspaceId}&email=bob%40example.com&token=${token}`;
    assert.deepEqual((await s.app.inject({ url: `/console/api/activate/check?${q}` })).json(), { is_valid: false });
    const act = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: {
        workspace_id: SEED_IDS.workspaceId,
        email: 'bob@example.com',
        token,
        name: 'Bob',
        interface_language: 'en-US',
        timezone: 'UTC',
      },
    });
    assert.equal(act.statusCode, 403);
    assert.deepEqual(act.json(), {
      code: 'already_activate',
      message: 'Auth Token is invalid or account already activated, please check again.',
      status: 403,
    });
    // token alone (or email + token) still works
    assert.equal((await s.app.inject({ url: `/console/api/activate/check?token=${token}` })).json().is_valid, true);
    const missing = await s.app.inject({ url: '/console/api/activate/check' });
    assert.equal(missing.statusCode, 400);
    assert.equal(missing.json().code, 'invalid_param');
    const badTz = await s.app.inject({
      method: 'POST',
      url: '/console/api/activate',
      payload: { token, name: 'Bob', interface_language: 'en-US', timezone: 'Mars/Base' },
    });
    assert.equal(badTz.statusCode, 400);
    assert.match(badTz.json().message, /Mars\/Base is not a valid timezone/);
  });
});

describe('update-role and delete', () => {
  it('1.16.1: dedicated codes without status', async (t) => {
    const s = standin({ version: '1.16.1' });
    t.after(() => s.close());
    const put = (id: string, role: string) =>
      s.app.inject({ method: 'PUT', url: `${MEMBERS}/${id}/update-role`, headers: adminHeaders, payload: { role } });
    assert.deepEqual((await put(SEED_IDS.aliceId, 'normal')).json(), {
      code: 'role-already-assigned',
      message: 'The provided role is already assigned to the member.',
    });
    const self = await put(SEED_IDS.ownerId, 'admin');
    assert.equal(self.statusCode, 400);
    assert.deepEqual(self.json(), { code: 'cannot-operate-self', message: 'Cannot operate self.' });
    const unknown = randomUUID();
    const nf = await put(unknown, 'admin');
    assert.equal(nf.statusCode, 404);
    assert.equal(nf.json().code, 'not_found');
    assert.match(nf.json().message, /You have requested this URI \[.*\] but did you mean .*update-role \?$/);
    const notUuid = await put('not-a-uuid', 'admin');
    assert.equal(notUuid.statusCode, 404);
    assert.match(String(notUuid.headers['content-type']), /^text\/html/);
    const missing = await s.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.aliceId}/update-role`,
      headers: adminHeaders,
      payload: {},
    });
    assert.equal(missing.json().code, 'invalid_param');
  });

  it('1.12.1: every service error is 400 invalid_param', async (t) => {
    const s = standin({ version: '1.12.1' });
    t.after(() => s.close());
    const r = await s.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.ownerId}/update-role`,
      headers: adminHeaders,
      payload: { role: 'admin' },
    });
    assert.deepEqual(r.json(), { code: 'invalid_param', message: 'Cannot operate self.', status: 400 });
  });

  it('admins may manage non-owner members from 1.14.2 (403 forbidden on the owner), not before', async (t) => {
    const s = standin({ version: '1.16.1', seed: seedWith([]) });
    const old = standin({ version: '1.14.1' });
    t.after(() => Promise.all([s.close(), old.close()]));
    // make Alice an admin, then act as Alice with her own (minted) session
    for (const x of [s, old]) {
      await x.app.inject({
        method: 'PUT',
        url: `${MEMBERS}/${SEED_IDS.aliceId}/update-role`,
        headers: adminHeaders,
        payload: { role: 'admin' },
      });
    }
    const login = async (x: typeof s) => {
      const r = await x.app.inject({
        method: 'POST',
        url: '/console/api/login',
        payload: { email: 'alice@example.com', password: Buffer.from('alice-local-password').toString('base64') },
      });
      const cookies = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
      const jar = cookies.map((c) => c.split(';')[0]).join('; ');
      const csrf = /csrf_token=([^;]+)/.exec(jar)?.[1] ?? '';
      return { cookie: jar, 'x-csrf-token': csrf };
    };
    const h = await login(s);
    const ok = await s.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.daveId}/update-role`,
      headers: h,
      payload: { role: 'editor' },
    });
    assert.equal(ok.statusCode, 200, ok.body);
    const onOwner = await s.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.ownerId}/update-role`,
      headers: h,
      payload: { role: 'admin' },
    });
    assert.equal(onOwner.statusCode, 403);
    assert.deepEqual(onOwner.json(), { code: 'forbidden', message: 'No permission to update member.' });
    const grantOwner = await s.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.daveId}/update-role`,
      headers: h,
      payload: { role: 'owner' },
    });
    assert.equal(grantOwner.statusCode, 403);
    const removeOwner = await s.app.inject({ method: 'DELETE', url: `${MEMBERS}/${SEED_IDS.ownerId}`, headers: h });
    assert.deepEqual(removeOwner.json(), { code: 'forbidden', message: 'No permission to remove member.' });
    const removeDave = await s.app.inject({ method: 'DELETE', url: `${MEMBERS}/${SEED_IDS.daveId}`, headers: h });
    assert.equal(removeDave.statusCode, 200, removeDave.body);

    const ho = await login(old);
    const before = await old.app.inject({
      method: 'PUT',
      url: `${MEMBERS}/${SEED_IDS.daveId}/update-role`,
      headers: ho,
      payload: { role: 'editor' },
    });
    assert.deepEqual(before.json(), { code: 'invalid_param', message: 'No permission to update member.', status: 400 });
    const delBefore = await old.app.inject({ method: 'DELETE', url: `${MEMBERS}/${SEED_IDS.daveId}`, headers: ho });
    assert.equal(delBefore.statusCode, 403);
  });
});

describe('refresh of a banned account', () => {
  for (const [version, message] of [
    ['1.12.1', '401 Unauthorized: Account is banned.'],
    ['1.16.1', 'Account is banned.'],
  ] as const) {
    it(`${version}: "${message}", keys kept`, async (t) => {
      const banned = randomUUID();
      const s = standin({
        version,
        seed: seedWith([
          {
            id: banned,
            name: 'Ben',
            email: `ben-${banned}@example.com`,
            status: 'banned',
            memberships: [{ workspaceId: SEED_IDS.workspaceId, role: 'normal' }],
          },
        ]),
      });
      const rt = `rt-${banned}`;
      // before 1.14.0 the prefix is ignored
      const key = version === '1.12.1' ? `refresh_token:${rt}` : `${s.prefix}:refresh_token:${rt}`;
      t.after(async () => {
        await s.redis.del(`refresh_token:${rt}`);
        await s.close();
      });
      await s.redis.setex(key, 60, banned);
      const r = await s.app.inject({
        method: 'POST',
        url: '/console/api/refresh-token',
        headers: { cookie: `refresh_token=${rt}` },
      });
      assert.equal(r.statusCode, 401);
      assert.deepEqual(r.json(), { result: 'fail', message });
      assert.equal(await s.redis.get(key), banned);
    });
  }
});

describe('system-features field sets', () => {
  const keys = async (version: string) => {
    const s = standin({ version });
    try {
      return Object.keys((await s.app.inject({ url: '/console/api/system-features' })).json());
    } finally {
      await s.close();
    }
  };

  it('1.12.1 (observed)', async () => {
    assert.deepEqual(await keys('1.12.1'), [
      'sso_enforced_for_signin',
      'sso_enforced_for_signin_protocol',
      'enable_marketplace',
      'max_plugin_package_size',
      'enable_email_code_login',
      'enable_email_password_login',
      'enable_social_oauth_login',
      'is_allow_register',
      'is_allow_create_workspace',
      'is_email_setup',
      'license',
      'branding',
      'webapp_auth',
      'plugin_installation_permission',
      'enable_change_email',
      'plugin_manager',
      'trial_models',
      'enable_trial_app',
      'enable_explore_banner',
    ]);
  });

  it('1.16.1 (observed)', async () => {
    assert.deepEqual(await keys('1.16.1'), [
      'deployment_edition',
      'enable_app_deploy',
      'sso_enforced_for_signin',
      'sso_enforced_for_signin_protocol',
      'enable_marketplace',
      'enable_email_code_login',
      'enable_email_password_login',
      'enable_social_oauth_login',
      'enable_collaboration_mode',
      'is_allow_register',
      'is_email_setup',
      'license',
      'branding',
      'webapp_auth',
      'plugin_installation_permission',
      'enable_change_email',
      'enable_creators_platform',
      'enable_explore_banner',
      'enable_learn_app',
      'enable_step_by_step_tour',
      'rbac_enabled',
      'knowledge_fs_enabled',
    ]);
    const s = standin({ version: '1.16.1' });
    const b = (await s.app.inject({ url: '/console/api/system-features' })).json();
    await s.close();
    assert.equal(b.webapp_auth.allow_public_access, true);
    assert.equal(b.enable_collaboration_mode, true);
  });

  it("1.14.x and 1.15.0 (from the model in Dify's history)", async () => {
    const k14 = await keys('1.14.2');
    assert.equal(k14[0], 'app_dsl_version');
    assert.ok(
      k14.includes('trial_models') && k14.includes('enable_creators_platform') && !k14.includes('rbac_enabled'),
    );
    const k15 = await keys('1.15.0');
    assert.equal(k15[0], 'enable_app_deploy');
    assert.ok(
      k15.includes('rbac_enabled') &&
        k15.includes('max_plugin_package_size') &&
        !k15.includes('trial_models') &&
        !k15.includes('deployment_edition'),
    );
  });

  it('1.16.1 serves the licence detail behind login; older versions do not have the route', async (t) => {
    const a = standin({ version: '1.16.1' });
    const b = standin({ version: '1.16.0' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const anon = await a.app.inject({ url: '/console/api/system-features/license' });
    assert.equal(anon.statusCode, 401);
    assert.equal(anon.json().message, 'Invalid Authorization token.');
    const ok = await a.app.inject({ url: '/console/api/system-features/license', headers: adminHeaders });
    assert.deepEqual(ok.json(), { status: 'none', expired_at: '', workspaces: { enabled: false, size: 0, limit: 0 } });
    assert.equal((await b.app.inject({ url: '/console/api/system-features/license' })).statusCode, 404);
  });

  it('max_plugin_package_size is the 15 MiB default', async (t) => {
    const s = standin({ version: '1.12.1' });
    t.after(() => s.close());
    assert.equal(
      (await s.app.inject({ url: '/console/api/system-features' })).json().max_plugin_package_size,
      15728640,
    );
  });
});

describe('transport details', () => {
  it('401s from the error handler carry WWW-Authenticate; the anonymous-user 401 does not', async (t) => {
    const lonely = randomUUID();
    const s = standin({ seed: seedWith([{ id: lonely, name: 'Lonely', email: 'lonely@example.com' }]) });
    t.after(() => s.close());
    const none = await s.app.inject({ url: '/console/api/account/profile' });
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="api"');
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode('standin-test-secret-key-0123456789');
    const now = Math.floor(Date.now() / 1000);
    const access = await new SignJWT({ user_id: lonely, exp: now + 600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(key);
    const anon = await s.app.inject({
      url: '/console/api/account/profile',
      headers: { cookie: `access_token=${access}` },
    });
    assert.equal(anon.statusCode, 401);
    assert.deepEqual(anon.json(), { code: 'unauthorized', message: 'Unauthorized.' });
    assert.equal(anon.headers['www-authenticate'], undefined);
  });

  it('CORS headers for the console origin; Vary: Cookie from 1.16.0', async (t) => {
    const a = standin({ version: '1.16.1', consoleWebUrl: 'https://console.example.com/x' });
    const b = standin({ version: '1.12.1', consoleWebUrl: 'https://console.example.com' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const r = await a.app.inject({ url: '/console/api/setup' });
    assert.equal(r.headers['access-control-allow-origin'], 'https://console.example.com');
    assert.equal(r.headers['access-control-allow-credentials'], 'true');
    assert.equal(r.headers['access-control-expose-headers'], 'X-Env, X-Trace-Id, X-Version');
    assert.equal(r.headers['vary'], 'Cookie');
    assert.equal((await b.app.inject({ url: '/console/api/setup' })).headers['vary'], undefined);
    const pre = await a.app.inject({ method: 'OPTIONS', url: '/console/api/account/profile' });
    assert.equal(pre.statusCode, 200);
    assert.equal(pre.body, '');
  });

  it("unknown paths answer Werkzeug's HTML 404 page; introspection without the secret too", async (t) => {
    const s = standin();
    t.after(() => s.close());
    for (const url of ['/console/api/enterprise/sso/oidc/login', '/__standin/accounts']) {
      const r = await s.app.inject({ url });
      assert.equal(r.statusCode, 404);
      assert.match(String(r.headers['content-type']), /^text\/html; charset=utf-8/);
      assert.match(r.body, /^<!doctype html>\n<html lang=en>\n<title>404 Not Found<\/title>/);
    }
    assert.equal(
      (await s.app.inject({ url: '/__standin/accounts', headers: { 'x-standin-secret': INTROSPECTION } })).statusCode,
      200,
    );
  });

  it('setup_at is a naive ISO timestamp in whole seconds', async (t) => {
    const s = standin();
    t.after(() => s.close());
    assert.match(
      (await s.app.inject({ url: '/console/api/setup' })).json().setup_at,
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
    );
  });
});

describe('registration details', () => {
  it('email-register/validity takes the code in plain text; the final step answers three tokens, or 400 and a stranded account without workspace creation', async (t) => {
    const on = standin({ allowRegister: true, allowCreateWorkspace: true });
    const off = standin({ allowRegister: true, allowCreateWorkspace: false });
    t.after(() => Promise.all([on.close(), off.close()]));
    for (const [s, created] of [
      [on, true],
      [off, false],
    ] as const) {
      const mail = `reg-${randomUUID()}@example.com`;
      const sent = await s.app.inject({
        method: 'POST',
        url: '/console/api/email-register/send-email',
        payload: { email: mail, language: 'en-US' },
      });
      const outbox = await s.app.inject({
        url: `/__standin/outbox?to=${encodeURIComponent(mail)}`,
        headers: { 'x-standin-secret': INTROSPECTION },
      });
      const code = outbox.json().messages[0].code as string;
      const b64 = await s.app.inject({
        method: 'POST',
        url: '/console/api/email-register/validity',
        payload: { email: mail, code: Buffer.from(code).toString('base64'), token: sent.json().data },
      });
      assert.equal(b64.json().code, 'email_code_error');
      const valid = await s.app.inject({
        method: 'POST',
        url: '/console/api/email-register/validity',
        payload: { email: mail, code, token: sent.json().data },
      });
      assert.equal(valid.json().is_valid, true, valid.body);
      const pw = Buffer.from('Reg-passw0rd').toString('base64');
      const done = await s.app.inject({
        method: 'POST',
        url: '/console/api/email-register',
        payload: { token: valid.json().token, new_password: pw, password_confirm: pw },
      });
      const accounts = (
        await s.app.inject({
          url: `/__standin/accounts?email=${encodeURIComponent(mail)}`,
          headers: { 'x-standin-secret': INTROSPECTION },
        })
      ).json().accounts;
      assert.equal(accounts.length, 1, 'the account exists either way');
      if (created) {
        assert.equal(done.statusCode, 200, done.body);
        assert.deepEqual(Object.keys(done.json().data), ['access_token', 'refresh_token', 'csrf_token']);
      } else {
        assert.equal(done.statusCode, 400);
        assert.deepEqual(done.json(), { code: 'invalid_param', message: '', status: 400 });
      }
    }
  });
});

describe('other console endpoints', () => {
  it("setup creates the owner with the language's timezone; GET /workspaces, /version, /init, /account/init", async (t) => {
    const a = standin({
      version: '1.16.1',
      seed: { setup: null, workspaces: [], accounts: [] },
      enableEmailPasswordLogin: true,
    });
    const b = standin({ version: '1.12.1' });
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.app.inject({
      method: 'POST',
      url: '/console/api/setup',
      payload: { email: 'root@example.com', name: 'Root', password: 'Root-passw0rd', language: 'en-US' },
    });
    const login = await a.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'root@example.com', password: Buffer.from('Root-passw0rd').toString('base64') },
    });
    const jar = ([] as string[])
      .concat(login.headers['set-cookie'] ?? [])
      .map((c) => c.split(';')[0])
      .join('; ');
    const h = { cookie: jar, 'x-csrf-token': /csrf_token=([^;]+)/.exec(jar)?.[1] ?? '' };
    const profile = (await a.app.inject({ url: '/console/api/account/profile', headers: h })).json();
    assert.equal(profile.timezone, 'America/New_York');
    const ws = (await a.app.inject({ url: '/console/api/workspaces', headers: h })).json();
    assert.equal(ws.workspaces.length, 1);
    assert.deepEqual(Object.keys(ws.workspaces[0]), [
      'id',
      'name',
      'plan',
      'status',
      'created_at',
      'last_opened_at',
      'current',
    ]);
    assert.equal(ws.workspaces[0].plan, 'sandbox');
    assert.equal(ws.workspaces[0].current, true);
    const init = await a.app.inject({ method: 'POST', url: '/console/api/account/init', headers: h, payload: {} });
    assert.equal(init.statusCode, 400);
    assert.equal(init.json().code, 'account_already_inited');
    assert.deepEqual((await a.app.inject({ url: '/console/api/init' })).json(), { status: 'finished' });
    const initPost = await a.app.inject({ method: 'POST', url: '/console/api/init', payload: { password: 'x' } });
    assert.equal(initPost.statusCode, 403);
    assert.equal(initPost.json().error.type, 'authorization_error');
    const v = (await b.app.inject({ url: '/console/api/version?current_version=1.0.0' })).json();
    assert.deepEqual(v, {
      version: '1.12.1',
      release_date: '',
      release_notes: '',
      can_auto_update: false,
      features: { can_replace_logo: false, model_load_balancing_enabled: false },
    });
  });

  it('a known path with another method → 405 JSON', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const r = await s.app.inject({ url: '/console/api/logout' });
    assert.equal(r.statusCode, 405);
    assert.deepEqual(r.json(), {
      code: 'method_not_allowed',
      message: 'The method is not allowed for the requested URL.',
      status: 405,
    });
  });

  it('logout with a valid access token of an account without a workspace → 400 invalid_param', async (t) => {
    const lonely = randomUUID();
    const s = standin({ seed: seedWith([{ id: lonely, name: 'Lonely', email: 'lonely@example.com' }]) });
    t.after(() => s.close());
    const { SignJWT } = await import('jose');
    const key = new TextEncoder().encode('standin-test-secret-key-0123456789');
    const access = await new SignJWT({ user_id: lonely, exp: Math.floor(Date.now() / 1000) + 600 })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .sign(key);
    const r = await s.app.inject({
      method: 'POST',
      url: '/console/api/logout',
      headers: { cookie: `access_token=${access}` },
    });
    assert.equal(r.statusCode, 400);
    assert.deepEqual(r.json(), {
      code: 'invalid_param',
      message: 'current_user must be an Account instance',
      status: 400,
    });
    assert.equal(r.headers['set-cookie'], undefined);
  });
});

describe('password reset mails', () => {
  it('one per address per minute across /forgot-password and /reset-password (injected clock)', async (t) => {
    let now = Date.now();
    const s = standin({ now: () => now });
    t.after(() => s.close());
    const send = (path: string, email = 'alice@example.com') =>
      s.app.inject({ method: 'POST', url: `/console/api/${path}`, payload: { email, language: 'en-US' } });
    assert.equal((await send('forgot-password')).statusCode, 200);
    const again = await send('reset-password');
    assert.equal(again.statusCode, 429);
    assert.deepEqual(again.json(), {
      code: 'password_reset_rate_limit_exceeded',
      message: 'Too many password reset emails have been sent. Please try again in 1 minutes.',
      status: 429,
    });
    assert.equal(
      (await send('forgot-password', 'dave@example.com')).statusCode,
      200,
      'other addresses are independent',
    );
    now += 61_000;
    assert.equal((await send('reset-password')).statusCode, 200);
  });
});
