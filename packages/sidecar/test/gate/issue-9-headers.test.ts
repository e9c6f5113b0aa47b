/**
 * Issue 9, findings 5 and 8, against a real nginx running the generated locations and a
 * recording upstream (raw header names as received), plus reverse-proxy mode against the same
 * list:
 * - 5: the web-app login redirect is the encoded target from /sso/auth (`X-Sso-Login` through
 *   `auth_request_set`): `%26invite_token=` stays inside `redirect`;
 * - 8: no name of `IDENTITY_HEADERS`, in any spelling, reaches upstream on any location that
 *   proxies (gated or not), and a reserved-prefix header is refused (400 `identity_header`)
 *   by the gate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { IDENTITY_HEADERS, normaliseHeaderName } from '../../src/gate/identity-headers.js';
import { SIDECAR_UPSTREAM, insertSsoLocations, sidecarUpstreamBlock } from '../../src/deploy/nginx.js';
import { freePort, startNginx, tempDir, wrapServer } from './nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from './live-helpers.js';

interface Recorder {
  hostport: string;
  server: Server;
  seen: { url: string; raw: string[] }[];
  close(): Promise<void>;
}

/** Records the raw header names and values of every request; answers 200 with them as JSON. */
async function startRecorder(): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', raw: req.rawHeaders });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ url: req.url, raw: req.rawHeaders }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    hostport: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    seen,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** One raw HTTP/1.1 request (exact header names and repetitions); resolves with status and body. */
function rawRequest(
  hostport: string,
  path: string,
  headers: [string, string][],
): Promise<{ status: number; headers: string; body: string }> {
  const [host, port] = hostport.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), host);
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => {
      const i = data.indexOf('\r\n\r\n');
      const head = data.slice(0, i);
      let body = data.slice(i + 4);
      if (/\r\ntransfer-encoding: chunked/i.test(head)) {
        let out = '';
        for (let rest = body; ; ) {
          const nl = rest.indexOf('\r\n');
          const n = parseInt(rest.slice(0, nl), 16);
          if (!n) break;
          out += rest.slice(nl + 2, nl + 2 + n);
          rest = rest.slice(nl + 2 + n + 2);
        }
        body = out;
      }
      resolve({ status: Number(head.split(' ')[1]), headers: head, body });
    });
    sock.write(
      `GET ${path} HTTP/1.1\r\nHost: ${hostport}\r\nConnection: close\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
    );
  });
}

const title = (n: string) => n.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
/** Every listed name in three spellings (nginx and Node match names case-insensitively). */
function spellings(names: readonly string[]): [string, string][] {
  return names.flatMap(
    (n) =>
      [
        [n, 'evil'],
        [title(n), 'evil'],
        [n.toUpperCase(), 'evil'],
      ] as [string, string][],
  );
}
const RESERVED = /^(x-auth-request-|x-sso-|x-dify-sso-)/;
const PLAIN = IDENTITY_HEADERS.filter((n) => !RESERVED.test(n));
/** Listed names the recorder received (any spelling), except those the location itself sets. */
function leaked(raw: string[], own: string[] = []): string[] {
  const names = raw.filter((_v, i) => i % 2 === 0).map(normaliseHeaderName);
  return names.filter((n) => IDENTITY_HEADERS.includes(n) && !own.includes(n));
}

/** Our own reproduction of the shape of Dify's server block (docs/dify-contract.md §11), every upstream the recorder. */
function difyShapedServer(listen: string, up: string): string {
  const loc = (path: string, extra = '') =>
    `    location ${path} {\n      proxy_pass http://${up};\n${extra}      include proxy.conf;\n    }\n`;
  return [
    'server {',
    `    listen ${listen};`,
    '    server_name _;',
    '',
    loc('/console/api'),
    loc('/api'),
    loc('/v1'),
    loc('/files'),
    loc('/explore'),
    loc('/e/', '      proxy_set_header Dify-Hook-Url $scheme://$host$request_uri;\n'),
    loc('/'),
    loc('/mcp'),
    loc('/triggers'),
    loc('/socket.io/', '      proxy_set_header Upgrade $http_upgrade;\n      proxy_set_header Connection "upgrade";\n'),
    loc('/openapi'),
    '}',
    '',
  ].join('\n');
}

let s: LiveStack;
let rec: Recorder;
let nginx: Awaited<ReturnType<typeof startNginx>>;
let front: string;
let a: Awaited<ReturnType<typeof aliceCookies>>;

before(async () => {
  rec = await startRecorder();
  const port = await freePort();
  front = `127.0.0.1:${port}`;
  s = await startLiveStack(`http://${front}`, { DIFY_SSO_GATE_WEB_APPS: 'true' });
  const dir = tempDir();
  const server = insertSsoLocations(difyShapedServer(front, rec.hostport), {
    sidecar: `http://${SIDECAR_UPSTREAM}`,
    gateWebApps: true,
    gateServiceApi: false,
  });
  nginx = await startNginx(wrapServer(dir, sidecarUpstreamBlock(new URL(s.sidecarUrl).host) + server), dir, port);
  a = await aliceCookies(s);
});
after(async () => {
  await nginx?.stop();
  await s?.close();
  await rec?.close();
});

test('finding 5, real nginx: a web-app page without a session redirects with the encoded raw path; %26invite_token= stays inside redirect', async () => {
  for (const [path, want] of [
    ['/chat/abc%26invite_token=evil', '/chat/abc%26invite_token=evil'],
    ['/chat/abc123?lang=en', '/chat/abc123'],
    ['/workflow/x%3Fy%23z%20w', '/workflow/x%3Fy%23z%20w'],
  ] as const) {
    const res = await rawRequest(front, path, []);
    assert.equal(res.status, 302, path);
    const location = /\r\nlocation: ([^\r]*)/i.exec(res.headers)?.[1] ?? '';
    const url = new URL(location, `http://${front}`);
    assert.equal(url.pathname, '/sso/login', path);
    assert.deepEqual([...url.searchParams.keys()], ['redirect'], `${path}: no injected parameter (${location})`);
    assert.equal(url.searchParams.get('redirect'), want, path);
    assert.match(res.headers, /\r\ncache-control: no-store/i);
  }
  assert.equal(
    rec.seen.filter((r) => r.url.startsWith('/chat/') || r.url.startsWith('/workflow/')).length,
    0,
    'nothing reached upstream',
  );
});

// Every location that proxies: gated ones with alice's session, ungated ones without.
const LOCATIONS = [
  '/console/api/apps',
  '/api/parameters',
  '/v1/info',
  '/files/x/file-preview',
  '/explore/apps',
  '/e/hook',
  '/mcp/server/x/mcp',
  '/triggers/webhook/1',
  '/socket.io/?EIO=4&transport=polling',
  '/openapi/v1/x',
  '/apps',
  '/chat/abc123',
];

test('finding 8, real nginx: no listed identity header, in any spelling, reaches upstream on any location', async () => {
  for (const path of LOCATIONS) {
    const before = rec.seen.length;
    const res = await rawRequest(front, path, [
      ['Cookie', a.all],
      ['X-CSRF-Token', a.csrf],
      ...spellings(PLAIN),
      ...PLAIN.map((n) => [n.replace(/-/g, '_'), 'evil'] as [string, string]),
    ]);
    assert.equal(res.status, 200, `${path}: ${res.body}`);
    assert.equal(rec.seen.length, before + 1, `${path} reached upstream`);
    const got = rec.seen.at(-1) as { raw: string[] };
    // The gated console and socket.io locations set X-Workspace-Id themselves (empty without a machine decision: not sent).
    assert.deepEqual(leaked(got.raw), [], path);
  }
});

test('finding 8, real nginx: the reserved-prefix names of the list are blanked on ungated locations', async () => {
  const reserved = IDENTITY_HEADERS.filter((n) => RESERVED.test(n));
  for (const path of [
    '/files/x/file-preview',
    '/e/hook',
    '/mcp/server/x/mcp',
    '/triggers/webhook/1',
    '/openapi/v1/x',
    '/v1/info',
    '/explore/apps',
  ]) {
    const res = await rawRequest(front, path, spellings(reserved));
    assert.equal(res.status, 200, path);
    assert.deepEqual(leaked((rec.seen.at(-1) as { raw: string[] }).raw), [], path);
  }
});

test('finding 8, real nginx: a reserved-prefix header on a gated location is refused with 400 identity_header, nothing reaches upstream', async () => {
  const before = rec.seen.length;
  for (const path of ['/console/api/apps', '/api/parameters', '/socket.io/?EIO=4&transport=polling', '/chat/abc123']) {
    for (const h of [
      'X-Sso-Role',
      'x-auth-request-groups',
      'X-DIFY-SSO-ACCOUNT',
      'X-Sso-Upstream-Authorization',
      'X-Sso-Gate-Secret',
    ]) {
      const res = await rawRequest(front, path, [
        ['Cookie', a.all],
        [h, 'admin'],
      ]);
      assert.equal(res.status, 400, `${path} ${h}`);
      assert.deepEqual(JSON.parse(res.body), { code: 'identity_header', status: 400 });
    }
  }
  assert.equal(rec.seen.length, before);
});

test('finding 8, reverse-proxy mode: the same list never reaches upstream; reserved prefixes refused', async () => {
  const p = await startLiveStack('http://127.0.0.1:1', {
    DIFY_SSO_GATE_MODE: 'proxy',
    DIFY_SSO_GATE_WEB_APPS: 'true',
    DIFY_SSO_DIFY_SOCKET_IO_URL: `http://${rec.hostport}`,
    DIFY_SSO_DIFY_PLUGIN_DAEMON_URL: `http://${rec.hostport}`,
  });
  try {
    const b = await aliceCookies(p);
    const host = new URL(p.sidecarUrl).host;
    // /socket.io/ and /e/ go to the recorder, the others to the web double (which records raw headers too).
    for (const path of ['/socket.io/?EIO=4&transport=polling', '/e/hook', '/apps', '/chat/abc123', '/explore/apps']) {
      const res = await rawRequest(host, path, [['Cookie', b.all], ['X-CSRF-Token', b.csrf], ...spellings(PLAIN)]);
      assert.equal(res.status, 200, `${path}: ${res.body}`);
      const raw =
        path.startsWith('/socket.io/') || path.startsWith('/e/')
          ? (rec.seen.at(-1) as { raw: string[] }).raw
          : Object.entries(p.web.last).flatMap(([k, v]) => [k, String(v)]);
      assert.deepEqual(leaked(raw), [], path);
      for (const h of [
        'X-Sso-Role',
        'x-auth-request-groups',
        'X-DIFY-SSO-ACCOUNT',
        'X-Sso-Gate-Secret',
        'X_Forwarded_User',
      ]) {
        const refused = await rawRequest(host, path, [
          ['Cookie', b.all],
          [h, 'admin'],
        ]);
        assert.equal(refused.status, 400, `${path} ${h}`);
        assert.equal((JSON.parse(refused.body) as { code: string }).code, 'identity_header');
      }
    }
  } finally {
    await p.close();
  }
});
