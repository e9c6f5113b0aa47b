import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { PatchError, SsoError } from '../errors.js';
import { applyPlan, applyRevert, assertCleanTree, checkPatch, KIT_VERSION, planPatch, readManifest } from '../patch.js';
import { SUPPORTED_VERSIONS } from '../registry.js';
import type { Engine, ImageDeps } from './engine.js';
import { defaultDeps, detectEngine, engineSetup, engineUsable, ENGINES } from './engine.js';
import { webLayout } from './layout.js';
import type { WebLayout } from './layout.js';

export type { Engine, ImageDeps } from './engine.js';
export type { WebLayout } from './layout.js';
export { webLayout } from './layout.js';

/** Where `dify-sso image` writes (injected by the CLI table and by tests). */
export type ImageIo = { out: (t: string) => void; err: (t: string) => void };

const USAGE = `Usage: dify-sso image web <dify-checkout> --tag <ref> [options]

Patches the checkout's web/ with the codemods (as dify-sso patch), builds it with the
checkout's own web/Dockerfile, then adds the kit's hardening layer (non-root, read-only root
filesystem with tmpfs mounts, telemetry off, HEALTHCHECK, labels). See the README.

Options:
  --tag REF                 name of the final image (required)
  --engine docker|podman    container engine (default: Docker when its engine answers, else podman)
  --build-arg KEY=VALUE     build argument for web/Dockerfile (repeatable)
  --ca-file FILE            CA bundle given to the build as secret "npm-ca" (registry behind a TLS proxy)
  --dry                     check and print what would be done; change and build nothing
  -h, --help                show this help

Supported Dify versions: ${SUPPORTED_VERSIONS.join(', ')}`;

/** The kit's hardening Containerfile: shipped next to the package, or at the repository root. */
export function hardeningContainerfile(): string | undefined {
  for (const rel of ['../../images/web-hardening/Containerfile', '../../../../images/web-hardening/Containerfile']) {
    const path = fileURLToPath(new URL(rel, import.meta.url));
    if (existsSync(path)) return path;
  }
  return undefined;
}

/** Splits `name[:tag]` (a registry port is not a tag) into name and tag. */
export function splitRef(ref: string): { name: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon > slash) return { name: ref.slice(0, colon), tag: ref.slice(colon + 1) };
  return { name: ref, tag: 'latest' };
}

const REF = /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?$/;
const BUILD_ARG = /^[A-Za-z_]\w*=/;

/** Everything one run would do. */
export type ImagePlan = {
  checkout: string;
  version: string;
  slugs: string[];
  engine: Engine;
  layout: WebLayout;
  /** Intermediate image: the checkout's own web/Dockerfile, patched. */
  baseRef: string;
  ref: string;
  /** The two builds, argv after the engine name (global engine args included). */
  builds: string[][];
  env: NodeJS.ProcessEnv;
  changes: number;
};

type Parsed = {
  checkout: string;
  tag: string;
  engine: Engine | undefined;
  buildArgs: string[];
  caFile: string | undefined;
  dry: boolean;
};

function usage(io: ImageIo, message: string): number {
  io.err(`error ERR_INVALID_ARG_VALUE: ${message}`);
  io.err(USAGE);
  return 2;
}

function parse(argv: readonly string[], io: ImageIo): Parsed | number {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        tag: { type: 'string' },
        engine: { type: 'string' },
        'build-arg': { type: 'string', multiple: true },
        'ca-file': { type: 'string' },
        dry: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    return usage(io, (e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.out(USAGE);
    return 0;
  }
  if (positionals[0] !== 'web')
    return usage(
      io,
      positionals[0] === undefined
        ? 'missing image kind: web'
        : `unknown image kind ${JSON.stringify(positionals[0])}; expected web`,
    );
  const checkout = positionals[1];
  if (positionals.length !== 2 || checkout === undefined) return usage(io, 'exactly one <dify-checkout> is required');
  const tag = values.tag;
  if (tag === undefined || tag === '') return usage(io, '"--tag" is required: the name of the image to build');
  if (!REF.test(tag))
    return usage(io, `"--tag" must be an image reference in lower case (name[:tag]), got ${JSON.stringify(tag)}`);
  const engine = values.engine;
  if (engine !== undefined && !(ENGINES as readonly string[]).includes(engine))
    return usage(io, `"--engine" must be docker or podman, got ${JSON.stringify(engine)}`);
  const buildArgs = values['build-arg'] ?? [];
  for (const a of buildArgs) {
    if (!BUILD_ARG.test(a)) return usage(io, `"--build-arg" must be KEY=VALUE, got ${JSON.stringify(a)}`);
  }
  const caFile = values['ca-file'];
  if (caFile !== undefined && !existsSync(caFile))
    return usage(io, `"--ca-file" ${JSON.stringify(caFile)} does not exist`);
  return { checkout, tag, engine: engine as Engine | undefined, buildArgs, caFile, dry: values.dry };
}

/**
 * Checks everything that can be checked before anything is written or built: the checkout
 * (version supported, tree clean, every transform finds its target), its web/Dockerfile, the
 * engine and the hardening Containerfile. Throws the codemods' stable codes.
 */
export function planImage(p: Parsed, deps: ImageDeps, hardeningDir: string): ImagePlan {
  const plan = planPatch(p.checkout);
  assertCleanTree(plan.checkout, plan.manifest, plan.version);
  const dockerfile = join(plan.checkout, 'web', 'Dockerfile');
  if (!existsSync(dockerfile))
    throw new PatchError(
      'ERR_PATCH_NO_DOCKERFILE',
      `web/Dockerfile not found in ${plan.checkout} (Dify ${plan.version}); the web image is built with the checkout's own Dockerfile`,
      { version: plan.version, file: 'web/Dockerfile' },
    );
  const layout = webLayout(readFileSync(dockerfile, 'utf8'));
  const containerfile = hardeningContainerfile();
  if (containerfile === undefined)
    throw new PatchError(
      'ERR_PATCH_NO_DOCKERFILE',
      "the kit's images/web-hardening/Containerfile is missing from this installation",
      { file: 'images/web-hardening/Containerfile' },
    );
  const engine = p.engine ?? detectEngine(deps);
  if (engine === undefined || !engineUsable(engine, deps)) {
    throw new PatchError(
      'ERR_PATCH_ENGINE_NOT_FOUND',
      engine === undefined
        ? 'no container engine: neither a Docker engine answers nor is podman installed'
        : `${engine} is not usable here${engine === 'docker' ? ' (no Docker engine answers)' : ' (not installed)'}`,
      { version: plan.version },
    );
  }
  const setup = engineSetup(engine, deps.env);
  const { name, tag } = splitRef(p.tag);
  const baseRef = `${name}:${tag}-unhardened`;
  // podman writes OCI images by default, and OCI has no HEALTHCHECK: ask for the Docker format.
  const format = engine === 'podman' ? ['--format', 'docker'] : [];
  const secret = p.caFile ? ['--secret', `id=npm-ca,src=${p.caFile}`] : [];
  const difyBuild = [
    ...setup.args,
    'build',
    ...format,
    ...secret,
    ...p.buildArgs.flatMap((a) => ['--build-arg', a]),
    '-f',
    dockerfile,
    '-t',
    baseRef,
    join(plan.checkout, layout.context),
  ];
  const slugs =
    plan.manifest?.difyVersion === plan.version && plan.changes.length === 0 ? plan.manifest.slugs : plan.slugs;
  // The hardening layer is one small layer: podman (vfs storage copies the whole root per
  // committed step) commits only the final image.
  const hardening = [
    ...setup.args,
    'build',
    ...format,
    ...(engine === 'podman' ? ['--layers=false'] : []),
    '--build-arg',
    `BASE_IMAGE=${baseRef}`,
    '--build-arg',
    `DIFY_VERSION=${plan.version}`,
    '--build-arg',
    `KIT_VERSION=${KIT_VERSION}`,
    '--build-arg',
    `TRANSFORMS=${slugs.join(',')}`,
    '--build-arg',
    `NEXT_CACHE_DIR=${layout.writableDirs[1]}`,
    '-f',
    containerfile,
    '-t',
    p.tag,
    hardeningDir,
  ];
  return {
    checkout: plan.checkout,
    version: plan.version,
    slugs: [...slugs],
    engine,
    layout,
    baseRef,
    ref: p.tag,
    builds: [difyBuild, hardening],
    env: setup.env,
    changes: plan.changes.length,
  };
}

function runHint(plan: ImagePlan): string {
  const tmpfs = plan.layout.writableDirs.map((d) => `--tmpfs ${d}:mode=1777`).join(' ');
  return `${plan.engine} run --read-only ${tmpfs} --cap-drop all --security-opt no-new-privileges -p 127.0.0.1:3000:3000 ${plan.ref}`;
}

/**
 * `dify-sso image web <dify-checkout> --tag <ref> [--engine docker|podman] [--dry]`: patches
 * the checkout's web/ with the codemods, builds it with the checkout's own web/Dockerfile, then
 * builds the kit's hardening layer (images/web-hardening/Containerfile) on top. Refuses an
 * unsupported version or a dirty tree with the codemods' codes before anything is written or
 * built; when a build fails, a patch applied by this run is reverted.
 * Returns the exit code: 0 built (or --dry), 1 refused or failed, 2 usage.
 *
 * @example
 * process.exitCode = await imageMain(['web', '/src/dify', '--tag', 'acme/dify-web:1.16.1-sso'], io)
 */
export async function imageMain(argv: string[], io: ImageIo, deps: ImageDeps = defaultDeps): Promise<number> {
  const p = parse(argv, io);
  if (typeof p === 'number') return p;
  const hardeningDir = mkdtempSync(join(tmpdir(), 'dify-sso-web-hardening-'));
  try {
    let plan: ImagePlan;
    try {
      plan = planImage(p, deps, hardeningDir);
    } catch (e) {
      if (e instanceof SsoError) {
        io.err(`error ${e.code}: ${e.message}`);
        return 1;
      }
      throw e;
    }
    const setupNote = engineSetup(plan.engine, deps.env).note;
    const lines = [
      `Dify ${plan.version}: ${plan.changes === 0 ? 'already patched' : `patch ${plan.changes} file(s) with ${plan.slugs.join(', ')}`}`,
      `build context ${plan.layout.context === '.' ? 'the repository root' : 'web/'}, file web/Dockerfile → ${plan.baseRef}`,
      `hardening layer → ${plan.ref} (tmpfs at run time: ${plan.layout.writableDirs.join(', ')})`,
      ...(setupNote ? [setupNote] : []),
    ];
    if (p.dry) {
      io.out(`--dry: nothing written, nothing built`);
      for (const l of lines) io.out(l);
      for (const b of plan.builds) io.out(`  ${plan.engine} ${b.join(' ')}`);
      return 0;
    }
    for (const l of lines) io.out(l);
    // Only a patch this run applied to a stock tree is reverted when a build fails.
    const stock = readManifest(plan.checkout) === undefined;
    let patchedHere = false;
    try {
      const applied = applyPlan(planPatch(plan.checkout));
      patchedHere = stock && applied.changed.length > 0;
      const check = checkPatch(plan.checkout);
      if (!check.ok)
        throw new PatchError(
          check.problems[0]?.code ?? 'ERR_PATCH_NOT_APPLIED',
          `the patched checkout does not pass --check: ${check.problems.map((x) => x.message).join('; ')}`,
          { version: plan.version },
        );
      for (const [i, build] of plan.builds.entries()) {
        io.out(`[${i + 1}/2] ${plan.engine} ${build.join(' ')}`);
        const code = await deps.run(plan.engine, build, plan.env);
        if (code !== 0)
          throw new PatchError(
            'ERR_PATCH_BUILD_FAILED',
            `${i === 0 ? 'web/Dockerfile' : 'the hardening layer'} failed to build (${plan.engine} exit code ${code})`,
            { version: plan.version, file: i === 0 ? 'web/Dockerfile' : 'images/web-hardening/Containerfile' },
          );
      }
    } catch (e) {
      if (patchedHere) {
        try {
          applyRevert(plan.checkout);
          io.err('the patch applied by this run was reverted; the checkout is as it was');
        } catch (revertError) {
          io.err(`error: reverting the patch failed: ${(revertError as Error).message}; run dify-sso patch --revert`);
        }
      }
      if (e instanceof SsoError) {
        io.err(`error ${e.code}: ${e.message}`);
        return 1;
      }
      throw e;
    }
    io.out(`built ${plan.ref} (Dify ${plan.version}, kit ${KIT_VERSION}, ${plan.slugs.length} transforms)`);
    io.out(`run it with: ${runHint(plan)}`);
    return 0;
  } finally {
    rmSync(hardeningDir, { recursive: true, force: true });
  }
}
