/**
 * Issue 13: `dify-sso deploy` maps Dify's `.env` Redis settings (compose and Kubernetes), and
 * `dify-sso deploy --kubernetes` writes the chart values and the ingress-nginx wiring. The chart
 * itself is rendered and schema-validated in scripts/test/helm-chart.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { renderDeployment } from '../../src/deploy/compose.js';
import { runCli } from '../../src/cli.js';
import { renderKubernetes } from '../../src/deploy/kubernetes.js';
import { composeRedisEnv } from '../../src/deploy/compose-redis.js';

const fixtures = fileURLToPath(new URL('../gate/__fixtures__/', import.meta.url));
const made: string[] = [];
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
function temp(): string {
  const d = mkdtempSync(join(tmpdir(), 'dify-sso-deploy-'));
  made.push(d);
  return d;
}
function difyDocker(dotEnv?: string): string {
  const dir = temp();
  cpSync(join(fixtures, 'dify-1.16', 'docker'), dir, { recursive: true });
  if (dotEnv !== undefined) writeFileSync(join(dir, '.env'), dotEnv);
  return dir;
}
function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t) }, out, err };
}
/** The sidecar service's environment in the compose override. */
function sidecarEnvironment(override: string): Record<string, string> {
  const doc = parseAllDocuments(override)[0]?.toJS() as {
    services: Record<string, { environment?: Record<string, string> }>;
  };
  return doc.services['dify-sso']?.environment ?? {};
}

const SENTINEL_ENV =
  'REDIS_USE_SENTINEL=true\nREDIS_SENTINELS=sentinel-0:26379, sentinel-1:26379\nREDIS_SENTINEL_SERVICE_NAME=mymaster\nREDIS_SENTINEL_PASSWORD=sentinel-secret-1\nREDIS_PASSWORD=redis-secret-1\nREDIS_DB=2\nREDIS_KEY_PREFIX=prod\n';

test("compose deploy: a Sentinel Dify .env becomes the bridge's Sentinel settings, passwords as Compose references", () => {
  const o = renderDeployment({ difyDockerDir: difyDocker(SENTINEL_ENV), image: 'x/y:1' }).files[
    'docker-compose.override.yaml'
  ] as string;
  const env = sidecarEnvironment(o);
  assert.equal(env['DIFY_SSO_DIFY_REDIS_MODE'], 'sentinel');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_SENTINELS'], 'sentinel-0:26379,sentinel-1:26379');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_SENTINEL_NAME'], 'mymaster');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_DB'], '2');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_KEY_PREFIX'], 'prod');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_PASSWORD'], '${REDIS_PASSWORD}');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_SENTINEL_PASSWORD'], '${REDIS_SENTINEL_PASSWORD}');
  assert.equal(env['DIFY_SSO_DIFY_REDIS_URL'], undefined, 'no standalone URL next to Sentinel');
  assert.ok(!o.includes('redis-secret-1') && !o.includes('sentinel-secret-1'), 'no password copied into the override');
});

test('compose deploy: Cluster and TLS settings; a literal "$" is escaped for Compose; no .env keeps the standalone default', () => {
  const cluster = sidecarEnvironment(
    renderDeployment({
      difyDockerDir: difyDocker(
        'REDIS_USE_CLUSTERS=true\nREDIS_CLUSTERS=r0:6379,r1:6379,r2:6379\nREDIS_CLUSTERS_PASSWORD=cp\nREDIS_KEY_PREFIX=a$b\n',
      ),
      image: 'x/y:1',
    }).files['docker-compose.override.yaml'] as string,
  );
  assert.equal(cluster['DIFY_SSO_DIFY_REDIS_MODE'], 'cluster');
  assert.equal(cluster['DIFY_SSO_DIFY_REDIS_CLUSTER_NODES'], 'r0:6379,r1:6379,r2:6379');
  assert.equal(cluster['DIFY_SSO_DIFY_REDIS_PASSWORD'], '${REDIS_CLUSTERS_PASSWORD}');
  assert.equal(cluster['DIFY_SSO_DIFY_REDIS_KEY_PREFIX'], 'a$$b');
  const tls = composeRedisEnv(
    'REDIS_HOST=redis\nREDIS_PORT=6380\nREDIS_USE_SSL=true\nREDIS_SSL_CERT_REQS=CERT_REQUIRED\nREDIS_SSL_CA_CERTS=/certs/ca.pem\n',
  );
  assert.equal(tls.env['DIFY_SSO_DIFY_REDIS_URL'], 'rediss://redis:6380/0');
  assert.equal(tls.env['DIFY_SSO_DIFY_REDIS_TLS_VERIFY'], 'required');
  assert.equal(tls.env['DIFY_SSO_DIFY_REDIS_TLS_CA_FILE'], '/certs/ca.pem');
  assert.deepEqual(
    tls.warnings.map((w) => w.code),
    ['WARN_DEPLOY_REDIS_TLS_FILES'],
  );
  const none = sidecarEnvironment(
    renderDeployment({ difyDockerDir: difyDocker(), image: 'x/y:1' }).files['docker-compose.override.yaml'] as string,
  );
  assert.equal(
    none['DIFY_SSO_DIFY_REDIS_URL'],
    'redis://:${REDIS_PASSWORD:-difyai123456}@${REDIS_HOST:-redis}:${REDIS_PORT:-6379}/${REDIS_DB:-0}',
  );
});

test('renderKubernetes: bad arguments are refused with ERR_INVALID_ARG_VALUE and the exact message', () => {
  const cases: Array<[Parameters<typeof renderKubernetes>[0], string]> = [
    [{ publicUrl: 'dify.example.com' }, '"publicUrl" must be an origin (e.g. https://dify.example.com)'],
    [
      { publicUrl: 'https://dify.example.com/console' },
      '"publicUrl" must be an origin (e.g. https://dify.example.com)',
    ],
    [
      { publicUrl: 'https://dify.example.com', namespace: 'Dify_NS' },
      '"namespace" must be a Kubernetes resource name (lower-case letters, digits, "-")',
    ],
    [
      { publicUrl: 'https://dify.example.com', difyRelease: 'x;y' },
      '"difyRelease" must be a Kubernetes resource name (lower-case letters, digits, "-")',
    ],
    [
      { publicUrl: 'https://dify.example.com', trustProxy: ['ingress-nginx'] },
      '"trustProxy" entry "ingress-nginx" must be an IP address or CIDR',
    ],
    [{ publicUrl: 'https://dify.example.com', image: 'Bad Image' }, '"image" must be repository[:tag]'],
    [{ publicUrl: 'https://dify.example.com', workers: -1 }, '"workers" must be an integer 0-256'],
  ];
  for (const [o, message] of cases)
    assert.throws(() => renderKubernetes(o), { code: 'ERR_INVALID_ARG_VALUE', message }, message);
});

test("renderKubernetes: values carry Dify's Redis topology without secrets; the Ingress points at the community chart's Services", () => {
  const r = renderKubernetes({
    publicUrl: 'https://dify.example.com',
    difyEnv: SENTINEL_ENV,
    difyRelease: 'prod',
    namespace: 'ai',
    trustProxy: ['10.42.0.0/16'],
    gateWebApps: true,
  });
  const values = parseAllDocuments(r.files['dify-sso-values.yaml'] as string)[0]?.toJS() as Record<string, any>;
  assert.deepEqual(values['dify'].redis, {
    url: null,
    mode: 'sentinel',
    sentinels: ['sentinel-0:26379', 'sentinel-1:26379'],
    sentinelName: 'mymaster',
    sentinelTimeoutMs: 100,
    db: 2,
    keyPrefix: 'prod',
  });
  assert.equal(values['store'].redis.keyPrefix, 'dify-sso:');
  assert.equal(values['secrets'].keys.difyRedisSentinelPassword, 'dify-redis-sentinel-password');
  assert.equal(values['dify'].apiUrl, 'http://prod-api:5001');
  assert.ok(!(r.files['dify-sso-values.yaml'] as string).includes('redis-secret-1'));
  const ing = parseAllDocuments(r.files['dify-sso-ingress.yaml'] as string).map(
    (d) =>
      d.toJS() as { metadata: { name: string; namespace: string; annotations?: Record<string, string> }; spec: any },
  );
  assert.deepEqual(
    ing.map((i) => i.metadata.name),
    ['dify-sso', 'dify-sso-console', 'dify-sso-api', 'dify-sso-webapps', 'dify-sso-web'],
  );
  assert.ok(ing.every((i) => i.metadata.namespace === 'ai'));
  const webapps = ing[3] as (typeof ing)[number];
  assert.equal(
    webapps.metadata.annotations?.['nginx.ingress.kubernetes.io/auth-url'],
    'http://dify-sso.ai.svc.cluster.local:8080/sso/auth',
  );
  assert.equal(
    webapps.metadata.annotations?.['nginx.ingress.kubernetes.io/auth-signin'],
    'https://dify.example.com/sso/login',
  );
  assert.equal(
    ing[2]?.metadata.annotations?.['nginx.ingress.kubernetes.io/auth-url'],
    'http://dify-sso.ai.svc.cluster.local:8080/sso/auth',
    'web-app API gated with --gate-web-apps',
  );
  const plain = parseAllDocuments(
    renderKubernetes({ publicUrl: 'https://dify.example.com' }).files['dify-sso-ingress.yaml'] as string,
  ).map((d) => d.toJS() as { metadata: { name: string; annotations?: Record<string, string> } });
  assert.equal(
    plain.find((i) => i.metadata.name === 'dify-sso-api')?.metadata.annotations,
    undefined,
    "/api, /v1, /files pass ungated by default, as behind the kit's nginx",
  );
  assert.deepEqual(
    renderKubernetes({ publicUrl: 'https://dify.example.com' }).warnings.map((w) => w.code),
    ['WARN_DEPLOY_TRUST_PROXY'],
  );
});

test('dify-sso deploy --kubernetes: writes both files; usage errors exit 2 with the code', async () => {
  const out = join(temp(), 'k8s');
  const envFile = join(temp(), '.env');
  writeFileSync(envFile, SENTINEL_ENV);
  const ok = io();
  assert.equal(
    await runCli(
      [
        'deploy',
        '--kubernetes',
        '--public-url',
        'https://dify.example.com',
        '--dify-env',
        envFile,
        '--trust-proxy',
        '10.42.0.0/16',
        '--out',
        out,
      ],
      {},
      ok.io,
    ),
    0,
  );
  assert.ok(existsSync(join(out, 'dify-sso-values.yaml')) && existsSync(join(out, 'dify-sso-ingress.yaml')));
  assert.match(readFileSync(join(out, 'dify-sso-values.yaml'), 'utf8'), /mode: "sentinel"/);
  assert.match(ok.err.join(''), /wrote dify-sso-values\.yaml, dify-sso-ingress\.yaml/);
  for (const [argv, message] of [
    [['--public-url', 'https://dify.example.com'], '--out <dir> is required (or --dry)'],
    [['--out', out], '--public-url <origin> is required'],
    [
      ['--public-url', 'https://dify.example.com', '--dry', '--dify-env', join(out, 'missing.env')],
      `--dify-env ${JSON.stringify(join(out, 'missing.env'))} does not exist`,
    ],
  ] as const) {
    const bad = io();
    assert.equal(await runCli(['deploy', '--kubernetes', ...argv], {}, bad.io), 2);
    assert.ok(
      bad.err.join('').startsWith(`dify-sso deploy: error ERR_INVALID_ARG_VALUE ${message}\n`),
      bad.err.join(''),
    );
  }
  const invalid = io();
  assert.equal(await runCli(['deploy', '--kubernetes', '--public-url', 'ftp://x', '--dry'], {}, invalid.io), 1);
  assert.match(invalid.err.join(''), /error ERR_INVALID_ARG_VALUE "publicUrl" must be an origin/);
  const help = io();
  assert.equal(await runCli(['deploy', '--kubernetes', '--help'], {}, help.io), 0);
  assert.match(help.out.join(''), /--dify-env FILE/);
});
