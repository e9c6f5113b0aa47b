/**
 * Builds the fixture web image for the web-image stage: assembles the fixture checkout in a
 * temporary git repository and runs `dify-sso image web` on it (codemods → the fixture's own
 * web/Dockerfile → the kit's hardening layer). Usage:
 *
 *   node --import tsx e2e/fixture-web/build.ts [--tag REF]
 *
 * Base images: DIFY_SSO_NODE_BUILD_IMAGE (default localhost/dify-sso-kit/node-build:22, the
 * local Node LTS image CI builds from Debian packages; no registry is reached). The npm registry
 * is reached from inside the build; the host's CA bundle (NODE_EXTRA_CA_CERTS, else Debian's) is
 * given to it as the `npm-ca` build secret.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { imageMain } from '../../packages/codemods/src/image/index.js';
import { e2eEngine, engine, FIXTURE_WEB_IMAGE } from '../../scripts/lib/web-image.js';
import { assembleFixtureCheckout } from './assemble.js';

export const NODE_BUILD_IMAGE = process.env.DIFY_SSO_NODE_BUILD_IMAGE ?? 'localhost/dify-sso-kit/node-build:22';

function caFile(): string | undefined {
  for (const f of [process.env.NODE_EXTRA_CA_CERTS, '/etc/ssl/certs/ca-certificates.crt'])
    if (f && existsSync(f)) return f;
  return undefined;
}

/** Builds `tag` from the fixture web tree; returns the exit code of `dify-sso image web`. */
export async function buildFixtureWebImage(tag: string, log: (line: string) => void): Promise<number> {
  const eng = e2eEngine();
  try {
    engine(['image', 'exists', NODE_BUILD_IMAGE]);
  } catch {
    log(
      `error: base image ${NODE_BUILD_IMAGE} is missing (${eng}); build the local Node LTS base image first, or set DIFY_SSO_NODE_BUILD_IMAGE`,
    );
    return 1;
  }
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-fixture-web-'));
  try {
    assembleFixtureCheckout(dir);
    const ca = caFile();
    const t0 = Date.now();
    const code = await imageMain(
      [
        'web',
        dir,
        '--tag',
        tag,
        '--engine',
        eng,
        '--build-arg',
        `BUILD_IMAGE=${NODE_BUILD_IMAGE}`,
        '--build-arg',
        `RUNTIME_IMAGE=${NODE_BUILD_IMAGE}`,
        ...(ca ? ['--ca-file', ca] : []),
      ],
      { out: log, err: log },
    );
    log(`dify-sso image web: exit ${code} after ${Math.round((Date.now() - t0) / 1000)} s`);
    return code;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({ options: { tag: { type: 'string', default: FIXTURE_WEB_IMAGE } } });
  process.exitCode = await buildFixtureWebImage(values.tag ?? FIXTURE_WEB_IMAGE, (l) => console.log(l));
}
