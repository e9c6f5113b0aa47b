/**
 * Issue 13: the gate behind a real nginx configured the way ingress-nginx configures an Ingress
 * with `nginx.ingress.kubernetes.io/auth-url` (+ `auth-response-headers: Authorization,X-Workspace-Id`):
 * an internal external-auth location setting `X-Original-URL: $scheme://$http_host$request_uri`,
 * `X-Original-Method`, `X-Sent-From`, `X-Real-IP`, `X-Forwarded-For: $remote_addr`,
 * `X-Auth-Request-Redirect: $request_uri`, blanking `X-Forwarded-Proto`, passing the client's
 * headers on; the gated location copying the listed auth response headers onto the upstream
 * request with `auth_request_set` + `proxy_set_header`.
 *
 * This is a configuration modelled on ingress-nginx's `nginx.tmpl` (controller 1.x), run by
 * Debian's nginx — not the ingress-nginx controller itself (no cluster runs here).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { freePort, startNginx, tempDir, wrapServer } from './nginx-helpers.js';
import { aliceCookies, startLiveStack, type LiveStack } from './live-helpers.js';

interface Recorder {
  hostport: string;
  server: Server;
  seen: { url: string; headers: Record<string, string | string[] | undefined> }[];
  close(): Promise<void>;
}

/** dify-api's place: records what reaches it. */
async function startRecorder(): Promise<Recorder> {
  const seen: Recorder['seen'] = [];
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    res.setHeader('content-type', 'application/json');
    res.end('{"ok":true}');
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

/** The server block ingress-nginx would render for the kit's Ingress objects (see the module doc). */
function ingressShapedServer(listen: string, sidecar: string, api: string): string {
  return [
    'server {',
    `  listen ${listen};`,
    '  location = /_external-auth-Y29uc29sZQ-Prefix {',
    '    internal;',
    '    proxy_pass_request_body off;',
    '    proxy_set_header Content-Length "";',
    '    proxy_set_header X-Forwarded-Proto "";',
    '    proxy_set_header X-Request-ID $request_id;',
    '    proxy_set_header Host dify-sso.dify.svc.cluster.local;',
    '    proxy_set_header X-Original-URL $scheme://$http_host$request_uri;',
    '    proxy_set_header X-Original-Method $request_method;',
    '    proxy_set_header X-Sent-From "nginx-ingress-controller";',
    '    proxy_set_header X-Real-IP $remote_addr;',
    '    proxy_set_header X-Forwarded-For $remote_addr;',
    '    proxy_set_header X-Auth-Request-Redirect $request_uri;',
    '    proxy_buffering off;',
    '    proxy_pass_request_headers on;',
    '    proxy_http_version 1.1;',
    `    proxy_pass http://${sidecar}/sso/auth;`,
    '  }',
    '  location /console/api {',
    '    auth_request /_external-auth-Y29uc29sZQ-Prefix;',
    '    auth_request_set $authHeader0 $upstream_http_authorization;',
    "    proxy_set_header 'Authorization' $authHeader0;",
    '    auth_request_set $authHeader1 $upstream_http_x_workspace_id;',
    "    proxy_set_header 'X-Workspace-Id' $authHeader1;",
    '    proxy_set_header Host $host;',
    '    proxy_http_version 1.1;',
    `    proxy_pass http://${api};`,
    '  }',
    '  location /sso {',
    '    proxy_set_header Host $host;',
    `    proxy_pass http://${sidecar};`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** One raw HTTP/1.1 request (exact target and headers); resolves with the status. */
function rawRequest(port: number, target: string, headers: [string, string][], host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d: string) => (data += d));
    sock.on('error', reject);
    sock.on('end', () => resolve(Number(data.split(' ')[1])));
    sock.write(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`,
    );
  });
}

let s: LiveStack;
let rec: Recorder;
let nginx: Awaited<ReturnType<typeof startNginx>>;
let port: number;
let front: string;
let a: Awaited<ReturnType<typeof aliceCookies>>;

before(async () => {
  rec = await startRecorder();
  port = await freePort();
  front = `127.0.0.1:${port}`;
  s = await startLiveStack(`http://${front}`);
  const dir = tempDir();
  nginx = await startNginx(
    wrapServer(dir, ingressShapedServer(`127.0.0.1:${port}`, new URL(s.sidecarUrl).host, rec.hostport)),
    dir,
    port,
  );
  a = await aliceCookies(s);
});
after(async () => {
  await nginx?.stop();
  await s?.close();
  await rec?.close();
});

test("ingress-nginx-shaped nginx: a signed-in console request reaches dify-api; the client's Authorization and X-Workspace-Id do not", async () => {
  const before = rec.seen.length;
  const status = await rawRequest(
    port,
    '/console/api/account/profile',
    [
      ['Cookie', a.all],
      ['Authorization', 'Bearer someone-elses-dify-token'],
      ['X-Workspace-Id', 'other-ws'],
    ],
    front,
  );
  assert.equal(status, 200);
  assert.equal(rec.seen.length, before + 1);
  const got = rec.seen.at(-1) as Recorder['seen'][number];
  assert.equal(got.url, '/console/api/account/profile');
  assert.equal(got.headers.authorization, undefined, 'Authorization is replaced by the (empty) auth response header');
  assert.equal(got.headers['x-workspace-id'], undefined);
});

test('ingress-nginx-shaped nginx: no kit session → 401, local login → 403, nothing reaches dify-api', async () => {
  const before = rec.seen.length;
  assert.equal(
    await rawRequest(port, '/console/api/account/profile', [['Cookie', `access_token=${a.access}`]], front),
    401,
  );
  assert.equal(await rawRequest(port, '/console/api/login', [], front), 403);
  assert.equal(rec.seen.length, before);
});

test('ingress-nginx-shaped nginx: raw-path tricks inside X-Original-URL are refused before dify-api sees them', async () => {
  const before = rec.seen.length;
  for (const target of [
    '/console/api/%2e%2e/login',
    '/console/api/apps/..;/login',
    '/console/api/apps%2Fx',
    '/console/api/apps/%2e/x',
    '/console/api/apps%5cx',
    '/console/api/a%00b',
  ]) {
    const status = await rawRequest(port, target, [['Cookie', a.all]], front);
    // 403 from the gate; nginx itself already answers 400 to an encoded NUL.
    assert.equal(status, target.includes('%00') ? 400 : 403, target);
  }
  assert.equal(rec.seen.length, before, 'nothing reached dify-api');
});

test('ingress-nginx-shaped nginx: a foreign Host or a client-sent X-Original-URI that disagrees is refused even with a valid session', async () => {
  const before = rec.seen.length;
  assert.equal(await rawRequest(port, '/console/api/account/profile', [['Cookie', a.all]], 'evil.example'), 403);
  assert.equal(
    await rawRequest(port, '/console/api/account/profile', [['Cookie', a.all]], `127.0.0.1:${port + 1}`),
    403,
  );
  // ingress-nginx passes a client's X-Original-URI on (it sets one only with auth-method).
  assert.equal(
    await rawRequest(
      port,
      '/console/api/account/profile',
      [
        ['Cookie', a.all],
        ['X-Original-URI', '/console/api/setup'],
      ],
      front,
    ),
    403,
  );
  assert.equal(rec.seen.length, before);
  // The same header agreeing with the real target changes nothing.
  assert.equal(
    await rawRequest(
      port,
      '/console/api/account/profile',
      [
        ['Cookie', a.all],
        ['X-Original-URI', '/console/api/account/profile'],
      ],
      front,
    ),
    200,
  );
});
