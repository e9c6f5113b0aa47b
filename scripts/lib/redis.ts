/**
 * A throwaway Redis from Debian's redis-server on loopback, with no persistence: the kit's
 * session store and the Dify stand-in's Redis in tests and the demo.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { execFileSync } from 'node:child_process';
import { runDir } from './paths.js';
import { EnvError, assertPortFree, startService, waitUntil, type Service } from './proc.js';

export function redisServerBinary(): string {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
  } catch {
    throw new EnvError(
      'ERR_ENV_NO_REDIS',
      'redis-server is not installed',
      "run: npm run provision (installs Debian's redis-server)",
    );
  }
}

/** Sends PING and resolves true on +PONG. */
export async function redisPing(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host });
    let buf = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      buf += d.toString();
      if (buf.includes('\r\n')) done(buf.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
  });
}

export async function startRedis(opts: { port: number; daemon?: boolean; name?: string }): Promise<Service> {
  const bin = redisServerBinary();
  const name = opts.name ?? 'redis';
  await assertPortFree(opts.port, name);
  const dir = join(runDir(), `${name}-data`);
  mkdirSync(dir, { recursive: true });
  const service = startService({
    name,
    command: bin,
    args: [
      '--port',
      String(opts.port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      '--protected-mode',
      'yes',
    ],
    daemon: opts.daemon,
  });
  await waitUntil(`redis on 127.0.0.1:${opts.port}`, () => redisPing(opts.port), { timeoutMs: 15_000, service });
  return service;
}
