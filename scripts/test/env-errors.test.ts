// A bad environment gets a clear error that names the problem and the fix, a non-zero exit,
// and no stray process: no JDK, no Chromium, a port in use, Maven Central unreachable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import { ports } from '../lib/ports.js';

/** Runs a snippet of TypeScript in a fresh Node process (like a user running a script). */
function runTs(code: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function processesMatching(pattern: string): string[] {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

const report = `
  import { formatError } from './scripts/lib/proc.ts';
  const fail = (err) => { process.stderr.write(formatError(err) + '\\n'); process.exit(1); };
`;

test('no JDK that runs Keycloak: ERR_ENV_NO_JDK names the need and the fix', () => {
  const r = runTs(
    `${report}
    import { findJdk } from './scripts/lib/keycloak.ts';
    try { findJdk(); } catch (err) { fail(err); }`,
    {
      JAVA_HOME: '',
      DIFY_SSO_JAVA_HOME: '',
      DIFY_SSO_JVM_DIRS: join(tmpdir(), 'no-jvms-here'),
      DIFY_SSO_CACHE_DIR: join(tmpdir(), 'no-cache-here'),
    },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error ERR_ENV_NO_JDK: no JDK 21\+ found to run Keycloak/);
  assert.match(r.stderr, /fix: install a JDK 21 or newer .* then run: npm run provision$/m);
});

test('a JDK that is too old is named and refused', () => {
  const jvms = mkdtempSync(join(tmpdir(), 'jvms-'));
  const fake = join(jvms, 'java-17-fake', 'bin');
  execFileSync('mkdir', ['-p', fake]);
  writeFileSync(join(fake, 'java'), '#!/bin/sh\necho \'openjdk version "17.0.15" 2025-04-15\' >&2\n', { mode: 0o755 });
  const r = runTs(
    `${report}
    import { findJdk } from './scripts/lib/keycloak.ts';
    try { findJdk(); } catch (err) { fail(err); }`,
    { JAVA_HOME: '', DIFY_SSO_JAVA_HOME: '', DIFY_SSO_JVM_DIRS: jvms, DIFY_SSO_CACHE_DIR: join(jvms, 'cache') },
  );
  rmSync(jvms, { recursive: true, force: true });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ERR_ENV_NO_JDK: .*found only: .*java-17-fake \(Java 17\)/);
});

test('no Chromium: ERR_ENV_NO_CHROMIUM with the provision fix', () => {
  const r = runTs(
    `${report}
    import { findChromium } from './scripts/lib/chromium.ts';
    try { findChromium(); } catch (err) { fail(err); }`,
    { DIFY_SSO_CHROMIUM: '/nonexistent/chromium' },
  );
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error ERR_ENV_NO_CHROMIUM: DIFY_SSO_CHROMIUM=\/nonexistent\/chromium does not exist/);
  assert.match(r.stderr, /fix: run: npm run provision/);
});

test('a port in use: Redis refuses to start, names the port, leaves no process', async () => {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as { port: number }).port;
  try {
    const r = runTs(`${report}
      import { startRedis } from './scripts/lib/redis.ts';
      try { await startRedis({ port: ${port}, name: 'redis-port-test' }); } catch (err) { fail(err); }`);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`error ERR_ENV_PORT_IN_USE: port 127.0.0.1:${port} needed by redis-port-test is already in use`),
    );
    assert.match(r.stderr, /fix: stop the process listening there/);
    assert.deepEqual(processesMatching(`redis-server.*--port ${port}`), []);
  } finally {
    blocker.close();
  }
});

test('a port in use: Keycloak refuses to start and spawns no JVM', async () => {
  // The test Keycloak normally holds this port already; if not, hold it ourselves.
  const blocker: Server = createServer();
  const held = await new Promise<boolean>((resolve) => {
    blocker.once('error', () => resolve(false));
    blocker.listen(ports.keycloak, '127.0.0.1', () => resolve(true));
  });
  const before = processesMatching('kc.sh start-dev').length;
  try {
    const r = runTs(`${report}
      import { startKeycloak } from './scripts/lib/keycloak.ts';
      try { await startKeycloak({ log: () => {} }); } catch (err) { fail(err); }`);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(`error ERR_ENV_PORT_IN_USE: port 127.0.0.1:${ports.keycloak} needed by keycloak is already in use`),
    );
    assert.equal(processesMatching('kc.sh start-dev').length, before);
  } finally {
    if (held) blocker.close();
  }
});

test('Maven Central unreachable: ERR_ENV_MAVEN_UNREACHABLE with the manual-download fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'maven-down-'));
  const settings = join(dir, 'settings.xml');
  // Every repository is mirrored to a loopback port where nothing listens.
  writeFileSync(
    settings,
    `<settings><mirrors><mirror><id>down</id><mirrorOf>*</mirrorOf><url>https://127.0.0.1:9/maven2</url></mirror></mirrors></settings>`,
  );
  try {
    const r = runTs(
      `${report}
      import { provisionKeycloak } from './scripts/lib/keycloak.ts';
      try { await provisionKeycloak(() => {}); } catch (err) { fail(err); }`,
      {
        DIFY_SSO_CACHE_DIR: join(dir, 'cache'),
        DIFY_SSO_MAVEN_OPTS: `-s ${settings} -Dmaven.repo.local=${join(dir, 'm2')}`,
      },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /error ERR_ENV_MAVEN_UNREACHABLE: could not download the Keycloak distribution from Maven Central/,
    );
    assert.match(
      r.stderr,
      /fix: check network access to Maven Central .*or download keycloak-quarkus-dist-26\.7\.3\.zip yourself/,
    );
    assert.deepEqual(processesMatching(`maven.repo.local=${join(dir, 'm2')}`), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a service that dies while starting: its log tail is shown and its process group is gone', () => {
  const r = runTs(`${report}
    import { startService, waitUntil } from './scripts/lib/proc.ts';
    const s = startService({ name: 'dies-early', command: 'sh', args: ['-c', 'echo cannot bind; sleep 0.2; exit 3'] });
    try { await waitUntil('dies-early', async () => false, { timeoutMs: 20000, service: s }); }
    catch (err) { process.stderr.write('pid=' + s.pid + '\\n'); fail(err); }`);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /ERR_ENV_START_FAILED: dies-early exited \(code 3\) before it was ready:\n\s+cannot bind/);
  const pid = Number(/pid=(\d+)/.exec(r.stderr)?.[1]);
  assert.ok(pid > 0);
  assert.throws(() => process.kill(-pid, 0));
});
