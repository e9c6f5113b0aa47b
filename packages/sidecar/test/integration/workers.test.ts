/**
 * Worker mode: the real entry point with DIFY_SSO_WORKERS=2 and the real Redis store
 * (DIFY_SSO_TEST_REDIS_URL). Proves that the port is served by two worker processes, that a
 * back-channel logout received by one worker refuses the next request on every worker, and that
 * SIGTERM to the primary stops every worker; that readiness covers every worker (a stopped or
 * killed worker shows on `/sso/health/ready` of the others and is replaced); and that SIGTERM
 * drains: a request in flight when the signal arrives is answered before the workers exit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, request, type ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/config/load.js';
import { sha256 } from '../../src/lib/crypto.js';
import { UNRESPONSIVE_MS, workerCount } from '../../src/lib/workers.js';
import { createRedisStore } from '../../src/store/redis.js';
import { SECRET } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { freePort } from '../helpers/ports.js';

const SERVER = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
const REDIS_URL = process.env.DIFY_SSO_TEST_REDIS_URL;

/** One request on a fresh connection (no keep-alive), so the primary hands it to the next worker. */
function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', headers: { connection: 'close', ...headers }, agent: false },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function post(port: number, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: {
          connection: 'close',
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
        agent: false,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Node child processes of `pid` (workers; under tsx the primary may also run an esbuild service, which is not one). */
function childPids(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid), '-x', 'node'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A console access token whose payload names `userId` (the gate reads the claim; Dify verifies the signature). */
function difyAccessToken(userId: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ user_id: userId, exp: Math.floor(Date.now() / 1000) + 3600, sub: 'Console API Passport' })}.sig`;
}

/** The `ENV` of the sidecar image (images/sidecar/Containerfile), as the container starts with it. */
function imageEnv(): Record<string, string> {
  const text = readFileSync(
    fileURLToPath(new URL('../../../../images/sidecar/Containerfile', import.meta.url)),
    'utf8',
  );
  // The runtime stage's ENV is the last one (the build stages have their own).
  const block = [...text.matchAll(/^ENV ((?:.*\\\n)*.*)$/gm)].at(-1)?.[1] ?? '';
  return Object.fromEntries([...block.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1] as string, m[2] as string]));
}

test('workers default: one per available CPU in the image (with Redis), one in development', () => {
  const base = {
    DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
    DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com',
    DIFY_SSO_OIDC_CLIENT_ID: 'c',
    DIFY_SSO_OIDC_CLIENT_SECRET: 's',
    DIFY_SSO_SESSION_SECRET: SECRET,
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_URL: 'redis://127.0.0.1:6379',
  };
  const image = imageEnv();
  assert.equal(image.NODE_ENV, 'production', 'the image ENV was read');
  const { DIFY_SSO_LISTEN: _listen, ...imageSettings } = image;
  assert.equal(
    workerCount(loadConfig({ ...base, ...imageSettings }), () => 6),
    6,
    'image: one worker per CPU',
  );
  assert.equal(
    workerCount(
      loadConfig({ ...base, ...imageSettings, DIFY_SSO_STORE: 'memory', DIFY_SSO_REDIS_URL: undefined }),
      () => 6,
    ),
    1,
    'image with the memory store: one',
  );
  assert.equal(
    workerCount(loadConfig(base), () => 6),
    1,
    'development (no DIFY_SSO_WORKERS): one',
  );
});

test('workers: 0 means one per CPU with Redis and one with the memory store; >1 with memory is refused', () => {
  assert.equal(
    workerCount({ workers: 0, store: 'redis' }, () => 4),
    4,
  );
  assert.equal(
    workerCount({ workers: 0, store: 'memory' }, () => 4),
    1,
  );
  assert.equal(
    workerCount({ workers: 3, store: 'redis' }, () => 4),
    3,
  );
  const base = {
    DIFY_SSO_PUBLIC_URL: 'https://dify.example.com',
    DIFY_SSO_OIDC_ISSUER: 'https://idp.example.com',
    DIFY_SSO_OIDC_CLIENT_ID: 'c',
    DIFY_SSO_OIDC_CLIENT_SECRET: 's',
    DIFY_SSO_SESSION_SECRET: SECRET,
  };
  assert.throws(
    () => loadConfig({ ...base, DIFY_SSO_WORKERS: '2' }),
    (e: Error & { code?: string }) =>
      e.code === 'ERR_CONFIG_INVALID' &&
      e.message.includes('"workers" (DIFY_SSO_WORKERS) must be 0 or 1 with the memory store'),
  );
  assert.equal(
    loadConfig({
      ...base,
      DIFY_SSO_WORKERS: '2',
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: 'redis://127.0.0.1:6379',
    }).workers,
    2,
  );
});

test('two workers: both serve the port; a back-channel logout on one refuses the next request on every worker; SIGTERM stops all', async (t) => {
  assert.ok(REDIS_URL, 'DIFY_SSO_TEST_REDIS_URL is not set; start Redis with `npm run redis -- start`');
  const op = await HostileOp.start();
  t.after(() => op.close());
  const port = await freePort();
  const metricsPort = await freePort();
  const prefix = `test-workers-${randomBytes(4).toString('hex')}:`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      DIFY_SSO_WORKERS: '2',
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: REDIS_URL,
      DIFY_SSO_REDIS_KEY_PREFIX: prefix,
      DIFY_SSO_LISTEN: `127.0.0.1:${port}`,
      DIFY_SSO_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
      DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
      DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
      DIFY_SSO_OIDC_ISSUER: op.issuer,
      DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
      DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
      DIFY_SSO_OIDC_JWKS_COOLDOWN_SECONDS: '0',
      DIFY_SSO_SESSION_SECRET: SECRET,
      DIFY_SSO_TRUST_PROXY: '127.0.0.1',
      // The bridge is configured so that /sso/auth decides; its Dify API is never reached here.
      DIFY_SSO_DIFY_API_URL: 'http://127.0.0.1:9',
      DIFY_SSO_DIFY_ADMIN_API_KEY: 'admin-key-0123456789abcdef0123456789',
      DIFY_SSO_DIFY_WORKSPACE_ID: '00000000-0000-4000-8000-000000000001',
      DIFY_SSO_DIFY_REDIS_URL: REDIS_URL,
      DIFY_SSO_DIFY_REDIS_KEY_PREFIX: `${prefix}dify`,
      DIFY_SSO_ROLE_MAP: 'dify-admins=admin',
      DIFY_SSO_LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const pid = child.pid as number;
  t.after(() => {
    if (alive(pid)) child.kill('SIGKILL');
    for (const w of childPids(pid)) if (alive(w)) process.kill(w, 'SIGKILL');
  });

  // Ready when every worker answers (each needs discovery of the OP).
  const deadline = Date.now() + 30_000;
  let readyInARow = 0;
  while (readyInARow < 6) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `workers did not become ready: ${stderr}`);
    const s = await get(port, '/sso/health/ready').catch(() => 0);
    readyInARow = s === 200 ? readyInARow + 1 : 0;
    if (s !== 200) await new Promise((r) => setTimeout(r, 200));
  }
  const workers = childPids(pid);
  assert.equal(
    workers.length,
    2,
    `the primary runs two worker processes: ${execFileSync('ps', ['-o', 'pid,stat,comm', '--ppid', String(pid)], { encoding: 'utf8' })}`,
  );

  // A live kit session in the shared Redis store, linked to Dify account acc-1.
  const store = createRedisStore({ url: REDIS_URL, keyPrefix: prefix });
  t.after(() => store.close());
  const cookieValue = randomBytes(32).toString('base64url');
  const now = Date.now();
  await store.create({
    id: sha256(cookieValue),
    iss: op.issuer,
    sub: 'worker-user',
    sid: 'worker-sid',
    claims: { groups: [], roles: [] },
    createdAt: now,
    lastSeenAt: now,
    lastRefreshAt: now,
    absoluteExpiresAt: now + 3600_000,
    difyAccountId: 'acc-1',
    ext: {},
  });
  const headers = {
    'x-original-uri': '/console/api/apps',
    'x-original-method': 'GET',
    cookie: `dify_sso=${cookieValue}; access_token=${difyAccessToken('acc-1')}`,
  };
  const rounds = 8;
  const before = await Promise.all(Array.from({ length: rounds }, () => get(port, '/sso/auth', headers)));
  assert.deepEqual(before, Array(rounds).fill(204), 'every worker lets the live session through');

  const token = await op.logoutToken({ sid: 'worker-sid' });
  assert.equal(await post(port, '/sso/backchannel-logout', `logout_token=${token}`), 200);
  const after = await Promise.all(Array.from({ length: rounds }, () => get(port, '/sso/auth', headers)));
  assert.deepEqual(after, Array(rounds).fill(401), 'no worker accepts the session after the back-channel logout');

  // The primary's /sso/metrics sums both workers' counters.
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/sso/metrics`)).text();
  const count = (result: string, reason: string) =>
    Number(
      new RegExp(
        `^dify_sso_gate_decisions_total\\{[^}]*result="${result}"[^}]*reason="${reason}"[^}]*\\} (\\d+)`,
        'm',
      ).exec(text)?.[1] ?? NaN,
    );
  assert.equal(count('allow', 'ok'), rounds);
  assert.equal(count('deny', 'unauthorized'), rounds);

  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
  for (const w of workers) assert.equal(alive(w), false, `worker ${w} stopped with the primary`);
});

/** GET with a deadline: `undefined` when no answer came in time (a stopped worker holds its connection). */
function getJson(
  port: number,
  path: string,
  timeoutMs = 2000,
): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'GET',
        headers: { connection: 'close' },
        agent: false,
        timeout: timeoutMs,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }),
        );
      },
    );
    req.on('timeout', () => {
      req.destroy();
      resolve(undefined);
    });
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/** Polls `probe` until it returns true (bounded; no timing is asserted, only the outcome). */
async function until(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
  detail: () => string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    assert.ok(Date.now() < deadline, `${what} did not happen: ${detail()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface Sidecar {
  child: ChildProcess;
  pid: number;
  port: number;
  output: () => string;
}

/** The real entry point with two workers on the Redis store; stopped after the test. */
async function startWorkers(
  t: { after(fn: () => void | Promise<void>): void },
  extra: Record<string, string>,
): Promise<Sidecar> {
  assert.ok(REDIS_URL, 'DIFY_SSO_TEST_REDIS_URL is not set; start Redis with `npm run redis -- start`');
  const op = await HostileOp.start();
  t.after(() => op.close());
  const port = await freePort();
  const prefix = `test-workers-${randomBytes(4).toString('hex')}:`;
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', SERVER], {
    env: {
      PATH: process.env.PATH ?? '',
      DIFY_SSO_WORKERS: '2',
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: REDIS_URL,
      DIFY_SSO_REDIS_KEY_PREFIX: prefix,
      DIFY_SSO_LISTEN: `127.0.0.1:${port}`,
      DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
      DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
      DIFY_SSO_OIDC_ISSUER: op.issuer,
      DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
      DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
      DIFY_SSO_SESSION_SECRET: SECRET,
      DIFY_SSO_TRUST_PROXY: '127.0.0.1',
      DIFY_SSO_DIFY_API_URL: 'http://127.0.0.1:9',
      DIFY_SSO_DIFY_ADMIN_API_KEY: 'admin-key-0123456789abcdef0123456789',
      DIFY_SSO_DIFY_WORKSPACE_ID: '00000000-0000-4000-8000-000000000001',
      DIFY_SSO_DIFY_REDIS_URL: REDIS_URL,
      DIFY_SSO_DIFY_REDIS_KEY_PREFIX: `${prefix}dify`,
      DIFY_SSO_ROLE_MAP: 'dify-admins=admin',
      DIFY_SSO_LOG_LEVEL: 'info',
      ...extra,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  const pid = child.pid as number;
  t.after(() => {
    for (const w of childPids(pid)) if (alive(w)) process.kill(w, 'SIGKILL');
    if (alive(pid)) child.kill('SIGKILL');
  });
  const ready = async () => {
    const r = await getJson(port, '/sso/health/ready');
    return (
      r?.status === 200 &&
      JSON.stringify((r.body.checks as Record<string, unknown>)?.workers) === JSON.stringify({ ready: 2, expected: 2 })
    );
  };
  await until(
    'both workers ready',
    async () => child.exitCode === null && (await ready()),
    60_000,
    () => output.slice(-2000),
  );
  return { child, pid, port, output: () => output };
}

test('health covers every worker: a stopped worker is reported by the others and replaced, a killed one is replaced', async (t) => {
  const s = await startWorkers(t, {});
  const [first, second] = childPids(s.pid);
  assert.ok(first && second, 'two workers');

  // A worker that stops answering (SIGSTOP: its event loop no longer runs).
  process.kill(first, 'SIGSTOP');
  await until(
    'readiness reports the stopped worker',
    async () => {
      const r = await getJson(s.port, '/sso/health/ready');
      return (
        r?.status === 503 &&
        JSON.stringify((r.body.checks as Record<string, unknown>).workers) === JSON.stringify({ ready: 1, expected: 2 })
      );
    },
    UNRESPONSIVE_MS + 20_000,
  );
  await until(
    'the stopped worker is replaced',
    async () => !alive(first) && childPids(s.pid).length === 2,
    UNRESPONSIVE_MS + 20_000,
    () => s.output().slice(-2000),
  );
  assert.match(s.output(), /"code":"ERR_WORKER_UNRESPONSIVE"/);
  await until(
    'all workers ready again',
    async () => (await getJson(s.port, '/sso/health/ready'))?.status === 200,
    60_000,
  );

  // A worker that dies.
  process.kill(second, 'SIGKILL');
  await until(
    'the killed worker is replaced',
    async () => childPids(s.pid).length === 2 && !childPids(s.pid).includes(second),
    60_000,
  );
  assert.match(s.output(), /"code":"ERR_WORKER_EXITED"/);
  await until(
    'all workers ready again',
    async () => (await getJson(s.port, '/sso/health/ready'))?.status === 200,
    60_000,
  );
  assert.equal(s.child.exitCode, null, 'the primary keeps running');
});

test('SIGTERM drains: a proxied request in flight when the signal arrives is answered, then every worker exits', async (t) => {
  const held: ServerResponse[] = [];
  let reached!: () => void;
  const arrived = new Promise<void>((r) => (reached = r));
  const upstream = createServer((req, res) => {
    if (req.url === '/slow') {
      held.push(res);
      reached();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  t.after(() => upstream.close());
  const upstreamUrl = `http://127.0.0.1:${(upstream.address() as { port: number }).port}`;
  const s = await startWorkers(t, {
    DIFY_SSO_GATE_MODE: 'proxy',
    DIFY_SSO_DIFY_API_URL: upstreamUrl,
    DIFY_SSO_DIFY_WEB_URL: upstreamUrl,
  });
  const workers = childPids(s.pid);

  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: s.port, path: '/slow', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  await arrived;
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  s.child.kill('SIGTERM');
  // Both workers have begun closing while the request is still held upstream.
  await until(
    'every worker began shutting down',
    async () => (s.output().match(/shutting down: finishing in-flight requests/g) ?? []).length === 2,
    15_000,
    () => s.output().slice(-2000),
  );
  held[0]!.writeHead(200, { 'content-type': 'text/plain' }).end('slow answer');
  assert.deepEqual(await answer, { status: 200, body: 'slow answer' }, 'the in-flight request was answered');
  assert.equal(await exited, 0);
  for (const w of workers) assert.equal(alive(w), false, `worker ${w} exited`);
});
