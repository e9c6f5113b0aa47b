/**
 * Issue 9, finding 4: the client address under the generated `trustProxy`. `dify-sso deploy`
 * trusts nginx's own fixed address only, and `X-Forwarded-For` is walked from the right, so an
 * intranet client cannot claim another private address (break-glass CIDR, the break-glass
 * cookie's IP binding, audit IPs).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientAddress, parseCidrList } from '../../src/gate/cidr.js';
import { gateAddresses, renderDeployment } from '../../src/deploy/compose.js';
import { issueBreakGlassToken } from '../../src/break-glass/store.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { startBridge, startStandin, type Standin } from '../dify/helpers.js';
import { tempDir } from './nginx-helpers.js';

const fixtures = fileURLToPath(new URL('./__fixtures__/', import.meta.url));

function deployment(extra: { gateSubnet?: string } = {}) {
  const dir = tempDir();
  cpSync(join(fixtures, 'dify-1.16', 'docker'), dir, { recursive: true });
  return renderDeployment({ difyDockerDir: dir, image: 'dify-sso-kit/sidecar:0.1.0', ...extra }).files;
}

/** The `DIFY_SSO_TRUST_PROXY` value the generated override gives the sidecar. */
function generatedTrustProxy(files: Record<string, string>): string {
  const m = /^\s+DIFY_SSO_TRUST_PROXY: "([^"]*)"$/m.exec(files['docker-compose.override.yaml'] as string);
  assert.ok(m, 'the override sets DIFY_SSO_TRUST_PROXY');
  return m[1] as string;
}

const NGINX = gateAddresses().nginx;

test('deploy: trustProxy is nginx’s own gate address, nothing else', () => {
  const files = deployment();
  assert.equal(generatedTrustProxy(files), `${NGINX}/32`);
  assert.deepEqual(gateAddresses(), {
    subnet: '172.31.255.248/29',
    gateway: '172.31.255.249',
    nginx: '172.31.255.250',
    sidecar: '172.31.255.251',
  });
  const o = files['docker-compose.override.yaml'] as string;
  // nginx and the sidecar keep Dify's default network and share the internal gate network at fixed addresses.
  assert.match(
    o,
    /\n {2}dify-sso:\n[\s\S]*?\n {4}networks:\n {6}default: \{\}\n {6}dify_sso_gate:\n {8}ipv4_address: 172\.31\.255\.251\n/,
  );
  assert.match(
    o,
    /\n {2}nginx:\n[\s\S]*?\n {4}networks:\n {6}default: \{\}\n {6}dify_sso_gate:\n {8}ipv4_address: 172\.31\.255\.250\n/,
  );
  assert.match(
    o,
    /\nnetworks:\n {2}dify_sso_gate:\n {4}driver: bridge\n {4}internal: true\n {4}ipam:\n {6}config:\n {8}- subnet: 172\.31\.255\.248\/29\n {10}gateway: 172\.31\.255\.249\n$/,
  );
  // nginx connects to the sidecar's gate address (never the service name, which resolves on both networks).
  assert.match(files['sso/nginx/conf.d/dify-sso-upstream.conf'] as string, /server 172\.31\.255\.251:8080;/);
  // Another subnet moves all of it.
  const other = deployment({ gateSubnet: '10.250.0.0/24' });
  assert.equal(generatedTrustProxy(other), '10.250.0.2/32');
  assert.match(other['sso/nginx/conf.d/dify-sso-upstream.conf'] as string, /server 10\.250\.0\.3:8080;/);
  for (const bad of ['10.0.0.0/30', '10.0.0.0', '300.0.0.0/24', 'fd00::/64', '10.0.0.0/7']) {
    assert.throws(() => gateAddresses(bad), { code: 'ERR_INVALID_ARG_VALUE' }, bad);
  }
});

test('under the generated trustProxy an intranet client claiming a private IP in X-Forwarded-For is not believed', () => {
  const trusted = parseCidrList(generatedTrustProxy(deployment()), 'trustProxy');
  // nginx appended the intranet client's real address (10.9.9.9) after the claimed one.
  assert.equal(clientAddress(NGINX, { 'x-forwarded-for': '10.1.1.1, 10.9.9.9' }, trusted), '10.9.9.9');
  assert.equal(
    clientAddress(NGINX, { 'x-forwarded-for': `${NGINX}, 192.168.1.20` }, trusted),
    '192.168.1.20',
    'claiming nginx’s own address does not help',
  );
  // An intranet host talking to the sidecar directly is never a proxy: its header is not read.
  assert.equal(clientAddress('10.9.9.9', { 'x-forwarded-for': '10.1.1.1' }, trusted), '10.9.9.9');
});

const cases: [label: string, peer: string | undefined, xff: string | string[] | undefined, want: string | undefined][] =
  [
    ['untrusted peer, header ignored', '203.0.113.9', '10.1.1.1', '203.0.113.9'],
    ['IPv4-mapped untrusted peer', '::ffff:203.0.113.9', undefined, '203.0.113.9'],
    ['trusted peer, one hop', NGINX, '203.0.113.9', '203.0.113.9'],
    ['right-most untrusted hop wins', NGINX, '6.6.6.6, 203.0.113.9', '203.0.113.9'],
    ['several header fields are one list', NGINX, ['6.6.6.6', '203.0.113.9'], '203.0.113.9'],
    ['trusted hops are skipped', NGINX, `203.0.113.9, ${NGINX}`, '203.0.113.9'],
    ['garbage left of the client is never read', NGINX, 'not-an-ip, 203.0.113.9', '203.0.113.9'],
    ['malformed hop reached: unknown', NGINX, '203.0.113.9:4711', undefined],
    ['empty hop reached: unknown', NGINX, `203.0.113.9, , ${NGINX}`, undefined],
    ['empty header: unknown', NGINX, '', undefined],
    ['"unknown": unknown', NGINX, 'unknown', undefined],
    ['every hop trusted: left-most (written by nginx)', NGINX, `${NGINX}, ${NGINX}`, NGINX],
    ['trusted peer without header: the peer', NGINX, undefined, NGINX],
    ['no peer: unknown', undefined, '203.0.113.9', undefined],
  ];
for (const [label, peer, xff, want] of cases) {
  test(`clientAddress: ${label}`, () => {
    assert.equal(clientAddress(peer, { 'x-forwarded-for': xff }, parseCidrList(`${NGINX}/32`)), want);
  });
}

let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  b = await startBridge(
    standin,
    { DIFY_SSO_TRUST_PROXY: generatedTrustProxy(deployment()), DIFY_SSO_BREAK_GLASS_CIDRS: '10.9.0.0/16' },
    { op },
  );
});
after(async () => {
  await b?.close();
  await standin?.close();
  await op?.close();
});

test('break-glass through nginx: an intranet client claiming an allowlisted IP is refused and audited with its real address; the cookie stays bound', async () => {
  const { token } = await issueBreakGlassToken(b.app.sso.store.kv, 600);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const claimed = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: NGINX,
    headers: { ...form, 'x-forwarded-for': '10.9.1.2, 10.20.0.7' },
    payload: `token=${token}`,
  });
  assert.equal(claimed.statusCode, 403);
  assert.equal(b.audits('break_glass.denied').at(-1)?.['clientIp'], '10.20.0.7');
  // The real 10.9.1.2 (through nginx) redeems it; its cookie does not work for the intranet client claiming 10.9.1.2.
  const ok = await b.app.inject({
    method: 'POST',
    url: '/sso/break-glass',
    remoteAddress: NGINX,
    headers: { ...form, 'x-forwarded-for': '10.9.1.2' },
    payload: `token=${token}`,
  });
  assert.equal(ok.statusCode, 303);
  const bg = ok.cookies.find((c) => c.name.endsWith('dify_sso_bg'));
  const cookie = `${bg?.name}=${bg?.value}`;
  const auth = (xff: string) =>
    b.app.inject({
      method: 'GET',
      url: '/sso/auth',
      remoteAddress: NGINX,
      headers: { 'x-original-uri': '/console/api/login', 'x-original-method': 'POST', 'x-forwarded-for': xff, cookie },
    });
  assert.equal((await auth('10.9.1.2')).statusCode, 204);
  assert.equal((await auth('10.9.1.2, 10.20.0.7')).statusCode, 403);
});
