/**
 * Replicas behind real nginx (issue 13, items 2 and 3): two sidecar processes (the real entry
 * point, `src/server.ts`) sharing the Redis store (DIFY_SSO_TEST_REDIS_URL), in the generated
 * nginx configuration whose sidecar upstream lists both, with the Dify stand-in as dify-api.
 * - a back-channel logout received by one replica refuses the very next request on every replica;
 * - each replica keeps its own JWKS cache: replica B picks up a rotated key from a login it
 *   serves, replica A still refuses (within its cooldown) a logout token under that key;
 * - a replica killed mid-login: the callback completes on the other one (the transaction is a
 *   sealed cookie, the single-use `state` mark is in Redis).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SIDECAR_UPSTREAM } from '../../src/deploy/nginx.js';
import { renderLocalNginxConf } from '../../scripts/local-nginx.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { freePort } from '../helpers/ports.js';
import { startNginx, tempDir } from '../gate/nginx-helpers.js';
import { startWebDouble, type WebDouble } from '../gate/live-helpers.js';
import { SEED_IDS, USERS, bridgeEnv, startStandin, type Standin } from '../dify/helpers.js';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));

interface Replica {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  stderr: string;
}

let op: HostileOp;
let standin: Standin;
let web: WebDouble;
let replicas: Replica[] = [];
let nginx: Awaited<ReturnType<typeof startNginx>>;
let front: string;

async function startReplica(name: string, env: Record<string, string | undefined>): Promise<Replica> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      ...env,
      DIFY_SSO_LISTEN: `127.0.0.1:${port}`,
      DIFY_SSO_LOG_LEVEL: 'warn',
    } as Record<string, string>,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const r: Replica = { name, port, url: `http://127.0.0.1:${port}`, child, stderr: '' };
  child.stderr?.on('data', (d: Buffer) => (r.stderr += d.toString()));
  for (let i = 0; ; i++) {
    assert.ok(i < 300 && child.exitCode === null, `replica ${name} did not become ready: ${r.stderr}`);
    const status = await fetch(`${r.url}/sso/health/ready`).then(
      (x) => x.status,
      () => 0,
    );
    if (status === 200) break;
    await new Promise((res) => setTimeout(res, 100)); // polling for readiness, not a timing assertion
  }
  return r;
}

before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  web = await startWebDouble();
  const port = await freePort();
  front = `http://127.0.0.1:${port}`;
  const env = bridgeEnv(op, standin, {
    DIFY_SSO_PUBLIC_URL: front,
    DIFY_SSO_DIFY_WEB_URL: web.url,
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_URL: process.env.DIFY_SSO_TEST_REDIS_URL,
    DIFY_SSO_REDIS_KEY_PREFIX: `rep-nginx-${randomBytes(4).toString('hex')}:`,
    // Long cooldown: untrusted tokens under an unseen kid never refetch during this test.
    DIFY_SSO_OIDC_JWKS_COOLDOWN_SECONDS: '600',
  });
  replicas = [await startReplica('A', env), await startReplica('B', env)];
  const dir = tempDir();
  const conf = join(dir, 'nginx.conf');
  const rendered = renderLocalNginxConf({
    listen: `127.0.0.1:${port}`,
    sidecar: `127.0.0.1:${replicas[0]!.port}`,
    api: new URL(standin.url).host,
    web: web.hostport,
    tempDir: dir,
  });
  // The generated upstream block, listing both replicas.
  const two = rendered.replace(
    `server 127.0.0.1:${replicas[0]!.port};`,
    replicas.map((r) => `server 127.0.0.1:${r.port};`).join(' '),
  );
  assert.notEqual(two, rendered);
  assert.match(two, new RegExp(`upstream ${SIDECAR_UPSTREAM} \\{[^}]*server 127\\.0\\.0\\.1:${replicas[1]!.port};`));
  writeFileSync(conf, two);
  nginx = await startNginx(conf, dir, port);
});
after(async () => {
  await nginx?.stop();
  for (const r of replicas) if (r.child.exitCode === null) r.child.kill('SIGKILL');
  await web?.close();
  await standin?.close();
  await op?.close();
});

type Jar = Map<string, string>;
const header = (jar: Jar) => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
function absorb(jar: Jar, res: Response): void {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';');
    const eq = pair!.indexOf('=');
    const name = pair!.slice(0, eq).trim();
    const value = pair!.slice(eq + 1).trim();
    if (!value || attrs.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a)))
      jar.delete(name);
    else jar.set(name, value);
  }
}

/** Starts a login at `base` (nginx or one replica); returns the jar and the callback query. */
async function beginLogin(
  base: string,
  user: { sub: string; claims: Record<string, unknown> },
  sid: string,
): Promise<{ jar: Jar; query: string }> {
  const jar: Jar = new Map();
  const res = await fetch(`${base}/sso/login?redirect=%2Fapps`, { redirect: 'manual' });
  assert.equal(res.status, 302);
  absorb(jar, res);
  return { jar, query: op.authorize(res.headers.get('location')!, { ...user, sid }) };
}

async function finishLogin(base: string, l: { jar: Jar; query: string }): Promise<Response> {
  const res = await fetch(`${base}/sso/callback${l.query}`, { redirect: 'manual', headers: { cookie: header(l.jar) } });
  absorb(l.jar, res);
  return res;
}

const profile = (jar: Jar) =>
  fetch(`${front}/console/api/account/profile`, {
    headers: { cookie: header(jar), 'x-csrf-token': jar.get('csrf_token') ?? '' },
  });
/** The gate decision of one replica, asked directly (what nginx's auth_request subrequest sends). */
const gateAt = (r: Replica, jar: Jar) =>
  fetch(`${r.url}/sso/auth`, {
    headers: { 'x-original-uri': '/console/api/account/profile', 'x-original-method': 'GET', cookie: header(jar) },
  }).then((x) => x.status);
const backchannel = async (r: Replica, sid: string) =>
  (
    await fetch(`${r.url}/sso/backchannel-logout`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `logout_token=${await op.logoutToken({ sid })}`,
    })
  ).status;

test('a back-channel logout received by one replica refuses the very next request on every replica (and through nginx)', async () => {
  const l = await beginLogin(front, USERS.alice, 'rep-alice');
  assert.equal((await finishLogin(front, l)).headers.get('location'), '/apps');
  for (let i = 0; i < 4; i++) {
    const res = await profile(l.jar);
    assert.equal(res.status, 200, 'nginx alternates between the replicas; both let the session through');
    assert.equal(((await res.json()) as { id: string }).id, SEED_IDS.aliceId);
  }
  for (const r of replicas) assert.equal(await gateAt(r, l.jar), 204);

  assert.equal(await backchannel(replicas[0]!, 'rep-alice'), 200);
  assert.equal(await gateAt(replicas[1]!, l.jar), 401, 'replica B refuses right after A answered the OP');
  assert.equal(await gateAt(replicas[0]!, l.jar), 401);
  for (let i = 0; i < 4; i++) assert.equal((await profile(l.jar)).status, 401, 'through nginx, on either replica');
});

test('JWKS caches are per replica: B picks up a rotated key from the login it serves, A refuses that key within its cooldown until it sees a login itself', async () => {
  await op.rotate(`rep-key-${randomBytes(3).toString('hex')}`);
  const before = op.jwksFetches;
  const onB = await beginLogin(front, USERS.bob, 'rep-bob');
  assert.equal(
    (await finishLogin(replicas[1]!.url, onB)).headers.get('location'),
    '/apps',
    'B: the ID token under the new kid refetches its JWKS at once',
  );
  assert.equal(op.jwksFetches, before + 1, 'one fetch, by B');
  // A never saw the new key: a logout token under it is refused by A (cooldown), and B accepts it.
  assert.equal(
    await backchannel(replicas[0]!, 'rep-bob'),
    400,
    'A has its own cache and does not refetch for an untrusted token',
  );
  assert.equal(op.jwksFetches, before + 1);
  assert.equal(await gateAt(replicas[0]!, onB.jar), 204, 'the session is still alive');
  assert.equal(await backchannel(replicas[1]!, 'rep-bob'), 200);
  for (const r of replicas) assert.equal(await gateAt(r, onB.jar), 401);
  // A login served by A brings the key into A's cache.
  const onA = await beginLogin(front, USERS.bob, 'rep-bob-2');
  assert.equal((await finishLogin(replicas[0]!.url, onA)).headers.get('location'), '/apps');
  assert.equal(op.jwksFetches, before + 2, 'A fetched on its own');
  assert.equal(await backchannel(replicas[0]!, 'rep-bob-2'), 200);
});

test('a replica killed mid-login: the callback through nginx completes on the other replica', async () => {
  const l = await beginLogin(replicas[0]!.url, USERS.alice, 'rep-killed');
  const a = replicas[0]!;
  const exited = new Promise((r) => a.child.once('exit', r));
  a.child.kill('SIGKILL');
  await exited;
  const txJar = new Map(l.jar);
  const cb = await finishLogin(front, l);
  assert.equal(cb.status, 302);
  assert.equal(cb.headers.get('location'), '/apps', 'nginx retried the callback on B, which completed the login');
  const res = await profile(l.jar);
  assert.equal(res.status, 200, 'the new session works through nginx (only B is left)');
  assert.equal(await gateAt(replicas[1]!, l.jar), 204);
  // The state stays single-use across replicas: replaying the callback is refused.
  const replay = await fetch(`${front}/sso/callback${l.query}`, {
    redirect: 'manual',
    headers: { cookie: header(txJar) },
  });
  assert.equal(replay.headers.get('location'), '/signin?message=invalid_state');
});
