/**
 * The real Keycloak for tests and the demo: the official server distribution
 * (org.keycloak:keycloak-quarkus-dist, zip, from Maven Central) in the cache folder, started
 * in dev mode on loopback with an in-memory database and e2e/keycloak/realm.json imported.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, createReadStream } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, repoRoot } from './paths.js';
import { NO_JDK_FIX, cachedJavaHomes } from './java.js';
import { EnvError, assertPortFree, httpOk, startService, waitUntil, type Service } from './proc.js';
import { ports, urls, REALM } from './ports.js';

export const KEYCLOAK_VERSION = '26.7.3';
/** sha256 of keycloak-quarkus-dist-26.7.3.zip as published on Maven Central. */
export const KEYCLOAK_SHA256 = '27a6535553c3cdcd083872ba40629efafb3475e3b758e0c6f691395561dd0f1f';
/** Keycloak 26 runs on Java 21 or newer. */
export const MIN_JAVA = 21;
export const ADMIN = { username: 'admin', password: 'admin' } as const;
export const realmFile = join(repoRoot, 'e2e', 'keycloak', 'realm.json');

export const keycloakRoot = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'keycloak');
export const keycloakHome = (env: NodeJS.ProcessEnv = process.env): string =>
  join(keycloakRoot(env), `keycloak-${KEYCLOAK_VERSION}`);
const zipName = `keycloak-quarkus-dist-${KEYCLOAK_VERSION}.zip`;

export interface Jdk {
  home: string;
  major: number;
}

/** Major version of the JDK in `home`, or undefined when it has no working java. */
export function jdkMajor(home: string): number | undefined {
  const java = join(home, 'bin', 'java');
  if (!existsSync(java)) return undefined;
  const r = spawnSync(java, ['-version'], { encoding: 'utf8' });
  const text = `${r.stderr}${r.stdout}`;
  const m = /version "(\d+)(?:\.(\d+))?/.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 ? Number(m[2]) : first;
}

/**
 * Finds a JDK that runs Keycloak: DIFY_SSO_JAVA_HOME, JAVA_HOME, then every JDK in the
 * standard JVM folder(s) (DIFY_SSO_JVM_DIRS, colon-separated; default /usr/lib/jvm), newest first,
 * then the runtimes provision installed into the cache folder (scripts/lib/java.ts).
 */
export function findJdk(env: NodeJS.ProcessEnv = process.env): Jdk {
  const candidates: string[] = [];
  if (env.DIFY_SSO_JAVA_HOME) candidates.push(env.DIFY_SSO_JAVA_HOME);
  if (env.JAVA_HOME) candidates.push(env.JAVA_HOME);
  for (const dir of (env.DIFY_SSO_JVM_DIRS ?? '/usr/lib/jvm').split(':').filter(Boolean)) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort().reverse()) candidates.push(join(dir, name));
  }
  candidates.push(...cachedJavaHomes(env));
  const seen: string[] = [];
  let best: Jdk | undefined;
  for (const home of candidates) {
    const major = jdkMajor(home);
    if (major === undefined) continue;
    seen.push(`${home} (Java ${major})`);
    if (major >= MIN_JAVA && (!best || major > best.major)) best = { home, major };
  }
  if (!best) {
    throw new EnvError(
      'ERR_ENV_NO_JDK',
      `no JDK ${MIN_JAVA}+ found to run Keycloak ${KEYCLOAK_VERSION}${seen.length ? `; found only: ${seen.join(', ')}` : ''}`,
      NO_JDK_FIX,
    );
  }
  return best;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Makes sure the Keycloak distribution is unpacked in the cache folder: downloads the zip from
 * Maven Central with mvn when missing, verifies its sha256, unpacks it. Idempotent.
 */
export async function provisionKeycloak(
  log: (m: string) => void,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const home = keycloakHome(env);
  if (existsSync(join(home, 'bin', 'kc.sh')) && existsSync(join(home, '.dify-sso-verified'))) {
    log(`keycloak: distribution ${KEYCLOAK_VERSION} already in ${home}`);
    return home;
  }
  const root = keycloakRoot(env);
  mkdirSync(root, { recursive: true });
  const zip = join(root, zipName);
  if (!existsSync(zip)) {
    log(`keycloak: downloading org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip from Maven Central (mvn)`);
    const extra = (env.DIFY_SSO_MAVEN_OPTS ?? '').split(' ').filter(Boolean);
    const r = spawnSync(
      'mvn',
      [
        '-B',
        '-q',
        ...extra,
        'dependency:copy',
        `-Dartifact=org.keycloak:keycloak-quarkus-dist:${KEYCLOAK_VERSION}:zip`,
        `-DoutputDirectory=${root}`,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new EnvError(
        'ERR_ENV_NO_KEYCLOAK',
        'mvn (Apache Maven) is not installed, so the Keycloak distribution cannot be downloaded',
        `install Maven (apt-get install -y maven), or put ${zipName} into ${root}`,
      );
    }
    if (r.status !== 0 || !existsSync(zip)) {
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-6).join('\n    ');
      throw new EnvError(
        'ERR_ENV_MAVEN_UNREACHABLE',
        `could not download the Keycloak distribution from Maven Central:\n    ${out}`,
        `check network access to Maven Central (proxy settings in ~/.m2/settings.xml), or download ${zipName} yourself and put it into ${root}`,
      );
    }
  }
  const digest = await sha256(zip);
  if (digest !== KEYCLOAK_SHA256) {
    rmSync(zip, { force: true });
    throw new EnvError(
      'ERR_ENV_CHECKSUM',
      `${zipName} has sha256 ${digest}, expected ${KEYCLOAK_SHA256}; the file was removed`,
      'run again to download a fresh copy; if it fails again, the download is being tampered with',
    );
  }
  log(`keycloak: sha256 verified (${digest})`);
  rmSync(home, { recursive: true, force: true });
  execFileSync('unzip', ['-q', '-o', zip, '-d', root]);
  execFileSync('sh', ['-c', `: > "${join(home, '.dify-sso-verified')}"`]);
  log(`keycloak: unpacked into ${home}`);
  return home;
}

export const discoveryUrl = `${urls.keycloakIssuer}/.well-known/openid-configuration`;

export async function keycloakReady(): Promise<boolean> {
  return httpOk(discoveryUrl);
}

/** Reads "Keycloak X on JVM … started in …" from the log. */
export function startedLine(logFile: string): string | undefined {
  try {
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .find((l) => /Keycloak [\d.]+ on JVM .* started/.test(l))
      ?.replace(/^.*?(Keycloak )/, '$1');
  } catch {
    return undefined;
  }
}

/**
 * Starts Keycloak in dev mode on loopback with the test realm imported, and waits until the
 * realm's discovery document answers.
 */
export async function startKeycloak(opts: {
  daemon?: boolean;
  log: (m: string) => void;
  env?: NodeJS.ProcessEnv;
}): Promise<Service> {
  const env = opts.env ?? process.env;
  const home = keycloakHome(env);
  if (!existsSync(join(home, 'bin', 'kc.sh'))) {
    throw new EnvError('ERR_ENV_NO_KEYCLOAK', `the Keycloak distribution is not in ${home}`, 'run: npm run provision');
  }
  const jdk = findJdk(env);
  await assertPortFree(ports.keycloak, 'keycloak');
  await assertPortFree(ports.keycloakManagement, 'keycloak (management interface)');
  const importDir = join(home, 'data', 'import');
  rmSync(importDir, { recursive: true, force: true });
  mkdirSync(importDir, { recursive: true });
  copyFileSync(realmFile, join(importDir, `${REALM}-realm.json`));
  opts.log(`keycloak: starting ${KEYCLOAK_VERSION} on ${urls.keycloak} with Java ${jdk.major} (${jdk.home})`);
  const service = startService({
    name: 'keycloak',
    command: 'bash',
    args: [
      join(home, 'bin', 'kc.sh'),
      'start-dev',
      '--db=dev-mem',
      '--http-host=127.0.0.1',
      `--http-port=${ports.keycloak}`,
      `--http-management-port=${ports.keycloakManagement}`,
      '--hostname-strict=false',
      '--import-realm',
    ],
    env: {
      JAVA_HOME: jdk.home,
      PATH: `${join(jdk.home, 'bin')}:${process.env.PATH ?? ''}`,
      KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      JAVA_OPTS_KC_HEAP: '-XX:MaxRAMPercentage=20 -XX:InitialRAMPercentage=2',
    },
    daemon: opts.daemon,
  });
  await waitUntil(`keycloak (${discoveryUrl})`, keycloakReady, { timeoutMs: 240_000, service, intervalMs: 500 });
  await ensureRealmExtras();
  opts.log(`keycloak: ${startedLine(service.logFile) ?? 'started'}`);
  return service;
}

/** An admin access token for the master realm (admin-cli). */
export async function adminToken(): Promise<string> {
  const res = await fetch(`${urls.keycloak}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: ADMIN.username,
      password: ADMIN.password,
    }),
  });
  if (!res.ok) throw new Error(`keycloak admin login failed: HTTP ${res.status}`);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

async function admin(path: string, init: RequestInit & { token: string }): Promise<Response> {
  const { token, ...rest } = init;
  return fetch(`${urls.keycloak}/admin/realms/${REALM}${path}`, {
    ...rest,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(rest.headers ?? {}) },
  });
}

/**
 * What a realm import cannot express without replacing Keycloak's built-in client scopes:
 * the `dify:console` scope that machine clients must carry. Created through the admin API;
 * idempotent.
 */
export async function ensureRealmExtras(): Promise<void> {
  const token = await adminToken();
  const scopes = (await (await admin('/client-scopes', { token })).json()) as Array<{ id: string; name: string }>;
  let scope = scopes.find((s) => s.name === 'dify:console');
  if (!scope) {
    const res = await admin('/client-scopes', {
      token,
      method: 'POST',
      body: JSON.stringify({
        name: 'dify:console',
        description: 'Machine access to the Dify console API through dify-sso-kit',
        protocol: 'openid-connect',
        attributes: { 'include.in.token.scope': 'true', 'display.on.consent.screen': 'false' },
      }),
    });
    if (res.status !== 201) throw new Error(`keycloak: creating client scope dify:console failed: HTTP ${res.status}`);
    const again = (await (await admin('/client-scopes', { token })).json()) as Array<{ id: string; name: string }>;
    scope = again.find((s) => s.name === 'dify:console');
  }
  if (!scope) throw new Error('keycloak: client scope dify:console missing after creation');
  const clients = (await (await admin('/clients?clientId=dify-machine', { token })).json()) as Array<{ id: string }>;
  const client = clients[0];
  if (!client) throw new Error('keycloak: client dify-machine missing from the realm');
  const res = await admin(`/clients/${client.id}/default-client-scopes/${scope.id}`, { token, method: 'PUT' });
  if (!res.ok) throw new Error(`keycloak: assigning dify:console to dify-machine failed: HTTP ${res.status}`);
}
