import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEGIN_MARK, END_MARK, insertSsoLocations, sidecarUpstreamBlock } from '../../src/deploy/nginx.js';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { renderDeployment, writeDeployment } from '../../src/deploy/compose.js';
import { runCli } from '../../src/cli.js';
import { envsubst, freePort, nginxTest, read, tempDir, wrapServer } from './nginx-helpers.js';

const fixtures = fileURLToPath(new URL('./__fixtures__/', import.meta.url));
const template = (v: string) => read(join(fixtures, v, 'docker/nginx/conf.d/default.conf.template'));

async function checkWithNginx(
  inserted: string,
  upstreamConf = sidecarUpstreamBlock('dify-sso:8080'),
): Promise<{ ok: boolean; output: string }> {
  const dir = tempDir();
  const port = await freePort();
  // What Dify's nginx entrypoint does, plus a stand-in for Docker DNS (service names → loopback).
  const rendered = envsubst(inserted, {
    NGINX_PORT: `127.0.0.1:${port}`,
    NGINX_SERVER_NAME: '_',
    NGINX_SOCKET_IO_UPSTREAM: '127.0.0.1:1',
    ACME_CHALLENGE_LOCATION: '',
    HTTPS_CONFIG: '',
    DIFY_SSO_GATE_AUTH_REQUEST_SECRET: 'gate-secret-0123456789abcdefghijklmnop',
  }).replace(/http:\/\/(api|web|dify-sso):/g, 'http://127.0.0.1:');
  return nginxTest(wrapServer(dir, upstreamConf.replace('dify-sso:', '127.0.0.1:') + rendered), dir);
}

for (const v of ['dify-1.12', 'dify-1.16']) {
  test(`${v}: locations inserted after server_name, template otherwise unchanged, nginx -t passes`, async () => {
    const original = template(v);
    const out = insertSsoLocations(original, { sidecar: 'http://dify-sso:8080' });
    const snAt = out.indexOf('server_name');
    assert.ok(out.indexOf(BEGIN_MARK) > snAt && out.indexOf(END_MARK) > out.indexOf(BEGIN_MARK));
    for (const l of [
      'location ^~ /sso/ {',
      'location = /sso/auth {',
      'location = /console/api/system-features {',
      'location ^~ /console/api/enterprise/sso/ {',
      'location = /console/api/logout {',
      'location @sso_401 {',
      'location @sso_403 {',
    ]) {
      assert.ok(out.includes(l), l);
    }
    // auth_request sits inside the console location.
    const consoleBlock = out.slice(
      out.indexOf('location /console/api {'),
      out.indexOf('}', out.indexOf('location /console/api {')),
    );
    assert.match(consoleBlock, /auth_request \/sso\/auth;/);
    assert.match(consoleBlock, /proxy_set_header Authorization \$sso_upstream_authorization;/);
    // Every original line is still there, in order.
    let at = 0;
    for (const line of original.split('\n').filter((l) => l.trim() !== '')) {
      const i = out.indexOf(line, at);
      assert.ok(i >= at, `kept: ${line}`);
      at = i + line.length;
    }
    if (v === 'dify-1.16')
      assert.match(
        out.slice(out.indexOf('location /socket.io/ {')),
        /^location \/socket\.io\/ \{\n\s+# dify-sso-kit: gate\n\s+auth_request/,
      );
    // Only lowercase nginx variables in what we inserted (envsubst safety).
    const inserted = out.slice(out.indexOf(BEGIN_MARK), out.indexOf(END_MARK));
    assert.doesNotMatch(inserted, /\$\{?[A-Z]/);
    const r = await checkWithNginx(out);
    assert.ok(r.ok, r.output);
  });
}

test('web-app gating adds auth_request to /api without replacing Authorization there, and gates the app pages with a login redirect', async () => {
  const out = insertSsoLocations(template('dify-1.12'), { sidecar: 'http://dify-sso:8080', gateWebApps: true });
  const pages = out.slice(out.indexOf('location ~ ^/(chat|chatbot|completion|workflow|agent)/ {'));
  assert.match(
    pages,
    /^location ~ \^\/\(chat\|chatbot\|completion\|workflow\|agent\)\/ \{\n\s+# dify-sso-kit: gate\n\s+auth_request \/sso\/auth;/,
  );
  assert.match(pages.slice(0, pages.indexOf('}')), /error_page 401 = @sso_login;[\s\S]*proxy_pass http:\/\/web:3000;/);
  assert.ok(out.indexOf('location ~ ^/(chat') < out.indexOf(END_MARK), 'inside the kit block');
  // The target comes encoded from /sso/auth (X-Sso-Login), never from nginx's decoded $uri (issue 9, finding 5).
  assert.match(out, /location @sso_login \{\n[\s\S]*?return 302 \$sso_login;\n\s*\}/);
  assert.doesNotMatch(out, /\$uri/);
  const apiBlock = out.slice(out.indexOf('location /api {'), out.indexOf('proxy_pass', out.indexOf('location /api {')));
  assert.match(apiBlock, /auth_request \/sso\/auth;/);
  assert.doesNotMatch(apiBlock, /proxy_set_header Authorization /);
  assert.ok((await checkWithNginx(out)).ok);
});

test('service-API gating adds auth_request to /v1, keeps the app key and blanks X-Sso-Token upstream', async () => {
  const out = insertSsoLocations(template('dify-1.12'), { sidecar: 'http://dify-sso:8080', gateServiceApi: true });
  const v1 = out.slice(out.indexOf('location /v1 {'), out.indexOf('proxy_pass', out.indexOf('location /v1 {')));
  assert.match(v1, /auth_request \/sso\/auth;/);
  assert.match(v1, /proxy_set_header X-Sso-Token "";/);
  assert.doesNotMatch(v1, /proxy_set_header Authorization /);
  assert.ok((await checkWithNginx(out)).ok);
});

const refusals: [string, string, RegExp][] = [
  [
    'two server blocks',
    'server {\n server_name a;\n location /console/api {\n }\n}\nserver {\n server_name b;\n}\n',
    /exactly one "server \{"/,
  ],
  ['no server_name', 'server {\n    listen 80;\n    location /console/api {\n    }\n}\n', /exactly one "server_name/],
  [
    'no console location',
    'server {\n    server_name _;\n    location / {\n    }\n}\n',
    /no "location \/console\/api \{"/,
  ],
  [
    'already routes /sso/',
    'server {\n    server_name _;\n    location /sso/ {\n    }\n    location /console/api {\n    }\n}\n',
    /already routes \/sso\//,
  ],
];
for (const [name, text, re] of refusals) {
  test(`unexpected template shape is refused: ${name}`, () => {
    assert.throws(
      () => insertSsoLocations(text, { sidecar: 'http://dify-sso:8080' }),
      (e: Error & { code?: string }) => e.code === 'ERR_DIFY_NGINX_TEMPLATE' && re.test(e.message),
    );
  });
}

test('running the generator on its own output is refused (always start from Dify’s template)', () => {
  const once = insertSsoLocations(template('dify-1.12'), { sidecar: 'http://dify-sso:8080' });
  assert.throws(() => insertSsoLocations(once, { sidecar: 'http://dify-sso:8080' }), {
    code: 'ERR_DIFY_NGINX_TEMPLATE',
  });
  assert.throws(() => insertSsoLocations(template('dify-1.12'), { sidecar: 'http://dify-sso:8080/x; evil' }), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
});

test('renderLocalNginxConf: complete config accepted by nginx -t', () => {
  const dir = tempDir();
  const text = renderLocalNginxConf({
    listen: '127.0.0.1:18000',
    sidecar: '127.0.0.1:18088',
    api: '127.0.0.1:15001',
    web: '127.0.0.1:13000',
    tempDir: dir,
  });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, text);
  const r = nginxTest(conf, dir);
  assert.ok(r.ok, r.output);
  assert.match(text, /listen 127\.0\.0\.1:18000;/);
  assert.match(text, /proxy_buffering off;/);
  assert.match(text, /client_max_body_size 100m;/);
  assert.throws(
    () => renderLocalNginxConf({ listen: '127.0.0.1', sidecar: 'a:1', api: 'a:1', web: 'a:1', tempDir: dir }),
    { code: 'ERR_INVALID_ARG_VALUE' },
  );
  const withSecret = renderLocalNginxConf({
    listen: '127.0.0.1:18000',
    sidecar: '127.0.0.1:18088',
    api: '127.0.0.1:15001',
    web: '127.0.0.1:13000',
    tempDir: dir,
    authRequestSecret: 'gate-secret-0123456789abcdefghijklmnop',
  });
  assert.match(withSecret, /proxy_set_header X-Sso-Gate-Secret "gate-secret-0123456789abcdefghijklmnop";/);
  assert.throws(
    () =>
      renderLocalNginxConf({
        listen: '127.0.0.1:1',
        sidecar: 'a:1',
        api: 'a:1',
        web: 'a:1',
        tempDir: dir,
        authRequestSecret: 'x"; evil',
      }),
    { code: 'ERR_INVALID_ARG_VALUE' },
  );
});

function copyFixture(v: string): string {
  const dir = tempDir();
  cpSync(join(fixtures, v, 'docker'), dir, { recursive: true });
  return dir;
}

test('deploy: compose override hardens the sidecar, sets Dify’s login flags, mounts the generated conf.d', async () => {
  const dir = copyFixture('dify-1.16');
  const r = writeDeployment({ difyDockerDir: dir, image: 'dify-sso-kit/sidecar:0.1.0' });
  assert.equal(r.difyVersion, '1.16.1');
  const o = read(join(dir, 'docker-compose.override.yaml'));
  for (const s of [
    'read_only: true',
    'user: "65532:65532"',
    '- ALL',
    'no-new-privileges:true',
    'tmpfs:',
    'healthcheck:',
    'ENABLE_EMAIL_PASSWORD_LOGIN: "false"',
    'ALLOW_REGISTER: "false"',
    'ENABLE_EMAIL_CODE_LOGIN: "false"',
    'ENABLE_SOCIAL_OAUTH_LOGIN: "false"',
    'ADMIN_API_KEY_ENABLE: "true"',
    '- ./sso/nginx/conf.d:/etc/nginx/conf.d',
    'SERVER_CONSOLE_API_URL',
  ]) {
    assert.ok(o.includes(s), s);
  }
  assert.doesNotMatch(o, /ports:/, 'the sidecar publishes no port');
  assert.ok(existsSync(join(dir, 'sso/sso.env.example')));
  const tpl = read(join(dir, 'sso/nginx/conf.d/default.conf.template'));
  assert.ok(tpl.includes('location = /sso/auth {') && tpl.includes('proxy_pass http://dify_sso_sidecar;'));
  assert.ok(
    tpl.includes('proxy_set_header X-Sso-Gate-Secret "${DIFY_SSO_GATE_AUTH_REQUEST_SECRET}";'),
    'nginx sends the gate secret (envsubst at container start)',
  );
  assert.match(o, /nginx:\n {4}environment:\n {6}DIFY_SSO_GATE_AUTH_REQUEST_SECRET: /);
  const upstream = read(join(dir, 'sso/nginx/conf.d/dify-sso-upstream.conf'));
  // nginx reaches the sidecar at its fixed gate-network address (see issue-9-client-address.test.ts).
  assert.match(upstream, /upstream dify_sso_sidecar \{\n {2}server 172\.31\.255\.251:8080;\n {2}keepalive 32;/);
  assert.ok((await checkWithNginx(tpl, upstream)).ok);
  // --break-glass keeps dify-api's own password login on (the gate alone closes it).
  const bg = renderDeployment({ difyDockerDir: dir, image: 'x/y:1', breakGlass: true }).files[
    'docker-compose.override.yaml'
  ] as string;
  assert.doesNotMatch(bg, /ENABLE_EMAIL_PASSWORD_LOGIN/);
  assert.match(bg, /ALLOW_REGISTER: "false"/);
  // 1.12 has no server-side console calls: no SERVER_CONSOLE_API_URL.
  const old = renderDeployment({ difyDockerDir: copyFixture('dify-1.12'), image: 'x/y:1' });
  assert.doesNotMatch(old.files['docker-compose.override.yaml'] as string, /SERVER_CONSOLE_API_URL/);
  // Re-running replaces its own file; a foreign override needs --force.
  writeDeployment({ difyDockerDir: dir, image: 'dify-sso-kit/sidecar:0.1.0' });
  writeFileSync(join(dir, 'docker-compose.override.yaml'), 'services: {}\n');
  assert.throws(
    () => writeDeployment({ difyDockerDir: dir, image: 'dify-sso-kit/sidecar:0.1.0' }),
    /not written by dify-sso deploy/,
  );
});

test('deploy: unsupported Dify version is refused', () => {
  const dir = copyFixture('dify-1.12');
  writeFileSync(join(dir, 'docker-compose.yaml'), 'services:\n  api:\n    image: langgenius/dify-api:1.9.2\n');
  assert.throws(() => renderDeployment({ difyDockerDir: dir, image: 'x/y:1' }), {
    code: 'ERR_DIFY_UNSUPPORTED_VERSION',
  });
  mkdirSync(join(dir, 'empty'));
  assert.throws(() => renderDeployment({ difyDockerDir: join(dir, 'empty'), image: 'x/y:1' }), {
    code: 'ERR_DIFY_VERSION_UNKNOWN',
  });
});

test('CLI: deploy --dry prints the artefacts; unknown command prints usage', async () => {
  let out = '';
  let err = '';
  const io = { out: (t: string) => void (out += t), err: (t: string) => void (err += t) };
  assert.equal(await runCli(['deploy', '--dify-docker', copyFixture('dify-1.12'), '--dry'], {}, io), 0);
  assert.match(out, /==> docker-compose\.override\.yaml/);
  assert.match(out, /==> sso\/nginx\/conf\.d\/default\.conf\.template/);
  assert.equal(await runCli(['nope'], {}, io), 2);
  assert.match(err, /usage:/i);
  assert.equal(await runCli(['break-glass', 'issue', '--ttl', '3d'], {}, io), 2);
});
