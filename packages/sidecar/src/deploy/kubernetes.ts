/**
 * `dify-sso deploy --kubernetes`: a values file for the kit's Helm chart (`deploy/helm/dify-sso`)
 * and the ingress-nginx external-auth wiring for Dify's routes.
 *
 * Written files:
 * - `dify-sso-values.yaml`: the chart values, with Dify's Redis topology mapped from the Dify
 *   `.env` (`REDIS_USE_SENTINEL`, `REDIS_SENTINELS`, `REDIS_USE_CLUSTERS`, `REDIS_CLUSTERS`,
 *   `REDIS_USE_SSL` + certificates, `REDIS_KEY_PREFIX`, … through {@link mapDifyRedisEnv}) for
 *   both the bridge (`dify.redis`) and the kit's session store (`store.redis`, same Redis, the
 *   kit's own key prefix). Passwords never go into values: they are keys of the existing Secret.
 * - `dify-sso-ingress.yaml`: Ingress objects replacing the Dify chart's own Ingress (turn that
 *   off): `/sso` and the three console routes the sidecar answers itself, ungated; the console
 *   API gated with `auth-url` (and `auth-response-headers: Authorization,X-Workspace-Id`, which
 *   the gate never sets, so a client's `Authorization` never reaches dify-api with a cookie
 *   session, as behind the kit's own nginx); `/api`, `/files`, `/v1` (and the published web-app
 *   pages with `auth-signin`) gated when asked; everything else to Dify web.
 *
 * The gate secret (`auth-snippet`) is **off by default**: ingress-nginx ≥ 1.9 refuses snippet
 * annotations unless the controller sets `allow-snippet-annotations: "true"` and
 * `annotations-risk-level: Critical`, the value would sit in a non-secret Ingress annotation,
 * and the gate never hands machine credentials to ingress-nginx anyway
 * (`gate/original-request.ts`). The trust boundary is the chart's NetworkPolicy (only the
 * controller and dify-api reach the sidecar) plus `gate.trustProxy`. `authSnippet: true` adds
 * it for controllers that allow snippets.
 *
 * @module
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapDifyRedisEnv } from '../dify/contract/redis-env.js';

/** Options of {@link renderKubernetes}. */
export interface KubernetesDeployOptions {
  /** External origin of Dify (`https://dify.example.com`). */
  readonly publicUrl: string;
  /** Text of Dify's `.env` (its Redis settings are mapped); undefined = the chart's defaults. */
  readonly difyEnv?: string | undefined;
  /** Namespace Dify and the kit run in. Default `dify`. */
  readonly namespace?: string;
  /** Helm release name of Dify's chart (its Services are `<release>-api`, `<release>-web`). Default `dify`. */
  readonly difyRelease?: string;
  /** Helm release name of the kit's chart. Default `dify-sso` (Service `dify-sso`). */
  readonly release?: string;
  /** Sidecar image `repository:tag`. */
  readonly image?: string;
  /** IngressClass name. Default `nginx`. */
  readonly ingressClass?: string;
  /** TLS Secret of the Dify host, if the Ingress terminates TLS. */
  readonly tlsSecret?: string;
  /** Addresses/CIDRs of the ingress controller pods (`gate.trustProxy`). */
  readonly trustProxy?: readonly string[];
  readonly gateWebApps?: boolean;
  readonly gateServiceApi?: boolean;
  /** Add the `auth-snippet` carrying the gate secret (needs snippet annotations allowed). */
  readonly authSnippet?: boolean;
  readonly workers?: number;
}

/** Result: file name → text, plus the Redis mapping's warnings. */
export interface KubernetesDeployResult {
  readonly files: Record<string, string>;
  readonly warnings: { code: string; message: string }[];
}

/** The chart's Service port of the sidecar. */
export const SIDECAR_SERVICE_PORT = 8080;

const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function invalid(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARG_VALUE' });
}

/** `DIFY_SSO_DIFY_REDIS_SENTINEL_TIMEOUT_MS` → `sentinelTimeoutMs`. */
function camel(rest: string): string {
  return rest.toLowerCase().replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** JSON is YAML: every scalar quoted, no YAML surprises (`on`, `0x…`, `:`). */
function y(value: unknown): string {
  return JSON.stringify(value);
}

/** Redis settings for values (no secrets; TLS files come from `secrets.redisTls`). */
function redisValues(env: Record<string, string>): Record<string, string | string[] | number | boolean | null> {
  const out: Record<string, string | string[] | number | boolean | null> = {};
  for (const [name, value] of Object.entries(env)) {
    const key = camel(name.replace(/^DIFY_SSO_DIFY_REDIS_/, ''));
    if (['password', 'sentinelPassword', 'tlsCaFile', 'tlsCertFile', 'tlsKeyFile'].includes(key)) continue;
    out[key] =
      key === 'sentinels' || key === 'clusterNodes'
        ? value.split(',')
        : key === 'db' || key === 'sentinelTimeoutMs'
          ? Number(value)
          : key === 'tls'
            ? value === 'true'
            : value;
  }
  return out;
}

function yamlMap(indent: string, m: Record<string, unknown>): string {
  return Object.entries(m)
    .map(([k, v]) =>
      Array.isArray(v)
        ? `${indent}${k}:\n${v.map((i) => `${indent}  - ${y(i)}`).join('\n')}`
        : `${indent}${k}: ${y(v)}`,
    )
    .join('\n');
}

/**
 * Renders the values file and the Ingress objects (pure: reads and writes nothing).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a bad origin, name or address.
 * @example
 * const { files } = renderKubernetes({ publicUrl: 'https://dify.example.com', difyEnv: readFileSync('.env', 'utf8'), trustProxy: ['10.42.0.0/16'] })
 * files['dify-sso-values.yaml'] // helm install dify-sso deploy/helm/dify-sso -f dify-sso-values.yaml
 */
export function renderKubernetes(o: KubernetesDeployOptions): KubernetesDeployResult {
  let pub: URL;
  try {
    pub = new URL(o.publicUrl);
  } catch {
    throw invalid('"publicUrl" must be an origin (e.g. https://dify.example.com)');
  }
  if (!/^https?:$/.test(pub.protocol) || pub.pathname !== '/' || pub.search || pub.hash || pub.username || pub.password)
    throw invalid('"publicUrl" must be an origin (e.g. https://dify.example.com)');
  const namespace = o.namespace ?? 'dify';
  const difyRelease = o.difyRelease ?? 'dify';
  const release = o.release ?? 'dify-sso';
  const ingressClass = o.ingressClass ?? 'nginx';
  for (const [name, v] of [
    ['namespace', namespace],
    ['difyRelease', difyRelease],
    ['release', release],
    ['ingressClass', ingressClass],
    ...(o.tlsSecret ? [['tlsSecret', o.tlsSecret]] : []),
  ] as const) {
    if (!RESOURCE_NAME.test(v) || v.length > 53)
      throw invalid(`"${name}" must be a Kubernetes resource name (lower-case letters, digits, "-")`);
  }
  const trust = o.trustProxy ?? [];
  for (const t of trust)
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(t))
      throw invalid(`"trustProxy" entry ${JSON.stringify(t)} must be an IP address or CIDR`);
  const image = o.image ?? 'dify-sso-kit/sidecar:0.1.0';
  const im = /^([a-z0-9][a-z0-9._\-/:]*?)(?::([A-Za-z0-9_][A-Za-z0-9._-]{0,127}))?$/.exec(image);
  if (!im) throw invalid('"image" must be repository[:tag]');
  const workers = o.workers ?? 1;
  if (!Number.isInteger(workers) || workers < 0 || workers > 256) throw invalid('"workers" must be an integer 0-256');

  const sidecarHost = release.includes('dify-sso') ? release : `${release}-dify-sso`;
  const api = `${difyRelease}-api`;
  const web = `${difyRelease}-web`;
  const mapped =
    o.difyEnv !== undefined
      ? mapDifyRedisEnv(o.difyEnv)
      : {
          env: {
            DIFY_SSO_DIFY_REDIS_MODE: 'standalone',
            DIFY_SSO_DIFY_REDIS_URL: `redis://${difyRelease}-redis-master:6379/0`,
          },
          warnings: [],
        };
  const env = mapped.env as Record<string, string>;
  // Helm merges these over the chart's defaults: a topology without a URL nulls the default one.
  const dRedis = { ...(env['DIFY_SSO_DIFY_REDIS_URL'] ? {} : { url: null }), ...redisValues(env) };
  const storeRedis = { ...dRedis, keyPrefix: 'dify-sso:' };
  const tls = env['DIFY_SSO_DIFY_REDIS_TLS'] === 'true';
  const hasPassword = env['DIFY_SSO_DIFY_REDIS_PASSWORD'] !== undefined;
  const hasSentinelPassword = env['DIFY_SSO_DIFY_REDIS_SENTINEL_PASSWORD'] !== undefined;
  const warnings = [...mapped.warnings];
  if (trust.length === 0)
    warnings.push({
      code: 'WARN_DEPLOY_TRUST_PROXY',
      message:
        "gate.trustProxy is empty: set it to the ingress controller pods' addresses (--trust-proxy); the chart refuses to render without it.",
    });

  const values = [
    '# Generated by dify-sso deploy --kubernetes (dify-sso-kit). Chart: deploy/helm/dify-sso.',
    '# Secrets are keys of the Secret named in secrets.existingSecret (see the chart README).',
    'image:',
    `  repository: ${y(im[1])}`,
    `  tag: ${y(im[2] ?? '')}`,
    `workers: ${workers}`,
    `publicUrl: ${y(pub.origin)}`,
    'oidc:',
    '  issuer: ""     # fill in',
    '  clientId: ""   # fill in',
    'roleMap: ""      # fill in: claim value=Dify role, e.g. dify-admins=admin,dify-editors=editor',
    'dify:',
    `  apiUrl: ${y(`http://${api}:5001`)}`,
    `  webUrl: ${y(`http://${web}:3000`)}`,
    '  workspaceId: ""   # fill in',
    '  redis:',
    yamlMap('    ', dRedis),
    'store:',
    '  redis:',
    yamlMap('    ', storeRedis),
    'gate:',
    trust.length ? `  trustProxy:\n${trust.map((t) => `    - ${y(t)}`).join('\n')}` : '  trustProxy: []',
    `  webApps: ${o.gateWebApps === true}`,
    `  serviceApiBearer: ${o.gateServiceApi === true}`,
    'secrets:',
    '  existingSecret: "dify-sso"',
    '  keys:',
    '    oidcClientSecret: "oidc-client-secret"',
    '    sessionSecret: "session-secret"',
    '    sessionPreviousSecrets: "session-previous-secrets"',
    '    gateSecret: "gate-secret"',
    '    difyAdminApiKey: "dify-admin-api-key"',
    `    difyRedisPassword: ${y(hasPassword ? 'dify-redis-password' : '')}`,
    `    difyRedisSentinelPassword: ${y(hasSentinelPassword ? 'dify-redis-sentinel-password' : '')}`,
    `    storeRedisPassword: ${y(hasPassword ? 'dify-redis-password' : '')}`,
    `    storeRedisSentinelPassword: ${y(hasSentinelPassword ? 'dify-redis-sentinel-password' : '')}`,
    '  redisTls:',
    `    existingSecret: ${y(tls && env['DIFY_SSO_DIFY_REDIS_TLS_CA_FILE'] ? 'dify-sso-redis-tls' : '')}`,
    '    caKey: "ca.crt"',
    `    certKey: ${y(env['DIFY_SSO_DIFY_REDIS_TLS_CERT_FILE'] ? 'tls.crt' : '')}`,
    `    keyKey: ${y(env['DIFY_SSO_DIFY_REDIS_TLS_KEY_FILE'] ? 'tls.key' : '')}`,
    '',
  ].join('\n');

  const authUrl = `http://${sidecarHost}.${namespace}.svc.cluster.local:${SIDECAR_SERVICE_PORT}/sso/auth`;
  const gateAnnotations = (extra: string[]): string[] => [
    `    nginx.ingress.kubernetes.io/auth-url: ${y(authUrl)}`,
    ...extra,
    ...(o.authSnippet
      ? [
          '    nginx.ingress.kubernetes.io/auth-snippet: |',
          '      proxy_set_header X-Sso-Gate-Secret "REPLACE-WITH-THE-GATE-SECRET";',
        ]
      : []),
  ];
  const ingress = (
    name: string,
    annotations: string[],
    paths: Array<[string, 'Exact' | 'Prefix', string, number]>,
  ): string =>
    [
      'apiVersion: networking.k8s.io/v1',
      'kind: Ingress',
      'metadata:',
      `  name: ${y(name)}`,
      `  namespace: ${y(namespace)}`,
      '  labels:',
      '    app.kubernetes.io/part-of: "dify-sso"',
      ...(annotations.length ? ['  annotations:', ...annotations] : []),
      'spec:',
      `  ingressClassName: ${y(ingressClass)}`,
      ...(o.tlsSecret ? ['  tls:', `    - hosts: [${y(pub.hostname)}]`, `      secretName: ${y(o.tlsSecret)}`] : []),
      '  rules:',
      `    - host: ${y(pub.hostname)}`,
      '      http:',
      '        paths:',
      ...paths.flatMap(([path, type, svc, port]) => [
        `          - path: ${y(path)}`,
        `            pathType: ${type}`,
        '            backend:',
        '              service:',
        `                name: ${y(svc)}`,
        `                port: { number: ${port} }`,
      ]),
    ].join('\n');

  const docs = [
    ingress(
      'dify-sso',
      [],
      [
        ['/sso', 'Prefix', sidecarHost, SIDECAR_SERVICE_PORT],
        ['/console/api/system-features', 'Exact', sidecarHost, SIDECAR_SERVICE_PORT],
        ['/console/api/enterprise/sso', 'Prefix', sidecarHost, SIDECAR_SERVICE_PORT],
        ['/console/api/logout', 'Exact', sidecarHost, SIDECAR_SERVICE_PORT],
      ],
    ),
    // The gate never sets these two response headers: ingress-nginx then sends them empty (= not
    // at all) to dify-api, replacing the client's, as the kit's nginx does.
    ingress(
      'dify-sso-console',
      gateAnnotations(['    nginx.ingress.kubernetes.io/auth-response-headers: "Authorization,X-Workspace-Id"']),
      [['/console/api', 'Prefix', api, 5001]],
    ),
    ingress('dify-sso-api', o.gateWebApps || o.gateServiceApi ? gateAnnotations([]) : [], [
      ['/api', 'Prefix', api, 5001],
      ['/v1', 'Prefix', api, 5001],
      ['/files', 'Prefix', api, 5001],
    ]),
    ...(o.gateWebApps
      ? [
          ingress(
            'dify-sso-webapps',
            gateAnnotations([
              `    nginx.ingress.kubernetes.io/auth-signin: ${y(`${pub.origin}/sso/login`)}`,
              '    nginx.ingress.kubernetes.io/auth-signin-redirect-param: "redirect"',
            ]),
            ['/chat', '/chatbot', '/completion', '/workflow', '/agent'].map(
              (p) => [p, 'Prefix', web, 3000] as [string, 'Prefix', string, number],
            ),
          ),
        ]
      : []),
    ingress('dify-sso-web', [], [['/', 'Prefix', web, 3000]]),
  ];
  const ingressText = [
    "# Generated by dify-sso deploy --kubernetes (dify-sso-kit): replaces the Dify chart's own Ingress",
    "# (set its ingress.enabled to false). Modelled on ingress-nginx's external-auth annotations;",
    '# see the chart README "ingress-nginx external auth".',
    docs.join('\n---\n'),
    '',
  ].join('\n');
  return { files: { 'dify-sso-values.yaml': values, 'dify-sso-ingress.yaml': ingressText }, warnings };
}

/**
 * Writes {@link renderKubernetes}'s files into `outDir` (created if missing).
 *
 * @example
 * writeKubernetes('./k8s', { publicUrl: 'https://dify.example.com', trustProxy: ['10.42.0.0/16'] })
 */
export function writeKubernetes(outDir: string, o: KubernetesDeployOptions): KubernetesDeployResult {
  const r = renderKubernetes(o);
  mkdirSync(outDir, { recursive: true });
  for (const [name, text] of Object.entries(r.files)) writeFileSync(join(outDir, name), text);
  return r;
}

/** Reads a Dify `.env` for {@link renderKubernetes} (`undefined` when the file does not exist). */
export function readDifyEnv(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Help of `dify-sso deploy --kubernetes`. */
export const KUBERNETES_USAGE = `Usage: dify-sso deploy --kubernetes --public-url URL --out DIR [options]

Writes dify-sso-values.yaml (values for the chart deploy/helm/dify-sso, Dify's Redis topology
mapped from its .env) and dify-sso-ingress.yaml (ingress-nginx external-auth wiring for Dify's
routes; it replaces the Dify chart's own Ingress).

Options:
  --public-url URL     Dify's external origin (required)
  --out DIR            where to write the two files (required unless --dry)
  --dify-env FILE      Dify's .env (REDIS_USE_SENTINEL, REDIS_SENTINELS, REDIS_USE_CLUSTERS,
                       REDIS_CLUSTERS, REDIS_USE_SSL + certificates, REDIS_KEY_PREFIX, …)
  --namespace NAME     namespace of Dify and the kit (default dify)
  --dify-release NAME  Helm release of Dify's chart: Services NAME-api, NAME-web (default dify)
  --release NAME       Helm release of the kit's chart (default dify-sso)
  --image REF          sidecar image repository[:tag]
  --trust-proxy CIDRS  ingress controller pod addresses (comma-separated)
  --ingress-class NAME IngressClass (default nginx)
  --tls-secret NAME    TLS Secret of the Dify host
  --workers N          DIFY_SSO_WORKERS per pod (default 1)
  --gate-web-apps      also gate the published web-app API and pages
  --gate-service-api   also gate the service API
  --auth-snippet       add the gate secret as an auth-snippet (needs snippet annotations allowed)
  --dry                print the files, write nothing
  -h, --help           show this help
`;

/**
 * `dify-sso deploy --kubernetes …` (the deploy command hands its arguments over without
 * `--kubernetes`). Returns the exit code: 0 ok, 1 failure, 2 usage.
 *
 * @example
 * process.exitCode = await kubernetesDeployMain(['--public-url', 'https://dify.example.com', '--dry'], io)
 */
export async function kubernetesDeployMain(
  argv: string[],
  io: { out(text: string): void; err(text: string): void },
): Promise<number> {
  const usage = (message: string): 2 => {
    io.err(
      `dify-sso deploy: error ERR_INVALID_ARG_VALUE ${message}\nfix: see dify-sso deploy --kubernetes --help\n\n${KUBERNETES_USAGE}`,
    );
    return 2;
  };
  const { parseArgs } = await import('node:util');
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        'public-url': { type: 'string' },
        out: { type: 'string' },
        'dify-env': { type: 'string' },
        namespace: { type: 'string' },
        'dify-release': { type: 'string' },
        release: { type: 'string' },
        image: { type: 'string' },
        'trust-proxy': { type: 'string' },
        'ingress-class': { type: 'string' },
        'tls-secret': { type: 'string' },
        workers: { type: 'string' },
        'gate-web-apps': { type: 'boolean', default: false },
        'gate-service-api': { type: 'boolean', default: false },
        'auth-snippet': { type: 'boolean', default: false },
        dry: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    return usage((err as Error).message);
  }
  if (values.help) {
    io.out(KUBERNETES_USAGE);
    return 0;
  }
  if (!values['public-url']) return usage('--public-url <origin> is required');
  if (!values.out && !values.dry) return usage('--out <dir> is required (or --dry)');
  const envPath = values['dify-env'];
  if (envPath !== undefined && !existsSync(envPath))
    return usage(`--dify-env ${JSON.stringify(envPath)} does not exist`);
  try {
    const opts: KubernetesDeployOptions = {
      publicUrl: values['public-url'],
      difyEnv: envPath !== undefined ? readDifyEnv(envPath) : undefined,
      ...(values.namespace ? { namespace: values.namespace } : {}),
      ...(values['dify-release'] ? { difyRelease: values['dify-release'] } : {}),
      ...(values.release ? { release: values.release } : {}),
      ...(values.image ? { image: values.image } : {}),
      ...(values['ingress-class'] ? { ingressClass: values['ingress-class'] } : {}),
      ...(values['tls-secret'] ? { tlsSecret: values['tls-secret'] } : {}),
      ...(values.workers !== undefined ? { workers: Number(values.workers) } : {}),
      trustProxy: (values['trust-proxy'] ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      gateWebApps: values['gate-web-apps'],
      gateServiceApi: values['gate-service-api'],
      authSnippet: values['auth-snippet'],
    };
    const r = values.dry ? renderKubernetes(opts) : writeKubernetes(values.out as string, opts);
    for (const w of r.warnings) io.err(`dify-sso deploy: warning ${w.code} ${w.message}\n`);
    if (values.dry) for (const [name, text] of Object.entries(r.files)) io.out(`==> ${name}\n${text}\n`);
    else io.err(`dify-sso deploy: wrote ${Object.keys(r.files).join(', ')} in ${values.out}\n`);
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'string' || !code.startsWith('ERR_')) throw err;
    io.err(`dify-sso deploy: error ${code} ${(err as Error).message}\n`);
    return 1;
  }
}
