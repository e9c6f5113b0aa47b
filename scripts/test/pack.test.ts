/**
 * The published packages work without this repository: build, `npm pack` each publishable
 * package, install the tarballs into an empty folder (dependencies from the npm registry), and
 * run what a user runs there with plain `node` — no tsx, no TypeScript sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';

/** Every package that is published (its `private` is false). */
const PUBLISHED = ['vocabulary', 'console-plugin', 'codemods', 'sidecar', 'cli'] as const;

function sh(cmd: string, args: string[], cwd: string): SpawnSyncReturns<string> {
  // A clean environment: nothing of the repository's loader (tsx) leaks into the installed bins.
  const env = { ...process.env };
  delete env.NODE_OPTIONS;
  return spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

interface PackEntry {
  name: string;
  filename: string;
  files: Array<{ path: string }>;
}

test('npm pack tarballs install into an empty folder and run with plain node', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'dify-sso-pack-'));
  t.after(() => rmSync(work, { recursive: true, force: true }));

  ok(sh('npx', ['tsc', '-b', 'tsconfig.build.json'], repoRoot), 'npm run build');
  const packed = JSON.parse(
    ok(
      sh(
        'npm',
        ['pack', '--json', '--pack-destination', work, ...PUBLISHED.flatMap((p) => ['--workspace', `packages/${p}`])],
        repoRoot,
      ),
      'npm pack',
    ),
  ) as PackEntry[];
  assert.deepEqual(packed.map((p) => p.name).sort(), PUBLISHED.map((p) => `@dify-sso-kit/${p}`).sort());

  for (const p of packed) {
    const files = p.files.map((f) => f.path);
    assert.ok(
      files.includes('dist/index.js') && files.includes('dist/index.d.ts'),
      `${p.name}: dist/ is in the tarball`,
    );
    assert.ok(!files.some((f) => f.endsWith('.tsbuildinfo')), `${p.name}: no build state in the tarball`);
    assert.ok(!files.some((f) => f.startsWith('test/')), `${p.name}: no tests in the tarball`);
    if (p.name !== '@dify-sso-kit/console-plugin') {
      // Only the console plugin ships sources (the codemods copy them into Dify's web/).
      assert.ok(!files.some((f) => f.startsWith('src/')), `${p.name}: no TypeScript sources in the tarball`);
    }
  }
  const codemods = packed.find((p) => p.name === '@dify-sso-kit/codemods');
  assert.ok(
    codemods?.files.some((f) => f.path.startsWith('assets/fonts/')),
    'codemods ship their font assets',
  );

  const app = join(work, 'app');
  mkdirSync(app);
  writeFileSync(
    join(app, 'package.json'),
    `${JSON.stringify({ name: 'pack-test-app', private: true, type: 'module' }, null, 2)}\n`,
  );
  ok(
    sh('npm', ['install', '--no-audit', '--no-fund', ...packed.map((p) => join(work, p.filename))], app),
    'npm install <tarballs>',
  );
  assert.equal(existsSync(join(app, 'node_modules/tsx')), false, 'tsx is not installed: nothing needs it at run time');
  assert.equal(existsSync(join(app, 'node_modules/typescript')), false, 'typescript is not installed at run time');
  const bin = (name: string): string => join(app, 'node_modules/.bin', name);

  await t.test('library entry points import from dist', () => {
    const out = ok(
      sh(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          [
            "const s = await import('@dify-sso-kit/sidecar');",
            "const c = await import('@dify-sso-kit/codemods');",
            "const p = await import('@dify-sso-kit/console-plugin');",
            "const k = await import('@dify-sso-kit/cli');",
            "console.log(typeof s.buildApp, typeof c.planPatch, typeof p.messageForCode, typeof k.main, import.meta.resolve('@dify-sso-kit/sidecar'))",
          ].join('\n'),
        ],
        app,
      ),
      'import the packages',
    );
    assert.match(
      out,
      /^function function function function file:.*\/node_modules\/@dify-sso-kit\/sidecar\/dist\/index\.js$/m,
    );
  });

  await t.test('dify-sso --help, dify-sso patch --help, and a patch of a checkout from the installed tarballs', () => {
    assert.match(
      ok(sh(bin('dify-sso'), ['--help'], app), 'dify-sso --help'),
      /^Usage: dify-sso <command>[\s\S]*\n {2}patch +\S[\s\S]*\n {2}doctor +\S/,
    );
    assert.match(
      ok(sh(bin('dify-sso'), ['patch', '--help'], app), 'dify-sso patch --help'),
      /^Usage: dify-sso patch <dify-checkout>/,
    );
    // The console plugin files come from the installed console-plugin package.
    const checkout = join(work, 'dify');
    cpSync(join(repoRoot, 'packages/codemods/test/__fixtures__/stock/1.16'), checkout, { recursive: true });
    const out = ok(sh(bin('dify-sso'), ['patch', checkout, '--dry'], app), 'dify-sso patch --dry');
    assert.match(out, /would change \d+ file\(s\)/);
    assert.match(out, /A web\/\S*sso-sign-in-button\.tsx/);
    // The deprecated alias still works, and says so.
    const alias = sh(bin('dify-sso-patch'), ['--help'], app);
    assert.match(ok(alias, 'dify-sso-patch --help'), /^Usage: dify-sso patch <dify-checkout>/);
    assert.match(alias.stderr, /dify-sso-patch: deprecated: use `dify-sso patch`/);
  });

  await t.test('dify-sso deploy writes the override into a fixture docker dir', () => {
    const docker = join(work, 'docker');
    cpSync(join(repoRoot, 'packages/sidecar/test/gate/__fixtures__/dify-1.16/docker'), docker, { recursive: true });
    const r = sh(bin('dify-sso'), ['deploy', '--dify-docker', docker], app);
    ok(r, 'dify-sso deploy');
    assert.match(r.stderr, /^dify-sso deploy: wrote docker-compose\.override\.yaml/);
    assert.match(readFileSync(join(docker, 'docker-compose.override.yaml'), 'utf8'), /dify-sso/);
    assert.ok(existsSync(join(docker, 'sso/nginx/conf.d/default.conf.template')));
  });

  await t.test('the sidecar bin starts and answers /sso/health/live', async () => {
    // A minimal configuration; the issuer is a closed loopback port: liveness does not depend on the IdP.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      DIFY_SSO_PUBLIC_URL: 'http://127.0.0.1:18999',
      DIFY_SSO_OIDC_ISSUER: 'http://127.0.0.1:9/realms/none',
      DIFY_SSO_OIDC_CLIENT_ID: 'pack-test',
      DIFY_SSO_OIDC_CLIENT_SECRET: 'pack-test-secret',
      DIFY_SSO_SESSION_SECRET: randomBytes(32).toString('base64url'),
      DIFY_SSO_ALLOW_INSECURE_HTTP: 'true',
      DIFY_SSO_LISTEN: '127.0.0.1:0',
    };
    const child = spawn(bin('dify-sso-sidecar'), [], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    t.after(() => child.kill('SIGTERM'));
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (m?.[1]) resolve(m[1]);
      });
      void exited.then((code) => reject(new Error(`sidecar exited ${code} before listening\n${stdout}\n${stderr}`)));
    });
    const res = await fetch(`${url}/sso/health/live`);
    assert.equal(res.status, 200);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, 'SIGTERM stops the sidecar cleanly');
  });
});

test('in the workspace, the tsconfig paths (TypeScript sources for tsx and tsc) mirror the package exports (dist)', () => {
  const paths = (
    JSON.parse(readFileSync(join(repoRoot, 'tsconfig.json'), 'utf8')) as {
      compilerOptions: { paths: Record<string, string[]> };
    }
  ).compilerOptions.paths;
  const expected: Record<string, string[]> = {};
  for (const p of PUBLISHED) {
    const pkg = JSON.parse(readFileSync(join(repoRoot, 'packages', p, 'package.json'), 'utf8')) as {
      name: string;
      exports: Record<string, string | { default: string }>;
    };
    for (const [sub, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue; // ./package.json
      const src = target.default.replace(/^\.\/dist\//, `./packages/${p}/src/`).replace(/\.js$/, '.ts');
      expected[`${pkg.name}${sub.slice(1)}`] = [src];
      assert.ok(existsSync(join(repoRoot, src)), `${src} exists`);
    }
  }
  // A package only other packages' tests import needs no entry; every entry must match an export.
  for (const [spec, target] of Object.entries(paths)) assert.deepEqual(target, expected[spec], spec);
  for (const spec of ['@dify-sso-kit/sidecar/cli', '@dify-sso-kit/sidecar/versions', '@dify-sso-kit/codemods/cli'])
    assert.ok(paths[spec], spec);
});
