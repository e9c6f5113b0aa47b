/**
 * Metrics: what a scrape of `/sso/metrics` shows after real traffic (login through the hostile OP,
 * gate decisions against the stand-in, a back-channel logout), and that the endpoint lives only on
 * its own listener (the entry point, spawned).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { METRIC_NAMES, createMetrics } from '../../src/services/metrics.js';
import { cookieHeader, login, SECRET, type Jar } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import { freePort } from '../helpers/ports.js';
import { USERS, setCookieValue, startBridge, startStandin, type Standin } from '../dify/helpers.js';

let op: HostileOp;
let standin: Standin;
let b: Awaited<ReturnType<typeof startBridge>>;
before(async () => {
  op = await HostileOp.start();
  standin = await startStandin();
  b = await startBridge(standin, {}, { op });
});
after(async () => {
  await b?.close();
  await standin?.close();
  await op?.close();
});

/** The value of one sample line (`name{labels} value`), or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? ([0-9.e+-]+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

const kit = (jar: Jar) => cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));

test('a scrape counts logins, gate decisions by reason, back-channel events, store and IdP latency', async () => {
  const { callbackRes, jar } = await login(b.app, op, { user: { ...USERS.alice, sid: 'metrics-sid' } });
  const access = setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string;
  const auth = (uri: string, cookie: string) =>
    b.app.inject({
      method: 'GET',
      url: '/sso/auth',
      remoteAddress: '127.0.0.1',
      headers: { 'x-original-uri': uri, 'x-original-method': 'GET', cookie },
    });
  assert.equal((await auth('/console/api/account/profile', `${kit(jar)}; access_token=${access}`)).statusCode, 204);
  assert.equal((await auth('/console/api/account/profile', `access_token=${access}`)).statusCode, 401);
  assert.equal((await auth('/console/api/login', '')).statusCode, 403);
  const token = await op.logoutToken({ sid: 'metrics-sid' });
  const bc = (t: string) =>
    b.app.inject({
      method: 'POST',
      url: '/sso/backchannel-logout',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `logout_token=${t}`,
    });
  assert.equal((await bc(token)).statusCode, 200);
  assert.equal((await bc(token)).statusCode, 400, 'replay');

  const text = await b.app.sso.metrics.registry.metrics();
  assert.equal(sample(text, 'dify_sso_logins_total', { outcome: 'success', reason: 'ok' }), 1);
  assert.equal(
    sample(text, 'dify_sso_gate_decisions_total', { mode: 'authrequest', result: 'allow', reason: 'ok' }),
    1,
  );
  assert.equal(
    sample(text, 'dify_sso_gate_decisions_total', { mode: 'authrequest', result: 'deny', reason: 'unauthorized' }),
    1,
  );
  assert.equal(
    sample(text, 'dify_sso_gate_decisions_total', { mode: 'authrequest', result: 'deny', reason: 'sso_required' }),
    1,
  );
  // Decisions are added to the counter when it is read: a second read counts only what came since, cumulatively.
  assert.equal((await auth('/console/api/account/profile', `${kit(jar)}; access_token=${access}`)).statusCode, 401);
  assert.equal((await auth('/console/api/login', '')).statusCode, 403);
  assert.equal((await auth('/console/api/login', '')).statusCode, 403);
  const again = await b.app.sso.metrics.registry.metrics();
  assert.equal(
    sample(again, 'dify_sso_gate_decisions_total', { mode: 'authrequest', result: 'deny', reason: 'sso_required' }),
    3,
  );
  assert.equal(
    sample(again, 'dify_sso_gate_decisions_total', { mode: 'authrequest', result: 'allow', reason: 'ok' }),
    1,
  );
  assert.equal(sample(text, 'dify_sso_backchannel_logouts_total', { outcome: 'accepted', reason: 'ok' }), 1);
  assert.equal(sample(text, 'dify_sso_backchannel_logouts_total', { outcome: 'rejected' }), 1);
  assert.ok(
    (sample(text, 'dify_sso_store_operation_duration_seconds_count', { op: 'get' }) ?? 0) >= 1,
    'session reads are timed',
  );
  assert.ok(
    (sample(text, 'dify_sso_idp_request_duration_seconds_count', { method: 'post', status: '2xx' }) ?? 0) >= 1,
    'the token request to the IdP is timed',
  );
  assert.ok((sample(text, 'dify_sso_audit_events_total', { event: 'auth.login.success' }) ?? 0) >= 1);
  assert.equal(/eyJ|access_token=|logout_token/.test(text), false, 'no token material in metrics');
});

test('every metric the sidecar registers is documented in the README and listed in METRIC_NAMES', async () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const names = (await createMetrics({ defaultMetrics: false }).registry.getMetricsAsJSON()).map((m) => m.name).sort();
  assert.deepEqual(names, [...METRIC_NAMES].sort());
  for (const n of METRIC_NAMES) assert.ok(readme.includes(`\`${n}\``), `${n} is documented`);
});

test('the entry point serves /sso/metrics on metrics.listen only, never on the proxied port', async (t) => {
  const [port, metricsPort] = [await freePort(), await freePort()];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('../../src/server.ts', import.meta.url))],
    {
      env: {
        PATH: process.env.PATH ?? '',
        DIFY_SSO_LISTEN: `127.0.0.1:${port}`,
        DIFY_SSO_METRICS_LISTEN: `127.0.0.1:${metricsPort}`,
        DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18000',
        DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
        DIFY_SSO_OIDC_ISSUER: op.issuer,
        DIFY_SSO_OIDC_CLIENT_ID: op.clientId,
        DIFY_SSO_OIDC_CLIENT_SECRET: op.clientSecret,
        DIFY_SSO_SESSION_SECRET: SECRET,
        DIFY_SSO_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  t.after(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  let res: Response | undefined;
  while (!res) {
    assert.ok(Date.now() < deadline && child.exitCode === null, `sidecar did not start: ${stderr}`);
    // The metrics listener opens after the main port: once it answers, both are up.
    res = await fetch(`http://127.0.0.1:${metricsPort}/sso/metrics`).catch(() => undefined);
    if (!res) await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const text = await res.text();
  assert.match(text, /^dify_sso_process_resident_memory_bytes \d+/m, 'process metrics');
  assert.match(text, /# TYPE dify_sso_gate_decisions_total counter/);
  assert.equal((await fetch(`http://127.0.0.1:${port}/sso/metrics`)).status, 404, 'not on the proxied port');
  assert.equal(
    (await fetch(`http://127.0.0.1:${metricsPort}/sso/health/live`)).status,
    404,
    'the metrics listener serves nothing else',
  );
});
