/**
 * nginx configuration for the gate.
 *
 * - {@link insertSsoLocations} takes the user's own Dify nginx template
 *   (`docker/nginx/conf.d/default.conf.template` of the installed version, read at run time, never
 *   shipped here) and inserts, right after `server_name`, a server-level rule refusing ambiguous
 *   raw paths with 400 (`gate/raw-path.ts`) and the sidecar's locations, plus the
 *   `auth_request` lines at the top of the gated locations (`/console/api`, `/socket.io/`, and
 *   `/api` / `/v1` when web apps / the service API are gated), and at the top of **every**
 *   location that proxies (gated or not, also those a newer Dify adds: `/files`, `/mcp`,
 *   `/triggers`, `/e/`, `/openapi`, `/`, …) one `proxy_set_header <name> "";` per entry of
 *   `IDENTITY_HEADERS` (nginx's `proxy_set_header` inheritance stops at any level that defines its
 *   own, and Dify's `proxy.conf` is included in every location, so the lines must sit in each
 *   location; a template with server-level `proxy_set_header` is refused, since adding
 *   location-level lines would silently drop those). Nothing else in the template changes. A
 *   template of an unexpected shape is refused with `ERR_DIFY_NGINX_TEMPLATE`.
 * - {@link sidecarUpstreamBlock} writes the keep-alive `upstream` block for the sidecar.
 *
 * The complete `nginx.conf` of the local stack and the tests is rendered by
 * `packages/sidecar/scripts/local-nginx.ts` (not shipped).
 *
 * Inserted blocks use only lowercase nginx variables: Dify's nginx entrypoint runs `envsubst`
 * over the template with every environment variable name (docs/dify-contract.md §D2.3).
 *
 * @module
 */
import { SSO_PATHS, SSO_PREFIX } from '@dify-sso-kit/vocabulary';
import { DifyError } from '../errors.js';
import { nginxBlankDirectives } from '../gate/identity-headers.js';
import { nginxRawPathRule } from '../gate/raw-path.js';
import { DIFY_UNAVAILABLE } from '../lib/dify-unavailable.js';

export const BEGIN_MARK = '# dify-sso-kit: begin (generated; do not edit)';
export const END_MARK = '# dify-sso-kit: end';
const GATE_MARK = '# dify-sso-kit: gate';
const HEADERS_MARK = '# dify-sso-kit: identity headers (IDENTITY_HEADERS, generated)';

export interface InsertOptions {
  /** Sidecar base URL as nginx reaches it, e.g. `http://dify-sso:8080`. */
  readonly sidecar: string;
  /** Also gate the published web-app API (`location /api`). */
  readonly gateWebApps?: boolean;
  /** Also gate the service API (`location /v1`: IdP bearer in `X-Sso-Token` next to the app key). */
  readonly gateServiceApi?: boolean;
  /** Web-app SSO (`gate.webAppPolicy`): `= /api/passport` goes to the sidecar's passport broker. Needs `gateWebApps`. */
  readonly webAppSso?: boolean;
  /**
   * Value nginx sends as `X-Sso-Gate-Secret` to `/sso/auth` (`gate.authRequestSecret`): the secret
   * itself, or an envsubst reference such as `${DIFY_SSO_GATE_AUTH_REQUEST_SECRET}` for Dify's
   * nginx entrypoint. Without it, machine access works only with a loopback-only `trustProxy`.
   */
  readonly authRequestSecret?: string;
}

/** Name of the nginx `upstream` block for the sidecar (keep-alive connections for `auth_request`). */
export const SIDECAR_UPSTREAM = 'dify_sso_sidecar';

/**
 * An http-level `upstream` block for the sidecar with keep-alive connections: without it every
 * `auth_request` opens a new TCP connection. Dify's nginx includes `conf.d/*.conf` at http level,
 * so the deployment generator writes this as its own file next to the template.
 *
 * @example
 * sidecarUpstreamBlock('dify-sso:8080') // 'upstream dify_sso_sidecar { server dify-sso:8080; keepalive 32; }' (multi-line)
 */
export function sidecarUpstreamBlock(server: string, keepalive = 32): string {
  if (!/^[A-Za-z0-9._\-[\]:]+:\d{1,5}$/.test(server))
    throw Object.assign(new TypeError('"server" must be host:port'), { code: 'ERR_INVALID_ARG_VALUE' });
  return `# dify-sso-kit (generated; do not edit)\nupstream ${SIDECAR_UPSTREAM} {\n  server ${server};\n  keepalive ${keepalive};\n}\n`;
}

function sidecarLocations(
  sidecar: string,
  proxyInclude: string,
  ind: string,
  secret: string | undefined,
  webAppSso = false,
): string {
  const i2 = `${ind}  `;
  const px = (path: string) => `${ind}location ${path} {\n${i2}proxy_pass ${sidecar};\n${i2}${proxyInclude}\n${ind}}\n`;
  return [
    `${ind}${BEGIN_MARK}`,
    // Server level, before nginx picks any location (gated or not): raw paths whose reading
    // differs between nginx, werkzeug and python-engineio are refused (`gate/raw-path.ts`).
    ...nginxRawPathRule(ind),
    px(`^~ ${SSO_PREFIX}/`).trimEnd(),
    `${ind}location = ${SSO_PATHS.auth} {`,
    `${i2}internal;`,
    `${i2}proxy_pass ${sidecar};`,
    `${i2}proxy_pass_request_body off;`,
    `${i2}proxy_set_header Content-Length "";`,
    `${i2}proxy_set_header Host $host;`,
    `${i2}proxy_set_header X-Original-URI $request_uri;`,
    `${i2}proxy_set_header X-Original-Method $request_method;`,
    // ingress-nginx's name for the target: a client's copy would disagree and be refused (gate/original-request.ts).
    `${i2}proxy_set_header X-Original-URL "";`,
    `${i2}proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;`,
    `${i2}proxy_set_header X-Forwarded-Proto $scheme;`,
    ...(secret ? [`${i2}proxy_set_header X-Sso-Gate-Secret "${secret}";`] : []),
    `${i2}proxy_http_version 1.1;`,
    `${i2}proxy_set_header Connection "";`,
    `${ind}}`,
    px('= /console/api/system-features').trimEnd(),
    px('^~ /console/api/enterprise/sso/').trimEnd(),
    px('= /console/api/logout').trimEnd(),
    ...(webAppSso ? [px('= /api/passport').trimEnd()] : []),
    `${ind}location @sso_401 {`,
    `${i2}default_type application/json;`,
    `${i2}add_header Set-Cookie $sso_set_cookie_0 always;`,
    `${i2}add_header Set-Cookie $sso_set_cookie_1 always;`,
    `${i2}add_header Set-Cookie $sso_set_cookie_2 always;`,
    `${i2}add_header Cache-Control no-store always;`,
    `${i2}return 401 '{"code":"unauthorized","message":"Sign-in required.","status":401}';`,
    `${ind}}`,
    // The login target comes encoded from /sso/auth (X-Sso-Login), never from the decoded $uri;
    // anything not of the expected shape falls back to the plain login page.
    `${ind}location @sso_login {`,
    `${i2}add_header Cache-Control no-store always;`,
    `${i2}if ($sso_login !~ "^/sso/(login\\?redirect=[-A-Za-z0-9%._~!*'()]*|webapp/(denied|embed)\\?app=[A-Za-z0-9]*(&kind=[a-z]*)?)$") {`,
    `${i2}  return 302 ${SSO_PATHS.login};`,
    `${i2}}`,
    `${i2}return 302 $sso_login;`,
    `${ind}}`,
    // auth_request passes only 401/403 on: a 400 decision of the gate arrives as 403 + X-Sso-Status.
    `${ind}location @sso_403 {`,
    `${i2}default_type application/json;`,
    `${i2}add_header Cache-Control no-store always;`,
    `${i2}if ($sso_status = 400) {`,
    `${i2}  return 400 '{"code":"$sso_code","status":400}';`,
    `${i2}}`,
    `${i2}return 403 '{"code":"$sso_code","status":403}';`,
    `${ind}}`,
    // Dify (the gated location's upstream) down or timing out: a clear 502 (lib/dify-unavailable.ts).
    `${ind}location @dify_unavailable {`,
    `${i2}default_type application/json;`,
    `${i2}add_header Cache-Control no-store always;`,
    `${i2}return 502 '${JSON.stringify(DIFY_UNAVAILABLE)}';`,
    `${ind}}`,
    `${ind}${END_MARK}`,
    '',
  ].join('\n');
}

function gateLines(ind: string, replaceAuthorization: boolean): string {
  const lines = [
    GATE_MARK,
    `auth_request ${SSO_PATHS.auth};`,
    'auth_request_set $sso_set_cookie_0 $upstream_http_x_sso_set_cookie_0;',
    'auth_request_set $sso_set_cookie_1 $upstream_http_x_sso_set_cookie_1;',
    'auth_request_set $sso_set_cookie_2 $upstream_http_x_sso_set_cookie_2;',
    'auth_request_set $sso_code $upstream_http_x_sso_code;',
    'auth_request_set $sso_status $upstream_http_x_sso_status;',
    'auth_request_set $sso_login $upstream_http_x_sso_login;',
    'error_page 401 = @sso_401;',
    'error_page 403 = @sso_403;',
    'error_page 502 504 = @dify_unavailable;',
  ];
  if (replaceAuthorization) {
    lines.push(
      'auth_request_set $sso_upstream_authorization $upstream_http_x_sso_upstream_authorization;',
      'auth_request_set $sso_upstream_workspace $upstream_http_x_sso_upstream_workspace_id;',
      'proxy_set_header Authorization $sso_upstream_authorization;',
      'proxy_set_header X-WORKSPACE-ID $sso_upstream_workspace;',
    );
  }
  return `${lines.map((l) => ind + l).join('\n')}\n`;
}

/** The identity-header lines for a location; `except` = names the location sets itself. */
function headerLines(ind: string, except: readonly string[] = []): string {
  return `${[HEADERS_MARK, ...nginxBlankDirectives(except)].map((l) => ind + l).join('\n')}\n`;
}

interface LocationBlock {
  /** Index just after `{\n`. */
  readonly at: number;
  /** Index of the closing `}`. */
  readonly end: number;
  /** Indentation of the block's body. */
  readonly indent: string;
  readonly body: string;
}

/** Every `location … {` block of the template (nested ones included), with its body. */
function locationBlocks(text: string): LocationBlock[] {
  const out: LocationBlock[] = [];
  for (const m of text.matchAll(/^([ \t]*)location\b[^{\n]*\{[ \t]*\n/gm)) {
    const at = (m.index as number) + m[0].length;
    let depth = 1;
    let i = at;
    for (; i < text.length && depth > 0; i++) {
      const c = text[i];
      if (c === '#') {
        const nl = text.indexOf('\n', i);
        i = nl === -1 ? text.length : nl;
      } else if (c === '{') depth++;
      else if (c === '}') depth--;
    }
    if (depth !== 0) fail('unbalanced braces in a location block');
    out.push({ at, end: i - 1, indent: `${m[1] ?? ''}  `, body: text.slice(at, i - 1) });
  }
  return out;
}

function fail(detail: string): never {
  throw new DifyError('ERR_DIFY_NGINX_TEMPLATE', `unexpected nginx template shape: ${detail}`);
}

/** Finds `location <prefix> {` (plain prefix location) and returns the index just after `{\n`. */
function findLocation(text: string, prefix: string): { at: number; indent: string } | undefined {
  const re = new RegExp(
    `^([ \\t]*)location[ \\t]+${prefix.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}[ \\t]*\\{[ \\t]*\\n`,
    'gm',
  );
  const matches = [...text.matchAll(re)];
  if (matches.length > 1) fail(`"location ${prefix}" appears ${matches.length} times`);
  const m = matches[0];
  if (!m || m.index === undefined) return undefined;
  return { at: m.index + m[0].length, indent: `${m[1] ?? ''}  ` };
}

/**
 * Inserts the sidecar's locations into a Dify nginx template.
 *
 * @throws {DifyError} `ERR_DIFY_NGINX_TEMPLATE` when there is not exactly one `server {` with one
 * `server_name`, no `location /console/api {`, or the template already holds the kit's blocks.
 *
 * @example
 * const out = insertSsoLocations(readFileSync('docker/nginx/conf.d/default.conf.template', 'utf8'), { sidecar: 'http://dify-sso:8080' })
 */
export function insertSsoLocations(template: string, options: InsertOptions): string {
  if (!/^https?:\/\/[A-Za-z0-9._\-[\]:]+\/?$/.test(options.sidecar)) {
    throw Object.assign(new TypeError('"sidecar" must be an http URL without a path (e.g. http://dify-sso:8080)'), {
      code: 'ERR_INVALID_ARG_VALUE',
    });
  }
  const sidecar = options.sidecar.replace(/\/$/, '');
  if (
    options.authRequestSecret !== undefined &&
    !/^(\$\{[A-Z0-9_]+\}|[A-Za-z0-9._~+/=-]{32,256})$/.test(options.authRequestSecret)
  ) {
    throw Object.assign(
      new TypeError('"authRequestSecret" must be 32+ URL-safe characters or an ${ENV_VAR} reference'),
      { code: 'ERR_INVALID_ARG_VALUE' },
    );
  }
  let text = template.replace(/\r\n/g, '\n');
  if (text.includes(BEGIN_MARK) || text.includes(GATE_MARK) || text.includes(HEADERS_MARK))
    fail('it already contains the dify-sso-kit blocks (use the original Dify template)');
  const servers = text.match(/^[ \t]*server[ \t]*\{/gm) ?? [];
  if (servers.length !== 1) fail(`expected exactly one "server {" block, found ${servers.length}`);
  const names = [...text.matchAll(/^([ \t]*)server_name[ \t][^;\n]*;[ \t]*\n/gm)];
  if (names.length !== 1) fail(`expected exactly one "server_name …;" line, found ${names.length}`);
  if (/^[ \t]*location[ \t]+(=|\^~)?[ \t]*\/sso\//m.test(text)) fail('it already routes /sso/');
  const proxyInclude = /^[ \t]*include[ \t]+proxy\.conf;/m.test(text)
    ? 'include proxy.conf;'
    : 'proxy_http_version 1.1;';

  // 1. auth_request in the gated locations (bottom-up so indices stay valid).
  const gated: { prefix: string; replaceAuthorization: boolean; required: boolean }[] = [
    { prefix: '/console/api', replaceAuthorization: true, required: true },
    { prefix: '/socket.io/', replaceAuthorization: true, required: false },
    ...(options.gateWebApps ? [{ prefix: '/api', replaceAuthorization: false, required: true }] : []),
    ...(options.gateServiceApi ? [{ prefix: '/v1', replaceAuthorization: false, required: true }] : []),
  ];
  const inserts: { at: number; text: string }[] = [];
  const gateAt = new Map<number, { indent: string; replaceAuthorization: boolean }>();
  for (const g of gated) {
    const loc = findLocation(text, g.prefix);
    if (!loc) {
      if (g.required) fail(`no "location ${g.prefix} {" block`);
      continue;
    }
    gateAt.set(loc.at, { indent: loc.indent, replaceAuthorization: g.replaceAuthorization });
  }
  // Identity headers blanked in every location that proxies, gated or not.
  const blocks = locationBlocks(text);
  let serverLevel = text;
  const outer = blocks.filter((b) => !blocks.some((o) => o !== b && o.at <= b.at && b.end <= o.end));
  for (const b of [...outer].sort((x, y) => y.at - x.at))
    serverLevel = serverLevel.slice(0, b.at) + serverLevel.slice(b.end);
  if (/^[ \t]*proxy_set_header[ \t]/m.test(serverLevel))
    fail('server-level "proxy_set_header" (location-level identity-header lines would cancel its inheritance)');
  for (const b of blocks) {
    const g = gateAt.get(b.at);
    const proxies = /^[ \t]*proxy_pass[ \t]/m.test(b.body);
    if (!g && !proxies) continue;
    inserts.push({
      at: b.at,
      text:
        (g ? gateLines(g.indent, g.replaceAuthorization) : '') +
        (proxies ? headerLines(g?.indent ?? b.indent, g?.replaceAuthorization ? ['x-workspace-id'] : []) : ''),
    });
  }
  // Published web-app pages: a regex location (checked before the plain prefix `location /`) with
  // the same upstream as `location /`; a browser without a kit session is sent to the SSO login.
  let pages = '';
  if (options.gateWebApps) {
    const root = /^([ \t]*)location[ \t]+\/[ \t]*\{[ \t]*\n[^}]*?proxy_pass[ \t]+([^;\s]+);/m.exec(text);
    if (!root) fail('no "location / {" block with a proxy_pass (needed to gate web-app pages)');
    const ind = root[1] ?? '    ';
    pages = [
      `${ind}location ~ ^/(chat|chatbot|completion|workflow|agent)/ {`,
      gateLines(`${ind}  `, false)
        .replace(/error_page 401 = @sso_401;/, 'error_page 401 = @sso_login;')
        .trimEnd(),
      headerLines(`${ind}  `).trimEnd(),
      `${ind}  proxy_pass ${root[2]};`,
      `${ind}  ${proxyInclude}`,
      `${ind}}`,
      '',
    ].join('\n');
  }
  // 2. the sidecar's own locations right after server_name.
  const sn = names[0] as RegExpMatchArray;
  const snEnd = (sn.index as number) + sn[0].length;
  inserts.push({
    at: snEnd,
    text: `\n${sidecarLocations(sidecar, proxyInclude, sn[1] ?? '    ', options.authRequestSecret, options.gateWebApps === true && options.webAppSso === true).replace(`${sn[1] ?? '    '}${END_MARK}\n`, `${pages}${sn[1] ?? '    '}${END_MARK}\n`)}`,
  });
  inserts.sort((a, b) => b.at - a.at);
  for (const ins of inserts) text = text.slice(0, ins.at) + ins.text + text.slice(ins.at);
  return text;
}
