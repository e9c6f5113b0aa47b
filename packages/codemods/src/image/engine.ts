import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Container engines `dify-sso image web` can build with. */
export type Engine = 'docker' | 'podman';

/** The engines in detection order. */
export const ENGINES: readonly Engine[] = ['docker', 'podman'];

/** How the image command reaches the outside world (replaced in tests). */
export type ImageDeps = {
  /** Runs a command with inherited output; resolves to its exit code (127 when it cannot start). */
  run: (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => Promise<number>;
  /** Runs a command quietly; resolves to its exit code. */
  probe: (command: string, args: readonly string[], env: NodeJS.ProcessEnv) => number;
  env: NodeJS.ProcessEnv;
};

/** The real deps: child processes of this process, `process.env`. */
export const defaultDeps: ImageDeps = {
  run: (command, args, env) =>
    new Promise((done) => {
      const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
      child.once('error', () => done(127));
      child.once('exit', (code, signal) => done(code ?? (signal ? 1 : 0)));
    }),
  probe: (command, args, env) => spawnSync(command, args, { stdio: 'ignore', env, timeout: 20_000 }).status ?? 127,
  env: process.env,
};

/**
 * The engine to use: the `--engine` value when given; else Docker when its engine answers
 * (`docker info`; a client without an engine does not count); else podman when installed.
 * Returns undefined when neither is usable.
 */
export function detectEngine(deps: ImageDeps): Engine | undefined {
  if (deps.probe('docker', ['info', '--format', '{{.ServerVersion}}'], deps.env) === 0) return 'docker';
  if (deps.probe('podman', ['--version'], deps.env) === 0) return 'podman';
  return undefined;
}

/** Whether `engine` is installed (and, for Docker, its engine answers). */
export function engineUsable(engine: Engine, deps: ImageDeps): boolean {
  return engine === 'docker'
    ? deps.probe('docker', ['info', '--format', '{{.ServerVersion}}'], deps.env) === 0
    : deps.probe('podman', ['--version'], deps.env) === 0;
}

/** The kit's cache folder (same rule as the repository's scripts: DIFY_SSO_CACHE_DIR, XDG_CACHE_HOME, ~/.cache). */
export function kitCacheDir(env: NodeJS.ProcessEnv): string {
  if (env.DIFY_SSO_CACHE_DIR) return resolve(env.DIFY_SSO_CACHE_DIR);
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(env.HOME ?? homedir(), '.cache');
  return join(base, 'dify-sso-kit');
}

/** Global engine arguments and environment for one engine invocation. */
export type EngineSetup = { args: string[]; env: NodeJS.ProcessEnv; note: string | undefined };

/**
 * podman on a host prepared by the kit's CI plumbing (a `containers.conf` under
 * `<kit cache>/containers/`) gets the same settings as CI: that file through `CONTAINERS_CONF`,
 * the kit's vfs storage root and the runc runtime. Everything else runs the engine as it is
 * configured on the host.
 */
export function engineSetup(engine: Engine, env: NodeJS.ProcessEnv): EngineSetup {
  if (engine !== 'podman') return { args: [], env, note: undefined };
  const dir = join(kitCacheDir(env), 'containers');
  const conf = join(dir, 'containers.conf');
  if (!existsSync(conf)) return { args: [], env, note: undefined };
  return {
    args: [
      '--root',
      join(dir, 'storage'),
      '--runroot',
      join(dir, 'run'),
      '--storage-driver',
      'vfs',
      '--runtime',
      'runc',
    ],
    env: { ...env, CONTAINERS_CONF: conf },
    note: `podman: using the kit's settings in ${dir}`,
  };
}
