/**
 * A complete `nginx.conf` for the local stack (front door → sidecar, Dify api, Dify web), used
 * by the repository's scripts (`scripts/lib/stack.ts`), the benchmarks and the tests; never
 * shipped. It routes like a minimal reproduction of the shape of Dify's nginx template and
 * inserts the sidecar's locations with the deployment generator's own
 * `insertSsoLocations` (`src/deploy/nginx.ts`).
 *
 * @module
 */
import { SIDECAR_UPSTREAM, insertSsoLocations, sidecarUpstreamBlock } from '../src/deploy/nginx.js';

export interface LocalNginxOptions {
  /** Front door, `host:port` (e.g. `127.0.0.1:18000`). */
  readonly listen: string;
  /** Sidecar `host:port` (e.g. `127.0.0.1:18088`). */
  readonly sidecar: string;
  /** Dify api (stand-in) `host:port` (e.g. `127.0.0.1:15001`). */
  readonly api: string;
  /** Dify web (stand-in) `host:port` (e.g. `127.0.0.1:13000`). */
  readonly web: string;
  /** Writable directory for nginx's pid, logs and temp files. */
  readonly tempDir: string;
  readonly gateWebApps?: boolean;
  readonly webAppSso?: boolean;
  readonly gateServiceApi?: boolean;
  /** `gate.authRequestSecret` of the sidecar (sent as `X-Sso-Gate-Secret`). */
  readonly authRequestSecret?: string;
}

/** Proxy settings of Dify's `proxy.conf` (dify `docker/nginx/proxy.conf.template`), with 3600 s timeouts. */
function inlineProxyConf(ind: string): string {
  return [
    'proxy_set_header Host $host;',
    'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
    'proxy_set_header X-Forwarded-Proto $scheme;',
    'proxy_set_header X-Forwarded-Port $server_port;',
    'proxy_http_version 1.1;',
    'proxy_buffering off;',
    'proxy_read_timeout 3600s;',
    'proxy_send_timeout 3600s;',
  ].join(`\n${ind}`);
}

/**
 * A complete nginx.conf for the local stack: one server on `listen` routing like Dify's
 * template (`/console/api`, `/api`, `/v1`, `/files` → api; `/` → web) with the sidecar's
 * locations inserted by {@link insertSsoLocations}. Run with
 * `nginx -p <tempDir> -c <file> -g 'daemon off;'`.
 *
 * @example
 * writeFileSync(file, renderLocalNginxConf({ listen: '127.0.0.1:18000', sidecar: '127.0.0.1:18088', api: '127.0.0.1:15001', web: '127.0.0.1:13000', tempDir }))
 */
export function renderLocalNginxConf(o: LocalNginxOptions): string {
  for (const [k, v] of Object.entries({ listen: o.listen, sidecar: o.sidecar, api: o.api, web: o.web })) {
    if (!/^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/.test(v))
      throw Object.assign(new TypeError(`"${k}" must be host:port`), { code: 'ERR_INVALID_ARG_VALUE' });
  }
  if (!o.tempDir.startsWith('/') || /[\s;{}'"]/.test(o.tempDir))
    throw Object.assign(new TypeError('"tempDir" must be an absolute path without spaces or quotes'), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  const loc = (path: string, to: string) =>
    `    location ${path} {\n      proxy_pass http://${to};\n      include proxy.conf;\n    }\n`;
  // Our own minimal reproduction of the shape of Dify's server block.
  const server = [
    'server {',
    `    listen ${o.listen};`,
    '    server_name _;',
    '',
    loc('/console/api', o.api),
    loc('/api', o.api),
    loc('/v1', o.api),
    loc('/files', o.api),
    loc('/', o.web),
    '}',
    '',
  ].join('\n');
  const inserted = insertSsoLocations(server, {
    sidecar: `http://${SIDECAR_UPSTREAM}`,
    ...(o.gateWebApps ? { gateWebApps: true } : {}),
    ...(o.webAppSso ? { webAppSso: true } : {}),
    ...(o.gateServiceApi ? { gateServiceApi: true } : {}),
    ...(o.authRequestSecret ? { authRequestSecret: o.authRequestSecret } : {}),
  });
  const body = inserted.replace(/^([ \t]*)include proxy\.conf;/gm, (_m, ind: string) => ind + inlineProxyConf(ind));
  const t = o.tempDir.replace(/\/$/, '');
  return [
    `pid ${t}/nginx.pid;`,
    'worker_processes 1;',
    `error_log ${t}/error.log warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '  access_log off;',
    '  default_type application/octet-stream;',
    '  client_max_body_size 100m;',
    '  keepalive_timeout 65;',
    `  client_body_temp_path ${t}/client_body;`,
    `  proxy_temp_path ${t}/proxy;`,
    `  fastcgi_temp_path ${t}/fastcgi;`,
    `  uwsgi_temp_path ${t}/uwsgi;`,
    `  scgi_temp_path ${t}/scgi;`,
    sidecarUpstreamBlock(o.sidecar)
      .replace(/^/gm, '  ')
      .replace(/^ {2}$/gm, ''),
    body.replace(/^/gm, '  ').replace(/^ {2}$/gm, ''),
    '}',
    '',
  ].join('\n');
}
