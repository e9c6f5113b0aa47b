/**
 * `dify-sso doctor` against a running stack: the Dify stand-in and the sidecar (reverse-proxy
 * gate) listening on ephemeral loopback ports, real Redis; and broken variants that must fail
 * the right check.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startLiveStack, type LiveStack } from '../../sidecar/test/gate/live-helpers.js';
import { startBridge, startStandin } from '../../sidecar/test/dify/helpers.js';
import { main } from '../src/main.js';
import { CHECK_NAMES, checkCookies, checkGate, type Answer } from '../src/doctor/checks.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function doctor(...argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(['doctor', ...argv], {}, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** The printed line of one check (`ok`, `FAIL` or `skip`). */
function line(out: string, name: string): string {
  const l = out.split('\n').find((x) => x.includes(`  ${name}: `));
  assert.ok(l, `no line for "${name}" in:\n${out}`);
  return l;
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/sso/health/ready`)).status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('the sidecar did not become ready');
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * A front door with the gate NOT wired: `/sso/` and system-features go to the sidecar, every
 * other path straight to dify-api (the stand-in), as an nginx config without the kit's
 * `auth_request` locations would do.
 */
async function ungatedFrontDoor(sidecarUrl: string, difyApiUrl: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    void (async () => {
      const path = req.url ?? '/';
      const target = path.startsWith('/sso/') || path === '/console/api/system-features' ? sidecarUrl : difyApiUrl;
      const headers: Record<string, string> = {};
      for (const h of ['accept', 'content-type', 'cookie'])
        if (typeof req.headers[h] === 'string') headers[h] = req.headers[h];
      const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
      const r = await fetch(target + path, {
        method: req.method ?? 'GET',
        headers,
        redirect: 'manual',
        ...(body ? { body: new Uint8Array(body) } : {}),
      });
      const out: Record<string, string | string[]> = {};
      r.headers.forEach((v, k) => {
        if (!['content-encoding', 'content-length', 'transfer-encoding', 'connection', 'set-cookie'].includes(k))
          out[k] = v;
      });
      const cookies = r.headers.getSetCookie();
      if (cookies.length > 0) out['set-cookie'] = cookies;
      res.writeHead(r.status, out);
      res.end(Buffer.from(await r.arrayBuffer()));
    })().catch(() => {
      res.writeHead(502);
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

let s: LiveStack;

before(async () => {
  // Reverse-proxy gate mode: the sidecar is the front door.
  s = await startLiveStack('http://127.0.0.1:1', { DIFY_SSO_GATE_MODE: 'proxy' });
  await waitReady(s.sidecarUrl);
});
after(async () => {
  await s?.close();
});

test('doctor: a correctly wired stack passes every check (exit 0)', async () => {
  const r = await doctor('--url', s.sidecarUrl, '--allow-http');
  assert.equal(r.code, 0, r.out + r.err);
  for (const name of Object.values(CHECK_NAMES)) assert.match(line(r.out, name), /^ {2}ok {4}/, name);
  assert.match(line(r.out, CHECK_NAMES.version), /Dify 1\.\d+\.\d+ \(supported: 1\.11\.0 to 1\.\d+\.x\)/);
  assert.match(r.out, /all 7 checks passed/);
  assert.equal(r.err, '');
});

test('doctor: plain http without --allow-http fails the cookie check', async () => {
  const r = await doctor('--url', s.sidecarUrl);
  assert.equal(r.code, 1);
  assert.match(line(r.out, CHECK_NAMES.cookies), /^ {2}FAIL {2}.*plain http/);
  assert.match(r.out, /fix: serve the front door over https/);
  assert.match(r.err, /^dify-sso doctor: error ERR_DOCTOR_CHECKS_FAILED 1 of 7 checks failed\n/);
});

test('doctor: gate not wired (console API straight to Dify) fails the gate and password checks', async (t) => {
  const door = await ungatedFrontDoor(s.sidecarUrl, s.standin.url);
  t.after(() => new Promise<void>((r) => door.server.close(() => r())));
  const r = await doctor('--url', door.url, '--allow-http');
  assert.equal(r.code, 1, r.out);
  assert.match(
    line(r.out, CHECK_NAMES.gate),
    /^ {2}FAIL {2}.*dify-api answered the unauthenticated request itself \(401, X-Version 1\.\d+\.\d+\)/,
  );
  assert.match(line(r.out, CHECK_NAMES.password), /^ {2}FAIL {2}.*not 403 \{"code":"sso_required"\}/);
  assert.match(r.out, /fix: put the gate in front of \/console\/api\//);
  for (const name of [
    CHECK_NAMES.frontDoor,
    CHECK_NAMES.ready,
    CHECK_NAMES.version,
    CHECK_NAMES.features,
    CHECK_NAMES.cookies,
  ]) {
    assert.match(line(r.out, name), /^ {2}ok {4}/, name);
  }
  assert.match(r.err, /ERR_DOCTOR_CHECKS_FAILED 2 of 7 checks failed/);
});

test('doctor: /sso/ not routed to the sidecar fails readiness; an unreachable front door skips the rest', async () => {
  // dify-api alone as the "front door": nothing of the kit is there.
  const r = await doctor('--url', s.standin.url, '--allow-http');
  assert.equal(r.code, 1);
  assert.match(line(r.out, CHECK_NAMES.ready), /^ {2}FAIL {2}.*\/sso\/ does not reach the sidecar/);
  assert.match(line(r.out, CHECK_NAMES.features), /^ {2}FAIL {2}.*sso_enforced_for_signin is false, expected true/);

  const closed = createServer();
  await new Promise<void>((res) => closed.listen(0, '127.0.0.1', res));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((res) => closed.close(() => res()));
  const down = await doctor('--url', `http://127.0.0.1:${port}`, '--allow-http', '--timeout', '5');
  assert.equal(down.code, 1);
  assert.match(line(down.out, CHECK_NAMES.frontDoor), /^ {2}FAIL {2}.*cannot reach .*ECONNREFUSED/);
  assert.match(line(down.out, CHECK_NAMES.gate), /^ {2}skip {2}.*not run: the front door is unreachable/);
  assert.match(down.err, /1 of 7 checks failed, 6 not run/);
});

test('doctor: a Dify version outside the version table fails the version check', async (t) => {
  const standin = await startStandin({ version: '1.18.0' });
  t.after(() => standin.close());
  const bridge = await startBridge(
    standin,
    { DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:1', DIFY_SSO_DIFY_WEB_URL: s.web.url, DIFY_SSO_GATE_MODE: 'proxy' },
    { op: s.op, listen: true },
  );
  t.after(() => bridge.close());
  const url = `http://127.0.0.1:${(bridge.app.server.address() as AddressInfo).port}`;
  await waitReady(url);
  const r = await doctor('--url', url, '--allow-http');
  assert.equal(r.code, 1, r.out);
  assert.match(line(r.out, CHECK_NAMES.version), /^ {2}FAIL {2}.*Dify 1\.18\.0 is not supported/);
  assert.match(r.out, /fix: run a Dify version from 1\.11\.0 to 1\.\d+\.x, or a kit release that supports yours/);
  for (const name of [
    CHECK_NAMES.frontDoor,
    CHECK_NAMES.ready,
    CHECK_NAMES.gate,
    CHECK_NAMES.password,
    CHECK_NAMES.features,
    CHECK_NAMES.cookies,
  ]) {
    assert.match(line(r.out, name), /^ {2}ok {4}/, name);
  }
});

test('doctor cookie check on https: __Host- and Secure are required', () => {
  const https = new URL('https://dify.example.com/');
  const answer = (...cookies: string[]): { ok: true; answer: Answer } => ({
    ok: true,
    answer: { status: 302, headers: new Headers(cookies.map((c) => ['set-cookie', c] as [string, string])), body: '' },
  });
  const good = checkCookies(https, answer('__Host-dify_sso_tx=opaque; Path=/; HttpOnly; Secure; SameSite=Lax'), {
    allowHttp: false,
  });
  assert.equal(good.status, 'ok', good.detail);
  assert.equal(good.detail.includes('opaque'), false, 'cookie values are never printed');
  const plain = checkCookies(https, answer('dify_sso_tx=opaque; Path=/; HttpOnly; SameSite=Lax'), { allowHttp: false });
  assert.equal(plain.status, 'fail');
  assert.match(plain.detail, /dify_sso_tx lacks the __Host- prefix; dify_sso_tx is not Secure/);
  assert.equal(plain.detail.includes('opaque'), false);
  const domain = checkCookies(https, answer('__Host-dify_sso_tx=v; Path=/sso; HttpOnly; Secure; Domain=example.com'), {
    allowHttp: false,
  });
  assert.match(domain.detail, /has a Domain attribute; .*Path=\/sso, expected \//);
  assert.equal(checkCookies(https, answer('other=1; Secure'), { allowHttp: false }).status, 'fail');
  assert.equal(checkCookies(https, { ok: false, error: 'ECONNRESET' }, { allowHttp: false }).status, 'fail');
});

test("doctor gate check: a 401 with Dify's X-Version is Dify's own, not the gate's", () => {
  const answer = (status: number, headers: Record<string, string>, body: string) => ({
    ok: true as const,
    answer: { status, headers: new Headers(headers), body },
  });
  assert.equal(checkGate(answer(401, {}, '{"code":"unauthorized","status":401}')).status, 'ok');
  assert.equal(
    checkGate(answer(401, { 'x-version': '1.16.1' }, '{"code":"unauthorized","status":401}')).status,
    'fail',
  );
  assert.match(checkGate(answer(200, {}, '{"id":"x"}')).detail, /answered 200 without a session/);
  assert.equal(checkGate(answer(404, {}, 'not found')).status, 'fail');
});

test('doctor: usage errors exit 2 in the common format', async () => {
  const none = await doctor();
  assert.equal(none.code, 2);
  assert.match(none.err, /^dify-sso doctor: error ERR_INVALID_ARG_VALUE --url <front door> is required\nfix: /);
  assert.equal((await doctor('--url', 'ftp://x')).code, 2);
  assert.equal((await doctor('--url', 'https://u:p@x')).code, 2);
  assert.equal((await doctor('--url', 'https://x', '--timeout', 'soon')).code, 2);
  assert.equal((await doctor('--url', 'https://x', '--nope')).code, 2);
  const help = await doctor('--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /^Usage: dify-sso doctor --url <front door>/);
});
