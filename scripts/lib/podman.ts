/**
 * Container engine plumbing shared by the image scripts and the tests: which engine to use
 * (`docker` or `podman`, given or detected), the global arguments and environment it needs here,
 * and installing Debian's podman when it is missing.
 *
 * podman settings that work on a host without a Docker engine or registry (cgroup v1 + v2 mix,
 * no CAP_SYS_RESOURCE): the `runc` runtime (crun refuses hybrid cgroups), a containers.conf given
 * through `CONTAINERS_CONF` whose `default_ulimits` stay at or below the hard limits of this
 * process (podman otherwise asks for more and fails with `setrlimit … Operation not permitted`),
 * and the `vfs` storage driver in a storage root of its own under the kit's cache folder (no
 * mixing of drivers in one root). Docker needs none of this: its arguments are empty.
 *
 * Stable API (also used by the web image script): `detectEngine()`, `engineArgs()`,
 * `engineEnv()`, `ensurePodman()`, `runEngine()`.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths.js';
import { EnvError } from './proc.js';

export type Engine = 'docker' | 'podman';
export const ENGINES: readonly Engine[] = ['docker', 'podman'];

/** Debian packages podman needs here (runc: see the module header; debootstrap: base images). */
export const PODMAN_PACKAGES = ['podman', 'runc', 'debootstrap'] as const;

function onPath(bin: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status === 0;
}

/** Whether a Docker engine answers (the client alone is not enough). */
export function dockerEngineAnswers(): boolean {
  if (!onPath('docker')) return false;
  return (
    spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 15_000 }).status === 0
  );
}

/**
 * The engine to use: `explicit` (`--engine`) or `DIFY_SSO_ENGINE` when given; else Docker when its
 * engine answers; else podman (installed by `ensurePodman()` when missing).
 *
 * @throws {TypeError} `ERR_INVALID_ARG_VALUE` for a name other than docker or podman.
 */
export function detectEngine(explicit?: string, env: NodeJS.ProcessEnv = process.env): Engine {
  const wanted = explicit ?? env.DIFY_SSO_ENGINE;
  if (wanted !== undefined && wanted !== '') {
    if (!(ENGINES as readonly string[]).includes(wanted)) {
      throw Object.assign(new TypeError(`"--engine" must be docker or podman, got ${JSON.stringify(wanted)}`), {
        code: 'ERR_INVALID_ARG_VALUE',
      });
    }
    return wanted as Engine;
  }
  if (onPath('podman')) return 'podman';
  if (dockerEngineAnswers()) return 'docker';
  return 'podman';
}

/** Folder of the kit's podman state: containers.conf, storage root, run root. */
export const podmanDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'containers');

/** Hard limit of a resource of this process (`ulimit -H…`), or undefined when unlimited. */
function hardLimit(flag: 'n' | 'u'): number | undefined {
  try {
    const out = execFileSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? undefined : Number(out);
  } catch {
    return undefined;
  }
}

/** `default_ulimits` at or below this process's hard limits. */
export function defaultUlimits(): string[] {
  const nofile = Math.min(hardLimit('n') ?? 65_536, 65_536);
  const nproc = Math.min(hardLimit('u') ?? 4096, 4096);
  return [`nofile=${nofile}:${nofile}`, `nproc=${nproc}:${nproc}`];
}

/** Writes (when changed) the kit's containers.conf and returns its path. */
export function writeContainersConf(env: NodeJS.ProcessEnv = process.env): string {
  const dir = podmanDir(env);
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'containers.conf');
  const text = [
    '# Written by scripts/lib/podman.ts (dify-sso-kit): podman settings for hosts without a Docker engine.',
    '[containers]',
    `default_ulimits = [${defaultUlimits()
      .map((u) => JSON.stringify(u))
      .join(', ')}]`,
    '',
    '[engine]',
    'runtime = "runc"',
    '',
  ].join('\n');
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return file;
}

/** Global arguments that go before every engine subcommand. */
export function engineArgs(engine: Engine, env: NodeJS.ProcessEnv = process.env): string[] {
  if (engine === 'docker') return [];
  const dir = podmanDir(env);
  return [
    '--root',
    join(dir, 'storage'),
    '--runroot',
    join(dir, 'run'),
    '--storage-driver',
    'vfs',
    '--runtime',
    'runc',
  ];
}

/** Environment for the engine process (podman: `CONTAINERS_CONF`). */
export function engineEnv(engine: Engine, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  if (engine === 'docker') return { ...env };
  return { ...env, CONTAINERS_CONF: writeContainersConf(env) };
}

/**
 * Installs podman, runc and debootstrap from Debian when one is missing (needs root; waits for
 * the dpkg lock of a parallel install).
 *
 * @throws {EnvError} `ERR_ENV_NOT_ROOT` when packages are missing and this is not root;
 *   `ERR_ENV_START_FAILED` when apt-get fails.
 */
export function ensurePodman(log: (message: string) => void = () => {}): void {
  const missing = PODMAN_PACKAGES.filter((p) => !onPath(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new EnvError(
      'ERR_ENV_NOT_ROOT',
      `missing Debian packages: ${missing.join(' ')}`,
      `run as root, or: sudo apt-get install -y ${PODMAN_PACKAGES.join(' ')}`,
    );
  }
  log(`installing from Debian: ${PODMAN_PACKAGES.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lock = ['-o', 'DPkg::Lock::Timeout=600'];
  for (const argv of [
    ['update', '-qq', ...lock],
    ['install', '-y', '-qq', '--no-install-recommends', ...lock, ...PODMAN_PACKAGES],
  ]) {
    const r = spawnSync('apt-get', argv, { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.status !== 0) {
      throw new EnvError(
        'ERR_ENV_START_FAILED',
        `apt-get ${argv[0]} failed:\n    ${(r.stderr ?? '').trim().split('\n').slice(-5).join('\n    ')}`,
        "check access to Debian's package mirrors",
      );
    }
  }
}

export interface EngineResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `<engine> <global args> …argv`. With `inherit`, output goes to this process's output;
 * otherwise it is collected and returned.
 */
export function runEngine(
  engine: Engine,
  argv: string[],
  opts: { inherit?: boolean; input?: NodeJS.ReadableStream; env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<EngineResult> {
  return new Promise((resolve) => {
    const child = spawn(engine, [...engineArgs(engine, opts.env), ...argv], {
      cwd: opts.cwd,
      env: engineEnv(engine, opts.env),
      stdio: [opts.input ? 'pipe' : 'ignore', opts.inherit ? 'inherit' : 'pipe', opts.inherit ? 'inherit' : 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (opts.input && child.stdin) opts.input.pipe(child.stdin);
    child.once('error', (err) => resolve({ code: 127, stdout, stderr: `${stderr}${err.message}` }));
    child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), stdout, stderr }));
  });
}

/** Like `runEngine` but throws `ERR_ENV_START_FAILED` with the tail of stderr on a non-zero exit. */
export async function engineOk(
  engine: Engine,
  argv: string[],
  opts: Parameters<typeof runEngine>[2] = {},
): Promise<string> {
  const r = await runEngine(engine, argv, opts);
  if (r.code !== 0) {
    const tail = r.stderr.trim().split('\n').slice(-8).join('\n    ');
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${engine} ${argv.slice(0, 2).join(' ')} failed (exit ${r.code})${tail ? `:\n    ${tail}` : ''}`,
      `run the ${engine} command by hand to see all of its output`,
    );
  }
  return r.stdout;
}

/** Whether an image exists in the engine's store. */
export async function imageExists(engine: Engine, ref: string): Promise<boolean> {
  return (await runEngine(engine, ['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0;
}

/** One label of an image, or undefined when the image or the label is absent. */
export async function imageLabel(engine: Engine, ref: string, label: string): Promise<string | undefined> {
  const r = await runEngine(engine, [
    'image',
    'inspect',
    '--format',
    `{{ index .Config.Labels ${JSON.stringify(label)} }}`,
    ref,
  ]);
  const v = r.stdout.trim();
  return r.code === 0 && v !== '' && v !== '<no value>' ? v : undefined;
}
