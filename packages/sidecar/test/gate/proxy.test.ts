import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { SEED_IDS } from '../dify/helpers.js';
import { aliceCookies, readUntil, startLiveStack, type LiveStack } from './live-helpers.js';

let s: LiveStack;
let base: string;

before(async () => {
  // In reverse-proxy mode the sidecar is the front door: its own URL is the public URL.
  s = await startLiveStack('http://127.0.0.1:1', {
    DIFY_SSO_GATE_MODE: 'proxy',
    DIFY_SSO_GATE_BODY_LIMIT_MEGABYTES: '8',
    DIFY_SSO_TRUST_PROXY: '192.0.2.1',
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
    DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
    DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/workspaces/current/members',
  });
  base = s.sidecarUrl;
});
after(async () => {
  await s?.close();
});

test('proxy: lockdown and stolen cookie refused before anything reaches Dify', async () => {
  const login = await fetch(`${base}/console/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(login.status, 403);
  assert.equal(((await login.json()) as { code: string }).code, 'sso_required');
  const a = await aliceCookies(s);
  const stolen = await fetch(`${base}/console/api/account/profile`, {
    headers: { cookie: `access_token=${a.access}; csrf_token=${a.csrf}`, 'x-csrf-token': a.csrf },
  });
  assert.equal(stolen.status, 401);
  assert.ok(stolen.headers.getSetCookie().some((c) => c.startsWith('access_token=;')));
});

test('proxy: a signed-in browser reaches api and web', async () => {
  const a = await aliceCookies(s);
  const prof = await fetch(`${base}/console/api/account/profile`, {
    headers: { cookie: a.all, 'x-csrf-token': a.csrf },
  });
  assert.equal(prof.status, 200);
  assert.equal(((await prof.json()) as { id: string }).id, SEED_IDS.aliceId);
  const page = await fetch(`${base}/apps?x=1`);
  assert.equal(page.status, 200);
  assert.equal(((await page.json()) as { path: string }).path, '/apps?x=1');
  const sf = (await (await fetch(`${base}/console/api/system-features`)).json()) as Record<string, unknown>;
  assert.equal(sf['sso_enforced_for_signin'], true);
});

test('proxy: identity headers stripped in every spelling, X-Forwarded-* rewritten, kit cookies not forwarded', async () => {
  const a = await aliceCookies(s);
  const res = await fetch(`${base}/signin`, {
    headers: {
      cookie: a.all,
      'X-Forwarded-User': 'root',
      'X-Remote-User': 'root',
      'X-WORKSPACE-ID': 'other-workspace',
      'X-Forwarded-For': '6.6.6.6',
      'X-Forwarded-Host': 'evil.example',
      'X-Real-IP': '6.6.6.6',
    },
  });
  const { headers } = (await res.json()) as { headers: Record<string, string> };
  for (const h of ['x-forwarded-user', 'x-remote-user', 'x-workspace-id', 'x-real-ip'])
    assert.equal(headers[h], undefined, h);
  assert.equal(headers['x-forwarded-for'], '127.0.0.1', 'client XFF from an untrusted peer is discarded');
  assert.equal(headers['x-forwarded-host'], '127.0.0.1:1');
  assert.doesNotMatch(headers['cookie'] ?? '', /dify_sso/);
  assert.match(headers['cookie'] ?? '', /access_token=/);
  // Reserved prefixes and `_` spellings of listed names are refused, not only stripped (issue 9, finding 8).
  for (const [name, value] of [
    ['x-auth-request-user', 'root'],
    ['X-Sso-Upstream-Authorization', 'Bearer x'],
    ['X_Forwarded_Email', 'root@example.com'],
  ] as const) {
    const refused = await fetch(`${base}/signin`, { headers: { cookie: a.all, [name]: value } });
    assert.equal(refused.status, 400, name);
    assert.equal(((await refused.json()) as { code: string }).code, 'identity_header', name);
  }
});

test('proxy: SSE chunks are forwarded unbuffered', { timeout: 30_000 }, async () => {
  const a = await aliceCookies(s);
  const gate = `p-${Date.now()}`;
  const res = await fetch(
    `${base}/console/api/apps/00000000-0000-0000-0000-000000000001/chat-messages?chunks=3&gate=${gate}`,
    {
      method: 'POST',
      headers: { cookie: a.all, 'x-csrf-token': a.csrf, 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'hi', inputs: {} }),
    },
  );
  assert.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const seen = { text: '' };
  await readUntil(reader, 'chunk 1 of 3', seen);
  assert.doesNotMatch(seen.text, /chunk 2 of 3/);
  await s.standin.release(gate);
  await readUntil(reader, 'chunk 2 of 3', seen);
  assert.doesNotMatch(seen.text, /chunk 3 of 3/);
  await s.standin.release(gate);
  await readUntil(reader, 'message_end', seen);
});

test('proxy: multipart upload streams through; bodies over the limit get 413', async () => {
  const a = await aliceCookies(s);
  const form = new FormData();
  form.append('file', new Blob([new Uint8Array(5 * 1024 * 1024).fill(97)], { type: 'text/plain' }), 'big.txt');
  const up = await fetch(`${base}/console/api/files/upload`, {
    method: 'POST',
    headers: { cookie: a.all, 'x-csrf-token': a.csrf },
    body: form,
  });
  assert.equal(up.status, 201, await up.clone().text());
  assert.equal(((await up.json()) as { size: number }).size, 5 * 1024 * 1024);
  const tooBig = new FormData();
  tooBig.append('file', new Blob([new Uint8Array(9 * 1024 * 1024)]), 'huge.bin');
  const res = await fetch(`${base}/console/api/files/upload`, {
    method: 'POST',
    headers: { cookie: a.all, 'x-csrf-token': a.csrf },
    body: tooBig,
  });
  assert.equal(res.status, 413);
});

test('proxy: websocket upgrades only on /socket.io/ with the kit session (101 piping: issue-9.test.ts)', {
  timeout: 15_000,
}, async () => {
  const a = await aliceCookies(s);
  const { port } = new URL(base);
  const talk = (target: string, cookie: string) =>
    new Promise<string>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1');
      let buf = '';
      sock.on('data', (d) => (buf += d.toString()));
      sock.on('close', () => resolve(buf));
      sock.on('error', () => resolve(buf));
      sock.write(
        `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nCookie: ${cookie}\r\nX-Forwarded-User: root\r\n\r\n`,
      );
    });
  // Dify has no websocket outside /socket.io/: a web-page upgrade is refused before upstream.
  const web = await talk('/apps/ws', a.all);
  assert.match(web, /^HTTP\/1\.1 400 /);
  assert.match(web, /"code":"upgrade_refused"/);
  // The console websocket (/socket.io) needs the kit session like any console request.
  const refused = await talk('/socket.io/?EIO=4&transport=websocket', `access_token=${a.access}`);
  assert.match(refused, /^HTTP\/1\.1 401/);
});

test('proxy: machine bearer gets the admin key upstream only on allowlisted routes; forged admin-key headers refused', async () => {
  const token = await s.op.accessTokenJwt({});
  const ok = await fetch(`${base}/console/api/workspaces/current/members`, {
    headers: { authorization: `Bearer ${token}` },
  });
  assert.equal(ok.status, 200);
  assert.ok(((await ok.json()) as { accounts: unknown[] }).accounts.length > 0);
  const write = await fetch(`${base}/console/api/workspaces/current/members/invite-email`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ emails: ['m@example.com'], role: 'admin' }),
  });
  assert.equal(write.status, 403);
  const forged = await fetch(`${base}/console/api/workspaces/current/members`, {
    headers: { authorization: 'Bearer admin-key-9f2c41d7e85b3a60', 'x-workspace-id': SEED_IDS.workspaceId },
  });
  assert.equal(forged.status, 401);
});

test('proxy mode: /sso/auth never hands out machine credentials', async () => {
  const token = await s.op.accessTokenJwt({});
  const res = await s.bridge.app.inject({
    method: 'GET',
    url: '/sso/auth',
    remoteAddress: '192.0.2.1',
    headers: {
      'x-original-uri': '/console/api/workspaces/current/members',
      'x-original-method': 'GET',
      authorization: `Bearer ${token}`,
    },
  });
  assert.equal(res.statusCode, 403);
  assert.equal(res.headers['x-sso-upstream-authorization'], undefined);
});

test('proxy: every decision is counted in dify_sso_gate_decisions_total{mode="proxy"}', async () => {
  const registry = s.bridge.app.sso.metrics.registry;
  const count = async (result: string, reason: string) =>
    Number(
      new RegExp(
        `^dify_sso_gate_decisions_total\\{mode="proxy",result="${result}",reason="${reason}"\\} (\\d+)$`,
        'm',
      ).exec(await registry.metrics())?.[1] ?? 0,
    );
  const before = {
    locked: await count('deny', 'sso_required'),
    ok: await count('allow', 'ok'),
    path: await count('deny', 'invalid_path'),
  };
  assert.equal(
    (
      await fetch(`${base}/console/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      })
    ).status,
    403,
  );
  assert.equal((await fetch(`${base}/apps`)).status, 200);
  await new Promise<void>((resolve, reject) => {
    const sock = connect(Number(new URL(base).port), '127.0.0.1', () =>
      sock.write('GET /console/api/%2e%2e/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
    );
    sock.on('data', () => {});
    sock.on('end', () => resolve());
    sock.on('error', reject);
  });
  assert.equal(await count('deny', 'sso_required'), before.locked + 1);
  assert.ok((await count('allow', 'ok')) >= before.ok + 1);
  assert.equal(await count('deny', 'invalid_path'), before.path + 1);
});

test('upstream hop-by-hop headers are not relayed (a client asking for Connection: close gets it)', async () => {
  const { withoutHopByHop } = await import('../../src/gate/proxy.js');
  assert.deepEqual(
    withoutHopByHop({
      connection: 'keep-alive, X-Private',
      'keep-alive': 'timeout=5',
      'x-private': '1',
      'transfer-encoding': 'chunked',
      'content-type': 'text/plain',
      'set-cookie': ['a=1'],
    }),
    { 'content-type': 'text/plain', 'set-cookie': ['a=1'] },
  );
});
