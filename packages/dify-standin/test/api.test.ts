/**
 * Stand-in behaviour that needs its SECRET_KEY, its clock or its seed (the target-agnostic
 * contract lives in contract.test.ts).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { SignJWT } from 'jose';
import defaultSeed from '../src/seed.json' with { type: 'json' };
import type { SeedData } from '../src/lib/db.js';
import { SEED_IDS } from '../src/seed-ids.js';
import { ADMIN_KEY, INTROSPECTION, SECRET, cookieHeader, cookieValue, setCookies, standin } from './helpers.js';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const key = new TextEncoder().encode(SECRET);
const sign = (payload: Record<string, unknown>, secret: Uint8Array = key) =>
  new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(secret);
const nowS = () => Math.floor(Date.now() / 1000);
const adminHeaders = { authorization: `Bearer ${ADMIN_KEY}`, 'x-workspace-id': SEED_IDS.workspaceId };

function seedWith(extra: SeedData['accounts'], setup = true): SeedData {
  const s = structuredClone(defaultSeed) as SeedData;
  s.accounts.push(...extra);
  if (!setup) s.setup = null;
  return s;
}

/** Access + CSRF cookies for an account id, minted with the stand-in's secret. */
async function tokensFor(accountId: string, extra: Record<string, unknown> = {}) {
  const access = await sign({
    user_id: accountId,
    exp: nowS() + 3600,
    iss: 'SELF_HOSTED',
    sub: 'Console API Passport',
    ...extra,
  });
  const csrf = await sign({ exp: nowS() + 3600, sub: accountId });
  return { access, csrf, cookie: `access_token=${access}; csrf_token=${csrf}` };
}

describe('password login', () => {
  it('1.16.1 takes the password base64-encoded and sets the three cookies', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const ok = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'alice@example.com', password: b64('alice-local-password') },
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { result: 'success' });
    // POST /login writes access, refresh, CSRF (refresh-token writes CSRF first)
    assert.deepEqual(
      setCookies(ok.headers).map((c) => c.split('=')[0]),
      ['access_token', 'refresh_token', 'csrf_token'],
    );
    const plain = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'alice@example.com', password: 'alice-local-password' },
    });
    assert.equal(plain.statusCode, 401);
    assert.deepEqual(plain.json(), { code: 'authentication_failed', message: 'Invalid encrypted data', status: 401 });
  });

  it('1.11.1 takes the password as plain text', async (t) => {
    // before 1.14.0 REDIS_KEY_PREFIX is ignored: a fresh account keeps parallel runs apart
    const id = randomUUID();
    const email = `p-${id}@example.com`;
    const s = standin({
      version: '1.11.1',
      seed: seedWith([
        {
          id,
          name: 'Pat',
          email,
          password: 'pat-pw',
          memberships: [{ workspaceId: SEED_IDS.workspaceId, role: 'normal' }],
        },
      ]),
    });
    let rt = '';
    t.after(async () => {
      await s.redis.del(`refresh_token:${rt}`, `account_refresh_token:${id}`);
      await s.close();
    });
    const ok = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email, password: 'pat-pw' },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers['x-version'], '1.11.1');
    rt = cookieValue(setCookies(ok.headers), 'refresh_token') ?? '';
    assert.equal(await s.redis.get(`refresh_token:${rt}`), id, 'stored without the prefix');
  });

  it('is 403 when ENABLE_EMAIL_PASSWORD_LOGIN is off', async (t) => {
    const s = standin({ enableEmailPasswordLogin: false });
    t.after(() => s.close());
    const r = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'alice@example.com', password: b64('alice-local-password') },
    });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().code, 'forbidden');
    assert.equal(r.headers['set-cookie'], undefined);
  });

  it('locks an address out once more than five failures are counted (the 7th attempt)', async (t) => {
    const s = standin();
    t.after(() => s.close());
    for (let i = 0; i < 6; i += 1) {
      const r = await s.app.inject({
        method: 'POST',
        url: '/console/api/login',
        payload: { email: 'alice@example.com', password: b64('wrong') },
      });
      assert.equal(r.statusCode, 401);
    }
    const locked = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'alice@example.com', password: b64('alice-local-password') },
    });
    assert.equal(locked.statusCode, 429);
    assert.deepEqual(locked.json(), {
      code: 'email_code_login_limit',
      message: 'Too many incorrect password attempts. Please try again later.',
      status: 429,
    });
  });

  it('an account without a workspace gets {"result":"fail"} and no cookies', async (t) => {
    const s = standin({ seed: seedWith([{ name: 'Nora', email: 'nora@example.com', password: 'nora-pw' }]) });
    t.after(() => s.close());
    const r = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'nora@example.com', password: b64('nora-pw') },
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().result, 'fail');
    assert.match(r.json().data, /^workspace not found/);
    assert.equal(r.headers['set-cookie'], undefined);
  });
});

describe('request authentication', () => {
  it('rejects tokens with a token_source claim (web-app tokens)', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const { cookie, csrf } = await tokensFor(SEED_IDS.aliceId, { token_source: 'webapp_login_token' });
    const r = await s.app.inject({ url: '/console/api/account/profile', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(r.statusCode, 401);
    assert.deepEqual(r.json(), { code: 'unauthorized', message: 'Invalid Authorization token.', status: 401 });
  });

  it("answers PyJWT's messages for expired and badly signed tokens", async (t) => {
    let now = Date.now();
    const s = standin({ now: () => now });
    t.after(() => s.close());
    const { cookie, csrf } = await tokensFor(SEED_IDS.aliceId);
    now += 2 * 3600 * 1000;
    const expired = await s.app.inject({
      url: '/console/api/account/profile',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    assert.equal(expired.json().message, 'Token has expired.');
    now = Date.now();
    const bad = await sign({ user_id: SEED_IDS.aliceId, exp: nowS() + 60 }, new TextEncoder().encode('another-secret'));
    const r = await s.app.inject({
      url: '/console/api/account/profile',
      headers: { cookie: `access_token=${bad}; csrf_token=${csrf}`, 'x-csrf-token': csrf },
    });
    assert.equal(r.json().message, 'Invalid token signature.');
  });

  it('takes the access-token cookie before the Authorization header', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const alice = await tokensFor(SEED_IDS.aliceId);
    const dave = await tokensFor(SEED_IDS.daveId);
    const r = await s.app.inject({
      url: '/console/api/account/profile',
      headers: { cookie: alice.cookie, authorization: `Bearer ${dave.access}`, 'x-csrf-token': alice.csrf },
    });
    assert.equal(r.statusCode, 200);
    assert.equal(r.json().email, 'alice@example.com');
  });

  it('a CSRF token of another account is refused', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const alice = await tokensFor(SEED_IDS.aliceId);
    const dave = await tokensFor(SEED_IDS.daveId);
    const r = await s.app.inject({
      url: '/console/api/account/profile',
      headers: { cookie: `access_token=${alice.access}; csrf_token=${dave.csrf}`, 'x-csrf-token': dave.csrf },
    });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().message, 'CSRF token is missing or invalid.');
  });

  it('banned accounts are refused on every request and on refresh', async (t) => {
    const banned = randomUUID();
    const s = standin({
      seed: seedWith([
        {
          id: banned,
          name: 'Ben',
          email: 'ben@example.com',
          status: 'banned',
          memberships: [{ workspaceId: SEED_IDS.workspaceId, role: 'normal' }],
        },
      ]),
    });
    t.after(() => s.close());
    const { cookie, csrf } = await tokensFor(banned);
    const r = await s.app.inject({ url: '/console/api/account/profile', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().message, 'Account is banned.');
    await s.redis.setex(`${s.prefix}:refresh_token:rt-banned`, 60, banned);
    const rr = await s.app.inject({
      method: 'POST',
      url: '/console/api/refresh-token',
      headers: { cookie: 'refresh_token=rt-banned' },
    });
    assert.equal(rr.statusCode, 401);
    assert.equal(rr.json().result, 'fail');
    assert.match(rr.json().message, /Account is banned\./);
  });

  it('an account with no workspace join is anonymous (profile 401, refresh "Invalid account")', async (t) => {
    const lonely = randomUUID();
    const s = standin({ seed: seedWith([{ id: lonely, name: 'Lonely', email: 'lonely@example.com' }]) });
    t.after(() => s.close());
    const { cookie, csrf } = await tokensFor(lonely);
    const r = await s.app.inject({ url: '/console/api/account/profile', headers: { cookie, 'x-csrf-token': csrf } });
    assert.equal(r.statusCode, 401);
    assert.deepEqual(r.json(), { code: 'unauthorized', message: 'Unauthorized.' });
    await s.redis.setex(`${s.prefix}:refresh_token:rt-lonely`, 60, lonely);
    const rr = await s.app.inject({
      method: 'POST',
      url: '/console/api/refresh-token',
      headers: { cookie: 'refresh_token=rt-lonely' },
    });
    assert.deepEqual(rr.json(), { result: 'fail', message: 'Invalid account' });
  });

  it("the profile has exactly Dify's fields; the role comes from POST /workspaces/current", async (t) => {
    const s = standin();
    t.after(() => s.close());
    const { cookie, csrf } = await tokensFor(SEED_IDS.aliceId);
    const r = await s.app.inject({ url: '/console/api/account/profile', headers: { cookie, 'x-csrf-token': csrf } });
    assert.deepEqual(Object.keys(r.json()), [
      'avatar',
      'id',
      'name',
      'email',
      'is_password_set',
      'interface_language',
      'interface_theme',
      'timezone',
      'last_login_at',
      'last_login_ip',
      'created_at',
      'avatar_url',
    ]);
    assert.equal(r.json().name, 'Alice Example');
    const w = await s.app.inject({
      method: 'POST',
      url: '/console/api/workspaces/current',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    assert.equal(w.json().role, 'normal');
    assert.equal(w.json().id, SEED_IDS.workspaceId);
  });

  it('POST /workspaces/current: plan "basic" before 1.16.0, null with trial_credits_exhausted_at from 1.16.0', async (t) => {
    const a = standin({ version: '1.12.1' });
    const b = standin({ version: '1.16.1' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const { cookie, csrf } = await tokensFor(SEED_IDS.aliceId);
    const old = (
      await a.app.inject({
        method: 'POST',
        url: '/console/api/workspaces/current',
        headers: { cookie, 'x-csrf-token': csrf },
      })
    ).json();
    const neu = (
      await b.app.inject({
        method: 'POST',
        url: '/console/api/workspaces/current',
        headers: { cookie, 'x-csrf-token': csrf },
      })
    ).json();
    assert.equal(old.plan, 'basic');
    assert.equal('trial_credits_exhausted_at' in old, false);
    assert.equal(neu.plan, null);
    assert.equal(neu.trial_credits_exhausted_at, null);
  });
});

describe('upstream main after 1.16.1 (DIFY_STANDIN_VERSION=main)', () => {
  it('POST /workspaces/current is gone; the summary and the members list carry the role; X-Version stays 1.16.1', async (t) => {
    const main = standin({ version: 'main' });
    const release = standin({ version: '1.16.1' });
    t.after(() => Promise.all([main.close(), release.close()]));
    const { cookie, csrf } = await tokensFor(SEED_IDS.aliceId);
    const headers = { cookie, 'x-csrf-token': csrf };

    const gone = await main.app.inject({ method: 'POST', url: '/console/api/workspaces/current', headers });
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.headers['x-version'], '1.16.1');
    const summary = await main.app.inject({ url: '/console/api/workspaces/current/summary', headers });
    assert.equal(summary.statusCode, 200);
    assert.deepEqual(summary.json(), {
      id: SEED_IDS.workspaceId,
      name: summary.json().name,
      role: 'normal',
      plan: null,
      credits: null,
    });
    assert.equal(typeof summary.json().name, 'string');
    const list = await main.app.inject({ url: '/console/api/workspaces/current/members', headers });
    assert.equal(list.statusCode, 200);
    assert.equal(list.json().accounts.find((a: { id: string }) => a.id === SEED_IDS.aliceId)?.role, 'normal');
    const anonymous = await main.app.inject({ url: '/console/api/workspaces/current/summary' });
    assert.equal(anonymous.statusCode, 401);

    assert.equal(
      (await release.app.inject({ url: '/console/api/workspaces/current/summary', headers })).statusCode,
      404,
    );
    const post = await release.app.inject({ method: 'POST', url: '/console/api/workspaces/current', headers });
    assert.equal(post.statusCode, 200);
    assert.equal(post.json().role, 'normal');
  });
});

describe('admin API key', () => {
  it('skips CSRF from 1.11.0 but not in 1.10.x', async (t) => {
    const newer = standin({ version: '1.11.0' });
    const older = standin({ version: '1.10.0' });
    t.after(() => Promise.all([newer.close(), older.close()]));
    const a = await newer.app.inject({ url: '/console/api/workspaces/current/members', headers: adminHeaders });
    assert.equal(a.statusCode, 200);
    const b = await older.app.inject({ url: '/console/api/workspaces/current/members', headers: adminHeaders });
    assert.equal(b.statusCode, 401);
    assert.equal(b.json().message, 'CSRF token is missing or invalid.');
  });

  it('is ignored unless ADMIN_API_KEY_ENABLE', async (t) => {
    const s = standin({ adminApiKeyEnable: false });
    t.after(() => s.close());
    const r = await s.app.inject({ url: '/console/api/workspaces/current/members', headers: adminHeaders });
    assert.equal(r.statusCode, 401);
    assert.equal(r.json().message, 'Invalid token.');
  });

  it('1.12.1 acts as the workspace owner: inviting an existing account without a join adds the join at once', async (t) => {
    const s = standin({ version: '1.12.1', seed: seedWith([{ name: 'Nora', email: 'nora@example.com' }]) });
    t.after(() => s.close());
    const r = await s.app.inject({
      method: 'POST',
      url: '/console/api/workspaces/current/members/invite-email',
      headers: adminHeaders,
      payload: { emails: ['Nora@Example.com'], role: 'admin' },
    });
    assert.equal(r.statusCode, 201);
    assert.deepEqual(r.json().invitation_results, [{ status: 'success', email: 'nora@example.com', url: '/signin' }]);
    const list = (await s.app.inject({ url: '/console/api/workspaces/current/members', headers: adminHeaders })).json();
    assert.equal(list.accounts.find((a: { email: string }) => a.email === 'nora@example.com')?.role, 'admin');
    const owner = await s.app.inject({
      method: 'POST',
      url: '/console/api/workspaces/current/members/invite-email',
      headers: adminHeaders,
      payload: { emails: ['x@example.com'], role: 'owner' },
    });
    assert.equal(owner.statusCode, 400);
    assert.deepEqual(owner.json(), { code: 'invalid-role', message: 'Invalid role' });
  });
});

describe('REDIS_KEY_PREFIX', () => {
  for (const [version, prefixed] of [
    ['1.13.0', false],
    ['1.14.0', true],
  ] as const) {
    it(`${version} ${prefixed ? 'honours' : 'ignores'} it`, async (t) => {
      const id = randomUUID();
      const s = standin({
        version,
        seed: seedWith([
          {
            id,
            name: 'Kim',
            email: `k-${id}@example.com`,
            memberships: [{ workspaceId: SEED_IDS.workspaceId, role: 'normal' }],
          },
        ]),
      });
      t.after(async () => {
        await s.redis.del(`refresh_token:${rt}`, `account_refresh_token:${id}`);
        await s.close();
      });
      const rt = `rt-${randomUUID()}`;
      const k = prefixed ? `${s.prefix}:refresh_token:${rt}` : `refresh_token:${rt}`;
      await s.redis.setex(k, 60, id);
      const r = await s.app.inject({
        method: 'POST',
        url: '/console/api/refresh-token',
        headers: { cookie: `refresh_token=${rt}` },
      });
      assert.equal(r.statusCode, 200, r.body);
      const fresh = cookieValue(setCookies(r.headers), 'refresh_token') ?? '';
      const stored = prefixed ? `${s.prefix}:refresh_token:${fresh}` : `refresh_token:${fresh}`;
      assert.equal(await s.redis.get(stored), id);
      await s.redis.del(stored);
    });
  }
});

describe('setup', () => {
  it('before setup: console routes answer not_setup; POST /setup creates the owner once', async (t) => {
    const s = standin({ seed: { setup: null, workspaces: [], accounts: [] } });
    t.after(() => s.close());
    assert.deepEqual((await s.app.inject({ url: '/console/api/setup' })).json(), {
      step: 'not_started',
      setup_at: null,
    });
    const p = await s.app.inject({ url: '/console/api/account/profile' });
    assert.equal(p.statusCode, 401);
    assert.equal(p.json().code, 'not_setup');
    const created = await s.app.inject({
      method: 'POST',
      url: '/console/api/setup',
      payload: { email: 'root@example.com', name: 'Root', password: 'Root-passw0rd' },
    });
    assert.equal(created.statusCode, 201);
    assert.equal((await s.app.inject({ url: '/console/api/setup' })).json().step, 'finished');
    const again = await s.app.inject({
      method: 'POST',
      url: '/console/api/setup',
      payload: { email: 'evil@example.com', name: 'Evil', password: 'Evil-passw0rd' },
    });
    assert.equal(again.statusCode, 403);
    assert.deepEqual(again.json(), { error: { type: 'authorization_error', message: 'Forbidden', status: 403 } });
  });

  it('before 1.12.0: no setup_at before setup, and already_setup after it', async (t) => {
    const s = standin({ version: '1.11.4', seed: { setup: null, workspaces: [], accounts: [] } });
    t.after(() => s.close());
    assert.deepEqual((await s.app.inject({ url: '/console/api/setup' })).json(), { step: 'not_started' });
    await s.app.inject({
      method: 'POST',
      url: '/console/api/setup',
      payload: { email: 'root@example.com', name: 'Root', password: 'Root-passw0rd' },
    });
    const again = await s.app.inject({
      method: 'POST',
      url: '/console/api/setup',
      payload: { email: 'evil@example.com', name: 'Evil', password: 'Evil-passw0rd' },
    });
    assert.equal(again.statusCode, 403);
    assert.equal(again.json().code, 'already_setup');
  });
});

describe('e-mail code login (served whatever ENABLE_EMAIL_CODE_LOGIN says)', () => {
  it('sends a code to an existing account and logs in with it (base64 code)', async (t) => {
    const s = standin({ enableEmailCodeLogin: false, enableEmailPasswordLogin: false });
    t.after(() => s.close());
    const send = await s.app.inject({
      method: 'POST',
      url: '/console/api/email-code-login',
      payload: { email: 'alice@example.com', language: 'en-US' },
    });
    assert.equal(send.statusCode, 200);
    const token = send.json().data as string;
    const outbox = await s.app.inject({
      url: '/__standin/outbox?to=alice@example.com',
      headers: { 'x-standin-secret': INTROSPECTION },
    });
    const code = outbox.json().messages[0].code as string;
    const wrong = await s.app.inject({
      method: 'POST',
      url: '/console/api/email-code-login/validity',
      payload: { email: 'alice@example.com', code: b64('000000' === code ? '111111' : '000000'), token },
    });
    assert.equal(wrong.statusCode, 400);
    assert.equal(wrong.json().code, 'email_code_error');
    const ok = await s.app.inject({
      method: 'POST',
      url: '/console/api/email-code-login/validity',
      payload: { email: 'alice@example.com', code: b64(code), token },
    });
    assert.equal(ok.statusCode, 200);
    assert.equal(setCookies(ok.headers).length, 3);
    const reuse = await s.app.inject({
      method: 'POST',
      url: '/console/api/email-code-login/validity',
      payload: { email: 'alice@example.com', code: b64(code), token },
    });
    assert.equal(reuse.json().code, 'invalid_or_expired_token');
  });
});

describe('forgot password (password login on)', () => {
  it('takes the e-mailed code in plain text, unlike the e-mail code login (base64 is refused)', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const send = await s.app.inject({
      method: 'POST',
      url: '/console/api/forgot-password',
      payload: { email: 'alice@example.com', language: 'en-US' },
    });
    assert.equal(send.statusCode, 200);
    const token = send.json().data as string;
    const outbox = await s.app.inject({
      url: '/__standin/outbox?to=alice@example.com',
      headers: { 'x-standin-secret': INTROSPECTION },
    });
    const code = outbox.json().messages.at(-1).code as string;
    const encoded = await s.app.inject({
      method: 'POST',
      url: '/console/api/forgot-password/validity',
      payload: { email: 'alice@example.com', code: b64(code), token },
    });
    assert.equal(encoded.statusCode, 400);
    assert.equal(encoded.json().code, 'email_code_error');
    const plain = await s.app.inject({
      method: 'POST',
      url: '/console/api/forgot-password/validity',
      payload: { email: 'alice@example.com', code, token },
    });
    assert.equal(plain.statusCode, 200);
    assert.equal(plain.json().is_valid, true);
  });
});

describe('logout', () => {
  it('without a valid access token it is refused and deletes nothing', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const r = await s.app.inject({ method: 'POST', url: '/console/api/logout' });
    assert.equal(r.statusCode, 401);
  });

  it('logs a session out after a password login', async (t) => {
    const s = standin();
    t.after(() => s.close());
    const login = await s.app.inject({
      method: 'POST',
      url: '/console/api/login',
      payload: { email: 'alice@example.com', password: b64('alice-local-password') },
    });
    const cookies = setCookies(login.headers);
    const rt = cookieValue(cookies, 'refresh_token');
    const out = await s.app.inject({
      method: 'POST',
      url: '/console/api/logout',
      headers: { cookie: cookieHeader(cookies) },
    });
    assert.equal(out.statusCode, 200);
    assert.equal(await s.redis.get(`${s.prefix}:refresh_token:${rt}`), null);
  });
});

describe('system-features across versions', () => {
  it('1.16.0 still carries is_allow_create_workspace and licence detail; 1.16.1 does not', async (t) => {
    const a = standin({ version: '1.16.0' });
    const b = standin({ version: '1.16.1' });
    t.after(() => Promise.all([a.close(), b.close()]));
    const old = (await a.app.inject({ url: '/console/api/system-features' })).json();
    const neu = (await b.app.inject({ url: '/console/api/system-features' })).json();
    assert.equal(old.is_allow_create_workspace, false);
    assert.deepEqual(old.license, {
      status: 'none',
      expired_at: '',
      workspaces: { enabled: false, size: 0, limit: 0 },
    });
    assert.equal('is_allow_create_workspace' in neu, false);
    assert.equal('plugin_manager' in neu, false);
    assert.deepEqual(neu.license, { status: 'none' });
  });
});

describe('test-only introspection (not Dify)', () => {
  it('is 404 without the secret, and 404 for everyone when no secret is configured', async (t) => {
    const s = standin();
    const off = standin({ introspectionSecret: '' });
    t.after(() => Promise.all([s.close(), off.close()]));
    assert.equal((await s.app.inject({ url: '/__standin/accounts' })).statusCode, 404);
    assert.equal(
      (await s.app.inject({ url: '/__standin/accounts', headers: { 'x-standin-secret': 'wrong' } })).statusCode,
      404,
    );
    assert.equal(
      (await off.app.inject({ url: '/__standin/accounts', headers: { 'x-standin-secret': '' } })).statusCode,
      404,
    );
    const list = await s.app.inject({ url: '/__standin/accounts', headers: { 'x-standin-secret': INTROSPECTION } });
    assert.deepEqual(
      list
        .json()
        .accounts.map((a: { email: string }) => a.email)
        .sort(),
      ['alice@example.com', 'dave@example.com', 'owner@example.com'],
    );
    const none = await s.app.inject({
      url: '/__standin/accounts?email=carol@example.com',
      headers: { 'x-standin-secret': INTROSPECTION },
    });
    assert.deepEqual(none.json(), { accounts: [] });
  });

  it('reset restores the seed', async (t) => {
    const s = standin();
    t.after(() => s.close());
    await s.app.inject({
      method: 'POST',
      url: '/console/api/workspaces/current/members/invite-email',
      headers: adminHeaders,
      payload: { emails: ['bob@example.com'], role: 'editor' },
    });
    const h = { 'x-standin-secret': INTROSPECTION };
    assert.equal(
      (await s.app.inject({ url: '/__standin/accounts?email=bob@example.com', headers: h })).json().accounts.length,
      1,
    );
    await s.app.inject({ method: 'POST', url: '/__standin/reset', headers: h });
    assert.equal(
      (await s.app.inject({ url: '/__standin/accounts?email=bob@example.com', headers: h })).json().accounts.length,
      0,
    );
  });
});

describe('X-Version', () => {
  it('is on unknown routes too', async (t) => {
    const s = standin({ version: '1.12.1' });
    t.after(() => s.close());
    const r = await s.app.inject({ url: '/console/api/no-such-thing' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.headers['x-version'], '1.12.1');
  });
});
