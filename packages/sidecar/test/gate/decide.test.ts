import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type GateContext, type GateRequest, type SessionCheck } from '../../src/gate/decide.js';
import { parseMachineRoutes } from '../../src/gate/route-table.js';

const ALICE = 'a11ce000-7d3b-4c2a-9f1e-5b6d8c0e2f43';
const MALLORY = 'da7e0000-3c1f-4b8e-a2d4-6e9f1b3c5d70';
const jwt = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
const REFRESH = 'ab'.repeat(64);

interface Opts {
  session?: SessionCheck;
  refreshOwner?: string | null;
  setupFinished?: boolean;
  breakGlass?: boolean;
  bearer?: 'ok' | 'ERR_TOKEN_AUDIENCE' | 'ERR_TOKEN_SCOPE';
  machine?: string[];
  webApps?: boolean;
}

function ctx(o: Opts = {}): GateContext & { calls: { session: number } } {
  const calls = { session: 0 };
  return {
    calls,
    cookies: { consoleApiUrl: '', consoleWebUrl: '', cookieDomain: '' },
    checkSession: async () => {
      calls.session++;
      return o.session ?? { ok: false, reason: 'missing' };
    },
    verifyBearer: async () => {
      if (o.bearer === 'ok') return { sub: 'machine' };
      throw Object.assign(new Error('rejected'), { code: o.bearer ?? 'ERR_TOKEN_INVALID' });
    },
    refreshTokenAccount: async () => o.refreshOwner ?? null,
    setupFinished: async () => o.setupFinished ?? true,
    breakGlassActive: () => o.breakGlass ?? false,
    machineRoutes: parseMachineRoutes(o.machine ?? []).rules,
    machineUpstream: { authorization: 'Bearer admin-key', workspaceId: 'ws' },
    webApps: o.webApps ?? false,
  };
}

const req = (method: string, rawUri: string, extra: Partial<GateRequest> = {}): GateRequest => ({
  method,
  rawUri,
  cookie: undefined,
  authorization: undefined,
  clientIp: '10.0.0.5',
  ...extra,
});
const live = (difyAccountId: string | undefined = ALICE): SessionCheck => ({ ok: true, session: { difyAccountId } });

// ---- lockdown table ------------------------------------------------------------------------
const locked: [string, string][] = [
  ['POST', '/console/api/login'],
  ['GET', '/console/api/login'],
  ['POST', '/console/api/LOGIN'],
  ['POST', '/console/api//login/'],
  ['POST', '/console/api/%6Cogin'],
  ['POST', '/console/api/login?next=/console/api/system-features'],
  ['POST', '/console/api/email-code-login'],
  ['POST', '/console/api/email-code-login/validity'],
  ['POST', '/console/api/reset-password'],
  ['POST', '/console/api/forgot-password'],
  ['POST', '/console/api/forgot-password/validity'],
  ['POST', '/console/api/forgot-password/resets'],
  ['POST', '/console/api/email-register/send-email'],
  ['POST', '/console/api/email-register/validity'],
  ['POST', '/console/api/email-register'],
  ['GET', '/console/api/oauth/login/github'],
  ['GET', '/console/api/oauth/authorize/google?code=x'],
  ['POST', '/console/api/account/password'],
  ['POST', '/api/login'],
];
for (const [m, u] of locked) {
  test(`lockdown: ${m} ${u} → 403 sso_required (even with a live session)`, async () => {
    const d = await decide(req(m, u), ctx({ session: live() }));
    assert.equal(d.allow, false);
    assert.ok(!d.allow && d.status === 403 && d.code === 'sso_required');
  });
}

test('setup after setup → 403 sso_required; before setup → open', async () => {
  const after = await decide(req('POST', '/console/api/setup'), ctx({ setupFinished: true }));
  assert.ok(!after.allow && after.code === 'sso_required');
  const before = await decide(req('POST', '/console/api/setup'), ctx({ setupFinished: false }));
  assert.ok(before.allow && before.via === 'setup_open');
});

test('break-glass reopens password login only', async () => {
  const d = await decide(req('POST', '/console/api/login'), ctx({ breakGlass: true }));
  assert.ok(d.allow && d.via === 'break_glass');
  for (const u of [
    '/console/api/email-register',
    '/console/api/forgot-password',
    '/console/api/oauth/login/github',
    '/console/api/email-code-login',
  ]) {
    const x = await decide(req('POST', u), ctx({ breakGlass: true }));
    assert.ok(!x.allow && x.code === 'sso_required', u);
  }
});

// ---- public paths --------------------------------------------------------------------------
const pub: [string, string][] = [
  ['GET', '/console/api/system-features'],
  ['GET', '/console/api/setup'],
  ['GET', '/console/api/activate/check?email=a&token=b'],
  ['GET', '/console/api/enterprise/sso/oidc/login?invite_token=x'],
  ['OPTIONS', '/console/api/apps'],
  ['GET', '/health'],
  ['POST', '/v1/chat-messages'],
  ['GET', '/files/abc/file-preview?timestamp=1&nonce=2&sign=3'],
  ['GET', '/apps'],
  ['GET', '/signin?message=x'],
];
for (const [m, u] of pub) {
  test(`public: ${m} ${u} passes without a session`, async () => {
    const d = await decide(req(m, u), ctx());
    assert.equal(d.allow, true);
  });
}

const notPublic: [string, string][] = [
  ['GET', '/console/api//setup'],
  ['GET', '/console/api/SETUP'],
  ['POST', '/console/api/system-features'],
  ['GET', '/files/abc/file-preview?timestamp=1&nonce=2'],
  ['GET', '/console/api/apps'],
  ['GET', '/console/api/account/profile'],
  ['GET', '/socket.io/?EIO=4'],
];
for (const [m, u] of notPublic) {
  test(`not public: ${m} ${u} → 401 without a session`, async () => {
    const d = await decide(req(m, u), ctx());
    assert.ok(!d.allow && d.status === 401, JSON.stringify(d));
  });
}

// ---- console sessions ----------------------------------------------------------------------
test('console: kit session + matching Dify access cookie → pass', async () => {
  const d = await decide(
    req('GET', '/console/api/account/profile', { cookie: `access_token=${jwt({ user_id: ALICE })}` }),
    ctx({ session: live() }),
  );
  assert.ok(d.allow && d.via === 'session');
});

test('stolen Dify access cookie without kit session → 401 and Dify cookies cleared', async () => {
  const d = await decide(
    req('GET', '/console/api/account/profile', {
      cookie: `access_token=${jwt({ user_id: ALICE })}; refresh_token=${REFRESH}`,
    }),
    ctx(),
  );
  assert.ok(!d.allow && d.status === 401 && d.clearDifyCookies === true);
});

test('Dify access cookie of another account than the kit session → 401', async () => {
  const d = await decide(
    req('GET', '/console/api/apps', { cookie: `access_token=${jwt({ user_id: MALLORY })}` }),
    ctx({ session: live(ALICE) }),
  );
  assert.ok(!d.allow && d.status === 401);
});

test('duplicate access cookies are ambiguous → 401 ambiguous_cookie (issue 9)', async () => {
  const d = await decide(
    req('GET', '/console/api/apps', {
      cookie: `access_token=${jwt({ user_id: MALLORY })}; access_token=${jwt({ user_id: ALICE })}`,
    }),
    ctx({ session: live(ALICE) }),
  );
  assert.ok(!d.allow && d.status === 401 && d.code === 'ambiguous_cookie');
});

test('kit session without a Dify account → 401', async () => {
  const d = await decide(
    req('GET', '/console/api/apps', { cookie: `access_token=${jwt({ user_id: ALICE })}` }),
    ctx({ session: { ok: true, session: {} } }),
  );
  assert.ok(!d.allow && d.status === 401);
});

test('refresh: passes only when Dify maps the refresh cookie to the session account', async () => {
  const cookie = `refresh_token=${REFRESH}`;
  const ok = await decide(
    req('POST', '/console/api/refresh-token', { cookie }),
    ctx({ session: live(), refreshOwner: ALICE }),
  );
  assert.ok(ok.allow && ok.via === 'refresh');
  const other = await decide(
    req('POST', '/console/api/refresh-token', { cookie }),
    ctx({ session: live(), refreshOwner: MALLORY }),
  );
  assert.ok(!other.allow && other.status === 401);
  const unknown = await decide(
    req('POST', '/console/api/refresh-token', { cookie }),
    ctx({ session: live(), refreshOwner: null }),
  );
  assert.ok(!unknown.allow);
  const noSession = await decide(req('POST', '/console/api/refresh-token', { cookie }), ctx({ refreshOwner: ALICE }));
  assert.ok(!noSession.allow && noSession.status === 401);
});

test('__Host- cookie names are used when Dify runs on https', async () => {
  const c = ctx({ session: live() });
  const https = { ...c, cookies: { consoleApiUrl: 'https://d', consoleWebUrl: 'https://d', cookieDomain: '' } };
  const plain = await decide(
    req('GET', '/console/api/apps', {
      cookie: `access_token=${jwt({ user_id: MALLORY })}; __Host-access_token=${jwt({ user_id: ALICE })}`,
    }),
    https,
  );
  assert.ok(plain.allow);
});

// ---- machine access ------------------------------------------------------------------------
const bearer = { authorization: `Bearer ${jwt({ sub: 'machine' })}` };
test('machine: verified bearer on an allowlisted route → pass with admin-key upstream', async () => {
  const d = await decide(
    req('GET', '/console/api/apps?page=1', bearer),
    ctx({ bearer: 'ok', machine: ['GET /console/api/apps*'] }),
  );
  assert.ok(d.allow && d.via === 'machine');
  assert.deepEqual(d.allow && d.upstream, { authorization: 'Bearer admin-key', workspaceId: 'ws' });
});
test('machine: wrong audience → 401 invalid_token', async () => {
  const d = await decide(
    req('GET', '/console/api/apps', bearer),
    ctx({ bearer: 'ERR_TOKEN_AUDIENCE', machine: ['GET /console/api/apps*'] }),
  );
  assert.ok(!d.allow && d.status === 401 && d.code === 'invalid_token');
});
test('machine: missing scope → 403 insufficient_scope', async () => {
  const d = await decide(
    req('GET', '/console/api/apps', bearer),
    ctx({ bearer: 'ERR_TOKEN_SCOPE', machine: ['GET /console/api/apps*'] }),
  );
  assert.ok(!d.allow && d.status === 403 && d.code === 'insufficient_scope');
});
test('machine: route or method not allowlisted → 403', async () => {
  for (const [m, u] of [
    ['DELETE', '/console/api/apps/1'],
    ['GET', '/console/api/workspaces/current/members'],
  ] as const) {
    const d = await decide(req(m, u, bearer), ctx({ bearer: 'ok', machine: ['GET /console/api/apps*'] }));
    assert.ok(!d.allow && d.status === 403 && d.code === 'machine_route_denied', `${m} ${u}`);
  }
});
test('machine: no machine routes configured → bearer refused 401', async () => {
  const d = await decide(req('GET', '/console/api/apps', bearer), ctx({ bearer: 'ok' }));
  assert.ok(!d.allow && d.status === 401);
});

test('web-app API gated only when configured', async () => {
  assert.equal((await decide(req('POST', '/api/chat-messages'), ctx())).allow, true);
  assert.equal((await decide(req('POST', '/api/chat-messages'), ctx({ webApps: true }))).allow, false);
  assert.equal((await decide(req('POST', '/api/chat-messages'), ctx({ webApps: true, session: live() }))).allow, true);
});

test('uncanonicalisable path → 400 invalid_path', async () => {
  const d = await decide(req('GET', '/console/api/%zz'), ctx({ session: live() }));
  assert.ok(!d.allow && d.code === 'invalid_path');
});

test('service API: passthrough by default; with serviceApiBearer an IdP bearer in X-Sso-Token is required', async () => {
  assert.equal((await decide(req('POST', '/v1/chat-messages', { authorization: 'Bearer app-1' }), ctx())).allow, true);
  const on = (o: Opts) => ({ ...ctx(o), serviceApiBearer: true });
  const missing = await decide(
    req('POST', '/v1/chat-messages', { authorization: 'Bearer app-1' }),
    on({ bearer: 'ok' }),
  );
  assert.ok(!missing.allow && missing.status === 401 && missing.code === 'invalid_token');
  const ok = await decide(
    req('POST', '/v1/chat-messages', { authorization: 'Bearer app-1', serviceToken: `Bearer ${jwt({ sub: 'm' })}` }),
    on({ bearer: 'ok' }),
  );
  assert.ok(
    ok.allow && ok.via === 'service_bearer' && !('upstream' in ok && ok.upstream),
    'the app key stays; nothing is replaced',
  );
  const aud = await decide(
    req('POST', '/v1/chat-messages', { serviceToken: jwt({}) }),
    on({ bearer: 'ERR_TOKEN_AUDIENCE' }),
  );
  assert.ok(!aud.allow && aud.status === 401);
  const scope = await decide(
    req('POST', '/v1/chat-messages', { serviceToken: jwt({}) }),
    on({ bearer: 'ERR_TOKEN_SCOPE' }),
  );
  assert.ok(!scope.allow && scope.status === 403 && scope.code === 'insufficient_scope');
});

test('web-app pages: passthrough by default; with webApps a browser without session is sent to the SSO login', async () => {
  assert.equal((await decide(req('GET', '/chat/abc123'), ctx())).allow, true);
  const d = await decide(req('GET', '/chat/abc123?x=1'), ctx({ webApps: true }));
  assert.ok(!d.allow && d.status === 401 && d.loginRedirect === '/sso/login?redirect=%2Fchat%2Fabc123');
  assert.equal((await decide(req('GET', '/workflow/xyz'), ctx({ webApps: true, session: live() }))).allow, true);
  assert.equal((await decide(req('GET', '/chatty'), ctx({ webApps: true }))).allow, true, 'label boundary');
});
