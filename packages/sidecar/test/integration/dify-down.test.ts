/**
 * dify-api down (issue 13, item 2), in both gate modes: real nginx (`auth_request`, the generated
 * configuration) and reverse-proxy mode. dify-api (the stand-in) sits behind a TCP relay that is
 * closed to take it "down" (connections refused, as when its container stops) and opened again
 * on the same port. The user gets a clear 502 (`dify_unavailable`), never nginx's bare error page;
 * no kit session is lost, back-channel logouts still work, and once Dify is back the same
 * browser goes on. See the fault matrix in the README.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { DIFY_UNAVAILABLE } from '../../src/lib/dify-unavailable.js';
import { freePort } from '../helpers/ports.js';
import { startNginx, tempDir } from '../gate/nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from '../gate/live-helpers.js';
import { SEED_IDS, USERS } from '../dify/helpers.js';
import { login } from '../helpers/harness.js';

/** A TCP relay to `target` on a fixed port that can be taken down and brought back. */
class Relay {
  server: Server | undefined;
  sockets = new Set<Socket>();
  /** The stand-in's port, set once it listens. */
  target = 0;
  constructor(readonly port: number) {}
  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => s.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((r) => server.listen(this.port, '127.0.0.1', r));
    this.server = server;
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }
}

async function stackWithRelay(publicUrl: string, env: Record<string, string>): Promise<{ s: LiveStack; relay: Relay }> {
  const relay = new Relay(await freePort());
  await relay.up();
  // The sidecar talks to dify-api through the relay only.
  const s = await startLiveStack(publicUrl, { DIFY_SSO_DIFY_API_URL: `http://127.0.0.1:${relay.port}`, ...env });
  relay.target = Number(new URL(s.standin.url).port);
  return { s, relay };
}

async function scenario(s: LiveStack, relay: Relay, front: string, mode: 'nginx' | 'proxy'): Promise<void> {
  const a = await aliceCookies(s);
  const profile = (accept = 'application/json') =>
    fetch(`${front}/console/api/account/profile`, { headers: { cookie: a.all, 'x-csrf-token': a.csrf, accept } });
  assert.equal((await profile()).status, 200);
  const bob = await login(s.bridge.app, s.op, { user: { ...USERS.bob, sid: `${mode}-bob` } });
  assert.equal(bob.callbackRes.headers.location, '/apps');

  await relay.down();
  for (let i = 0; i < 2; i++) {
    const res = await profile();
    assert.equal(res.status, 502, `${mode}: dify-api down → 502`);
    assert.match(String(res.headers.get('content-type')), /^application\/json/);
    assert.deepEqual(await res.json(), DIFY_UNAVAILABLE);
    assert.equal(res.headers.get('cache-control'), 'no-store');
  }
  if (mode === 'proxy') {
    const page = await profile('text/html,application/xhtml+xml');
    assert.equal(page.status, 502);
    assert.match(await page.text(), /Dify is not reachable right now/);
  }
  // The gate still decides first: no session, no 502 (nothing is revealed about Dify's state).
  assert.equal(
    (await fetch(`${front}/console/api/account/profile`, { headers: { accept: 'application/json' } })).status,
    401,
  );
  // Sessions are untouched; a back-channel logout meanwhile still ends bob's session.
  assert.ok(
    (await s.bridge.app.sso.checkSession({ cookies: Object.fromEntries(a.jar) } as never)).ok,
    'alice keeps her kit session',
  );
  const token = await s.op.logoutToken({ sid: `${mode}-bob` });
  const bc = await s.bridge.app.inject({
    method: 'POST',
    url: '/sso/backchannel-logout',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `logout_token=${token}`,
  });
  assert.equal(bc.statusCode, 200);
  assert.deepEqual(await s.bridge.app.sso.checkSession({ cookies: Object.fromEntries(bob.jar) } as never), {
    ok: false,
    reason: 'revoked',
  });
  // A sign-in while Dify is down cannot link the Dify account: it is refused, with no session left behind.
  const during = await login(s.bridge.app, s.op, { user: { ...USERS.alice, sid: `${mode}-during` } });
  assert.equal(during.callbackRes.headers.location, '/signin?message=dify_unavailable');
  assert.ok(
    ![...during.jar.keys()].some((k) => /dify_sso$/.test(k)),
    'no kit session from a sign-in Dify could not complete',
  );
  const failure = s.bridge.audits('auth.login.failure').at(-1);
  assert.equal(failure?.['reason'], 'dify_unavailable', 'the refused sign-in is audited');

  await relay.up();
  const back = await profile();
  assert.equal(back.status, 200, `${mode}: Dify back → the same browser goes on without signing in again`);
  assert.equal(((await back.json()) as { id: string }).id, SEED_IDS.aliceId);
}

test('dify-api down behind nginx (auth_request): 502 dify_unavailable from the generated error_page, no kit session lost', {
  timeout: 120_000,
}, async () => {
  const port = await freePort();
  const front = `http://127.0.0.1:${port}`;
  const { s, relay } = await stackWithRelay(front, {});
  const dir = tempDir();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    renderLocalNginxConf({
      listen: `127.0.0.1:${port}`,
      sidecar: new URL(s.sidecarUrl).host,
      api: `127.0.0.1:${relay.port}`,
      web: s.web.hostport,
      tempDir: dir,
    }),
  );
  const nginx = await startNginx(conf, dir, port);
  try {
    await scenario(s, relay, front, 'nginx');
  } finally {
    await nginx.stop();
    await relay.down();
    await s.close();
  }
});

test('dify-api down in reverse-proxy mode: 502 dify_unavailable (JSON, or an HTML page for navigations), no kit session lost', {
  timeout: 120_000,
}, async () => {
  const { s, relay } = await stackWithRelay('http://127.0.0.1:1', { DIFY_SSO_GATE_MODE: 'proxy' });
  try {
    await scenario(s, relay, s.sidecarUrl, 'proxy');
  } finally {
    await relay.down();
    await s.close();
  }
});
