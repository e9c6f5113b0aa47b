import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { SEED_IDS } from '../dify/helpers.js';
import { freePort, startNginx, tempDir } from './nginx-helpers.js';
import { aliceCookies, readUntil, startLiveStack, type LiveStack } from './live-helpers.js';

let s: LiveStack;
let nginx: Awaited<ReturnType<typeof startNginx>>;
let front: string;

before(async () => {
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  s = await startLiveStack(front, {
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
    DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
    DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/workspaces/current/members',
  });
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
    }),
  );
  nginx = await startNginx(conf, dir, port);
});
after(async () => {
  await nginx?.stop();
  await s?.close();
});

test('nginx → sidecar: system-features adjusted', async () => {
  const res = await fetch(`${front}/console/api/system-features`);
  assert.equal(res.status, 200);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body['sso_enforced_for_signin'], true);
  assert.equal(body['enable_email_password_login'], false);
});

test('nginx: password login and registration refused with 403 sso_required', async () => {
  for (const path of ['/console/api/login', '/console/api/email-register/send-email', '/console/api/forgot-password']) {
    const res = await fetch(`${front}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        email: 'owner@example.com',
        password: Buffer.from('owner-local-password').toString('base64'),
      }),
    });
    assert.equal(res.status, 403, path);
    assert.deepEqual(await res.json(), { code: 'sso_required', status: 403 });
  }
});

test('nginx: a signed-in browser reaches the console API', async () => {
  const a = await aliceCookies(s);
  const res = await fetch(`${front}/console/api/account/profile`, {
    headers: { cookie: a.all, 'x-csrf-token': a.csrf },
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { id: string }).id, SEED_IDS.aliceId);
});

test('nginx: stolen Dify access cookie without the kit session → 401 JSON, Dify cookies cleared', async () => {
  const a = await aliceCookies(s);
  const res = await fetch(`${front}/console/api/account/profile`, {
    headers: {
      cookie: `access_token=${a.access}; refresh_token=${a.refresh}; csrf_token=${a.csrf}`,
      'x-csrf-token': a.csrf,
    },
  });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { code: 'unauthorized', message: 'Sign-in required.', status: 401 });
  const cleared = res.headers.getSetCookie().map((c) => c.split('=', 1)[0]);
  assert.deepEqual(cleared.sort(), ['access_token', 'csrf_token', 'refresh_token']);
});

test('nginx: kit session ended (back-channel/admin) → the very next console request fails', async () => {
  const a = await aliceCookies(s);
  assert.equal(
    (await fetch(`${front}/console/api/account/profile`, { headers: { cookie: a.all, 'x-csrf-token': a.csrf } }))
      .status,
    200,
  );
  await s.bridge.app.sso.endUserSessions('kc-alice', 'backchannel');
  assert.equal(
    (await fetch(`${front}/console/api/account/profile`, { headers: { cookie: a.all, 'x-csrf-token': a.csrf } }))
      .status,
    401,
  );
});

test('nginx: SSE chunks arrive one by one (unbuffered) through auth_request', { timeout: 30_000 }, async () => {
  const a = await aliceCookies(s);
  const gate = `g-${Date.now()}`;
  const res = await fetch(
    `${front}/console/api/apps/00000000-0000-0000-0000-000000000001/chat-messages?chunks=3&gate=${gate}`,
    {
      method: 'POST',
      headers: { cookie: a.all, 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hi', inputs: {} }),
    },
  );
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const seen = { text: '' };
  // Chunk 1 is read while the upstream is still holding chunk 2 back: nothing buffers the stream.
  await readUntil(reader, 'chunk 1 of 3', seen);
  assert.doesNotMatch(seen.text, /chunk 2 of 3/);
  await s.standin.release(gate);
  await readUntil(reader, 'chunk 2 of 3', seen);
  assert.doesNotMatch(seen.text, /chunk 3 of 3/);
  await s.standin.release(gate);
  await readUntil(reader, 'message_end', seen);
  assert.match(seen.text, /chunk 3 of 3/);
});

test('nginx: machine bearer reaches an allowlisted route with the admin key; client admin-key headers do not', async () => {
  const token = await s.op.accessTokenJwt({});
  const ok = await fetch(`${front}/console/api/workspaces/current/members`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(ok.status, 200);
  assert.ok(((await ok.json()) as { accounts: unknown[] }).accounts.length > 0);
  const forged = await fetch(`${front}/console/api/workspaces/current/members`, {
    headers: { authorization: 'Bearer admin-key-9f2c41d7e85b3a60', 'x-workspace-id': SEED_IDS.workspaceId },
  });
  assert.equal(forged.status, 401);
  const scope = await fetch(`${front}/console/api/workspaces/current/members`, {
    headers: { authorization: `Bearer ${await s.op.accessTokenJwt({ scope: 'openid' })}` },
  });
  assert.equal(scope.status, 403);
  assert.deepEqual(await scope.json(), { code: 'insufficient_scope', status: 403 });
});

test('nginx: /sso/auth is internal (404 from outside)', async () => {
  const res = await fetch(`${front}/sso/auth`, { headers: { 'x-original-uri': '/console/api/apps' } });
  assert.equal(res.status, 404);
});
