/**
 * The console contract the kit relies on, as executable checks. Target-agnostic: the same checks
 * run against the stand-in (CI) and against a real dify-api (see ./target.ts and the package
 * README). Only behaviour observable over HTTP and in Dify's Redis is asserted; anything that
 * needs Dify's `SECRET_KEY` lives in the stand-in's own tests.
 *
 * Side effects on a real target: seeds and rotates refresh tokens for one member, invites one new
 * member per run (a PENDING account `contract-<random>@example.com`, activated then removed from
 * the workspace). Use a disposable deployment.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { realCookieName } from '../../src/lib/cookies.js';
import { versionFeatures } from '../../src/version.js';
import { admin, call, jwtPayload, parseSetCookie, type CallResult } from './http.js';
import { redisKey, seedRefreshToken, type ContractTarget } from './target.js';

const VERSION_RE = /^\d+\.\d+\.\d+/;

interface Session {
  accessToken: string;
  refreshToken: string;
  csrfToken: string;
  cookie: string;
}

/** Register the whole contract suite against the target produced by `makeTarget`. */
export function contractSuite(label: string, makeTarget: () => Promise<ContractTarget>): void {
  let target: ContractTarget;
  let version = '';
  let names: { access: string; refresh: string; csrf: string };

  const cookieName = (logical: string): string =>
    realCookieName(logical, {
      consoleApiUrl: target.consoleApiUrl,
      consoleWebUrl: target.consoleWebUrl,
      cookieDomain: target.cookieDomain,
      features: versionFeatures(version),
    });

  /** Seed a refresh token, exchange it, and return the session cookies. */
  async function session(): Promise<Session & { response: CallResult; seeded: string }> {
    const seeded = await seedRefreshToken(target);
    const response = await call(target, 'POST', '/console/api/refresh-token', {
      cookie: `${names.refresh}=${seeded}`,
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(response.status, 200, `refresh-token answered ${response.status}: ${response.text}`);
    const byName = new Map(response.setCookies.map((c) => [parseSetCookie(c).name, parseSetCookie(c).value]));
    const s = {
      accessToken: byName.get(names.access) ?? '',
      refreshToken: byName.get(names.refresh) ?? '',
      csrfToken: byName.get(names.csrf) ?? '',
    };
    return {
      ...s,
      cookie: `${names.access}=${s.accessToken}; ${names.refresh}=${s.refreshToken}; ${names.csrf}=${s.csrfToken}`,
      response,
      seeded,
    };
  }

  describe(`dify console contract: ${label}`, () => {
    before(async () => {
      target = await makeTarget();
      const probe = await call(target, 'GET', '/console/api/system-features');
      version = probe.headers.get('x-version') ?? '';
      assert.match(version, VERSION_RE, 'X-Version header on system-features');
      names = {
        access: cookieName('access_token'),
        refresh: cookieName('refresh_token'),
        csrf: cookieName('csrf_token'),
      };
    });
    after(async () => {
      await target?.close();
    });

    describe('version header', () => {
      it('every response carries X-Version, errors included', async () => {
        for (const [method, path] of [
          ['GET', '/console/api/system-features'],
          ['GET', '/console/api/setup'],
          ['POST', '/console/api/refresh-token'],
          ['GET', '/console/api/account/profile'],
          ['GET', '/health'],
        ] as const) {
          const r = await call(target, method, path);
          assert.equal(r.headers.get('x-version'), version, `${method} ${path}`);
        }
      });
    });

    describe('system-features (community edition)', () => {
      it('is public and carries community values for the sign-in fields', async () => {
        const r = await call(target, 'GET', '/console/api/system-features');
        assert.equal(r.status, 200);
        assert.equal(r.body['sso_enforced_for_signin'], false);
        assert.ok(['', null].includes(r.body['sso_enforced_for_signin_protocol'] as string | null));
        for (const k of [
          'enable_email_password_login',
          'enable_email_code_login',
          'enable_social_oauth_login',
          'is_allow_register',
        ]) {
          assert.equal(typeof r.body[k], 'boolean', k);
        }
        assert.equal((r.body['license'] as { status?: string }).status, 'none');
        assert.equal((r.body['branding'] as { enabled?: boolean }).enabled, false);
      });
    });

    describe('refresh-token seeding', () => {
      it('a seeded refresh token yields three cookies with Dify names and attributes', async () => {
        const s = await session();
        assert.deepEqual(s.response.body, { result: 'success' });
        const cookies = new Map(s.response.setCookies.map((c) => [parseSetCookie(c).name, parseSetCookie(c)]));
        // refresh-token writes them in this order (login uses access, refresh, CSRF)
        assert.deepEqual([...cookies.keys()], [names.csrf, names.access, names.refresh]);
        const secure = target.consoleApiUrl.startsWith('https') && target.consoleWebUrl.startsWith('https');
        const expected: [string, boolean, number][] = [
          [names.access, true, target.accessTokenExpireMinutes * 60],
          [names.refresh, true, target.refreshTokenExpireDays * 86400],
          [names.csrf, false, target.accessTokenExpireMinutes * 60],
        ];
        for (const [name, httpOnly, maxAge] of expected) {
          const c = cookies.get(name);
          assert.ok(c, name);
          assert.equal(c.attrs.get('path'), '/', `${name} Path`);
          assert.equal(String(c.attrs.get('samesite')).toLowerCase(), 'lax', `${name} SameSite`);
          assert.equal(c.attrs.has('httponly'), httpOnly, `${name} HttpOnly`);
          assert.equal(c.attrs.has('secure'), secure, `${name} Secure`);
          assert.equal(Number(c.attrs.get('max-age')), maxAge, `${name} Max-Age`);
          const domain = versionFeatures(version).cookieDomain ? target.cookieDomain.trim().replace(/^\./, '') : '';
          assert.equal(c.attrs.get('domain') ?? '', domain, `${name} Domain`);
        }
        assert.match(s.refreshToken, /^[0-9a-f]{128}$/);
      });

      it('rotation deletes the seeded pair and stores the new one with the refresh TTL', async () => {
        const s = await session();
        assert.equal(await target.redis.get(redisKey(target, `refresh_token:${s.seeded}`)), null);
        assert.equal(await target.redis.get(redisKey(target, `refresh_token:${s.refreshToken}`)), target.accountId);
        assert.equal(
          await target.redis.get(redisKey(target, `account_refresh_token:${target.accountId}`)),
          s.refreshToken,
        );
        const ttl = await target.redis.ttl(redisKey(target, `refresh_token:${s.refreshToken}`));
        const full = target.refreshTokenExpireDays * 86400;
        assert.ok(ttl > full - 300 && ttl <= full, `TTL ${ttl} close to ${full}`);
      });

      it("access and CSRF tokens carry Dify's claims", async () => {
        const s = await session();
        const now = Math.floor(Date.now() / 1000);
        const access = jwtPayload(s.accessToken);
        assert.equal(access['user_id'], target.accountId);
        assert.equal(access['sub'], 'Console API Passport');
        assert.equal(typeof access['iss'], 'string');
        assert.equal(access['token_source'], undefined);
        const lifetime = target.accessTokenExpireMinutes * 60;
        assert.ok(
          Math.abs(Number(access['exp']) - (now + lifetime)) < 300,
          'access exp ≈ now + ACCESS_TOKEN_EXPIRE_MINUTES',
        );
        const csrf = jwtPayload(s.csrfToken);
        assert.equal(csrf['sub'], target.accountId);
        assert.ok(
          Math.abs(Number(csrf['exp']) - (now + lifetime)) < 300,
          'csrf exp ≈ now + ACCESS_TOKEN_EXPIRE_MINUTES',
        );
      });

      it('a rotated-away refresh token is refused', async () => {
        const s = await session();
        const again = await call(target, 'POST', '/console/api/refresh-token', {
          cookie: `${names.refresh}=${s.seeded}`,
        });
        assert.equal(again.status, 401);
        assert.equal(again.body['result'], 'fail');
        assert.equal(again.setCookies.length, 0);
      });

      it('an unknown refresh token and a missing cookie are refused with 401 {"result":"fail"}', async () => {
        const unknown = await call(target, 'POST', '/console/api/refresh-token', {
          cookie: `${names.refresh}=${randomBytes(64).toString('hex')}`,
        });
        assert.equal(unknown.status, 401);
        assert.equal(unknown.body['result'], 'fail');
        assert.equal(unknown.body['message'], 'Invalid refresh token');
        const missing = await call(target, 'POST', '/console/api/refresh-token', {
          headers: { 'content-type': 'application/json' },
        });
        assert.equal(missing.status, 401);
        assert.deepEqual(missing.body, { result: 'fail', message: 'No refresh token provided' });
      });
    });

    describe('request authentication and CSRF', () => {
      it("the profile answers with cookies and a matching X-CSRF-Token (Dify's fields only: no role, no status)", async () => {
        const s = await session();
        const r = await call(target, 'GET', '/console/api/account/profile', { cookie: s.cookie, csrf: s.csrfToken });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body['id'], target.accountId);
        assert.equal(typeof r.body['email'], 'string');
        assert.equal(typeof r.body['name'], 'string');
        assert.deepEqual(Object.keys(r.body).sort(), [
          'avatar',
          'avatar_url',
          'created_at',
          'email',
          'id',
          'interface_language',
          'interface_theme',
          'is_password_set',
          'last_login_at',
          'last_login_ip',
          'name',
          'timezone',
        ]);
      });

      it("the caller's role comes from the members list, on every version", async () => {
        const s = await session();
        const mine = await call(target, 'GET', '/console/api/workspaces/current/members', {
          cookie: s.cookie,
          csrf: s.csrfToken,
        });
        assert.equal(mine.status, 200, mine.text);
        const me = (mine.body['accounts'] as Record<string, string>[]).find((a) => a['id'] === target.accountId);
        assert.ok(me, 'the caller is in the members list');
        assert.ok(
          ['owner', 'admin', 'editor', 'normal', 'dataset_operator'].includes(me['role'] ?? ''),
          `role ${me['role']}`,
        );
        const list = await admin(target, 'GET', '/console/api/workspaces/current/members');
        const byAdmin = (list.body['accounts'] as Record<string, string>[]).find((a) => a['id'] === target.accountId);
        assert.equal(me['role'], byAdmin?.['role']);
      });

      it('POST /workspaces/current answers the same role on releases up to 1.16.1 and is gone on main', async () => {
        const s = await session();
        const r = await call(target, 'POST', '/console/api/workspaces/current', {
          cookie: s.cookie,
          csrf: s.csrfToken,
          json: {},
        });
        if (target.tree === 'main') {
          assert.equal(r.status, 404, r.text);
          return;
        }
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body['id'], target.workspaceId);
        const list = await admin(target, 'GET', '/console/api/workspaces/current/members');
        const me = (list.body['accounts'] as Record<string, string>[]).find((a) => a['id'] === target.accountId);
        assert.equal(r.body['role'], me?.['role']);
      });

      it('without X-CSRF-Token the profile is refused', async () => {
        const s = await session();
        const r = await call(target, 'GET', '/console/api/account/profile', { cookie: s.cookie });
        assert.equal(r.status, 401);
        assert.equal(r.body['code'], 'unauthorized');
        assert.equal(r.body['message'], 'CSRF token is missing or invalid.');
      });

      it('an X-CSRF-Token that differs from the cookie is refused', async () => {
        const a = await session();
        const [h, p] = a.csrfToken.split('.');
        const different = `${h}.${p}.${Buffer.from('different-signature').toString('base64url')}`;
        const r = await call(target, 'GET', '/console/api/account/profile', { cookie: a.cookie, csrf: different });
        assert.equal(r.status, 401);
        assert.equal(r.body['message'], 'CSRF token is missing or invalid.');
      });

      it('a Bearer access token works when the CSRF cookie and header match', async () => {
        const s = await session();
        const r = await call(target, 'GET', '/console/api/account/profile', {
          bearer: s.accessToken,
          cookie: `${names.csrf}=${s.csrfToken}`,
          csrf: s.csrfToken,
        });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body['id'], target.accountId);
      });

      it("no credentials at all → 401 unauthorized with the error handler's challenge", async () => {
        const r = await call(target, 'GET', '/console/api/account/profile');
        assert.equal(r.status, 401);
        assert.deepEqual(r.body, { code: 'unauthorized', message: 'Invalid Authorization token.', status: 401 });
        assert.equal(r.headers.get('www-authenticate'), 'Bearer realm="api"');
      });

      it('a forged access token is refused', async () => {
        const s = await session();
        const [h, p] = s.accessToken.split('.');
        const forged = `${h}.${p}.${Buffer.from('not-the-signature').toString('base64url')}`;
        const r = await call(target, 'GET', '/console/api/account/profile', {
          cookie: `${names.access}=${forged}; ${names.csrf}=${s.csrfToken}`,
          csrf: s.csrfToken,
        });
        assert.equal(r.status, 401);
        assert.equal(r.body['code'], 'unauthorized');
      });
    });

    describe('admin API key', () => {
      it('with X-WORKSPACE-ID it lists members without CSRF (≥1.11.0)', async () => {
        const r = await admin(target, 'GET', '/console/api/workspaces/current/members');
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.body), ['accounts'], 'no "result" key');
        const accounts = r.body['accounts'] as Record<string, unknown>[];
        assert.ok(Array.isArray(accounts) && accounts.length > 0);
        for (const k of ['id', 'name', 'email', 'role', 'status'])
          assert.ok(k in (accounts[0] ?? {}), `member field ${k}`);
        assert.ok(accounts.some((a) => a['role'] === 'owner'));
        for (const a of accounts) {
          if (versionFeatures(version).rbacFields) assert.deepEqual(a['roles'], [{ id: a['role'], name: a['role'] }]);
          else assert.equal('roles' in a, false);
        }
      });

      it('with an unknown workspace it authenticates nobody', async () => {
        const r = await call(target, 'GET', '/console/api/workspaces/current/members', {
          bearer: target.adminApiKey,
          workspaceId: '00000000-0000-4000-8000-000000000000',
        });
        assert.equal(r.status, 401);
      });
    });

    describe('logout', () => {
      it("POST /logout deletes the account's refresh token and clears the three cookies", async () => {
        const s = await session();
        const r = await call(target, 'POST', '/console/api/logout', { cookie: s.cookie });
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(r.body, { result: 'success' });
        const cleared = r.setCookies.map(parseSetCookie);
        for (const n of [names.access, names.refresh, names.csrf]) {
          const c = cleared.find((x) => x.name === n);
          assert.ok(c, `clears ${n}`);
          assert.equal(c.value, '');
        }
        assert.equal(await target.redis.get(redisKey(target, `refresh_token:${s.refreshToken}`)), null);
        const retry = await call(target, 'POST', '/console/api/refresh-token', {
          cookie: `${names.refresh}=${s.refreshToken}`,
        });
        assert.equal(retry.status, 401);
      });
    });

    describe('local login endpoints answer as Dify does for the configured flags', () => {
      let features: Record<string, unknown>;
      const nobody = () => `contract-nobody-${randomBytes(6).toString('hex')}@example.com`;
      before(async () => {
        features = (await call(target, 'GET', '/console/api/system-features')).body;
      });

      it('POST /login', async () => {
        const r = await call(target, 'POST', '/console/api/login', {
          json: { email: nobody(), password: Buffer.from('wrong-password').toString('base64'), remember_me: true },
        });
        if (features['enable_email_password_login'] === false) {
          assert.equal(r.status, 403, r.text);
          assert.equal(r.body['code'], 'forbidden');
        } else {
          assert.equal(r.status, 401, r.text);
          assert.equal(r.body['code'], 'authentication_failed');
        }
        assert.equal(r.setCookies.length, 0);
      });

      it('POST /email-register/send-email', async () => {
        const r = await call(target, 'POST', '/console/api/email-register/send-email', {
          json: { email: nobody(), language: 'en-US' },
        });
        if (features['enable_email_password_login'] === false || features['is_allow_register'] === false) {
          assert.equal(r.status, 403, r.text);
        } else {
          assert.equal(r.status, 200, r.text);
        }
      });

      it('POST /forgot-password and /reset-password', async () => {
        for (const path of ['/console/api/forgot-password', '/console/api/reset-password']) {
          const r = await call(target, 'POST', path, { json: { email: nobody(), language: 'en-US' } });
          if (features['enable_email_password_login'] === false) assert.equal(r.status, 403, `${path}: ${r.text}`);
          else assert.equal(r.status, 200, `${path}: ${r.text}`);
        }
      });

      it('POST /email-code-login for an unknown address (not gated by ENABLE_EMAIL_CODE_LOGIN)', async () => {
        const r = await call(target, 'POST', '/console/api/email-code-login', {
          json: { email: nobody(), language: 'en-US' },
        });
        if (features['is_allow_register'] === false) {
          assert.equal(r.status, 400, r.text);
          assert.equal(r.body['code'], 'account_not_found');
        } else {
          assert.equal(r.status, 200, r.text);
        }
      });

      it('GET /oauth/login/<provider> without a configured provider', async () => {
        const r = await call(target, 'GET', '/console/api/oauth/login/unknown-provider');
        assert.equal(r.status, 400);
        assert.deepEqual(r.body, { error: 'Invalid provider' });
      });

      it('setup after setup is refused', async () => {
        const g = await call(target, 'GET', '/console/api/setup');
        assert.equal(g.status, 200);
        assert.equal(g.body['step'], 'finished');
        assert.match(
          String(g.body['setup_at']),
          /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$/,
          'naive ISO timestamp, whole seconds',
        );
        const p = await call(target, 'POST', '/console/api/setup', {
          json: { email: nobody(), name: 'Nobody', password: 'Contract-Passw0rd' },
        });
        assert.equal(p.status, 403, p.text);
        if (versionFeatures(version).fastopenapiSetup) {
          // fastopenapi's error shape (≥1.12.0), not the `already_setup` error class
          assert.deepEqual(p.body, { error: { type: 'authorization_error', message: 'Forbidden', status: 403 } });
        } else {
          assert.equal(p.body['code'], 'already_setup');
        }
      });

      it("community edition does not serve /console/api/enterprise/* (Werkzeug's HTML 404)", async () => {
        const r = await call(target, 'GET', '/console/api/enterprise/sso/oidc/login');
        assert.equal(r.status, 404);
        assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(r.text, /<title>404 Not Found<\/title>/);
      });
    });

    describe('member management with the admin key', () => {
      it('invite → check → list → update-role → activate → remove', async () => {
        const email = `contract-${randomBytes(6).toString('hex')}@example.com`;
        const invite = await admin(target, 'POST', '/console/api/workspaces/current/members/invite-email', {
          emails: [email],
          role: 'editor',
          language: 'en-US',
        });
        assert.equal(invite.status, 201, invite.text);
        assert.equal(invite.body['result'], 'success');
        const result = (invite.body['invitation_results'] as Record<string, string>[])[0];
        assert.equal(result?.['status'], 'success', JSON.stringify(result));
        const url = new URL(result?.['url'] ?? '', 'http://placeholder');
        assert.equal(url.pathname.endsWith('/activate'), true, result?.['url']);
        const token = url.searchParams.get('token') ?? '';
        assert.ok(token);

        // the invite URL carries email + token; that (or the token alone) is what Dify looks up
        const check = await call(
          target,
          'GET',
          `/console/api/activate/check?email=${encodeURIComponent(email)}&token=${token}`,
        );
        assert.equal(check.status, 200);
        assert.equal(check.body['is_valid'], true);
        const checkData = check.body['data'] as Record<string, unknown>;
        assert.equal(checkData['email'], email);
        assert.equal(checkData['workspace_id'], target.workspaceId);
        if (versionFeatures(version).inviteFlowV2) {
          assert.equal(checkData['account_status'], 'pending');
          assert.equal(checkData['requires_setup'], true);
        } else {
          assert.deepEqual(Object.keys(checkData).sort(), ['email', 'workspace_id', 'workspace_name']);
        }
        // with workspace_id AND email Dify reads a legacy key nothing writes any more: never valid
        const legacy = await call(
          target,
          'GET',
          `/console/api/activate/check?workspace_id=${target.workspaceId}&email=${encodeURIComponent(email)}&token=${token}`,
        );
        assert.deepEqual(legacy.body, { is_valid: false });
        const legacyAct = await call(target, 'POST', '/console/api/activate', {
          json: {
            workspace_id: target.workspaceId,
            email,
            token,
            name: 'Contract Person',
            interface_language: 'en-US',
            timezone: 'UTC',
          },
        });
        assert.equal(legacyAct.status, 403, legacyAct.text);
        assert.equal(legacyAct.body['code'], 'already_activate');

        const list = await admin(target, 'GET', '/console/api/workspaces/current/members');
        const member = (list.body['accounts'] as Record<string, string>[]).find((a) => a['email'] === email);
        assert.ok(member, 'invited member is listed');
        assert.equal(member['role'], 'editor');
        assert.equal(member['status'], 'pending');

        const bad = await admin(target, 'PUT', `/console/api/workspaces/current/members/${member['id']}/update-role`, {
          role: 'superuser',
        });
        assert.equal(bad.status, 400);
        assert.deepEqual(bad.body, { code: 'invalid-role', message: 'Invalid role' });
        const same = await admin(target, 'PUT', `/console/api/workspaces/current/members/${member['id']}/update-role`, {
          role: 'editor',
        });
        assert.equal(same.status, 400, 'the same role again is an error');
        const sameMessage = 'The provided role is already assigned to the member.';
        if (versionFeatures(version).memberRoleErrorCodes)
          assert.deepEqual(same.body, { code: 'role-already-assigned', message: sameMessage });
        else assert.deepEqual(same.body, { code: 'invalid_param', message: sameMessage, status: 400 });
        const upd = await admin(target, 'PUT', `/console/api/workspaces/current/members/${member['id']}/update-role`, {
          role: 'normal',
        });
        assert.equal(upd.status, 200, upd.text);
        assert.deepEqual(upd.body, { result: 'success' });

        const act = await call(target, 'POST', '/console/api/activate', {
          json: { email, token, name: 'Contract Person', interface_language: 'en-US', timezone: 'UTC' },
        });
        assert.equal(act.status, 200, act.text);
        if (versionFeatures(version).activateIssuesNoLogin) assert.deepEqual(act.body, { result: 'success' });
        else
          assert.deepEqual(
            Object.keys(act.body['data'] as object).sort(),
            ['access_token', 'csrf_token', 'refresh_token'],
            'before 1.11.2 activation logs in',
          );
        assert.equal(act.setCookies.length, 0, 'activation sets no cookies');
        const recheck = await call(
          target,
          'GET',
          `/console/api/activate/check?email=${encodeURIComponent(email)}&token=${token}`,
        );
        assert.deepEqual(recheck.body, { is_valid: false });

        const after1 = await admin(target, 'GET', '/console/api/workspaces/current/members');
        const activated = (after1.body['accounts'] as Record<string, string>[]).find((a) => a['email'] === email);
        assert.equal(activated?.['status'], 'active');
        assert.equal(activated?.['role'], 'normal');
        assert.equal(activated?.['name'], 'Contract Person');

        const del = await admin(target, 'DELETE', `/console/api/workspaces/current/members/${member['id']}`);
        assert.equal(del.status, 200, del.text);
        assert.equal(del.body['result'], 'success');
        const again = await admin(target, 'DELETE', `/console/api/workspaces/current/members/${member['id']}`);
        assert.equal(again.status, 404);
        assert.equal(again.body['code'], 'member-not-found');

        // inviting the (active, removed) account again
        const reinvite = await admin(target, 'POST', '/console/api/workspaces/current/members/invite-email', {
          emails: [email],
          role: 'editor',
        });
        assert.equal(reinvite.status, 201, reinvite.text);
        const re = (reinvite.body['invitation_results'] as Record<string, string>[])[0] ?? {};
        const listed = async () =>
          (
            (await admin(target, 'GET', '/console/api/workspaces/current/members')).body['accounts'] as Record<
              string,
              string
            >[]
          ).find((a) => a['email'] === email);
        if (versionFeatures(version).inviteFlowV2) {
          // a token; the account joins only when it activates (name etc. optional for an active account)
          assert.equal(re['status'], 'success');
          const reToken = new URL(re['url'] ?? '', 'http://placeholder').searchParams.get('token') ?? '';
          assert.ok(reToken, re['url']);
          assert.equal(await listed(), undefined, 'not a member before activation');
          const reCheck = await call(target, 'GET', `/console/api/activate/check?token=${reToken}`);
          assert.equal((reCheck.body['data'] as Record<string, unknown>)['account_status'], 'active');
          assert.equal((reCheck.body['data'] as Record<string, unknown>)['requires_setup'], false);
          const reAct = await call(target, 'POST', '/console/api/activate', { json: { email, token: reToken } });
          assert.equal(reAct.status, 200, reAct.text);
          assert.equal((await listed())?.['role'], 'editor');
          // a member already: no token
          const dup = await admin(target, 'POST', '/console/api/workspaces/current/members/invite-email', {
            emails: [email],
            role: 'editor',
          });
          assert.deepEqual((dup.body['invitation_results'] as unknown[])[0], {
            status: 'already_member',
            email,
            message: 'Account already in workspace.',
          });
        } else {
          // joined at once, answered with the sign-in URL
          assert.equal(re['status'], 'success');
          assert.equal(new URL(re['url'] ?? '', 'http://placeholder').pathname.endsWith('/signin'), true, re['url']);
          assert.equal((await listed())?.['role'], 'editor');
        }
        const cleanup = await admin(target, 'DELETE', `/console/api/workspaces/current/members/${member['id']}`);
        assert.equal(cleanup.status, 200, cleanup.text);
      });

      it('invite-email refuses the owner role (error body per version)', async () => {
        const r = await admin(target, 'POST', '/console/api/workspaces/current/members/invite-email', {
          emails: [`contract-${randomBytes(6).toString('hex')}@example.com`],
          role: 'owner',
        });
        assert.equal(r.status, 400, r.text);
        if (versionFeatures(version).inviteErrorsV3)
          assert.deepEqual(r.body, { code: 'invalid_role', message: 'Invalid role.', status: 400 });
        else assert.deepEqual(r.body, { code: 'invalid-role', message: 'Invalid role' });
      });

      it('member routes take UUIDs only', async () => {
        const r = await admin(target, 'PUT', '/console/api/workspaces/current/members/not-a-uuid/update-role', {
          role: 'normal',
        });
        assert.equal(r.status, 404);
      });

      it('the owner cannot be removed through the admin key (it acts as the owner: cannot operate self)', async () => {
        const list = await admin(target, 'GET', '/console/api/workspaces/current/members');
        const owner = (list.body['accounts'] as Record<string, string>[]).find((a) => a['role'] === 'owner');
        assert.ok(owner);
        const r = await admin(target, 'DELETE', `/console/api/workspaces/current/members/${owner['id']}`);
        assert.equal(r.status, 400);
        assert.equal(r.body['code'], 'cannot-operate-self');
      });
    });
  });
}
