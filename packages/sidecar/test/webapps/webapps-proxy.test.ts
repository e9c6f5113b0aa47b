/**
 * Web-app SSO (issue 12) end to end through the sidecar in reverse-proxy mode, against the
 * stand-in's web-app API: per-person passports, ownership, per-app policy, pages, audit.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STANDIN_WEB_APPS } from '@dify-sso-kit/dify-standin';
import { USERS, bridgeEnv } from '../dify/helpers.js';
import { buildApp } from '../../src/app.js';
import { login } from '../helpers/harness.js';
import { loadConfig } from '../../src/config/load.js';
import { freePort, tempDir } from '../gate/nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from '../gate/live-helpers.js';

const [alpha, beta, finance, pub] = STANDIN_WEB_APPS as [
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
];
let s: LiveStack;
let base: string;
let policyFile: string;

before(async () => {
  const dir = tempDir();
  policyFile = join(dir, 'webapps.yaml');
  writeFileSync(
    policyFile,
    `default: authenticated\ncontact: "the help desk (help@example.com)"\napps:\n  ${pub.code}: public\n  ${finance.appId}: { groups: [dify-admins] }\n`,
  );
  const port = await freePort();
  s = await startLiveStack(`http://127.0.0.1:${port}`, {
    DIFY_SSO_GATE_MODE: 'proxy',
    DIFY_SSO_GATE_WEB_APPS: 'true',
    DIFY_SSO_GATE_WEB_APP_POLICY: policyFile,
  });
  base = s.sidecarUrl;
});
after(async () => {
  await s?.close();
});

async function passport(kit: string | undefined, code: string, userId?: string): Promise<Response> {
  return fetch(`${base}/api/passport${userId ? `?user_id=${userId}` : ''}`, {
    headers: { 'x-app-code': code, ...(kit ? { cookie: kit } : {}) },
  });
}
async function token(kit: string, code: string): Promise<string> {
  const r = await passport(kit, code, 'client-chosen-id');
  assert.equal(r.status, 200);
  return ((await r.json()) as { access_token: string }).access_token;
}
function api(path: string, tk: string, kit?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${base}${path}`, {
    ...init,
    headers: {
      'x-app-passport': tk,
      'content-type': 'application/json',
      ...(kit ? { cookie: kit } : {}),
      ...(init.headers as Record<string, string> | undefined),
    },
  });
}

test('a person gets one Dify end user per app whatever user_id the client sends; two browsers share conversations', async () => {
  const a1 = await aliceCookies(s);
  const a2 = await aliceCookies(s);
  assert.notEqual(a1.kit, a2.kit, 'two kit sessions');
  const t1 = await token(a1.kit, alpha.code);
  const sent = await api('/api/chat-messages', t1, a1.kit, {
    method: 'POST',
    body: JSON.stringify({ query: 'hello from browser one' }),
  });
  assert.equal(sent.status, 200);
  const r2 = await fetch(`${base}/api/passport?user_id=another-id`, {
    headers: { 'x-app-code': alpha.code, cookie: a2.kit },
  });
  const t2 = ((await r2.json()) as { access_token: string }).access_token;
  const site1 = (await (await api('/api/site', t1, a1.kit)).json()) as {
    end_user_id: string;
    end_user_session_id: string;
  };
  const site2 = (await (await api('/api/site', t2, a2.kit)).json()) as {
    end_user_id: string;
    end_user_session_id: string;
  };
  assert.equal(site1.end_user_id, site2.end_user_id);
  assert.match(site1.end_user_session_id, /^sso-[A-Za-z0-9_-]{32}$/, 'the pseudonymous id, never the client value');
  const conv = (await (await api('/api/conversations', t2, a2.kit)).json()) as { data: { name: string }[] };
  assert.deepEqual(
    conv.data.map((c) => c.name),
    ['hello from browser one'],
  );
  // A second app: its own end user.
  const tb = await token(a1.kit, beta.code);
  assert.equal((await api('/api/parameters', tb, a1.kit)).status, 200);
});

test("bob cannot use alice's passport (403 passport_not_owned, audited); without a session it is 401", async () => {
  const a = await aliceCookies(s);
  const b = await aliceCookies(s, USERS.bob);
  const ta = await token(a.kit, alpha.code);
  const res = await api('/api/conversations', ta, b.kit);
  assert.equal(res.status, 403);
  assert.equal(((await res.json()) as { code: string }).code, 'passport_not_owned');
  const denied = s.bridge.audits('webapp.access').filter((e) => e['reason'] === 'passport_not_owned');
  assert.equal(denied.length, 1);
  assert.equal(denied[0]?.['sub'], USERS.bob.sub);
  assert.equal(denied[0]?.['app_code'], alpha.code);
  assert.ok(!s.bridge.logs.join('\n').includes(ta), 'the passport is never logged');
  assert.equal((await api('/api/conversations', ta)).status, 401);
});

test('a passport the kit did not issue, a forged claim set, a passport cookie or two passport headers are refused', async () => {
  const a = await aliceCookies(s);
  const anon = await fetch(`${s.standin.url}/api/passport?user_id=x`, { headers: { 'x-app-code': alpha.code } });
  const foreign = ((await anon.json()) as { access_token: string }).access_token;
  const r1 = await api('/api/conversations', foreign, a.kit);
  assert.equal(r1.status, 401);
  assert.equal(((await r1.json()) as { code: string }).code, 'passport_unknown');
  const ta = await token(a.kit, alpha.code);
  assert.equal((await api('/api/conversations', ta, `${a.kit}; passport-${alpha.code}=${foreign}`)).status, 400);
  assert.equal((await api('/api/conversations', 'not.a-jwt', a.kit)).status, 401);
  assert.equal(
    (
      await fetch(`${base}/api/conversations`, {
        headers: { 'x-app-passport': ta, x_app_passport: foreign, cookie: a.kit },
      })
    ).status,
    400,
  );
});

test('group-restricted app (listed by app id): bob is refused the passport and the page shows the clear denial', async () => {
  const b = await aliceCookies(s, USERS.bob);
  const r = await passport(b.kit, finance.code);
  assert.equal(r.status, 403);
  assert.equal(((await r.json()) as { code: string }).code, 'webapp_access_denied');
  const a = await aliceCookies(s);
  assert.equal((await passport(a.kit, finance.code)).status, 200);
});

test('group-restricted app listed by code: the page redirects to a denial page naming the app and whom to ask', async () => {
  writeFileSync(
    policyFile,
    `default: authenticated\ncontact: "the help desk (help@example.com)"\napps:\n  ${pub.code}: public\n  ${finance.code}: { groups: [dify-admins] }\n`,
  );
  process.kill(process.pid, 'SIGHUP');
  const b = await aliceCookies(s, USERS.bob);
  const page = await fetch(`${base}/chat/${finance.code}`, { headers: { cookie: b.kit }, redirect: 'manual' });
  assert.equal(page.status, 302);
  const loc = page.headers.get('location') ?? '';
  assert.equal(loc, `/sso/webapp/denied?app=${finance.code}`);
  const denied = await fetch(`${base}${loc}`, { headers: { cookie: b.kit } });
  assert.equal(denied.status, 403);
  assert.match(denied.headers.get('content-type') ?? '', /^text\/html/);
  const text = await denied.text();
  assert.ok(text.includes(finance.code) && text.includes('help@example.com') && text.includes('webapp_group_required'));
  const a = await aliceCookies(s);
  assert.equal(
    (await fetch(`${base}/chat/${finance.code}`, { headers: { cookie: a.kit }, redirect: 'manual' })).status,
    200,
  );
});

test('a public app works with no session; an invalid policy on reload keeps the previous one', async () => {
  const r = await passport(undefined, pub.code, 'anon-1');
  assert.equal(r.status, 200);
  const tk = ((await r.json()) as { access_token: string }).access_token;
  assert.equal((await api('/api/parameters', tk)).status, 200);
  assert.equal((await fetch(`${base}/chat/${pub.code}`, { redirect: 'manual' })).status, 200);
  writeFileSync(policyFile, `default: everyone\napps:\n  ${pub.code}: {groups: []}\n`);
  process.kill(process.pid, 'SIGHUP');
  assert.equal((await passport(undefined, pub.code, 'anon-2')).status, 200, 'previous policy in force');
  assert.equal((await passport(undefined, alpha.code)).status, 401);
});

test('a framed navigation without a session gets the "open in a new tab" page; a top-level one goes to the SSO login', async () => {
  const framed = await fetch(`${base}/chatbot/${alpha.code}`, {
    headers: { 'sec-fetch-dest': 'iframe' },
    redirect: 'manual',
  });
  assert.equal(framed.status, 302);
  const loc = framed.headers.get('location') ?? '';
  assert.equal(loc, `/sso/webapp/embed?app=${alpha.code}&kind=chatbot`);
  const page = await fetch(`${base}${loc}`);
  assert.equal(page.status, 401);
  const text = await page.text();
  assert.ok(text.includes(`href="/chatbot/${alpha.code}" target="_blank"`));
  const top = await fetch(`${base}/chatbot/${alpha.code}`, { redirect: 'manual' });
  assert.equal(top.headers.get('location'), `/sso/login?redirect=${encodeURIComponent(`/chatbot/${alpha.code}`)}`);
});

test('start-up refuses an invalid policy file (every problem listed) and a policy without gate.webApps', async () => {
  const bad = join(tempDir(), 'bad.yaml');
  writeFileSync(bad, 'default: everyone\napps:\n  "x/y": public\n');
  const app = buildApp(
    loadConfig(bridgeEnv(s.op, s.standin, { DIFY_SSO_GATE_WEB_APPS: 'true', DIFY_SSO_GATE_WEB_APP_POLICY: bad })),
    { logStream: { write: () => undefined } },
  );
  try {
    await assert.rejects(
      async () => void (await app.ready()),
      (e: unknown) => {
        const err = e as { code?: string; problems?: string[] };
        return err.code === 'ERR_CONFIG_WEBAPP_POLICY' && err.problems?.length === 2;
      },
    );
  } finally {
    await app.close().catch(() => undefined);
  }
  assert.throws(
    () => loadConfig(bridgeEnv(s.op, s.standin, { DIFY_SSO_GATE_WEB_APP_POLICY: bad })),
    (e: unknown) =>
      (e as { problems?: { code: string; path: string }[] }).problems?.some(
        (p) => p.code === 'ERR_CONFIG_CONFLICT' && p.path === 'gate.webAppPolicy',
      ) === true,
  );
});

test('carol (no console role, no group) signs in for a web app: the console stays closed, the restricted app shows the denial page, an authenticated app works', async () => {
  const viaConsole = await login(s.bridge.app, s.op, { user: USERS.carol });
  assert.match(
    String(viaConsole.callbackRes.headers.location),
    /message=no_role/,
    'a console login without a role is still refused',
  );
  const r = await login(s.bridge.app, s.op, { user: USERS.carol, redirect: `/chat/${finance.code}` });
  assert.equal(r.callbackRes.headers.location, `/chat/${finance.code}`);
  const kit = [...r.jar]
    .filter(([k]) => /dify_sso$/.test(k))
    .map(([k, v]) => `${k}=${v}`)
    .join('; ');
  const page = await fetch(`${base}/chat/${finance.code}`, { headers: { cookie: kit }, redirect: 'manual' });
  assert.equal(page.headers.get('location'), `/sso/webapp/denied?app=${finance.code}`);
  const denied = await fetch(`${base}/sso/webapp/denied?app=${finance.code}`, { headers: { cookie: kit } });
  assert.ok((await denied.text()).includes('webapp_group_required'));
  assert.equal((await passport(kit, finance.code)).status, 403);
  assert.equal((await fetch(`${base}/console/api/account/profile`, { headers: { cookie: kit } })).status, 401);
  const tk = await token(kit, alpha.code);
  assert.equal((await api('/api/parameters', tk, kit)).status, 200);
  assert.equal(s.bridge.audits('webapp.session').filter((e) => e['sub'] === USERS.carol.sub).length, 1);
});
