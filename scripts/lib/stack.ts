/**
 * The local stack of the demo and the e2e suite, on fixed loopback ports:
 *
 *   browser → nginx (front door, 127.0.0.1:18000)
 *               ├─ /sso/*, system-features, enterprise SSO compat → sidecar (127.0.0.1:18088)
 *               ├─ /console/api/* (auth_request /sso/auth)         → Dify stand-in api (127.0.0.1:15001)
 *               └─ everything else                                 → Dify stand-in web (127.0.0.1:13000)
 *   IdP: real Keycloak (127.0.0.1:18080) when provisioned, else the embedded demo OP (127.0.0.1:18081)
 *   Redis (127.0.0.1:16379): the kit's session store and the stand-in's "Dify Redis".
 *
 * Redis and the IdP are reused when they already answer; everything this module starts is
 * listed in `StackInfo.started` (daemon mode: pid files, stop with `stopStackDaemons`) or kept
 * by the returned handle (foreground mode: `stop()`).
 */
import { randomBytes } from 'node:crypto';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repoRoot, runDir } from './paths.js';
import {
  EnvError,
  assertPortFree,
  daemonPid,
  httpOk,
  startService,
  stopDaemon,
  tcpOpen,
  waitUntil,
  type Service,
} from './proc.js';
import { redisPing, startRedis } from './redis.js';
import { findJdk, keycloakHome, keycloakReady, startKeycloak } from './keycloak.js';
import { HOST, ports, urls } from './ports.js';
import { renderLocalNginxConf } from '../../packages/sidecar/scripts/local-nginx.js';
import { SIDECAR_IMAGE, SIDECAR_IMAGE_UID } from '../../packages/sidecar/src/image.js';
import { detectEngine, engineArgs, engineEnv, runEngine, type Engine } from './podman.js';
import { FIXTURE_WEB_IMAGE, startWebContainer, stopWebContainer, webSwitch, type WebSwitch } from './web-image.js';

export type IdpChoice = 'keycloak' | 'embedded' | 'auto';
export type IdpKind = 'keycloak' | 'embedded';

/** Fixed ids of the stand-in's default seed (packages/dify-standin/src/seed.json). */
export const STANDIN_WORKSPACE_ID = '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57';

/** What a running stack looks like from the outside; written to e2e/.auth/stack.json by the e2e setup. */
export interface StackInfo {
  /** Front door (nginx) = DIFY_SSO_PUBLIC_URL. */
  publicUrl: string;
  /** Console sign-in page. */
  signinUrl: string;
  /** Which sign-in page it shows by default. */
  webVariant: WebVariant;
  idp: IdpKind;
  /** OIDC issuer the sidecar trusts. */
  issuer: string;
  /** Keycloak base URL (admin API), when the IdP is Keycloak. */
  keycloakUrl?: string;
  /** Dify's ADMIN_API_KEY shared by the stand-in and the sidecar. */
  adminApiKey: string;
  workspaceId: string;
  standinApiUrl: string;
  standinWebUrl: string;
  /** Secret for the stand-in's test-only introspection routes (`x-standin-secret`). */
  introspectionSecret: string;
  sidecarUrl: string;
  redisUrl: string;
  /** Key prefix of the kit's store in Redis. */
  sessionKeyPrefix: string;
  /** Sidecar liveness refresh interval (0 = off). */
  livenessSeconds: number;
  /** Log files by service name (the sidecar's holds the audit lines). */
  logs: Record<string, string>;
  /** Daemon names started by this stack (pid files in the run folder), in start order. */
  started: string[];
  /** Console UI behind the front door: the stand-in's double, or the patched web image (DIFY_SSO_E2E_WEB=image). */
  web?: WebSwitch;
}

export interface StackOptions {
  idp: IdpChoice;
  /** Keep the services running after this process exits (pid files); else stop them with `stop()`. */
  daemon: boolean;
  log: (message: string) => void;
  /** Sidecar liveness refresh interval in seconds (0 = off). Default 0. */
  livenessSeconds?: number;
  /** The stand-in console's default sign-in page: the kit's patched one (`plugin`) or Dify's stock page. Default `stock`. */
  webVariant?: WebVariant;
}

/** The stand-in console's sign-in page variants (packages/dify-standin/README.md). */
export type WebVariant = 'stock' | 'plugin';

export interface Stack {
  info: StackInfo;
  /** Stops every service this call started, newest first. */
  stop(): Promise<void>;
}

const secret = (bytes = 24): string => randomBytes(bytes).toString('hex');
const tsx = ['--import', 'tsx'];

/** Whether Keycloak can be started here: distribution in the cache and a JDK 21+. */
export function keycloakProvisioned(env: NodeJS.ProcessEnv = process.env): boolean {
  if (!existsSync(join(keycloakHome(env), 'bin', 'kc.sh'))) return false;
  try {
    findJdk(env);
    return true;
  } catch {
    return false;
  }
}

export function findNginx(): string {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/bin/nginx'])
    if (existsSync(candidate)) return candidate;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim();
  } catch {
    throw new EnvError(
      'ERR_ENV_NO_NGINX',
      'nginx is not installed',
      "run: npm run provision (installs Debian's nginx)",
    );
  }
}

/** A free loopback port (for throwaway stacks next to the fixed one). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function discoveryOk(issuer: string): Promise<boolean> {
  return httpOk(`${issuer}/.well-known/openid-configuration`);
}

/** Starts what the stack needs, each awaited until it answers. */
export async function startStack(opts: StackOptions): Promise<Stack> {
  const started: Service[] = [];
  const names: string[] = [];
  const logs: Record<string, string> = {};
  const track = (s: Service): Service => {
    started.push(s);
    names.push(s.name);
    logs[s.name] = s.logFile;
    return s;
  };
  const stop = async (): Promise<void> => {
    for (const s of [...started].reverse()) await s.stop();
  };
  try {
    // Redis: shared, reused.
    if (await redisPing(ports.redis)) opts.log(`redis: reusing ${urls.redis}`);
    else {
      track(await startRedis({ port: ports.redis, daemon: opts.daemon, name: 'redis' }));
      opts.log(`redis: started on ${urls.redis}`);
    }

    // IdP.
    let idp: IdpKind;
    if (opts.idp === 'keycloak') idp = 'keycloak';
    else if (opts.idp === 'embedded') idp = 'embedded';
    else idp = (await keycloakReady()) || keycloakProvisioned() ? 'keycloak' : 'embedded';
    let issuer: string;
    if (idp === 'keycloak') {
      issuer = urls.keycloakIssuer;
      if (await keycloakReady()) opts.log(`keycloak: reusing ${urls.keycloak}`);
      else track(await startKeycloak({ daemon: opts.daemon, log: opts.log }));
    } else {
      issuer = urls.demoOpIssuer;
      if (await discoveryOk(issuer)) opts.log(`embedded OP: reusing ${issuer}`);
      else {
        await assertPortFree(ports.demoOp, 'embedded demo OP');
        const op = track(
          startService({
            name: 'demo-op',
            command: process.execPath,
            args: [...tsx, 'scripts/demo-op.ts'],
            cwd: repoRoot,
            daemon: opts.daemon,
          }),
        );
        await waitUntil(`embedded OP (${issuer})`, () => discoveryOk(issuer), { timeoutMs: 30_000, service: op });
        opts.log(`embedded OP: started, issuer ${issuer}`);
      }
    }

    const adminApiKey = `sk-${secret(20)}`;
    const introspectionSecret = secret(16);
    const authRequestSecret = secret(24);
    const livenessSeconds = opts.livenessSeconds ?? 0;
    const standinApiUrl = `http://${HOST}:${ports.standinApi}`;
    // DIFY_SSO_E2E_WEB=image: the console UI is the patched web image (container on a free port).
    const web = webSwitch();
    const webPort = web === 'image' ? await freePort() : ports.standinWeb;
    const standinWebUrl = `http://${HOST}:${webPort}`;
    const sidecarUrl = `http://${HOST}:${ports.sidecar}`;
    // The kit's store is as fresh as the stand-in's accounts: a new key prefix per start, so
    // account links of an earlier run (or of the other IdP) never meet this run's accounts.
    const sessionKeyPrefix = `dify-sso:${idp}:${secret(4)}:`;

    for (const [port, what] of [
      [ports.standinApi, 'Dify stand-in api'],
      [ports.standinWeb, 'Dify stand-in web'],
      [ports.sidecar, 'sidecar'],
      [ports.frontDoor, 'nginx front door'],
    ] as const) {
      await assertPortFree(port, what);
    }

    const standin = await startStandin({
      name: 'standin',
      apiPort: ports.standinApi,
      webPort: ports.standinWeb,
      publicUrl: urls.publicUrl,
      adminApiKey,
      introspectionSecret,
      redisUrl: urls.redis,
      redisKeyPrefix: '',
      daemon: opts.daemon,
      webVariant: opts.webVariant ?? 'stock',
    });
    for (const s of standin) track(s);
    opts.log(`dify stand-in: api ${standinApiUrl}, web ${standinWebUrl}`);
    if (web === 'image') {
      const image = process.env.DIFY_SSO_E2E_WEB_IMAGE ?? FIXTURE_WEB_IMAGE;
      const container = await startWebContainer({ name: 'web-image', image, port: webPort, daemon: opts.daemon });
      track({ ...container, stop: () => stopWebContainer('web-image', container) });
      opts.log(`web image: ${image} on ${standinWebUrl} (read-only, non-root, no capabilities)`);
    }

    const sidecar = track(
      await startSidecar({
        name: 'sidecar',
        port: ports.sidecar,
        publicUrl: urls.publicUrl,
        issuer,
        apiUrl: standinApiUrl,
        webUrl: standinWebUrl,
        adminApiKey,
        workspaceId: STANDIN_WORKSPACE_ID,
        redisUrl: urls.redis,
        sessionKeyPrefix,
        livenessSeconds,
        daemon: opts.daemon,
        idp,
        authRequestSecret,
      }),
    );
    opts.log(`sidecar: ${sidecarUrl} (issuer ${issuer})`);

    track(
      await startFrontDoor({
        name: 'nginx',
        port: ports.frontDoor,
        sidecarPort: ports.sidecar,
        apiPort: ports.standinApi,
        webPort,
        daemon: opts.daemon,
        authRequestSecret,
      }),
    );
    opts.log(`nginx: front door ${urls.publicUrl}`);

    const info: StackInfo = {
      publicUrl: urls.publicUrl,
      signinUrl: `${urls.publicUrl}/signin`,
      webVariant: opts.webVariant ?? 'stock',
      idp,
      issuer,
      ...(idp === 'keycloak' ? { keycloakUrl: urls.keycloak } : {}),
      adminApiKey,
      workspaceId: STANDIN_WORKSPACE_ID,
      standinApiUrl,
      standinWebUrl,
      introspectionSecret,
      sidecarUrl,
      redisUrl: urls.redis,
      sessionKeyPrefix,
      livenessSeconds,
      logs: { ...logs, sidecar: sidecar.logFile },
      started: opts.daemon ? names : [],
      web,
    };
    return { info, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Stops the daemons a stack started (names from `StackInfo.started`), newest first. */
export async function stopStackDaemons(names: readonly string[]): Promise<void> {
  for (const name of [...names].reverse()) {
    // A containerised sidecar: stop the container through the engine first (the `run` client
    // then exits by itself), rather than signalling the client and waiting for its clean-up.
    await removeSidecarContainer(name);
    await stopDaemon(name);
  }
}

/** Whether a daemon of that name (pid file) is alive. */
export const daemonAlive = (name: string): boolean => daemonPid(name) !== undefined;

// ---------------------------------------------------------------------------------------------
// Building blocks (also used by specs that need a throwaway second stack, e.g. the IdP outage).

export interface StandinOptions {
  /** Service name (one process serves the api and the web double). */
  name: string;
  apiPort: number;
  webPort: number;
  publicUrl: string;
  adminApiKey: string;
  introspectionSecret: string;
  redisUrl: string;
  redisKeyPrefix: string;
  daemon: boolean;
  /** Default sign-in page variant (default `stock`). */
  webVariant?: WebVariant;
}

const standinEntry = join(repoRoot, 'packages', 'dify-standin', 'src', 'server.ts');

/** The Dify stand-in (api + web double, one process). */
export async function startStandin(o: StandinOptions): Promise<Service[]> {
  if (!existsSync(standinEntry)) {
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `the Dify stand-in entry point ${standinEntry} is missing`,
      'update the checkout (packages/dify-standin)',
    );
  }
  const env = {
    SECRET_KEY: secret(32),
    ADMIN_API_KEY: o.adminApiKey,
    ADMIN_API_KEY_ENABLE: 'true',
    REDIS_URL: o.redisUrl,
    REDIS_KEY_PREFIX: o.redisKeyPrefix,
    CONSOLE_API_URL: o.publicUrl,
    CONSOLE_WEB_URL: o.publicUrl,
    ENABLE_EMAIL_PASSWORD_LOGIN: 'true',
    ALLOW_REGISTER: 'false',
    DIFY_STANDIN_LISTEN: `${HOST}:${o.apiPort}`,
    DIFY_STANDIN_WEB_LISTEN: `${HOST}:${o.webPort}`,
    DIFY_STANDIN_WEB_VARIANT: o.webVariant ?? 'stock',
    DIFY_STANDIN_INTROSPECTION_SECRET: o.introspectionSecret,
  };
  const service = startService({
    name: o.name,
    command: process.execPath,
    args: [...tsx, standinEntry],
    cwd: repoRoot,
    env,
    daemon: o.daemon,
  });
  try {
    await waitUntil(`Dify stand-in api (127.0.0.1:${o.apiPort})`, () => tcpOpen(o.apiPort), {
      timeoutMs: 30_000,
      service,
    });
    await waitUntil(`Dify stand-in web (127.0.0.1:${o.webPort})`, () => tcpOpen(o.webPort), {
      timeoutMs: 30_000,
      service,
    });
  } catch (err) {
    await service.stop();
    throw err;
  }
  return [service];
}

export interface SidecarOptions {
  name: string;
  port: number;
  publicUrl: string;
  issuer: string;
  apiUrl: string;
  webUrl: string;
  adminApiKey: string;
  workspaceId: string;
  redisUrl: string;
  sessionKeyPrefix: string;
  livenessSeconds: number;
  daemon: boolean;
  /** Which IdP the issuer is: the embedded OP releases `groups` only for the `groups` scope. */
  idp: IdpKind;
  /** Shared secret nginx sends to /sso/auth (`X-Sso-Gate-Secret`), as in a deployment. */
  authRequestSecret?: string;
  /** Extra DIFY_SSO_* settings. */
  env?: Record<string, string>;
}

/** The sidecar configured for the stack (nginx auth_request mode, Redis store, Dify bridge on). */
/** The web-app policy of the local stack (also mounted read-only, same path, into a containerised sidecar). */
export const WEBAPP_POLICY_FILE = join(repoRoot, 'e2e', 'webapps-policy.json');

export function sidecarEnv(o: SidecarOptions): Record<string, string> {
  return {
    NODE_ENV: 'development',
    DIFY_SSO_LISTEN: `${HOST}:${o.port}`,
    DIFY_SSO_PUBLIC_URL: o.publicUrl,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_TRUST_PROXY: `${HOST}/32`,
    DIFY_SSO_OIDC_ISSUER: o.issuer,
    DIFY_SSO_OIDC_CLIENT_ID: 'dify-console',
    DIFY_SSO_OIDC_CLIENT_SECRET: 'dify-console-secret',
    DIFY_SSO_OIDC_SCOPES: o.idp === 'embedded' ? 'openid,profile,email,groups' : 'openid,profile,email',
    DIFY_SSO_OIDC_PRESET: 'keycloak',
    DIFY_SSO_SESSION_SECRET: secret(32),
    DIFY_SSO_SESSION_LIVENESS_REFRESH_SECONDS: String(o.livenessSeconds),
    DIFY_SSO_STORE: 'redis',
    DIFY_SSO_REDIS_URL: o.redisUrl,
    DIFY_SSO_REDIS_KEY_PREFIX: o.sessionKeyPrefix,
    DIFY_SSO_BEARER_AUDIENCE: 'dify-console-api',
    DIFY_SSO_BEARER_REQUIRED_SCOPES: 'dify:console',
    DIFY_SSO_DIFY_API_URL: o.apiUrl,
    DIFY_SSO_DIFY_WEB_URL: o.webUrl,
    DIFY_SSO_DIFY_ADMIN_API_KEY: o.adminApiKey,
    DIFY_SSO_DIFY_WORKSPACE_ID: o.workspaceId,
    DIFY_SSO_DIFY_REDIS_URL: o.redisUrl,
    DIFY_SSO_DIFY_CONSOLE_API_URL: o.publicUrl,
    DIFY_SSO_DIFY_CONSOLE_WEB_URL: o.publicUrl,
    DIFY_SSO_ROLE_MAP: 'dify-admins=admin,dify-editors=editor',
    DIFY_SSO_ROLE_CLAIM: 'groups',
    DIFY_SSO_JIT: 'true',
    DIFY_SSO_BREAK_GLASS_CIDRS: `${HOST}/32`,
    DIFY_SSO_GATE_MODE: 'authrequest',
    ...(o.authRequestSecret ? { DIFY_SSO_GATE_AUTH_REQUEST_SECRET: o.authRequestSecret } : {}),
    DIFY_SSO_GATE_MACHINE_ROUTES: 'GET /console/api/workspaces/current/members*,GET /console/api/apps*',
    // Web-app SSO on the stand-in's published apps (e2e/specs/12-web-apps.spec.ts).
    DIFY_SSO_GATE_WEB_APPS: 'true',
    DIFY_SSO_GATE_WEB_APP_POLICY: WEBAPP_POLICY_FILE,
    ...o.env,
  };
}

/** The sidecar's entry point; DIFY_SSO_SIDECAR_ENTRY runs another build of it (e.g. a bundled one). */
const sidecarEntry = (): string =>
  process.env.DIFY_SSO_SIDECAR_ENTRY ?? join(repoRoot, 'packages', 'sidecar', 'src', 'server.ts');

/**
 * How the stack runs the sidecar: `process` (default: node + tsx on the sources) or `container`
 * (`DIFY_SSO_E2E_SIDECAR=container`: the image this repository builds, `DIFY_SSO_E2E_SIDECAR_IMAGE`
 * or `dify-sso-kit/sidecar:<version>`, run hardened as in a deployment; see `sidecarContainerArgs`).
 */
export type SidecarRunMode = 'process' | 'container';

export function sidecarRunMode(env: NodeJS.ProcessEnv = process.env): SidecarRunMode {
  const v = env.DIFY_SSO_E2E_SIDECAR ?? 'process';
  if (v !== 'process' && v !== 'container') {
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `DIFY_SSO_E2E_SIDECAR must be process or container, got ${JSON.stringify(v)}`,
      'unset it or set it to container',
    );
  }
  return v;
}

/** Name of the container that runs the sidecar service `name`. */
export const sidecarContainerName = (name: string): string => `dify-sso-kit-e2e-${name}`;

/**
 * `run` arguments of the containerised sidecar: read-only root filesystem (and with podman no
 * implicit tmpfs either: the image writes nothing), the image's non-root uid, every capability
 * dropped, no privilege gain, host network (it listens on loopback like the process it replaces).
 * The environment comes from a file (mode 600), so no secret shows in a process list.
 */
export function sidecarContainerArgs(engine: Engine, o: { name: string; envFile: string; image: string }): string[] {
  return [
    'run',
    '--rm',
    '--name',
    sidecarContainerName(o.name),
    '--read-only',
    ...(engine === 'podman' ? ['--read-only-tmpfs=false'] : []),
    '--user',
    `${SIDECAR_IMAGE_UID}:${SIDECAR_IMAGE_UID}`,
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    '--network',
    'host',
    '--env-file',
    o.envFile,
    '--volume',
    `${WEBAPP_POLICY_FILE}:${WEBAPP_POLICY_FILE}:ro`,
    o.image,
  ];
}

function containerMarker(name: string): string {
  return join(runDir(), `${name}.container`);
}

/** Removes the container of a sidecar started in container mode (no-op otherwise). */
export async function removeSidecarContainer(name: string): Promise<void> {
  const marker = containerMarker(name);
  if (!existsSync(marker)) return;
  const engine = readFileSync(marker, 'utf8').trim() as Engine;
  // Stopping ends the sidecar and frees its port; removing (with vfs: deleting a copy of the
  // image) runs on in the background, and the next start removes a leftover of the same name.
  await runEngine(engine, ['stop', '--time', '3', sidecarContainerName(name)]);
  spawn(engine, [...engineArgs(engine), 'rm', '-f', '--time', '0', sidecarContainerName(name)], {
    env: engineEnv(engine),
    stdio: 'ignore',
    detached: true,
  }).unref();
  rmSync(marker, { force: true });
  rmSync(join(runDir(), `${name}.env`), { force: true });
}

async function startSidecarContainer(o: SidecarOptions): Promise<Service> {
  const engine = detectEngine();
  const image = process.env.DIFY_SSO_E2E_SIDECAR_IMAGE ?? SIDECAR_IMAGE;
  mkdirSync(runDir(), { recursive: true });
  await removeSidecarContainer(o.name);
  await runEngine(engine, ['rm', '-f', '--time', '0', sidecarContainerName(o.name)]);
  const envFile = join(runDir(), `${o.name}.env`);
  writeFileSync(
    envFile,
    `${Object.entries(sidecarEnv(o))
      .map(([k, v]) => `${k}=${v}`)
      .join('\n')}\n`,
    { mode: 0o600 },
  );
  writeFileSync(containerMarker(o.name), `${engine}\n`);
  const inner = startService({
    name: o.name,
    command: engine,
    args: [...engineArgs(engine), ...sidecarContainerArgs(engine, { name: o.name, envFile, image })],
    env: engineEnv(engine),
    daemon: o.daemon,
  });
  const service: Service = {
    name: inner.name,
    pid: inner.pid,
    logFile: inner.logFile,
    exited: inner.exited,
    async stop() {
      await removeSidecarContainer(o.name);
      await inner.stop();
    },
  };
  await waitUntil(
    `sidecar container ${image} (127.0.0.1:${o.port}/sso/health/ready)`,
    () => httpOk(`http://${HOST}:${o.port}/sso/health/ready`),
    {
      timeoutMs: 60_000,
      service,
    },
  );
  return service;
}

export async function startSidecar(o: SidecarOptions): Promise<Service> {
  if (sidecarRunMode() === 'container') return startSidecarContainer(o);
  const service = startService({
    name: o.name,
    command: process.execPath,
    args: [...tsx, sidecarEntry()],
    cwd: repoRoot,
    env: sidecarEnv(o),
    daemon: o.daemon,
  });
  await waitUntil(
    `sidecar (127.0.0.1:${o.port}/sso/health/ready)`,
    () => httpOk(`http://${HOST}:${o.port}/sso/health/ready`),
    {
      timeoutMs: 60_000,
      service,
    },
  );
  return service;
}

export interface FrontDoorOptions {
  name: string;
  port: number;
  sidecarPort: number;
  apiPort: number;
  webPort: number;
  daemon: boolean;
  /** The sidecar's `gate.authRequestSecret`, sent by nginx to /sso/auth. */
  authRequestSecret?: string;
}

/** The front door's nginx.conf, rendered by the bridge (the same locations as the deployment snippet). */
export function frontDoorConf(o: FrontDoorOptions & { prefix: string }): string {
  return renderLocalNginxConf({
    tempDir: o.prefix,
    listen: `${HOST}:${o.port}`,
    sidecar: `${HOST}:${o.sidecarPort}`,
    api: `${HOST}:${o.apiPort}`,
    web: `${HOST}:${o.webPort}`,
    gateWebApps: true,
    webAppSso: true,
    ...(o.authRequestSecret ? { authRequestSecret: o.authRequestSecret } : {}),
  });
}

export async function startFrontDoor(o: FrontDoorOptions): Promise<Service> {
  const nginx = findNginx();
  const prefix = join(runDir(), o.name);
  for (const d of ['tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi', 'logs'])
    mkdirSync(join(prefix, d), { recursive: true });
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, frontDoorConf({ ...o, prefix }));
  try {
    execFileSync(nginx, ['-t', '-q', '-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const out = `${(err as { stderr?: Buffer }).stderr?.toString() ?? ''}`.trim();
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `the front door's nginx configuration ${conf} is invalid:\n    ${out}`,
      'fix the renderer or the conf',
    );
  }
  const service = startService({
    name: o.name,
    command: nginx,
    args: ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', conf, '-g', 'daemon off;'],
    daemon: o.daemon,
  });
  await waitUntil(`nginx front door (127.0.0.1:${o.port})`, () => tcpOpen(o.port), { timeoutMs: 15_000, service });
  return service;
}
