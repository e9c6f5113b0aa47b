import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { freePort, startNginx, tempDir } from './nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from './live-helpers.js';

let s: LiveStack;
let nginx: Awaited<ReturnType<typeof startNginx>>;
let front: string;

before(async () => {
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  s = await startLiveStack(front, { DIFY_SSO_GATE_WEB_APPS: 'true' });
  const dir = tempDir();
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
    }),
  );
  nginx = await startNginx(conf, dir, port);
});
after(async () => {
  await nginx?.stop();
  await s?.close();
});

test('nginx, web apps gated: a published app page without a kit session redirects to the SSO login', async () => {
  const res = await fetch(`${front}/chat/abc123?lang=en`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  // The target is the percent-encoded raw path from /sso/auth (X-Sso-Login), not nginx's decoded $uri.
  assert.equal(
    new URL(res.headers.get('location') ?? '', front).pathname +
      new URL(res.headers.get('location') ?? '', front).search,
    '/sso/login?redirect=%2Fchat%2Fabc123',
  );
});

test('nginx, web apps gated: with a kit session the page and the web-app API pass', async () => {
  const a = await aliceCookies(s);
  const page = await fetch(`${front}/chat/abc123`, { headers: { cookie: a.kit } });
  assert.equal(page.status, 200);
  assert.equal(((await page.json()) as { path: string }).path, '/chat/abc123');
  const apiNoSession = await fetch(`${front}/api/parameters`, { headers: { 'x-app-code': 'abc123' } });
  assert.equal(apiNoSession.status, 401);
  const other = await fetch(`${front}/apps`);
  assert.equal(other.status, 200, 'console pages are not web-app pages');
});
