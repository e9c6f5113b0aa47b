/**
 * The Kubernetes tools of the chart tests, built and cached in the kit's cache folder:
 * - `helm` ({@link HELM_VERSION}) and `kubeconform` ({@link KUBECONFORM_VERSION}), built with
 *   `go install` from the Go module proxy into `<cache>/go-tools/<name>-<version>/`;
 * - offline JSON schemas for kubeconform (it downloads them from GitHub by default), generated
 *   into `<cache>/k8s-schemas/<version>-strict/` from the OpenAPI document in the module zip of
 *   `k8s.io/kubernetes@`{@link KUBERNETES_VERSION} (`api/openapi-spec/swagger.json`) and, for the
 *   ServiceMonitor, from the CRD in `github.com/prometheus-operator/prometheus-operator@`
 *   {@link PROMETHEUS_OPERATOR_VERSION}. Strict: every object schema gets
 *   `additionalProperties: false` (what openapi2jsonschema `--strict` does), so a misspelt field fails.
 *
 * Go: `DIFY_SSO_GO`, else `go` on PATH, else `/usr/local/go/bin/go`, else Go
 * {@link GO_TOOLCHAIN} downloaded from the Go module proxy (`golang.org/toolchain`, the official
 * toolchain distribution) into `<cache>/go-<version>/`. When none of that works: `ERR_ENV_NO_GO`.
 * Nothing is skipped: every failure is an `EnvError` with a fix.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { cacheDir } from './paths.js';
import { EnvError } from './proc.js';

export const HELM_VERSION = 'v3.21.4';
export const KUBECONFORM_VERSION = 'v0.8.0';
export const KUBERNETES_VERSION = 'v1.34.4';
export const PROMETHEUS_OPERATOR_VERSION = 'v0.85.0';
export const GO_TOOLCHAIN = 'go1.26.8';

export interface K8sTools {
  readonly helm: string;
  readonly kubeconform: string;
  /** Folder of the generated strict schemas (`<kind><-group>-<version>.json`, `_definitions.json`). */
  readonly schemas: string;
  /** The Kubernetes version the schemas and `helm template --kube-version` use (without `v`). */
  readonly kubeVersion: string;
}

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): { ok: boolean; stdout: string; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, maxBuffer: 64 * 1024 * 1024 });
  return {
    ok: r.status === 0,
    stdout: r.stdout ?? '',
    output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}

function goWorks(go: string): boolean {
  return run(go, ['version']).ok;
}

/** Go from the module proxy's toolchain module (needs `curl` and `unzip`, which provision installs). */
export function downloadGo(log: (m: string) => void, env: NodeJS.ProcessEnv): string {
  const home = join(cacheDir(env), `go-${GO_TOOLCHAIN}`);
  const go = join(home, 'golang.org', `toolchain@v0.0.1-${GO_TOOLCHAIN}.linux-amd64`, 'bin', 'go');
  if (goWorks(go)) return go;
  if (process.platform !== 'linux' || process.arch !== 'x64')
    throw new EnvError(
      'ERR_ENV_NO_GO',
      'no Go toolchain found',
      'install Go 1.24 or newer (https://go.dev/dl/) or set DIFY_SSO_GO',
    );
  const proxy = (env.GOPROXY ?? 'https://proxy.golang.org').split(/[,|]/)[0] as string;
  const url = `${proxy.replace(/\/$/, '')}/golang.org/toolchain/@v/v0.0.1-${GO_TOOLCHAIN}.linux-amd64.zip`;
  log(`go: downloading ${GO_TOOLCHAIN} from ${url}`);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  const zip = join(home, 'toolchain.zip');
  const dl = run('curl', ['-fsSL', '--retry', '2', '-o', zip, url]);
  const unzip = dl.ok ? run('unzip', ['-q', zip, '-d', home]) : dl;
  rmSync(zip, { force: true });
  // Module zips record no permission bits (cmd/go sets them itself when it switches toolchains).
  const root = join(home, 'golang.org', `toolchain@v0.0.1-${GO_TOOLCHAIN}.linux-amd64`);
  if (unzip.ok) run('chmod', ['-R', 'u+w,a+x', join(root, 'bin'), join(root, 'pkg', 'tool')]);
  if (!unzip.ok || !goWorks(go)) {
    throw new EnvError(
      'ERR_ENV_NO_GO',
      `no Go toolchain on this machine and the download from the Go module proxy failed:\n${unzip.output.trim().split('\n').slice(-4).join('\n')}`,
      'install Go 1.24 or newer (https://go.dev/dl/), or set DIFY_SSO_GO, or allow access to the Go module proxy (GOPROXY)',
    );
  }
  return go;
}

/** The `go` binary to build with (see the module documentation). */
export function findGo(log: (m: string) => void = () => undefined, env: NodeJS.ProcessEnv = process.env): string {
  // An explicit choice that does not work is an error, never a silent fallback.
  if (env.DIFY_SSO_GO) {
    if (goWorks(env.DIFY_SSO_GO)) return env.DIFY_SSO_GO;
    throw new EnvError(
      'ERR_ENV_NO_GO',
      `DIFY_SSO_GO=${env.DIFY_SSO_GO} does not run \`go version\``,
      'point DIFY_SSO_GO at a Go 1.24+ `go` binary, or unset it to use the one on PATH',
    );
  }
  for (const candidate of ['go', '/usr/local/go/bin/go']) {
    if (candidate && goWorks(candidate)) return candidate;
  }
  return downloadGo(log, env);
}

function goEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    GOTOOLCHAIN: 'local',
    CGO_ENABLED: '0',
    GOFLAGS: '-mod=mod',
    GOPATH: env.GOPATH ?? join(cacheDir(env), 'gopath'),
  };
}

function goInstall(
  go: string,
  name: string,
  pkg: string,
  version: string,
  log: (m: string) => void,
  env: NodeJS.ProcessEnv,
): string {
  const bin = join(cacheDir(env), 'go-tools', `${name}-${version}`);
  const exe = join(bin, name);
  if (existsSync(exe)) return exe;
  log(`${name}: go install ${pkg}@${version} (cached in ${bin})`);
  const r = run(go, ['install', '-trimpath', '-ldflags=-s -w', `${pkg}@${version}`], { ...goEnv(env), GOBIN: bin });
  if (!r.ok || !existsSync(exe)) {
    throw new EnvError(
      'ERR_ENV_GO_INSTALL',
      `go install ${pkg}@${version} failed:\n${r.output.trim().split('\n').slice(-6).join('\n')}`,
      'check access to the Go module proxy (GOPROXY) and run again',
    );
  }
  return exe;
}

function moduleDir(go: string, mod: string, version: string, env: NodeJS.ProcessEnv): string {
  const r = run(go, ['mod', 'download', '-json', `${mod}@${version}`], goEnv(env));
  const dir = r.ok ? (JSON.parse(r.stdout) as { Dir?: string }).Dir : undefined;
  if (!dir || !existsSync(dir))
    throw new EnvError(
      'ERR_ENV_GO_INSTALL',
      `go mod download ${mod}@${version} failed:\n${r.output.trim().split('\n').slice(-4).join('\n')}`,
      'check access to the Go module proxy (GOPROXY) and run again',
    );
  return dir;
}

type Schema = Record<string, unknown>;

/** openapi2jsonschema's rewrites: local `$ref`s, int-or-string / quantity formats, strict objects. */
function rewrite(node: unknown, refPrefix: string): unknown {
  if (Array.isArray(node)) return node.map((n) => rewrite(n, refPrefix));
  if (node === null || typeof node !== 'object') return node;
  const s: Schema = {};
  for (const [k, v] of Object.entries(node as Schema)) {
    if (k === '$ref' && typeof v === 'string') s[k] = v.replace(/^#\/definitions\//, `${refPrefix}#/definitions/`);
    else s[k] = rewrite(v, refPrefix);
  }
  if (s['format'] === 'int-or-string' || s['x-kubernetes-int-or-string'] === true) {
    delete s['type'];
    delete s['format'];
    s['oneOf'] = [{ type: 'string' }, { type: 'integer' }];
  } else if (s['format'] === 'quantity') {
    delete s['type'];
    s['oneOf'] = [{ type: 'string' }, { type: 'number' }];
  }
  if (
    s['properties'] !== undefined &&
    s['additionalProperties'] === undefined &&
    s['x-kubernetes-preserve-unknown-fields'] !== true
  )
    s['additionalProperties'] = false;
  return s;
}

/** Writes the strict schemas of every kind of the Kubernetes OpenAPI document and the ServiceMonitor CRD. */
export function generateSchemas(
  swagger: { definitions: Record<string, Schema> },
  crds: unknown[],
  out: string,
): number {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, '_definitions.json'), JSON.stringify({ definitions: rewrite(swagger.definitions, '') }));
  let n = 0;
  for (const def of Object.values(swagger.definitions)) {
    for (const gvk of (def['x-kubernetes-group-version-kind'] as
      | Array<{ group: string; version: string; kind: string }>
      | undefined) ?? []) {
      const suffix = gvk.group ? `-${gvk.group.split('.')[0]}-${gvk.version}` : `-${gvk.version}`;
      writeFileSync(
        join(out, `${gvk.kind.toLowerCase()}${suffix}.json`.toLowerCase()),
        JSON.stringify(rewrite(def, '_definitions.json')),
      );
      n++;
    }
  }
  for (const crd of crds as Array<{
    spec: {
      group: string;
      names: { kind: string };
      versions: Array<{ name: string; schema: { openAPIV3Schema: Schema } }>;
    };
  }>) {
    for (const v of crd.spec.versions) {
      const file = `${crd.spec.names.kind.toLowerCase()}-${crd.spec.group.split('.')[0]}-${v.name}.json`;
      writeFileSync(join(out, file), JSON.stringify(rewrite(v.schema.openAPIV3Schema, '_definitions.json')));
      n++;
    }
  }
  return n;
}

/**
 * Builds (or reuses) helm and kubeconform and the offline schemas.
 *
 * @throws {EnvError} `ERR_ENV_NO_GO`, `ERR_ENV_GO_INSTALL`.
 * @example
 * const { helm, kubeconform, schemas } = ensureK8sTools(console.log)
 */
export function ensureK8sTools(
  log: (m: string) => void = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): K8sTools {
  const kubeVersion = KUBERNETES_VERSION.slice(1);
  const schemas = join(cacheDir(env), 'k8s-schemas', `${KUBERNETES_VERSION}-po${PROMETHEUS_OPERATOR_VERSION}-strict`);
  const helmExe = join(cacheDir(env), 'go-tools', `helm-${HELM_VERSION}`, 'helm');
  const kcExe = join(cacheDir(env), 'go-tools', `kubeconform-${KUBECONFORM_VERSION}`, 'kubeconform');
  const schemasReady =
    existsSync(join(schemas, 'deployment-apps-v1.json')) &&
    existsSync(join(schemas, 'servicemonitor-monitoring-v1.json'));
  if (existsSync(helmExe) && existsSync(kcExe) && schemasReady)
    return { helm: helmExe, kubeconform: kcExe, schemas, kubeVersion };
  const go = findGo(log, env);
  const helm = goInstall(go, 'helm', 'helm.sh/helm/v3/cmd/helm', HELM_VERSION, log, env);
  const kubeconform = goInstall(
    go,
    'kubeconform',
    'github.com/yannh/kubeconform/cmd/kubeconform',
    KUBECONFORM_VERSION,
    log,
    env,
  );
  if (!schemasReady) {
    log(
      `kubeconform: generating strict schemas from k8s.io/kubernetes@${KUBERNETES_VERSION} and prometheus-operator@${PROMETHEUS_OPERATOR_VERSION}`,
    );
    const k8s = moduleDir(go, 'k8s.io/kubernetes', KUBERNETES_VERSION, env);
    const po = moduleDir(go, 'github.com/prometheus-operator/prometheus-operator', PROMETHEUS_OPERATOR_VERSION, env);
    const swagger = JSON.parse(readFileSync(join(k8s, 'api', 'openapi-spec', 'swagger.json'), 'utf8')) as {
      definitions: Record<string, Schema>;
    };
    const crdDir = join(po, 'example', 'prometheus-operator-crd');
    const crds = readdirSync(crdDir)
      .filter((f) => f === 'monitoring.coreos.com_servicemonitors.yaml')
      .map((f) => parseYaml(readFileSync(join(crdDir, f), 'utf8')) as unknown);
    generateSchemas(swagger, crds, schemas);
  }
  return { helm, kubeconform, schemas, kubeVersion };
}
