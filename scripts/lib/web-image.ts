/**
 * The console UI of the local stack as a container: the patched web image that
 * `dify-sso image web` built from the fixture web tree (e2e/fixture-web), run read-only, as the
 * image's non-root user, with every capability dropped, on a loopback port. Selected with
 * `DIFY_SSO_E2E_WEB=image` (image name in `DIFY_SSO_E2E_WEB_IMAGE`); the default (`standin`) is
 * the Dify stand-in's console double.
 *
 * The engine is `DIFY_SSO_ENGINE` or detected like `dify-sso image web` does, with the same
 * podman settings (kit cache folder).
 */
import { spawnSync } from 'node:child_process';
import {
  defaultDeps,
  detectEngine,
  engineSetup,
  ENGINES,
  type Engine,
} from '../../packages/codemods/src/image/engine.js';
import { EnvError, httpOk, startService, waitUntil, type Service } from './proc.js';
import { HOST } from './ports.js';

export type WebSwitch = 'standin' | 'image';

/** Default name of the fixture web image the web-image stage builds. */
export const FIXTURE_WEB_IMAGE = 'localhost/dify-sso-kit/fixture-web:e2e';

/** `DIFY_SSO_E2E_WEB`: which console UI the local stack serves. */
export function webSwitch(env: NodeJS.ProcessEnv = process.env): WebSwitch {
  const v = env.DIFY_SSO_E2E_WEB ?? 'standin';
  if (v !== 'standin' && v !== 'image') {
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `DIFY_SSO_E2E_WEB must be standin or image, got ${JSON.stringify(v)}`,
      'unset it, or set it to image',
    );
  }
  return v;
}

/** The engine for the e2e containers. */
export function e2eEngine(env: NodeJS.ProcessEnv = process.env): Engine {
  const wanted = env.DIFY_SSO_ENGINE;
  if (wanted && (ENGINES as readonly string[]).includes(wanted)) return wanted as Engine;
  const found = detectEngine({ ...defaultDeps, env });
  if (!found)
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      'no container engine (docker or podman) for the web image',
      'install podman (apt-get install podman runc)',
    );
  return found;
}

/** Runs `<engine> <kit settings> …argv` and returns its output (throws on a non-zero exit). */
export function engine(argv: string[], env: NodeJS.ProcessEnv = process.env): string {
  const e = e2eEngine(env);
  const setup = engineSetup(e, env);
  const r = spawnSync(e, [...setup.args, ...argv], { env: setup.env, encoding: 'utf8' });
  if (r.status !== 0)
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${e} ${argv.slice(0, 2).join(' ')} failed: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' / ')}`,
      'see the engine output',
    );
  return r.stdout;
}

/** The `dify-sso-kit.*` and OCI labels, the user and the healthcheck of an image. */
export function inspectImage(
  image: string,
  env: NodeJS.ProcessEnv = process.env,
): { labels: Record<string, string>; user: string; healthcheck: string[] | undefined } {
  // Docker reports the healthcheck under Config, podman at the top level.
  const [info] = JSON.parse(engine(['image', 'inspect', image], env)) as Array<{
    Config?: { Labels?: Record<string, string>; User?: string; Healthcheck?: { Test?: string[] } };
    Healthcheck?: { Test?: string[] };
  }>;
  return {
    labels: info?.Config?.Labels ?? {},
    user: info?.Config?.User ?? '',
    healthcheck: (info?.Config?.Healthcheck ?? info?.Healthcheck)?.Test,
  };
}

export interface WebContainerOptions {
  /** Service (and container) name. */
  name: string;
  image: string;
  /** Loopback port the container's 3000 is published on. */
  port: number;
  daemon: boolean;
}

/**
 * Starts the web image hardened as in a deployment: `--read-only` with tmpfs only where the
 * image's `dify-sso-kit.tmpfs` label says, `--cap-drop all`, `no-new-privileges`, the image's own
 * (non-root) user, published on 127.0.0.1 only. Waits until /signin answers.
 */
export async function startWebContainer(o: WebContainerOptions): Promise<Service> {
  const env = process.env;
  const e = e2eEngine(env);
  const setup = engineSetup(e, env);
  const { labels } = inspectImage(o.image, env);
  const tmpfs = (labels['dify-sso-kit.tmpfs'] ?? '').split(',').filter(Boolean);
  if (tmpfs.length === 0)
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${o.image} has no dify-sso-kit.tmpfs label: not built by dify-sso image web`,
      'rebuild it with dify-sso image web',
    );
  // A container of that name left by an interrupted run.
  spawnSync(e, [...setup.args, 'rm', '-f', o.name], { env: setup.env, stdio: 'ignore' });
  const args = [
    ...setup.args,
    'run',
    '--rm',
    '--name',
    o.name,
    '--read-only',
    ...(e === 'podman' ? ['--read-only-tmpfs=false'] : []),
    // mode=1777: the image's user (non-root, owns nothing) must be able to write there.
    ...tmpfs.flatMap((d) => ['--tmpfs', `${d}:rw,nosuid,nodev,size=64m,mode=1777`]),
    '--cap-drop',
    'all',
    '--security-opt',
    'no-new-privileges',
    '-p',
    `${HOST}:${o.port}:3000`,
    o.image,
  ];
  const service = startService({ name: o.name, command: e, args, env: setup.env, daemon: o.daemon });
  try {
    await waitUntil(
      `web image ${o.image} (127.0.0.1:${o.port}/signin)`,
      () => httpOk(`http://${HOST}:${o.port}/signin`),
      { timeoutMs: 60_000, service },
    );
  } catch (err) {
    await stopWebContainer(o.name, service);
    throw err;
  }
  return service;
}

/** Stops the container (and its `run` client), whatever state the client is in. */
export async function stopWebContainer(name: string, service?: Service): Promise<void> {
  const e = e2eEngine();
  const setup = engineSetup(e, process.env);
  spawnSync(e, [...setup.args, 'stop', '-t', '5', name], { env: setup.env, stdio: 'ignore' });
  await service?.stop();
  spawnSync(e, [...setup.args, 'rm', '-f', name], { env: setup.env, stdio: 'ignore' });
}
