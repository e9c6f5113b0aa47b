/**
 * The Python upstream of the differential gate tests: a virtual environment in the cache folder
 * with the exact werkzeug, Flask, gunicorn, gevent, python-socketio and python-engineio versions
 * Dify pins (dify `api/pyproject.toml` and dify `api/uv.lock` of Dify 1.13.3), installed from
 * PyPI with `python3 -m venv` + `pip install`. Idempotent: an environment whose recorded pins
 * match is reused as it is.
 *
 * On a fresh Debian 12 the `venv` module may be missing (`python3-venv`): as root it is
 * installed with apt, otherwise `ERR_ENV_NO_PYTHON_VENV` names the fix.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths.js';
import { EnvError } from './proc.js';

/** Versions from dify `api/uv.lock` (Dify 1.13.3); `gunicorn` and `gevent` as pinned by dify `api/pyproject.toml`. */
export const PYTHON_UPSTREAM_PINS = {
  flask: '3.1.3',
  werkzeug: '3.1.6',
  gunicorn: '25.3.0',
  gevent: '25.9.1',
  'python-socketio': '5.13.0',
  'python-engineio': '4.12.3',
} as const;

export interface PythonUpstreamEnv {
  /** The venv folder. */
  readonly home: string;
  readonly python: string;
  readonly gunicorn: string;
}

const requirements = (): string[] => Object.entries(PYTHON_UPSTREAM_PINS).map(([name, v]) => `${name}==${v}`);

export const pythonUpstreamHome = (env: NodeJS.ProcessEnv = process.env): string =>
  join(cacheDir(env), 'python-upstream');

function pinsFile(home: string): string {
  return join(home, 'dify-sso-kit-pins.json');
}

function run(cmd: string, args: string[], env?: NodeJS.ProcessEnv): { ok: boolean; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env } });
  return { ok: r.status === 0, output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function python3(env: NodeJS.ProcessEnv): string {
  return env.DIFY_SSO_PYTHON ?? 'python3';
}

/** Whether `python3 -m venv` can build an environment with pip (`venv` and `ensurepip` importable). */
function venvAvailable(py: string): boolean {
  return run(py, ['-c', 'import venv, ensurepip']).ok;
}

function ensureVenvModule(py: string, log: (m: string) => void): void {
  if (!run(py, ['--version']).ok) {
    throw new EnvError(
      'ERR_ENV_NO_PYTHON',
      `${py} is not installed`,
      'install Python 3.11 or newer (Debian: apt-get install -y python3 python3-venv), or set DIFY_SSO_PYTHON',
    );
  }
  if (venvAvailable(py)) return;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    log('python: installing python3-venv from Debian');
    const env = { DEBIAN_FRONTEND: 'noninteractive' };
    const update = run('apt-get', ['update', '-qq'], env);
    const install = update.ok
      ? run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'python3-venv'], env)
      : update;
    if (install.ok && venvAvailable(py)) return;
    throw new EnvError(
      'ERR_ENV_NO_PYTHON_VENV',
      `python3-venv could not be installed:\n${install.output.trim().split('\n').slice(-5).join('\n')}`,
      'run: apt-get update && apt-get install -y python3-venv',
    );
  }
  throw new EnvError(
    'ERR_ENV_NO_PYTHON_VENV',
    `${py} has no venv/ensurepip module (Debian ships it as python3-venv)`,
    'run as root: apt-get install -y python3-venv (or npm run provision as root)',
  );
}

/**
 * Creates (or reuses) the venv with the pinned versions and returns its programs.
 *
 * @throws {EnvError} `ERR_ENV_NO_PYTHON`, `ERR_ENV_NO_PYTHON_VENV`, or `ERR_ENV_PYPI_UNREACHABLE` when pip fails.
 * @example
 * const { gunicorn } = ensurePythonUpstream(); // ~/.cache/dify-sso-kit/python-upstream/bin/gunicorn
 */
export function ensurePythonUpstream(
  log: (m: string) => void = () => undefined,
  env: NodeJS.ProcessEnv = process.env,
): PythonUpstreamEnv {
  const home = pythonUpstreamHome(env);
  const result: PythonUpstreamEnv = {
    home,
    python: join(home, 'bin', 'python'),
    gunicorn: join(home, 'bin', 'gunicorn'),
  };
  const wanted = JSON.stringify(requirements());
  if (
    existsSync(pinsFile(home)) &&
    readFileSync(pinsFile(home), 'utf8') === wanted &&
    existsSync(result.gunicorn) &&
    run(result.python, ['-c', 'import flask, gevent, socketio, engineio']).ok
  ) {
    return result;
  }
  const py = python3(env);
  ensureVenvModule(py, log);
  rmSync(home, { recursive: true, force: true });
  mkdirSync(cacheDir(env), { recursive: true });
  log(`python: creating ${home}`);
  const venv = run(py, ['-m', 'venv', home]);
  if (!venv.ok)
    throw new EnvError(
      'ERR_ENV_NO_PYTHON_VENV',
      `python3 -m venv failed:\n${venv.output.trim()}`,
      'run as root: apt-get install -y python3-venv',
    );
  log(`python: pip install ${requirements().join(' ')}`);
  const pip = run(result.python, [
    '-m',
    'pip',
    'install',
    '--disable-pip-version-check',
    '--no-input',
    '-q',
    ...requirements(),
  ]);
  if (!pip.ok) {
    rmSync(home, { recursive: true, force: true });
    throw new EnvError(
      'ERR_ENV_PYPI_UNREACHABLE',
      `pip install of the pinned upstream packages failed:\n${pip.output.trim().split('\n').slice(-8).join('\n')}`,
      'check access to PyPI (pip config / PIP_INDEX_URL) and run again',
    );
  }
  writeFileSync(pinsFile(home), wanted);
  return result;
}
