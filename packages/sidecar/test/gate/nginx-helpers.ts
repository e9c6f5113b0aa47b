/** Helpers for running Debian's nginx in tests (config check and a live front door). */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const NGINX = '/usr/sbin/nginx';

const made: string[] = [];
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

/** A temporary directory, removed when the test process exits. */
export function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'dify-sso-nginx-'));
  made.push(d);
  return d;
}

/** `nginx -t` on a config file; returns { ok, output }. */
export function nginxTest(conf: string, prefix: string): { ok: boolean; output: string } {
  const r = spawnSync(NGINX, ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}

export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts nginx in the foreground; resolves once it accepts connections on `port`. */
export async function startNginx(
  conf: string,
  prefix: string,
  port: number,
): Promise<{ proc: ChildProcess; stop(): Promise<void> }> {
  const proc = spawn(NGINX, ['-p', prefix, '-c', conf, '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${stderr}`);
    try {
      await fetch(`http://127.0.0.1:${port}/sso/health/live`, { signal: AbortSignal.timeout(500) });
      break;
    } catch {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setTimeout(r, 25)); // polling for readiness, not a timing assertion
    }
  }
  return {
    proc,
    stop: async () => {
      if (proc.exitCode === null) proc.kill('SIGQUIT');
      await exited;
    },
  };
}

/** Renders a Dify template the way Dify's nginx entrypoint does (envsubst of the named variables). */
export function envsubst(text: string, vars: Record<string, string>): string {
  return text.replace(/\$\{([A-Z0-9_]+)\}/g, (m, name: string) => (name in vars ? (vars[name] as string) : m));
}

/** Wraps a rendered server template in a minimal nginx.conf with a proxy.conf like Dify's. */
export function wrapServer(dir: string, server: string): string {
  writeFileSync(
    join(dir, 'proxy.conf'),
    [
      'proxy_set_header Host $host;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_http_version 1.1;',
      'proxy_buffering off;',
      'proxy_read_timeout 3600s;',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'default.conf'), server);
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    [
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 64; }',
      'http {',
      `  client_body_temp_path ${dir}/cb; proxy_temp_path ${dir}/px; fastcgi_temp_path ${dir}/fc; uwsgi_temp_path ${dir}/uw; scgi_temp_path ${dir}/sc;`,
      '  access_log off;',
      `  include ${dir}/default.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  return conf;
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}
