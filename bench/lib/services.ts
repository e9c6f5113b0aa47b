/**
 * The processes a bench runs, each on a free loopback port and in its own process group:
 * a dedicated `redis-server` (never the shared one), the bench OP (`op.ts`), the Dify stand-in
 * (dify-api's console contract: admin API, refresh-token; the sidecar's bridge talks to it), the
 * sidecar as it ships (compiled `packages/sidecar/dist/server.js`, `DIFY_SSO_WORKERS` honoured),
 * and oauth2-proxy built from the Go module proxy.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { answers, freePort, start, waitFor, type Proc } from './procs.js';

const run = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const tsx = ['--import', 'tsx'];
const secret = (n = 24) => randomBytes(n).toString('hex');

/** The sidecar entry the benches run: the compiled build (`npm run build`), never tsx. */
export const SIDECAR_ENTRY = join(repoRoot, 'packages', 'sidecar', 'dist', 'server.js');

/**
 * The node flags the sidecar image starts the sidecar with (its `ENTRYPOINT` in
 * `images/sidecar/Containerfile`), so a bench runs the process as it ships; workers inherit them.
 * `BENCH_SIDECAR_NODE_FLAGS` overrides them (space-separated; `none` for plain node).
 */
export function sidecarNodeFlags(): string[] {
  const given = process.env.BENCH_SIDECAR_NODE_FLAGS;
  if (given !== undefined) return given.trim() === 'none' ? [] : given.split(/\s+/).filter(Boolean);
  const file = join(repoRoot, 'images', 'sidecar', 'Containerfile');
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((l) => l.startsWith('ENTRYPOINT '));
  const argv = line ? (JSON.parse(line.slice('ENTRYPOINT '.length)) as string[]) : [];
  if (argv[0] !== 'node' || !argv.at(-1)?.endsWith('/server.js'))
    throw new Error(`${file}: ENTRYPOINT is not ["node", <flags>…, ".../server.js"]`);
  return argv.slice(1, -1);
}

/** Newest modification time (ms) of the files under `dir`. */
function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Whether the compiled sidecar exists and is at least as new as its sources. */
export function sidecarBuild(): { entry: string; present: boolean; stale: boolean } {
  const present = existsSync(SIDECAR_ENTRY);
  // tsc -b rewrites only the files that changed: the newest source against the newest output.
  const stale =
    present &&
    newest(join(repoRoot, 'packages', 'sidecar', 'src')) > newest(join(repoRoot, 'packages', 'sidecar', 'dist'));
  return { entry: SIDECAR_ENTRY, present, stale };
}

/** The commit the bench runs on (for the results header). */
export async function gitCommit(): Promise<string> {
  try {
    const { stdout } = await run('git', ['-C', repoRoot, 'rev-parse', '--short', 'HEAD']);
    const dirty =
      (await run('git', ['-C', repoRoot, 'status', '--porcelain', '--', 'packages/sidecar/src'])).stdout.trim() !== '';
    return stdout.trim() + (dirty ? ' (sidecar sources modified)' : '');
  } catch {
    return 'unknown';
  }
}

export interface Service extends Proc {
  url: string;
  port: number;
}

/** A dedicated redis-server (no persistence) on a free port. */
export async function startRedis(cpuList?: string): Promise<Service & { dir: string }> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-bench-redis-'));
  const p = start(
    'redis-server',
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ],
    cpuList !== undefined ? { cpuList } : {},
  );
  const { Redis } = await import('ioredis');
  await waitFor(
    'redis-server',
    async () => {
      const r = new Redis({
        port,
        host: '127.0.0.1',
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      try {
        await r.connect();
        return (await r.ping()) === 'PONG';
      } finally {
        r.disconnect();
      }
    },
    { proc: p },
  );
  const stop = p.stop;
  return {
    ...p,
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface OpClient {
  client_id: string;
  client_secret: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  backchannel_logout_uri?: string;
}

/** The bench OP (`op.ts`) in a child process; resolves with its issuer. */
export async function startOp(clients: OpClient[]): Promise<Proc & { issuer: string }> {
  const p = start('op', process.execPath, [...tsx, join(here, 'op.ts'), JSON.stringify(clients)], {
    cwd: repoRoot,
    ipc: true,
  });
  const issuer = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench OP not ready in 30 s:\n${p.output()}`)), 30_000);
    p.proc.once('message', (m) => {
      clearTimeout(timer);
      resolve(String((m as { issuer: string }).issuer));
    });
    p.proc.once('exit', (code) => reject(new Error(`bench OP exited (${code}):\n${p.output()}`)));
  });
  p.proc.disconnect();
  return { ...p, issuer };
}

/** Fixed workspace of the stand-in's default seed. */
export const STANDIN_WORKSPACE_ID = '0b6e3b8e-5c1d-4f7a-9e2b-6d4c8a1f3e57';

/** The Dify stand-in's API (no console UI), its "Dify Redis" being `redisUrl`. */
export async function startStandin(o: { redisUrl: string; publicUrl: string; adminApiKey: string }): Promise<Service> {
  const port = await freePort();
  const p = start(
    'dify-standin',
    process.execPath,
    [...tsx, join(repoRoot, 'packages', 'dify-standin', 'src', 'server.ts')],
    {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        SECRET_KEY: secret(32),
        ADMIN_API_KEY: o.adminApiKey,
        ADMIN_API_KEY_ENABLE: 'true',
        REDIS_URL: o.redisUrl,
        CONSOLE_API_URL: o.publicUrl,
        CONSOLE_WEB_URL: o.publicUrl,
        ALLOW_REGISTER: 'false',
        DIFY_STANDIN_LISTEN: `127.0.0.1:${port}`,
        DIFY_STANDIN_WEB_LISTEN: 'off',
        DIFY_STANDIN_LOG_LEVEL: 'warn',
      },
    },
  );
  const url = `http://127.0.0.1:${port}`;
  await waitFor('Dify stand-in', () => answers(`${url}/console/api/system-features`), { proc: p });
  return { ...p, url, port };
}

export interface SidecarOptions {
  port: number;
  issuer: string;
  standinUrl: string;
  adminApiKey: string;
  difyRedisUrl: string;
  store: 'memory' | 'redis';
  /** Session store Redis (store=redis). */
  redisUrl?: string;
  /** `DIFY_SSO_WORKERS` (default: the environment's, else the sidecar's default). */
  workers?: string;
  maxSessions?: number;
  metricsPort?: number;
  cpuList?: string;
}

/**
 * The sidecar as it ships (compiled entry, `DIFY_SSO_*` environment): OIDC client `dify-sso`
 * of the bench OP, the Dify bridge against the stand-in, auth_request mode. Ready when
 * `/sso/health/ready` has answered 200 several times in a row (every worker).
 */
export async function startSidecar(o: SidecarOptions): Promise<Service & { keyPrefix: string }> {
  const build = sidecarBuild();
  if (!build.present) throw new Error(`the compiled sidecar ${build.entry} is missing: run npm run build first`);
  const url = `http://127.0.0.1:${o.port}`;
  const keyPrefix = `bench-${secret(4)}:`;
  const workers = o.workers ?? process.env.DIFY_SSO_WORKERS;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'development',
    DIFY_SSO_LISTEN: `127.0.0.1:${o.port}`,
    DIFY_SSO_PUBLIC_URL: url,
    DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
    DIFY_SSO_TRUST_PROXY: '127.0.0.1/32',
    DIFY_SSO_LOG_LEVEL: 'warn',
    DIFY_SSO_OIDC_ISSUER: o.issuer,
    DIFY_SSO_OIDC_CLIENT_ID: 'dify-sso',
    DIFY_SSO_OIDC_CLIENT_SECRET: 'dify-sso-bench-secret',
    DIFY_SSO_OIDC_SCOPES: 'openid,profile,email,groups',
    DIFY_SSO_SESSION_SECRET: secret(32),
    DIFY_SSO_STORE: o.store,
    ...(o.store === 'redis' ? { DIFY_SSO_REDIS_URL: o.redisUrl, DIFY_SSO_REDIS_KEY_PREFIX: keyPrefix } : {}),
    ...(o.maxSessions ? { DIFY_SSO_MEMORY_MAX_SESSIONS: String(o.maxSessions) } : {}),
    ...(workers !== undefined && workers !== '' ? { DIFY_SSO_WORKERS: workers } : {}),
    ...(o.metricsPort ? { DIFY_SSO_METRICS_LISTEN: `127.0.0.1:${o.metricsPort}` } : {}),
    DIFY_SSO_DIFY_API_URL: o.standinUrl,
    DIFY_SSO_DIFY_ADMIN_API_KEY: o.adminApiKey,
    DIFY_SSO_DIFY_WORKSPACE_ID: STANDIN_WORKSPACE_ID,
    DIFY_SSO_DIFY_REDIS_URL: o.difyRedisUrl,
    DIFY_SSO_DIFY_CONSOLE_API_URL: url,
    DIFY_SSO_DIFY_CONSOLE_WEB_URL: url,
    DIFY_SSO_ROLE_MAP: 'dify-editors=editor',
    DIFY_SSO_ROLE_CLAIM: 'groups',
    DIFY_SSO_JIT: 'true',
    DIFY_SSO_GATE_MODE: 'authrequest',
  };
  const p = start(
    'sidecar',
    process.execPath,
    [
      ...sidecarNodeFlags(),
      ...(process.env.BENCH_SIDECAR_CPU_PROF
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_SIDECAR_CPU_PROF}`]
        : []),
      build.entry,
    ],
    {
      env,
      cwd: repoRoot,
      ...(o.cpuList !== undefined ? { cpuList: o.cpuList } : {}),
    },
  );
  let inARow = 0;
  await waitFor(
    'sidecar',
    async () => {
      inARow = (await answers(`${url}/sso/health/ready`)) ? inARow + 1 : 0;
      return inARow >= 6;
    },
    { proc: p, timeoutMs: 60_000 },
  );
  return { ...p, url, port: o.port, keyPrefix };
}

/** Version of oauth2-proxy the comparison builds. */
export const OAUTH2_PROXY_VERSION = 'v7.15.6';
const GO = process.env.DIFY_SSO_GO ?? '/usr/local/go/bin/go';

function cacheDir(): string {
  if (process.env.DIFY_SSO_CACHE_DIR) return process.env.DIFY_SSO_CACHE_DIR;
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dify-sso-kit');
}

/**
 * The oauth2-proxy binary: built once with `go install` from the Go module proxy into the kit's
 * cache folder. Resolves to undefined (with the reason) when Go is not installed.
 */
export async function oauth2ProxyBinary(log: (s: string) => void): Promise<{ bin?: string; reason?: string }> {
  const binDir = join(cacheDir(), 'oauth2-proxy', OAUTH2_PROXY_VERSION, 'bin');
  const bin = join(binDir, 'oauth2-proxy');
  if (existsSync(bin)) return { bin };
  let go = GO;
  if (!existsSync(go)) {
    try {
      go = (await run('sh', ['-c', 'command -v go'])).stdout.trim();
    } catch {
      return {
        reason: `Go is not installed (looked for ${GO} and go on PATH; set DIFY_SSO_GO): the oauth2-proxy comparison needs it to build oauth2-proxy ${OAUTH2_PROXY_VERSION}`,
      };
    }
  }
  mkdirSync(binDir, { recursive: true });
  log(
    `building oauth2-proxy ${OAUTH2_PROXY_VERSION} with ${go} (go install, Go module proxy; a few minutes on 2 cores) ...`,
  );
  await run(go, ['install', `github.com/oauth2-proxy/oauth2-proxy/v7@${OAUTH2_PROXY_VERSION}`], {
    env: { ...process.env, GOBIN: binDir, GOFLAGS: '-p=1' },
    timeout: 30 * 60_000,
    maxBuffer: 16 << 20,
  });
  if (!existsSync(bin)) return { reason: `go install finished but ${bin} is missing` };
  return { bin };
}

export interface Oauth2ProxyOptions {
  bin: string;
  port: number;
  issuer: string;
  upstreamUrl: string;
  store: 'cookie' | 'redis';
  redisUrl?: string;
  cpuList?: string;
}

/**
 * oauth2-proxy with the OIDC provider `oauth2-proxy` of the bench OP (PKCE S256, verified e-mail,
 * any domain), `--reverse-proxy`, `--skip-provider-button`, request logging off (the sidecar logs
 * at `warn`), cookie or Redis session store. Ready when `/ping` answers 200.
 */
export async function startOauth2Proxy(o: Oauth2ProxyOptions): Promise<Service> {
  const url = `http://127.0.0.1:${o.port}`;
  const args = [
    '--provider=oidc',
    `--oidc-issuer-url=${o.issuer}`,
    '--client-id=oauth2-proxy',
    '--client-secret=oauth2-proxy-bench-secret',
    '--code-challenge-method=S256',
    `--redirect-url=${url}/oauth2/callback`,
    `--http-address=127.0.0.1:${o.port}`,
    `--upstream=${o.upstreamUrl}`,
    '--email-domain=*',
    '--cookie-secure=false',
    `--cookie-secret=${randomBytes(16).toString('hex')}`,
    '--reverse-proxy',
    '--skip-provider-button',
    '--request-logging=false',
    `--session-store-type=${o.store}`,
    ...(o.store === 'redis' ? [`--redis-connection-url=${o.redisUrl}`] : []),
  ];
  const p = start('oauth2-proxy', o.bin, args, {
    env: { PATH: process.env.PATH ?? '' },
    ...(o.cpuList !== undefined ? { cpuList: o.cpuList } : {}),
  });
  await waitFor('oauth2-proxy', () => answers(`${url}/ping`), { proc: p });
  return { ...p, url, port: o.port };
}

/** The static upstream (`upstream.ts`) oauth2-proxy forwards to. */
export async function startUpstream(): Promise<Service> {
  const p = start('upstream', process.execPath, [...tsx, join(here, 'upstream.ts')], { cwd: repoRoot, ipc: true });
  const port = await new Promise<number>((resolve, reject) => {
    p.proc.once('message', (m) => resolve(Number((m as { port: number }).port)));
    p.proc.once('exit', (code) => reject(new Error(`upstream exited (${code})`)));
  });
  p.proc.disconnect();
  return { ...p, url: `http://127.0.0.1:${port}`, port };
}
