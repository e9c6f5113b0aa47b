/**
 * Regressions for issue 9 findings 1–3: the gate reads a request as nginx, werkzeug and
 * python-engineio do, or refuses it.
 * 1. reverse-proxy websocket upgrade: piped only after upstream's 101, only on `/socket.io/`;
 * 2. cookies parsed as werkzeug does, ambiguous Dify auth cookies refused;
 * 3. raw paths refused with 400 before routing, in the sidecar and by a server-level nginx rule.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { decide, type GateContext, type GateRequest, type SessionCheck } from '../../src/gate/decide.js';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { ACCEPTED_TARGETS, REFUSED_TARGETS } from './__fixtures__/raw-path-corpus.js';
import { freePort, startNginx, tempDir } from './nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from './live-helpers.js';

// ---- a real listening upstream that records every request it reads ----------------------------

interface Recorder {
  url: string;
  hostport: string;
  /** Request lines read, in order (`GET /path`), across all connections. */
  seen: string[];
  /** Header blocks read, lower-cased names. */
  heads: Record<string, string>[];
  close(): Promise<void>;
}

/**
 * An HTTP/1.1 upstream on a raw socket: answers every request with a keep-alive 200 (also
 * upgrade requests, as a plain Flask/gunicorn route does), except requests whose target holds
 * `ws=101`, which it switches to an echo websocket.
 */
async function startRecorder(): Promise<Recorder> {
  const seen: string[] = [];
  const heads: Record<string, string>[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = '';
    let echo = false;
    sock.on('data', (d: Buffer) => {
      if (echo) return void sock.write(Buffer.concat([Buffer.from('echo:'), d]));
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) !== -1) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const [line, ...rest] = head.split('\r\n');
        const requestLine = (line ?? '').replace(/ HTTP\/1\.[01]$/, '');
        seen.push(requestLine);
        heads.push(
          Object.fromEntries(
            rest.map((h) => [h.slice(0, h.indexOf(':')).toLowerCase(), h.slice(h.indexOf(':') + 1).trim()]),
          ),
        );
        if (requestLine.includes('ws=101')) {
          echo = true;
          sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
          return;
        }
        const body = JSON.stringify({ upstream: 'recorder', got: requestLine });
        sock.write(
          `HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n${body}`,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hostport: `127.0.0.1:${port}`,
    seen,
    heads,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/**
 * Sends `first` on a fresh connection; once a complete response head arrived, sends `second` (if
 * any) on the same connection; resolves with everything received when the connection closes or a
 * second response arrived.
 */
function converse(port: number, first: string, second?: string): Promise<string> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let buf = '';
    let sent = false;
    const done = () => {
      sock.destroy();
      resolve(buf);
    };
    sock.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const responses = buf.match(/HTTP\/1\.1 \d{3} /g)?.length ?? 0;
      if (!sent && buf.includes('\r\n\r\n')) {
        sent = true;
        if (second !== undefined) sock.write(second, () => undefined);
        else return done();
      }
      if (responses >= 2 || buf.includes('echo:')) done();
    });
    sock.on('error', () => done());
    sock.on('close', () => done());
    sock.write(first);
  });
}

/** One request on a raw connection (nothing normalises the target); resolves with status and body. */
async function rawGet(port: number, target: string, headers = ''): Promise<{ status: number; text: string }> {
  const text = await converse(port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
  return { status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0), text };
}

const upgradeReq = (target: string, cookie = '', extra = '') =>
  `GET ${target} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n${cookie ? `Cookie: ${cookie}\r\n` : ''}${extra}\r\n`;
const SECOND = 'GET /console/api/account/profile?smuggled=1 HTTP/1.1\r\nHost: x\r\n\r\n';
/** Targets a client can put on the request line (the empty target cannot be sent). */
const SENDABLE = REFUSED_TARGETS.filter((t) => t !== '');

// ---- finding 1: reverse-proxy websocket upgrade ----------------------------------------------

describe('issue 9 / reverse-proxy mode', () => {
  let s: LiveStack;
  let rec: Recorder;
  let port: number;

  before(async () => {
    rec = await startRecorder();
    s = await startLiveStack('http://127.0.0.1:1', {
      DIFY_SSO_GATE_MODE: 'proxy',
      DIFY_SSO_DIFY_WEB_URL: rec.url,
      DIFY_SSO_DIFY_SOCKET_IO_URL: rec.url,
    });
    port = Number(new URL(s.sidecarUrl).port);
  });
  after(async () => {
    // Upstream first: a leftover tunnel (the bug this guards against) must not keep the sidecar open.
    await rec?.close();
    await s?.close();
  });

  test('an upgrade to a public path is refused; a second request on that connection never reaches upstream', async () => {
    const before0 = rec.seen.length;
    const got = await converse(port, upgradeReq('/signin'), SECOND);
    assert.match(got, /^HTTP\/1\.1 400 /);
    assert.match(got, /"code":"upgrade_refused"/);
    assert.deepEqual(rec.seen.slice(before0), [], 'nothing reached upstream');
    const ping = await converse(port, upgradeReq('/console/api/ping'), SECOND);
    assert.match(ping, /^HTTP\/1\.1 400 /);
  });

  test('/socket.io/ upgrade answered with a keep-alive 200: relayed, both closed, no raw tunnel', async () => {
    const a = await aliceCookies(s);
    const before0 = rec.seen.length;
    const got = await converse(port, upgradeReq('/socket.io/?EIO=4&transport=websocket', a.all), SECOND);
    assert.match(got, /^HTTP\/1\.1 200 /);
    assert.match(got, /\r\nConnection: close\r\n/i);
    assert.match(got, /"upstream":"recorder"/);
    assert.deepEqual(
      rec.seen.slice(before0),
      ['GET /socket.io/?EIO=4&transport=websocket'],
      'only the upgrade request reached upstream',
    );
    assert.doesNotMatch(got, /smuggled/);
  });

  test('/socket.io/ upgrade answered with 101: piped both ways; identity headers and kit cookies not forwarded', async () => {
    const a = await aliceCookies(s);
    const got = await converse(
      port,
      upgradeReq('/socket.io/?EIO=4&transport=websocket&ws=101', a.all, 'X-Forwarded-User: root\r\n'),
      'ping',
    );
    assert.match(got, /^HTTP\/1\.1 101 /);
    assert.match(got, /echo:ping/);
    const head = rec.heads[rec.heads.length - 1] as Record<string, string>;
    assert.equal(head['x-forwarded-user'], undefined);
    assert.doesNotMatch(head['cookie'] ?? '', /dify_sso/);
    assert.match(head['cookie'] ?? '', /access_token=/);
  });

  test('upgrades other than GET + websocket on /socket.io/ are refused with 400 upgrade_refused', async () => {
    const a = await aliceCookies(s);
    const before0 = rec.seen.length;
    for (const req of [
      upgradeReq('/socket.io/?EIO=4', a.all).replace('Upgrade: websocket', 'Upgrade: h2c'),
      upgradeReq('/socket.io/?EIO=4', a.all).replace(/^GET/, 'POST'),
      upgradeReq('/SOCKET.IO/?EIO=4', a.all),
      upgradeReq('/console/api/apps', a.all),
    ]) {
      const got = await converse(port, req, SECOND);
      assert.match(got, /^HTTP\/1\.1 400 /, req.split('\r\n')[0]);
      assert.match(got, /"code":"upgrade_refused"/);
    }
    assert.deepEqual(rec.seen.slice(before0), []);
  });

  test('/socket.io/..;/x upgrade and request: 400 invalid_path, nothing reaches upstream', async () => {
    const before0 = rec.seen.length;
    const up = await converse(port, upgradeReq('/socket.io/..;/x?EIO=4&transport=websocket&ws=101'), SECOND);
    assert.match(up, /^HTTP\/1\.1 400 /);
    assert.match(up, /"code":"invalid_path"/);
    const plain = await rawGet(port, '/socket.io/..;/x?EIO=4&transport=polling');
    assert.equal(plain.status, 400);
    assert.match(plain.text, /"code":"invalid_path"/);
    assert.deepEqual(rec.seen.slice(before0), []);
  });

  test('every refused raw path answers 400 before routing; legitimate shapes are not refused', async () => {
    const before0 = rec.seen.length;
    for (const t of SENDABLE) {
      const r = await rawGet(port, t);
      assert.equal(r.status, 400, JSON.stringify(t));
    }
    assert.deepEqual(rec.seen.slice(before0), [], 'no refused path reached upstream');
    for (const t of ACCEPTED_TARGETS) {
      const r = await rawGet(port, t);
      assert.doesNotMatch(r.text, /invalid_path/, t);
      assert.notEqual(r.status, 400, `${t}: ${r.text}`);
    }
  });

  test('kit cookies are cut out of a Cookie header with a quoted ";" without re-splitting it', async () => {
    const a = await aliceCookies(s);
    await rawGet(port, '/apps', `Cookie: ${a.kit}; theme="a; dify_sso=x"; lang=en\r\n`);
    assert.equal(rec.heads[rec.heads.length - 1]?.['cookie'], 'theme="a; dify_sso=x"; lang=en');
  });

  test('finding 2 through the proxy: a quoted value hiding an access_token → 401 ambiguous_cookie', async () => {
    const a = await aliceCookies(s);
    const r = await rawGet(
      port,
      '/console/api/account/profile',
      `Cookie: ${a.kit}; x="; access_token=${a.access}"; access_token=forged.jwt.value\r\nX-Csrf-Token: ${a.csrf}\r\n`,
    );
    assert.equal(r.status, 401);
    assert.match(r.text, /"code":"ambiguous_cookie"/);
    const twoLines = await rawGet(
      port,
      '/console/api/account/profile',
      `Cookie: ${a.all}\r\nCookie: x=1\r\nX-Csrf-Token: ${a.csrf}\r\n`,
    );
    assert.equal(twoLines.status, 401);
    assert.match(twoLines.text, /"code":"ambiguous_cookie"/);
    const plain = await rawGet(port, '/console/api/account/profile', `Cookie: ${a.all}\r\nX-Csrf-Token: ${a.csrf}\r\n`);
    assert.equal(plain.status, 200);
  });
});

// ---- finding 3: the server-level nginx rule ---------------------------------------------------

describe('issue 9 / nginx server-level raw-path rule', () => {
  let s: LiveStack;
  let rec: Recorder;
  let nginx: Awaited<ReturnType<typeof startNginx>>;
  let port: number;

  before(async () => {
    rec = await startRecorder();
    port = await freePort();
    s = await startLiveStack(`http://127.0.0.1:${port}`);
    const dir = tempDir();
    const conf = join(dir, 'nginx.conf');
    writeFileSync(
      conf,
      renderLocalNginxConf({
        listen: `127.0.0.1:${port}`,
        sidecar: new URL(s.sidecarUrl).host,
        api: new URL(s.standin.url).host,
        web: rec.hostport,
        tempDir: dir,
      }),
    );
    nginx = await startNginx(conf, dir, port);
  });
  after(async () => {
    await nginx?.stop();
    await s?.close();
    await rec?.close();
  });

  test('an encoded dot segment that nginx would route to an ungated location gets 400 from nginx', async () => {
    const before0 = rec.seen.length;
    // nginx's $uri is /signin (location /, not gated): without the rule the raw URI reaches upstream.
    const r = await rawGet(port, '/console/api/workspaces/%2e%2e/%2e%2e/%2e%2e/signin');
    assert.equal(r.status, 400);
    assert.deepEqual(rec.seen.slice(before0), []);
  });

  test('every refused raw path gets 400 at nginx, gated location or not; nothing reaches an upstream', async () => {
    const before0 = rec.seen.length;
    // nginx itself turns an absolute-form target into origin-form ($request_uri, the URI it proxies
    // and the X-Original-URI the gate decides on are all the path): nothing to refuse there.
    for (const t of SENDABLE.filter((x) => !/^https?:/.test(x))) {
      const r = await rawGet(port, t);
      assert.equal(r.status, 400, JSON.stringify(t));
    }
    assert.deepEqual(rec.seen.slice(before0), []);
    const absolute = await rawGet(port, 'http://evil.example/console/api/apps');
    assert.equal(absolute.status, 401, 'decided by the gate on the path nginx routes');
  });

  test('legitimate shapes pass nginx (web pages and assets reach web; console paths reach the gate)', async () => {
    for (const t of ACCEPTED_TARGETS) {
      const r = await rawGet(port, t);
      assert.ok(!(r.status === 400 && /nginx/.test(r.text)), `${t} refused by nginx`);
    }
    assert.ok(rec.seen.includes('GET /_next/static/chunks/app/(commonLayout)/apps/page-1a2b3c.js'));
    const a = await aliceCookies(s);
    const ok = await rawGet(port, '/console/api/account/profile', `Cookie: ${a.all}\r\nX-Csrf-Token: ${a.csrf}\r\n`);
    assert.equal(ok.status, 200);
  });

  test('finding 2 through nginx: two Cookie header lines (gunicorn joins them with ",") → 401', async () => {
    const a = await aliceCookies(s);
    const r = await rawGet(
      port,
      '/console/api/account/profile',
      `Cookie: ${a.all}\r\nCookie: x=1\r\nX-Csrf-Token: ${a.csrf}\r\n`,
    );
    assert.equal(r.status, 401);
    const hidden = await rawGet(
      port,
      '/console/api/account/profile',
      `Cookie: ${a.kit}; x="; access_token=${a.access}"; access_token=forged.jwt.value\r\nX-Csrf-Token: ${a.csrf}\r\n`,
    );
    assert.equal(hidden.status, 401);
  });
});

// ---- findings 2 and 3 at the decision level ---------------------------------------------------

const ALICE = 'a11ce000-7d3b-4c2a-9f1e-5b6d8c0e2f43';
const MALLORY = 'da7e0000-3c1f-4b8e-a2d4-6e9f1b3c5d70';
const jwt = (payload: object) =>
  `eyJhbGciOiJIUzI1NiJ9.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

function ctx(
  session: SessionCheck = { ok: true, session: { difyAccountId: ALICE } },
  refreshOwner: string | null = ALICE,
): GateContext {
  return {
    cookies: { consoleApiUrl: '', consoleWebUrl: '', cookieDomain: '' },
    checkSession: async () => session,
    refreshTokenAccount: async () => refreshOwner,
    setupFinished: async () => true,
    breakGlassActive: () => false,
    machineRoutes: [],
    webApps: true,
  };
}
const req = (method: string, rawUri: string, cookie?: string | string[]): GateRequest => ({
  method,
  rawUri,
  cookie,
  authorization: undefined,
  clientIp: '10.0.0.5',
});

describe('issue 9 / decide()', () => {
  test('refused raw paths → 400 invalid_path before lockdown, public routes and sessions', async () => {
    for (const t of REFUSED_TARGETS) {
      const d = await decide(req('GET', t), ctx());
      assert.ok(
        !d.allow && d.status === 400 && d.code === 'invalid_path',
        `${JSON.stringify(t)} → ${JSON.stringify(d)}`,
      );
    }
  });

  test('/socket.io/..;/x?EIO=4 is no longer classed outside /socket.io (was: passthrough without a session)', async () => {
    const d = await decide(
      req('GET', '/socket.io/..;/x?EIO=4&transport=polling'),
      ctx({ ok: false, reason: 'missing' }),
    );
    assert.ok(!d.allow && d.code === 'invalid_path');
  });

  test('accepted raw paths are decided as before (never invalid_path)', async () => {
    for (const t of ACCEPTED_TARGETS) {
      const d = await decide(req('GET', t, `access_token=${jwt({ user_id: ALICE })}`), ctx());
      assert.ok(d.allow || d.code !== 'invalid_path', `${t} → ${JSON.stringify(d)}`);
    }
  });

  test("kit session of A, access_token of A hidden in a quoted value, B's after it → 401 ambiguous_cookie", async () => {
    const cookie = `x="; access_token=${jwt({ user_id: ALICE })}"; access_token=${jwt({ user_id: MALLORY })}`;
    const d = await decide(req('GET', '/console/api/apps', cookie), ctx());
    assert.ok(
      !d.allow && d.status === 401 && d.code === 'ambiguous_cookie' && d.clearDifyCookies === true,
      JSON.stringify(d),
    );
    // werkzeug reads B there; so does the gate, which would refuse B for A's session anyway.
  });

  test('refresh-token: duplicated or hidden refresh_token → 401 ambiguous_cookie, plain one passes', async () => {
    for (const cookie of [
      'refresh_token=aa11; refresh_token=bb22',
      'x="; refresh_token=aa11"; refresh_token=bb22',
      'refresh_token="aa11"',
    ]) {
      const d = await decide(req('POST', '/console/api/refresh-token', cookie), ctx());
      assert.ok(!d.allow && d.code === 'ambiguous_cookie', cookie);
    }
    const ok = await decide(req('POST', '/console/api/refresh-token', 'refresh_token=aa11'), ctx());
    assert.ok(ok.allow && ok.via === 'refresh');
  });

  test('csrf_token duplicated or hidden → 401 ambiguous_cookie', async () => {
    const access = `access_token=${jwt({ user_id: ALICE })}`;
    for (const cookie of [
      `${access}; csrf_token=a; csrf_token=b`,
      `${access}; x="; csrf_token=a"; csrf_token=b`,
      `${access}; __Host-csrf_token=a; __Host-csrf_token=b`,
    ]) {
      const d = await decide(req('POST', '/console/api/apps', cookie), ctx());
      assert.ok(!d.allow && d.code === 'ambiguous_cookie', cookie);
    }
    assert.equal((await decide(req('POST', '/console/api/apps', `${access}; csrf_token=a`), ctx())).allow, true);
  });

  test('several Cookie header lines on a console path → 401 ambiguous_cookie', async () => {
    const d = await decide(req('GET', '/console/api/apps', [`access_token=${jwt({ user_id: ALICE })}`, 'x=1']), ctx());
    assert.ok(!d.allow && d.code === 'ambiguous_cookie');
  });
});
