/**
 * OpenTelemetry traces (issue 13, item 5) with a real OTLP/HTTP receiver started here: a small
 * HTTP server that decodes the JSON export (`http/json`) exactly as a collector receives it.
 * Sign-ins, gate checks (nginx `auth_request` endpoint), a back-channel logout and a refresh run
 * through the sidecar with the Dify bridge and the Redis store; the spans must arrive, nest
 * (store and IdP spans under their request's span), and carry no token, cookie, code or `state`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { otelEnvDefaults, startTracing, stopTracing, tracingEnabled } from '../../src/lib/tracing.js';
import { loadConfig } from '../../src/config/load.js';
import { cookieHeader, login } from '../helpers/harness.js';
import { HostileOp } from '../helpers/hostile-op.js';
import {
  USERS,
  bridgeEnv,
  setCookieValue,
  startBridge,
  startStandin,
  type BridgeApp,
  type Standin,
} from '../dify/helpers.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  attributes?: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number };
}

let receiver: Server;
const bodies: string[] = [];
const requests: { path: string; contentType: string; apiKey: string | undefined }[] = [];
let op: HostileOp;
let standin: Standin;
let b: BridgeApp;

before(async () => {
  receiver = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      requests.push({
        path: req.url ?? '',
        contentType: String(req.headers['content-type']),
        apiKey: req.headers['x-collector-key'] as string | undefined,
      });
      bodies.push(body);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  op = await HostileOp.start();
  standin = await startStandin();
});
after(async () => {
  await stopTracing();
  await b?.close();
  await standin?.close();
  await op?.close();
  receiver?.closeAllConnections();
  await new Promise<void>((r) => receiver?.close(() => r()));
});

function spans(): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  for (const body of bodies) {
    const doc = JSON.parse(body) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: OtlpSpan[] }[];
      }[];
    };
    for (const rs of doc.resourceSpans) {
      assert.equal(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue, 'dify-sso-test');
      for (const ss of rs.scopeSpans) out.push(...ss.spans);
    }
  }
  return out;
}

const ALLOWED_ATTRIBUTES = new Set([
  'http.request.method',
  'http.route',
  'http.response.status_code',
  'dify_sso.gate.mode',
  'dify_sso.gate.result',
  'dify_sso.reason',
  'dify_sso.grant_type',
  'dify_sso.jwks.keys',
  'dify_sso.store.kind',
  'dify_sso.error_code',
]);

test("the standard OTEL_EXPORTER_OTLP_ENDPOINT turns tracing on; OTEL_SDK_DISABLED or the sidecar's own variable win", () => {
  assert.equal(
    otelEnvDefaults({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).DIFY_SSO_OTEL_ENDPOINT,
    'http://collector:4318/v1/traces',
  );
  assert.equal(
    otelEnvDefaults({
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://c.example/t',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318',
    }).DIFY_SSO_OTEL_ENDPOINT,
    'https://c.example/t',
  );
  assert.equal(
    otelEnvDefaults({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SDK_DISABLED: 'true' })
      .DIFY_SSO_OTEL_ENDPOINT,
    undefined,
  );
  assert.equal(
    otelEnvDefaults({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_TRACES_EXPORTER: 'none' })
      .DIFY_SSO_OTEL_ENDPOINT,
    undefined,
  );
  assert.equal(
    otelEnvDefaults({
      DIFY_SSO_OTEL_ENDPOINT: 'http://mine:4318/v1/traces',
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://x:4318',
    }).DIFY_SSO_OTEL_ENDPOINT,
    'http://mine:4318/v1/traces',
  );
  assert.equal(otelEnvDefaults({}).DIFY_SSO_OTEL_ENDPOINT, undefined, 'off by default');
  const bad = () =>
    loadConfig(bridgeEnv(op, standin, { DIFY_SSO_OTEL_ENDPOINT: 'http://user:pw@collector:4318/v1/traces' }));
  assert.throws(
    bad,
    (e: unknown) =>
      (e as { problems?: { code: string; path: string }[] }).problems?.some(
        (p) => p.path === 'otel.endpoint' && p.code === 'ERR_CONFIG_FORMAT',
      ) === true,
  );
});

test('spans of sign-in, gate decisions, token endpoint, JWKS fetch, store calls and back-channel logout arrive at the OTLP receiver, nested, without secrets', async () => {
  const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/traces`;
  const env = {
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_URL: process.env.DIFY_SSO_TEST_REDIS_URL,
    DIFY_SSO_OTEL_ENDPOINT: endpoint,
    DIFY_SSO_OTEL_SERVICE_NAME: 'dify-sso-test',
    DIFY_SSO_OTEL_HEADERS: 'x-collector-key=collector-api-key-1',
  };
  await startTracing(loadConfig(bridgeEnv(op, standin, env)).otel);
  assert.equal(tracingEnabled(), true);
  b = await startBridge(standin, env, { op });

  const secrets: string[] = [op.clientSecret];
  const { loginRes, callbackRes, jar } = await login(b.app, op, { user: { ...USERS.alice, sid: 'trace-sid' } });
  assert.equal(callbackRes.headers.location, '/apps');
  const authUrl = new URL(loginRes.headers.location as string);
  const callbackQuery = new URLSearchParams(String(op.requests.filter((r) => r.path === '/token').at(-1)?.body));
  secrets.push(
    authUrl.searchParams.get('state')!,
    authUrl.searchParams.get('nonce')!,
    authUrl.searchParams.get('code_challenge')!,
    callbackQuery.get('code')!,
    callbackQuery.get('code_verifier')!,
  );
  for (const v of jar.values()) secrets.push(v);
  const access = setCookieValue(callbackRes.headers['set-cookie'], 'access_token') as string;
  const refresh = setCookieValue(callbackRes.headers['set-cookie'], 'refresh_token') as string;
  secrets.push(access, refresh);
  for (const t of op.accessTokens.keys()) secrets.push(t);
  for (const t of op.refreshTokens.keys()) secrets.push(t);

  const kit = cookieHeader(new Map([...jar].filter(([k]) => /dify_sso$/.test(k))));
  const gate = (cookie: string) =>
    b.app.inject({
      method: 'GET',
      url: '/sso/auth',
      remoteAddress: '127.0.0.1',
      headers: { 'x-original-uri': '/console/api/apps?token=query-secret-xyz', 'x-original-method': 'GET', cookie },
    });
  assert.equal((await gate(`${kit}; access_token=${access}`)).statusCode, 204);
  assert.equal((await gate(`access_token=${access}`)).statusCode, 401);
  secrets.push('query-secret-xyz');
  const logoutToken = await op.logoutToken({ sid: 'trace-sid' });
  secrets.push(logoutToken);
  assert.equal(
    (
      await b.app.inject({
        method: 'POST',
        url: '/sso/backchannel-logout',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: `logout_token=${logoutToken}`,
      })
    ).statusCode,
    200,
  );
  assert.equal((await gate(`${kit}; access_token=${access}`)).statusCode, 401);
  // An error span: a callback with a forged state.
  const forged = await b.app.inject({
    method: 'GET',
    url: '/sso/callback?code=forged-code-abc&state=forged-state-abc',
    headers: { cookie: kit },
  });
  assert.equal(forged.headers.location, '/signin?message=login_expired');
  secrets.push('forged-code-abc', 'forged-state-abc');

  await b.close();
  await stopTracing(); // flushes the batch
  assert.ok(requests.length > 0, 'the receiver got exports');
  for (const r of requests) {
    assert.equal(r.path, '/v1/traces');
    assert.match(r.contentType, /^application\/json/);
    assert.equal(r.apiKey, 'collector-api-key-1', 'otel.headers are sent');
  }
  const all = spans();
  const names = new Set(all.map((s) => s.name));
  for (const n of [
    'dify_sso.gate',
    'dify_sso.http GET /sso/login',
    'dify_sso.http GET /sso/callback',
    'dify_sso.http POST /sso/backchannel-logout',
    'dify_sso.oidc.token',
    'dify_sso.jwks.fetch',
    'dify_sso.store.get',
    'dify_sso.store.create',
    'dify_sso.store.kv_set_if_absent',
    'dify_sso.store.delete_by_sid',
  ]) {
    assert.ok(names.has(n), `span ${n} arrived (got ${[...names].join(', ')})`);
  }
  const attr = (s: OtlpSpan, k: string) => s.attributes?.find((a) => a.key === k)?.value;
  const gates = all.filter((s) => s.name === 'dify_sso.gate');
  assert.deepEqual(
    gates.map((s) => attr(s, 'dify_sso.gate.result')?.stringValue),
    ['allow', 'deny', 'deny'],
  );
  assert.equal(attr(gates[2]!, 'dify_sso.reason')?.stringValue, 'unauthorized');
  assert.ok(gates.every((s) => attr(s, 'dify_sso.gate.mode')?.stringValue === 'authrequest'));
  const callback = all.find(
    (s) => s.name === 'dify_sso.http GET /sso/callback' && attr(s, 'dify_sso.reason') === undefined,
  )!;
  const token = all.find((s) => s.name === 'dify_sso.oidc.token')!;
  assert.equal(token.parentSpanId, callback.spanId, 'the token request is a child of the callback span');
  assert.equal(attr(token, 'dify_sso.grant_type')?.stringValue, 'authorization_code');
  const getUnderGate = all.filter((s) => s.name === 'dify_sso.store.get' && s.parentSpanId === gates[0]!.spanId);
  assert.equal(getUnderGate.length, 1, 'the session lookup is a child of the gate decision');
  assert.equal(attr(getUnderGate[0]!, 'dify_sso.store.kind')?.stringValue, 'redis');
  const failed = all.find(
    (s) => s.name === 'dify_sso.http GET /sso/callback' && attr(s, 'dify_sso.reason')?.stringValue === 'login_expired',
  );
  assert.ok(failed, 'a failed callback carries its reason code');

  for (const s of all)
    for (const a of s.attributes ?? [])
      assert.ok(ALLOWED_ATTRIBUTES.has(a.key), `attribute ${a.key} of ${s.name} is on the allowlist`);
  const text = bodies.join('\n');
  for (const secret of secrets) {
    assert.ok(secret && secret.length >= 8, 'a real secret value');
    assert.ok(!text.includes(secret), `no secret in the export (${secret.slice(0, 4)}…)`);
  }
  assert.ok(!text.includes('/console/api/apps'), 'no request path in the export');
  assert.ok(!text.includes('alice'), 'no user identifier in the export');
});
