// The Helm chart (deploy/helm/dify-sso) and the files of `dify-sso deploy --kubernetes`: rendered
// with the real `helm template` and validated with the real `kubeconform -strict` against offline
// schemas generated from Kubernetes' own OpenAPI document (scripts/lib/k8s-tools.ts), for several
// value sets; plus lint checks on the rendered manifests. No cluster and no ingress controller run
// here: this proves the manifests are well-formed and say what they should, not that they deploy.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { SSO_PATHS } from '@dify-sso-kit/vocabulary';
import { repoRoot } from '../lib/paths.js';
import { ensureK8sTools, type K8sTools } from '../lib/k8s-tools.js';
import { configLeaves, loadConfig } from '../../packages/sidecar/src/config/load.js';
import { renderKubernetes } from '../../packages/sidecar/src/deploy/kubernetes.js';

const CHART = join(repoRoot, 'deploy', 'helm', 'dify-sso');
const tools: K8sTools = ensureK8sTools();
const work = mkdtempSync(join(tmpdir(), 'dify-sso-helm-'));
process.once('exit', () => rmSync(work, { recursive: true, force: true }));

const REQUIRED = [
  'publicUrl=https://dify.example.com',
  'oidc.issuer=https://idp.example.com/realms/dify',
  'oidc.clientId=dify-console',
  'dify.workspaceId=8b7c1c59-0a55-4b0e-9d55-6f2f0e1b1a11',
  'gate.trustProxy={10.42.0.0/16}',
];

type Doc = { kind: string; metadata: { name: string }; spec: Record<string, any> };

/** Settings every value set needs and `dify-sso deploy --kubernetes` leaves to the operator. */
const operatorValues = (): string => valuesFile('operator.yaml', 'roleMap: "dify-admins=admin,dify-editors=editor"\n');

function helmTemplate(valuesFiles: string[], sets: string[] = REQUIRED): { ok: boolean; out: string; err: string } {
  const r = spawnSync(
    tools.helm,
    [
      'template',
      'dify-sso',
      CHART,
      '--namespace',
      'dify',
      '--kube-version',
      tools.kubeVersion,
      ...[...valuesFiles, operatorValues()].flatMap((f) => ['-f', f]),
      ...sets.flatMap((s) => ['--set', s]),
    ],
    { encoding: 'utf8' },
  );
  return { ok: r.status === 0, out: r.stdout, err: r.stderr };
}

function kubeconform(manifests: string): {
  ok: boolean;
  resources: Array<{ kind: string; status: string; msg: string }>;
  raw: string;
} {
  const r = spawnSync(
    tools.kubeconform,
    [
      '-strict',
      '-summary',
      '-output',
      'json',
      '-kubernetes-version',
      tools.kubeVersion,
      '-schema-location',
      `${tools.schemas}/{{ .ResourceKind }}{{ .KindSuffix }}.json`,
      '-verbose',
      '-',
    ],
    { input: manifests, encoding: 'utf8' },
  );
  const parsed = JSON.parse(r.stdout || '{"resources":[]}') as {
    resources?: Array<{ kind: string; status: string; msg: string }>;
  };
  return { ok: r.status === 0, resources: parsed.resources ?? [], raw: `${r.stdout}${r.stderr}` };
}

function docs(manifests: string): Doc[] {
  return parseAllDocuments(manifests)
    .map((d) => d.toJS() as Doc)
    .filter((d) => d && typeof d === 'object');
}

function valuesFile(name: string, text: string): string {
  const p = join(work, name);
  writeFileSync(p, text);
  return p;
}

/** Value sets: the chart's defaults and the files `dify-sso deploy --kubernetes` writes for Dify's Redis topologies. */
const fromEnv = (
  name: string,
  dotEnv: string | undefined,
  extra: Partial<Parameters<typeof renderKubernetes>[0]> = {},
) =>
  valuesFile(
    `${name}.yaml`,
    renderKubernetes({ publicUrl: 'https://dify.example.com', difyEnv: dotEnv, trustProxy: ['10.42.0.0/16'], ...extra })
      .files['dify-sso-values.yaml'] as string,
  );

const SETS: Array<[string, string[], string[]]> = [
  ['chart defaults', [], REQUIRED],
  [
    'standalone (Dify .env)',
    [
      fromEnv(
        'standalone',
        'REDIS_HOST=dify-redis-master\nREDIS_PORT=6379\nREDIS_PASSWORD=s3cret\nREDIS_DB=0\nREDIS_KEY_PREFIX=prod\n',
      ),
    ],
    REQUIRED,
  ],
  [
    'Sentinel (Dify .env)',
    [
      fromEnv(
        'sentinel',
        'REDIS_USE_SENTINEL=true\nREDIS_SENTINELS=sentinel-0.sentinel:26379,sentinel-1.sentinel:26379,sentinel-2.sentinel:26379\nREDIS_SENTINEL_SERVICE_NAME=mymaster\nREDIS_SENTINEL_PASSWORD=sp\nREDIS_PASSWORD=p\nREDIS_SENTINEL_SOCKET_TIMEOUT=0.5\n',
      ),
    ],
    REQUIRED,
  ],
  [
    'Cluster (Dify .env)',
    [
      fromEnv(
        'cluster',
        'REDIS_USE_CLUSTERS=true\nREDIS_CLUSTERS=redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379\nREDIS_CLUSTERS_PASSWORD=cp\n',
      ),
    ],
    REQUIRED,
  ],
  [
    'TLS with CA and client certificate (Dify .env)',
    [
      fromEnv(
        'tls',
        'REDIS_HOST=redis.example.internal\nREDIS_PORT=6380\nREDIS_USE_SSL=true\nREDIS_SSL_CERT_REQS=CERT_REQUIRED\nREDIS_SSL_CA_CERTS=/certs/ca.crt\nREDIS_SSL_CERTFILE=/certs/tls.crt\nREDIS_SSL_KEYFILE=/certs/tls.key\nREDIS_PASSWORD=p\n',
      ),
    ],
    REQUIRED,
  ],
  [
    'metrics and ServiceMonitor on, 4 workers',
    [fromEnv('metrics', undefined, { workers: 4 })],
    [...REQUIRED, 'metrics.enabled=true', 'metrics.serviceMonitor.enabled=true'],
  ],
];

function deployment(d: Doc[]): Doc {
  const dep = d.find((x) => x.kind === 'Deployment');
  assert.ok(dep, 'a Deployment is rendered');
  return dep;
}

/** The env of the sidecar container as the sidecar would see it (secrets as dummy values, files dropped). */
function sidecarEnv(dep: Doc): { env: Record<string, string>; secretRefs: string[]; files: Record<string, string> } {
  const env: Record<string, string> = {};
  const secretRefs: string[] = [];
  const files: Record<string, string> = {};
  for (const e of dep.spec['template'].spec.containers[0].env as Array<{
    name: string;
    value?: string;
    valueFrom?: { secretKeyRef?: { name: string; key: string } };
  }>) {
    if (e.valueFrom?.secretKeyRef) {
      secretRefs.push(e.name);
      env[e.name] = randomBytes(24).toString('base64url');
    } else if (e.name.endsWith('_FILE')) files[e.name] = e.value as string;
    else env[e.name] = e.value as string;
  }
  return { env, secretRefs, files };
}

for (const [name, files, sets] of SETS) {
  test(`helm template + kubeconform -strict: ${name}`, () => {
    const r = helmTemplate(files, sets);
    assert.ok(r.ok, r.err);
    const v = kubeconform(r.out);
    assert.ok(v.ok, v.raw);
    const kinds = v.resources.map((x) => `${x.kind}:${x.status}`).sort();
    const want = [
      'Deployment',
      'NetworkPolicy',
      'PodDisruptionBudget',
      'Service',
      ...(sets.includes('metrics.serviceMonitor.enabled=true') ? ['ServiceMonitor'] : []),
    ];
    assert.deepEqual(kinds, want.map((k) => `${k}:statusValid`).sort(), 'every resource validated, none skipped');

    // The rendered env is a valid sidecar configuration (the sidecar's own loader).
    const { env, secretRefs, files: fileEnv } = sidecarEnv(deployment(docs(r.out)));
    const known = new Set(configLeaves().flatMap((l) => [l.env, ...(l.secret ? [`${l.env}_FILE`] : [])]));
    for (const n of [...Object.keys(env), ...Object.keys(fileEnv)])
      assert.ok(known.has(n), `${n} is a setting of the sidecar`);
    assert.doesNotThrow(
      () => loadConfig({ ...env, NODE_ENV: 'production' }),
      'the chart renders a configuration the sidecar accepts',
    );
    // Every secret setting that is present comes from a Secret (secretKeyRef) or a mounted Secret file.
    const secretLeaves = new Set(
      configLeaves()
        .filter((l) => l.secret)
        .map((l) => l.env),
    );
    // A Redis URL is a secret setting only because it may carry a password: the chart's never does.
    for (const n of Object.keys(env)) {
      if (!secretLeaves.has(n)) continue;
      if (/_REDIS_URL$/.test(n) && !secretRefs.includes(n))
        assert.equal(
          new URL(env[n] as string).password + new URL(env[n] as string).username,
          '',
          `${n} holds no credentials`,
        );
      else assert.ok(secretRefs.includes(n), `${n} comes from secretKeyRef`);
    }
    for (const [n, p] of Object.entries(fileEnv))
      assert.match(p, /^\/etc\/dify-sso\/redis-tls\//, `${n} is a file of the mounted Secret`);
  });
}

test("the Sentinel, Cluster and TLS value sets carry Dify's topology into both Redis clients", () => {
  const env = (i: number) =>
    sidecarEnv(deployment(docs(helmTemplate((SETS[i] as [string, string[], string[]])[1]).out)));
  const sentinel = env(2);
  assert.equal(sentinel.env['DIFY_SSO_DIFY_REDIS_MODE'], 'sentinel');
  assert.equal(
    sentinel.env['DIFY_SSO_DIFY_REDIS_SENTINELS'],
    'sentinel-0.sentinel:26379,sentinel-1.sentinel:26379,sentinel-2.sentinel:26379',
  );
  assert.equal(sentinel.env['DIFY_SSO_DIFY_REDIS_SENTINEL_NAME'], 'mymaster');
  assert.equal(sentinel.env['DIFY_SSO_DIFY_REDIS_SENTINEL_TIMEOUT_MS'], '500');
  assert.equal(sentinel.env['DIFY_SSO_DIFY_REDIS_URL'], undefined, 'no standalone URL left from the chart defaults');
  assert.equal(sentinel.env['DIFY_SSO_REDIS_MODE'], 'sentinel');
  assert.ok(
    sentinel.secretRefs.includes('DIFY_SSO_DIFY_REDIS_SENTINEL_PASSWORD') &&
      sentinel.secretRefs.includes('DIFY_SSO_REDIS_SENTINEL_PASSWORD'),
  );
  const cluster = env(3);
  assert.equal(cluster.env['DIFY_SSO_DIFY_REDIS_MODE'], 'cluster');
  assert.equal(
    cluster.env['DIFY_SSO_DIFY_REDIS_CLUSTER_NODES'],
    'redis-0.redis:6379,redis-1.redis:6379,redis-2.redis:6379',
  );
  assert.ok(cluster.secretRefs.includes('DIFY_SSO_DIFY_REDIS_PASSWORD'));
  const tls = env(4);
  assert.equal(tls.env['DIFY_SSO_DIFY_REDIS_URL'], 'rediss://redis.example.internal:6380/0');
  assert.equal(tls.env['DIFY_SSO_DIFY_REDIS_TLS_VERIFY'], 'required');
  assert.deepEqual(tls.files, {
    DIFY_SSO_DIFY_REDIS_TLS_CA_FILE: '/etc/dify-sso/redis-tls/ca.crt',
    DIFY_SSO_DIFY_REDIS_TLS_CERT_FILE: '/etc/dify-sso/redis-tls/tls.crt',
    DIFY_SSO_DIFY_REDIS_TLS_KEY_FILE: '/etc/dify-sso/redis-tls/tls.key',
    DIFY_SSO_REDIS_TLS_CA_FILE: '/etc/dify-sso/redis-tls/ca.crt',
    DIFY_SSO_REDIS_TLS_CERT_FILE: '/etc/dify-sso/redis-tls/tls.crt',
    DIFY_SSO_REDIS_TLS_KEY_FILE: '/etc/dify-sso/redis-tls/tls.key',
  });
  assert.ok(
    !helmTemplate((SETS[4] as [string, string[], string[]])[1]).out.includes('s3cret'),
    'no password in the manifests',
  );
});

test('the pod is hardened: non-root, read-only root fs, no capabilities, seccomp RuntimeDefault, no SA token', () => {
  const dep = deployment(docs(helmTemplate([]).out));
  const pod = dep.spec['template'].spec;
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  const c = pod.containers[0];
  // The image's user (images/sidecar/Containerfile).
  const uid = /^USER (\d+):(\d+)$/m.exec(readFileSync(join(repoRoot, 'images', 'sidecar', 'Containerfile'), 'utf8'));
  assert.equal(c.securityContext.runAsUser, Number(uid?.[1]));
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities, { drop: ['ALL'] });
  assert.equal(c.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(
    c.ports[0].containerPort,
    Number(
      /DIFY_SSO_LISTEN=0\.0\.0\.0:(\d+)/.exec(
        readFileSync(join(repoRoot, 'images', 'sidecar', 'Containerfile'), 'utf8'),
      )?.[1],
    ),
  );
});

test('the probes use health paths the sidecar serves (routes/health.ts)', () => {
  const c = deployment(docs(helmTemplate([]).out)).spec['template'].spec.containers[0];
  const health = readFileSync(join(repoRoot, 'packages', 'sidecar', 'src', 'routes', 'health.ts'), 'utf8');
  // health.ts registers its routes by the vocabulary's names (`app.get(SSO_PATHS.healthLive, …)`).
  const served = [...health.matchAll(/app\.get\(SSO_PATHS\.(\w+)/g)].map(
    (m) => (SSO_PATHS as Record<string, string>)[m[1] as string],
  );
  for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
    assert.ok(served.includes(c[probe].httpGet.path), `${probe} ${c[probe].httpGet.path} is served`);
  }
  assert.equal(c.readinessProbe.httpGet.path, '/sso/health/ready');
  assert.equal(c.livenessProbe.httpGet.path, '/sso/health/live', 'liveness does not depend on the IdP');
});

test('NetworkPolicy: only the ingress controller and dify-api reach http; metrics only from the monitoring namespace', () => {
  const d = docs(helmTemplate([], [...REQUIRED, 'metrics.enabled=true']).out);
  const np = d.find((x) => x.kind === 'NetworkPolicy') as Doc;
  assert.deepEqual(np.spec['policyTypes'], ['Ingress']);
  const [http, metrics] = np.spec['ingress'] as Array<{
    from: Array<Record<string, unknown>>;
    ports: Array<{ port: string }>;
  }>;
  assert.deepEqual(
    http?.ports.map((p) => p.port),
    ['http'],
  );
  assert.equal(http?.from.length, 2);
  assert.deepEqual(
    metrics?.ports.map((p) => p.port),
    ['metrics'],
  );
  assert.deepEqual(metrics?.from, [
    { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } },
  ]);
  const off = docs(helmTemplate([]).out).find((x) => x.kind === 'NetworkPolicy') as Doc;
  assert.equal((off.spec['ingress'] as unknown[]).length, 1, 'no metrics rule without metrics');
});

test("the chart refuses to render without the gate's trusted proxies or a public URL", () => {
  const noRoleMap = spawnSync(
    tools.helm,
    ['template', 'dify-sso', CHART, '--kube-version', tools.kubeVersion, ...REQUIRED.flatMap((s) => ['--set', s])],
    { encoding: 'utf8' },
  );
  assert.notEqual(noRoleMap.status, 0);
  assert.match(noRoleMap.stderr, /roleMap is required/);
  for (const drop of ['gate.trustProxy', 'publicUrl']) {
    const r = helmTemplate(
      [],
      REQUIRED.filter((s) => !s.startsWith(drop)),
    );
    assert.equal(r.ok, false, drop);
    assert.match(r.err, new RegExp(`${drop.replace('.', '\\.')}.*required|required.*${drop}`), drop);
  }
});

test('kubeconform -strict fails a manifest with a misspelt or misplaced field (negative control)', () => {
  const r = helmTemplate([]);
  const bad = r.out.replace('readOnlyRootFilesystem: true', 'readOnlyRootFileSystem: true');
  assert.notEqual(bad, r.out);
  const v = kubeconform(bad);
  assert.equal(v.ok, false);
  const dep = v.resources.find((x) => x.kind === 'Deployment');
  assert.equal(dep?.status, 'statusInvalid');
  assert.match(dep?.msg ?? '', /readOnlyRootFileSystem/);
  const wrongType = kubeconform(r.out.replace(/replicas: 2/, 'replicas: "two"'));
  assert.equal(wrongType.ok, false);
});

test('dify-sso deploy --kubernetes: the ingress-nginx wiring validates and gates the console API', () => {
  const files = renderKubernetes({
    publicUrl: 'https://dify.example.com',
    trustProxy: ['10.42.0.0/16'],
    gateWebApps: true,
    tlsSecret: 'dify-tls',
  }).files;
  const text = files['dify-sso-ingress.yaml'] as string;
  const v = kubeconform(text);
  assert.ok(v.ok, v.raw);
  assert.deepEqual(
    v.resources.map((x) => x.status),
    Array(v.resources.length).fill('statusValid'),
  );
  const ing = docs(text);
  const console = ing.find((x) => x.metadata.name === 'dify-sso-console') as Doc & {
    metadata: { annotations: Record<string, string> };
  };
  assert.equal(
    console.metadata.annotations['nginx.ingress.kubernetes.io/auth-url'],
    'http://dify-sso.dify.svc.cluster.local:8080/sso/auth',
  );
  assert.equal(
    console.metadata.annotations['nginx.ingress.kubernetes.io/auth-response-headers'],
    'Authorization,X-Workspace-Id',
  );
  assert.equal(
    console.metadata.annotations['nginx.ingress.kubernetes.io/auth-snippet'],
    undefined,
    'no snippet annotation by default',
  );
  const open = ing.find((x) => x.metadata.name === 'dify-sso') as Doc & {
    metadata: { annotations?: Record<string, string> };
  };
  assert.equal(open.metadata.annotations, undefined, '/sso is not gated');
  const withSnippet = renderKubernetes({ publicUrl: 'https://dify.example.com', authSnippet: true }).files[
    'dify-sso-ingress.yaml'
  ] as string;
  assert.match(withSnippet, /auth-snippet: \|\n\s+proxy_set_header X-Sso-Gate-Secret /);
});

test('helm lint --strict passes on the chart', () => {
  const r = spawnSync(
    tools.helm,
    [
      'lint',
      CHART,
      '--strict',
      '--kube-version',
      tools.kubeVersion,
      '-f',
      operatorValues(),
      ...REQUIRED.flatMap((s) => ['--set', s]),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.match(r.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
});
