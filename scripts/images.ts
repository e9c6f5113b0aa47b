/**
 * Builds the images of this repository:
 *
 *   npm run image -- sidecar [--engine docker|podman] [--base local|official] [--save FILE] [--no-cache]
 *   npm run image -- base    [--engine docker|podman] [--force]
 *
 * `sidecar` builds `images/sidecar/Containerfile` as `dify-sso-kit/sidecar:<version>` and writes its
 * SBOM next to the image (the kit's cache folder, `images/out/`). `--base official` keeps the
 * Containerfile's defaults (official Node 22 images, pulled by the engine); `--base local` first
 * builds the local Debian + Node 22 bases (no registry needed) and builds on them. Default: local
 * with podman, official with docker. The engine is detected when `--engine` is absent (podman
 * when installed, else a Docker engine that answers, else podman installed from Debian).
 */
import { detectEngine, type Engine } from './lib/podman.js';
import {
  NODE_BUILD_IMAGE,
  NODE_RUNTIME_IMAGE,
  SIDECAR_IMAGE,
  buildSidecarImage,
  ensureBaseImages,
  inspectImage,
  saveImage,
} from './lib/images.js';
import { formatError, say } from './lib/proc.js';

const USAGE =
  'usage: npm run image -- sidecar|base [--engine docker|podman] [--base local|official] [--save FILE] [--no-cache] [--force]';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--'))
    throw Object.assign(new TypeError(`${name} needs a value`), { code: 'ERR_INVALID_ARG_VALUE' });
  return v;
}

async function main(argv: string[]): Promise<number> {
  const [what, ...rest] = argv;
  const log = (m: string): void => say(`image: ${m}`);
  if (what !== 'sidecar' && what !== 'base') {
    process.stderr.write(`${USAGE}\n`);
    return 2;
  }
  const engine: Engine = detectEngine(flag(rest, '--engine'));
  const base = flag(rest, '--base') ?? (engine === 'podman' ? 'local' : 'official');
  if (base !== 'local' && base !== 'official') {
    process.stderr.write(`image: --base must be local or official\n${USAGE}\n`);
    return 2;
  }
  log(`engine: ${engine}`);
  if (what === 'base') {
    await ensureBaseImages(engine, log, { force: rest.includes('--force') });
    return 0;
  }
  if (base === 'local') await ensureBaseImages(engine, log);
  const t0 = Date.now();
  const { sbom } = await buildSidecarImage(engine, {
    ...(base === 'local' ? { buildImage: NODE_BUILD_IMAGE, baseImage: NODE_RUNTIME_IMAGE } : {}),
    noCache: rest.includes('--no-cache'),
    log,
  });
  const facts = await inspectImage(engine, SIDECAR_IMAGE);
  log(
    `${SIDECAR_IMAGE}: ${(facts.size / 1e6).toFixed(1)} MB, user ${facts.user}, built in ${Math.round((Date.now() - t0) / 1000)} s, SBOM ${sbom}`,
  );
  const save = flag(rest, '--save');
  if (save) {
    await saveImage(engine, SIDECAR_IMAGE, save);
    log(`saved to ${save} (load with: docker load -i ${save})`);
  }
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`${formatError(err)}\n`);
  process.exitCode = 1;
}
