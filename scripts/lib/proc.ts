/**
 * Child-process plumbing for the local stack: start a service in its own process group,
 * wait until it answers, stop the whole group (so no stray grandchild keeps a port), and
 * turn environment problems into errors that name the problem and the fix.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, mkdirSync, readFileSync, existsSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { logDir, runDir } from './paths.js';

export type EnvErrorCode =
  | 'ERR_ENV_PORT_IN_USE'
  | 'ERR_ENV_NO_JDK'
  | 'ERR_ENV_NO_CHROMIUM'
  | 'ERR_ENV_NO_REDIS'
  | 'ERR_ENV_NO_NGINX'
  | 'ERR_ENV_NO_KEYCLOAK'
  | 'ERR_ENV_MAVEN_UNREACHABLE'
  | 'ERR_ENV_CHECKSUM'
  | 'ERR_ENV_START_FAILED'
  | 'ERR_ENV_NOT_ROOT'
  | 'ERR_ENV_NO_PYTHON'
  | 'ERR_ENV_NO_PYTHON_VENV'
  | 'ERR_ENV_PYPI_UNREACHABLE'
  | 'ERR_ENV_NO_GO'
  | 'ERR_ENV_GO_INSTALL';

/** An environment problem: what is wrong and how to fix it. */
export class EnvError extends Error {
  readonly code: EnvErrorCode;
  readonly fix: string;
  constructor(code: EnvErrorCode, message: string, fix: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EnvError';
    this.code = code;
    this.fix = fix;
  }
}

export function formatError(err: unknown): string {
  if (err instanceof EnvError) return `error ${err.code}: ${err.message}\n  fix: ${err.fix}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}

export function say(message: string): void {
  process.stdout.write(`${message}\n`);
}

/** Resolves when nothing listens on host:port; throws ERR_ENV_PORT_IN_USE otherwise. */
export async function assertPortFree(port: number, what: string, host = '127.0.0.1'): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE') {
        reject(
          new EnvError(
            'ERR_ENV_PORT_IN_USE',
            `port ${host}:${port} needed by ${what} is already in use`,
            `stop the process listening there (see: ss -ltnp 'sport = :${port}') and run again`,
          ),
        );
      } else reject(err);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve()));
  });
}

export async function tcpOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function httpOk(url: string, timeoutMs = 2000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Keep running after this process exits (daemon mode, with a pid file). */
  daemon?: boolean;
}

export interface Service {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Settles when the process exits. */
  readonly exited: Promise<number | null>;
  stop(): Promise<void>;
}

const started = new Set<Service>();
let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  const killAll = (): void => {
    for (const s of started) {
      try {
        process.kill(-s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      void stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
    });
  }
}

/** Stops every service this process started (not daemons handed over to a pid file). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop()));
}

export function logFileFor(name: string): string {
  const dir = logDir();
  mkdirSync(dir, { recursive: true });
  return join(dir, `${name}.log`);
}

/** Starts a service in its own process group with output in the logs folder. */
export function startService(spec: ServiceSpec): Service {
  const logFile = logFileFor(spec.name);
  const fd = openSync(logFile, 'w');
  const child: ChildProcess = spawn(spec.command, spec.args, {
    cwd: spec.cwd,
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  if (child.pid === undefined) {
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${spec.name} could not be started (${spec.command})`,
      `check that ${spec.command} is installed`,
    );
  }
  const pid = child.pid;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', () => resolve(-1));
  });
  const service: Service = {
    name: spec.name,
    pid,
    logFile,
    exited,
    async stop() {
      started.delete(service);
      await killGroup(pid, exited);
      removePidFile(spec.name, pid);
    },
  };
  if (spec.daemon) {
    child.unref();
    writePidFile(spec.name, pid);
  } else {
    installExitHooks();
    started.add(service);
  }
  return service;
}

async function killGroup(pid: number, exited?: Promise<number | null>, graceMs = 10_000): Promise<void> {
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    if (!groupAlive(pid)) break;
    await Promise.race([exited ?? delay(100), delay(100)]);
  }
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Polls `ready` until true; fails early (with the log's tail) if the process exits. */
export async function waitUntil(
  what: string,
  ready: () => Promise<boolean>,
  opts: { timeoutMs: number; service?: Service; intervalMs?: number },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  let exitedCode: number | null | undefined;
  void opts.service?.exited.then((c) => {
    exitedCode = c;
  });
  while (Date.now() < deadline) {
    if (await ready()) return;
    if (exitedCode !== undefined) {
      throw new EnvError(
        'ERR_ENV_START_FAILED',
        `${what} exited (code ${exitedCode}) before it was ready:\n${tail(opts.service!.logFile)}`,
        `read ${opts.service!.logFile}`,
      );
    }
    await delay(opts.intervalMs ?? 250);
  }
  if (opts.service) await opts.service.stop();
  throw new EnvError(
    'ERR_ENV_START_FAILED',
    `${what} was not ready within ${Math.round(opts.timeoutMs / 1000)} s${opts.service ? `:\n${tail(opts.service.logFile)}` : ''}`,
    opts.service ? `read ${opts.service.logFile}` : 'check that it is running',
  );
}

export function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .slice(-lines)
      .map((l) => `    ${l}`)
      .join('\n');
  } catch {
    return '    (no log)';
  }
}

function pidFile(name: string): string {
  return join(runDir(), `${name}.pid`);
}

function writePidFile(name: string, pid: number): void {
  mkdirSync(runDir(), { recursive: true });
  writeFileSync(pidFile(name), `${pid}\n`);
}

function removePidFile(name: string, pid?: number): void {
  const file = pidFile(name);
  if (!existsSync(file)) return;
  if (pid !== undefined && Number(readFileSync(file, 'utf8').trim()) !== pid) return;
  rmSync(file, { force: true });
}

/** The pid of a daemon started earlier by `start --daemon`, if it is still alive. */
export function daemonPid(name: string): number | undefined {
  const file = pidFile(name);
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  if (Number.isInteger(pid) && pid > 0 && groupAlive(pid)) return pid;
  rmSync(file, { force: true });
  return undefined;
}

/** Stops a daemon by its pid file; returns false when none was running. */
export async function stopDaemon(name: string): Promise<boolean> {
  const pid = daemonPid(name);
  if (pid === undefined) return false;
  await killGroup(pid);
  removePidFile(name);
  return true;
}
