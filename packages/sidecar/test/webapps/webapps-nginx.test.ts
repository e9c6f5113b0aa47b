/**
 * Web-app SSO (issue 12) in nginx `auth_request` mode with real nginx: `= /api/passport` is the
 * sidecar's broker, `/api/**` is gated on passport ownership, pages reach the denial page.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STANDIN_WEB_APPS } from '@dify-sso-kit/dify-standin';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { USERS } from '../dify/helpers.js';
import { freePort, startNginx, tempDir } from '../gate/nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from '../gate/live-helpers.js';

const [alpha, , finance, pub] = STANDIN_WEB_APPS as [
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
  (typeof STANDIN_WEB_APPS)[0],
];
let s: LiveStack;
let nginx: Awaited<ReturnType<typeof startNginx>>;
let front: string;
/** nginx writes absolute redirects: compare path and query. */
const rel = (loc: string | null) => {
  const u = new URL(loc ?? '', front);
  return u.pathname + u.search;
};

before(async () => {
  const dir = tempDir();
  const policy = join(dir, 'webapps.json');
  writeFileSync(
    policy,
    JSON.stringify({
      default: 'authenticated',
      contact: 'help@example.com',
      apps: { [pub.code]: 'public', [finance.code]: { groups: ['dify-admins'] } },
    }),
  );
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  s = await startLiveStack(front, { DIFY_SSO_GATE_WEB_APPS: 'true', DIFY_SSO_GATE_WEB_APP_POLICY: policy });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    renderLocalNginxConf({
      listen: `127.0.0.1:${port}`,
      sidecar: new URL(s.sidecarUrl).host,
      api: new URL(s.standin.url).host,
      web: s.web.hostport,
      tempDir: dir,
      gateWebApps: true,
      webAppSso: true,
    }),
  );
  nginx = await startNginx(conf, dir, port);
});
after(async () => {
  await nginx?.stop();
  await s?.close();
});

test('nginx: the passport comes from the broker; alice uses it, bob is refused it with 403 passport_not_owned', async () => {
  const a = await aliceCookies(s);
  const b = await aliceCookies(s, USERS.bob);
  const r = await fetch(`${front}/api/passport?user_id=chosen`, {
    headers: { 'x-app-code': alpha.code, cookie: a.kit },
  });
  assert.equal(r.status, 200);
  const tk = ((await r.json()) as { access_token: string }).access_token;
  const site = (await (
    await fetch(`${front}/api/site`, { headers: { 'x-app-passport': tk, cookie: a.kit } })
  ).json()) as { end_user_session_id: string };
  assert.match(site.end_user_session_id, /^sso-/);
  const stolen = await fetch(`${front}/api/conversations`, { headers: { 'x-app-passport': tk, cookie: b.kit } });
  assert.equal(stolen.status, 403);
  assert.equal(((await stolen.json()) as { code: string }).code, 'passport_not_owned');
  assert.equal(
    s.bridge.audits('webapp.access').filter((e) => e['reason'] === 'passport_not_owned' && e['sub'] === USERS.bob.sub)
      .length,
    1,
  );
  assert.equal((await fetch(`${front}/api/conversations`, { headers: { 'x-app-passport': tk } })).status, 401);
});

test('nginx: a refused person is redirected to the HTML denial page; a framed navigation to the embed page; a public app needs no session', async () => {
  const b = await aliceCookies(s, USERS.bob);
  const page = await fetch(`${front}/chat/${finance.code}`, { headers: { cookie: b.kit }, redirect: 'manual' });
  assert.equal(page.status, 302);
  assert.equal(rel(page.headers.get('location')), `/sso/webapp/denied?app=${finance.code}`);
  const denied = await fetch(`${front}/sso/webapp/denied?app=${finance.code}`, { headers: { cookie: b.kit } });
  assert.equal(denied.status, 403);
  assert.ok((await denied.text()).includes('help@example.com'));
  const framed = await fetch(`${front}/chatbot/${alpha.code}`, {
    headers: { 'sec-fetch-dest': 'iframe' },
    redirect: 'manual',
  });
  assert.equal(rel(framed.headers.get('location')), `/sso/webapp/embed?app=${alpha.code}&kind=chatbot`);
  const p = await fetch(`${front}/api/passport`, { headers: { 'x-app-code': pub.code } });
  assert.equal(p.status, 200);
  assert.equal((await fetch(`${front}/chat/${pub.code}`, { redirect: 'manual' })).status, 200);
});
