/**
 * The programs of the differential tests, all on 127.0.0.1 ephemeral ports:
 *
 *   python upstream: gunicorn (gevent worker) serving `upstream/app.py` (werkzeug via Flask +
 *                    python-socketio / python-engineio), recording every request it receives;
 *   mode "nginx":    real nginx with the kit's locations inserted by `insertSsoLocations` into our
 *                    own reproduction of the shape of Dify's server template → the sidecar's
 *                    `/sso/auth`; every api location proxies to the python upstream;
 *   mode "proxy":    the sidecar in reverse-proxy mode in front of the python upstream.
 *
 * The sidecars run in-process (`buildApp`) against the real Redis; the Dify stand-in answers the
 * bridge's own calls (admin API, session seeding, setup status) through an injected fetch, so
 * the python upstream only ever sees requests that came through a gate.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/load.js';
import { insertSsoLocations } from '../../src/deploy/nginx.js';
import { difyCookieSettings } from '../../src/dify/bridge.js';
import { difyCookieName } from '../../src/dify/contract/cookies.js';
import { ensurePythonUpstream } from '../../../../scripts/lib/python-upstream.js';
import { login } from '../helpers/harness.js';
import type { HostileOp } from '../helpers/hostile-op.js';
import { USERS, bridgeEnv, setCookieValue, type Standin } from '../dify/helpers.js';
import { freePort, startNginx, tempDir, wrapServer } from '../gate/nginx-helpers.js';

export type Mode = 'nginx' | 'proxy';
export const MODES: readonly Mode[] = ['nginx', 'proxy'];

const here = dirname(fileURLToPath(import.meta.url));

/** One record of the python upstream (see `upstream/app.py`). */
export interface UpstreamRecord {
  readonly kind: 'flask' | 'engineio';
  readonly endpoint: string | null;
  readonly method: string;
  readonly path: string;
  readonly rawUri: string | null;
  readonly marker: string | null;
  readonly cookies: Record<string, { fp: string; account?: string | null }>;
  readonly headers: readonly string[];
  readonly signedFile: boolean;
  readonly upgrade: string | null;
  /** Flask answered OPTIONS itself (no view ran). */
  readonly preflight: boolean;
}

export interface Upstream {
  readonly port: number;
  /** Records written after byte `offset` of the record file. */
  recordsSince(offset: number): UpstreamRecord[];
  /** Current end of the record file. */
  offset(): number;
  stop(): Promise<void>;
}

export async function startUpstream(): Promise<Upstream> {
  const py = ensurePythonUpstream();
  const dir = tempDir();
  const file = join(dir, 'records.jsonl');
  writeFileSync(file, '');
  const port = await freePort();
  const proc: ChildProcess = spawn(
    py.gunicorn,
    [
      '--chdir',
      join(here, 'upstream'),
      '-k',
      'gevent',
      '-w',
      '1',
      '-b',
      `127.0.0.1:${port}`,
      '--log-level',
      'warning',
      '--error-logfile',
      join(dir, 'gunicorn.log'),
      'app:application',
    ],
    {
      env: { ...process.env, DIFF_RECORD_FILE: file, PYTHONDONTWRITEBYTECODE: '1' },
      detached: true,
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null)
      throw new Error(
        `gunicorn exited: ${existsSync(join(dir, 'gunicorn.log')) ? readFileSync(join(dir, 'gunicorn.log'), 'utf8') : ''}`,
      );
    try {
      const res = await fetch(`http://127.0.0.1:${port}/__ready`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      break;
    } catch {
      if (i > 200) throw new Error('gunicorn did not start');
      await new Promise((r) => setTimeout(r, 50)); // polling for readiness, not a timing assertion
    }
  }
  return {
    port,
    offset: () => statSync(file).size,
    recordsSince: (offset) =>
      readFileSync(file)
        .subarray(offset)
        .toString('utf8')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as UpstreamRecord),
    stop: async () => {
      try {
        process.kill(-(proc.pid as number), 'SIGTERM');
      } catch {
        /* gone */
      }
      await exited;
    },
  };
}

/** A person with a kit session: what the browser holds after the SSO login. */
export interface Person {
  /** `name=value` pairs of the kit's own cookies. */
  readonly kit: string;
  readonly access: string;
  readonly refresh: string;
  readonly csrf: string;
  readonly account: string;
  readonly refreshFp: string;
}

export const fingerprint = (value: string): string =>
  createHash('sha256').update(value, 'utf8').digest('hex').slice(0, 16);

function accountOf(access: string): string {
  const payload = JSON.parse(Buffer.from(access.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
    user_id?: string;
  };
  if (!payload.user_id) throw new Error('access cookie without user_id');
  return payload.user_id;
}

export interface GateStack {
  readonly mode: Mode;
  /** Where the harness sends requests (nginx or the sidecar itself). */
  readonly port: number;
  readonly host: string;
  readonly app: FastifyInstance;
  people: { A: Person; B: Person };
  /** Names of the Dify cookies dify-api reads in this deployment (`__Host-` only on HTTPS). */
  readonly difyCookies: { readonly access: string; readonly refresh: string };
  /** Logs person `who` in again (after a case that may have ended their session). */
  relogin(who: 'A' | 'B'): Promise<void>;
  /** An SSO login of any IdP user: the Dify account its access cookie names, or undefined when no Dify session resulted. */
  loginAccount(user: { sub: string; claims: Record<string, unknown> }): Promise<string | undefined>;
  /** Account id of a Dify member with this e-mail, created through Dify's admin API (invitation + activation) when missing. */
  ensureMember(email: string): Promise<string>;
  /** Whether the kit session of `who` is still live (asked through the sidecar's own gate). */
  sessionLive(who: 'A' | 'B'): Promise<boolean>;
  close(): Promise<void>;
}

/** Our own minimal reproduction of the shape of Dify's nginx server template (dify `docker/nginx/conf.d/default.conf.template`). */
function difyShapedTemplate(listen: string, api: string, web: string): string {
  const loc = (path: string, to: string, extra: string[] = []) =>
    [
      `    location ${path} {`,
      `      proxy_pass http://${to};`,
      '      include proxy.conf;',
      ...extra.map((l) => `      ${l}`),
      '    }',
      '',
    ].join('\n');
  return [
    'server {',
    `    listen ${listen};`,
    '    server_name _;',
    '',
    loc('/console/api', api),
    loc('/api', api),
    loc('/v1', api),
    loc('/files', api),
    loc('/explore', web),
    loc('/e/', api),
    loc('/mcp', api),
    loc('/triggers', api),
    loc('/socket.io/', api, ['proxy_set_header Upgrade $http_upgrade;', 'proxy_set_header Connection "upgrade";']),
    loc('/', web),
    '}',
    '',
  ].join('\n');
}

export async function startGate(
  mode: Mode,
  upstream: Upstream,
  shared: { op: HostileOp; standin: Standin },
): Promise<GateStack> {
  const pyBase = `http://127.0.0.1:${upstream.port}`;
  const { op, standin } = shared;
  // The bridge's own calls to dify-api go to the stand-in; the gate's traffic to the python upstream.
  const bridgeFetch: typeof fetch = (input, init) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    return fetch(url.startsWith(pyBase) ? standin.url + url.slice(pyBase.length) : url, init);
  };
  const frontPort = await freePort();
  const sidecarPort = mode === 'proxy' ? frontPort : await freePort();
  const publicUrl = `http://127.0.0.1:${frontPort}`;
  const env = bridgeEnv(op, standin, {
    DIFY_SSO_PUBLIC_URL: publicUrl,
    DIFY_SSO_DIFY_API_URL: pyBase,
    DIFY_SSO_DIFY_WEB_URL: pyBase,
    DIFY_SSO_GATE_WEB_APPS: 'true',
    DIFY_SSO_LOG_LEVEL: 'warn',
    ...(mode === 'proxy'
      ? { DIFY_SSO_GATE_MODE: 'proxy', DIFY_SSO_TRUST_PROXY: '192.0.2.1' }
      : { DIFY_SSO_TRUST_PROXY: '127.0.0.1' }),
  });
  const app = buildApp(loadConfig(env), { logStream: { write: () => undefined }, dify: { fetch: bridgeFetch } });
  await app.listen({ host: '127.0.0.1', port: sidecarPort });

  let nginx: Awaited<ReturnType<typeof startNginx>> | undefined;
  if (mode === 'nginx') {
    const dir = tempDir();
    const server = insertSsoLocations(
      difyShapedTemplate(`127.0.0.1:${frontPort}`, `127.0.0.1:${upstream.port}`, `127.0.0.1:${upstream.port}`),
      {
        sidecar: `http://127.0.0.1:${sidecarPort}`,
        gateWebApps: true,
      },
    );
    nginx = await startNginx(wrapServer(dir, server), dir, frontPort);
  }

  const logIn = async (user: { sub: string; claims: Record<string, unknown> }): Promise<Person> => {
    const { callbackRes, jar } = await login(app, op, { user });
    const sc = callbackRes.headers['set-cookie'];
    const access = setCookieValue(sc, 'access_token');
    const refresh = setCookieValue(sc, 'refresh_token');
    const csrf = setCookieValue(sc, 'csrf_token');
    const kit = [...jar]
      .filter(([k]) => /dify_sso$/.test(k))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ');
    if (!access || !refresh || !csrf || !kit)
      throw new Error(`login of ${user.sub} did not yield the kit and Dify cookies (${callbackRes.statusCode})`);
    return { kit, access, refresh, csrf, account: accountOf(access), refreshFp: fingerprint(refresh) };
  };
  const users = { A: USERS.alice, B: USERS.bob } as const;
  const people = { A: await logIn(users.A), B: await logIn(users.B) };
  if (people.A.account === people.B.account) throw new Error('A and B must be different Dify accounts');

  const stack: GateStack = {
    mode,
    port: frontPort,
    host: `127.0.0.1:${frontPort}`,
    app,
    people,
    difyCookies: {
      access: difyCookieName('access_token', difyCookieSettings(app.sso.config)),
      refresh: difyCookieName('refresh_token', difyCookieSettings(app.sso.config)),
    },
    relogin: async (who) => {
      stack.people = { ...stack.people, [who]: await logIn(users[who]) };
    },
    loginAccount: async (user) => {
      const { callbackRes } = await login(app, op, { user });
      const access = setCookieValue(callbackRes.headers['set-cookie'], 'access_token');
      return access ? accountOf(access) : undefined;
    },
    ensureMember: async (email) => {
      const admin = app.difyBridge.admin;
      const find = async () => (await admin.listMembers()).find((m) => m.email.toLowerCase() === email.toLowerCase());
      const existing = await find();
      if (existing) return existing.id;
      const inv = await admin.inviteEmail(email, 'editor');
      const token = inv.url ? new URL(inv.url, 'http://invalid').searchParams.get('token') : null;
      if (token) await admin.activate({ email, token, name: email.split('@')[0] ?? email });
      const made = await find();
      if (!made) throw new Error(`member ${email} could not be created`);
      return made.id;
    },
    sessionLive: async (who) => {
      const p = stack.people[who];
      const res = await app.inject({
        method: 'GET',
        url: '/sso/auth',
        remoteAddress: mode === 'proxy' ? '192.0.2.1' : '127.0.0.1',
        headers: {
          'x-original-uri': '/console/api/account/profile',
          'x-original-method': 'GET',
          cookie: `${p.kit}; access_token=${p.access}`,
        },
      });
      return res.statusCode >= 200 && res.statusCode < 300;
    },
    close: async () => {
      await nginx?.stop();
      // Hostile cases leave half-sent requests behind (smuggling, unfinished bodies): do not wait for them.
      app.server.closeAllConnections();
      await app.close();
    },
  };
  return stack;
}
