import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { checkPatch, KIT_VERSION } from '../src/patch.js';
import { TRANSFORMS } from '../src/registry.js';
import { imageMain, splitRef, webLayout } from '../src/image/index.js';
import type { ImageDeps } from '../src/image/index.js';
import { detectEngine, engineSetup } from '../src/image/engine.js';
import { makeCheckout, snapshot } from './helpers/fixtures.js';

// A Dockerfile of our own in the shape of a root-context web build (COPY web/… from the repository root).
const ROOT_CONTEXT_DOCKERFILE = `ARG BUILD_IMAGE=node:22
FROM \${BUILD_IMAGE} AS builder
WORKDIR /app/web
COPY web/package.json web/package-lock.json ./
RUN npm ci
COPY web/ ./
RUN npm run build
FROM \${BUILD_IMAGE}
WORKDIR /app/targets/next/web
COPY --from=builder /app/web/.next/standalone ./
CMD ["node", "server.js"]
`;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

type Call = { command: string; args: readonly string[]; env: NodeJS.ProcessEnv };

/** A container engine that records what it is asked to do; `exit` decides each build's result. */
function fakeEngine(
  options: { installed?: ('docker' | 'podman')[]; exit?: (n: number) => number; env?: NodeJS.ProcessEnv } = {},
) {
  const calls: Call[] = [];
  const installed = options.installed ?? ['podman'];
  const deps: ImageDeps = {
    run: async (command, args, env) => {
      calls.push({ command, args, env });
      return options.exit ? options.exit(calls.length) : 0;
    },
    probe: (command) => (installed.includes(command as 'docker' | 'podman') ? 0 : 127),
    env: options.env ?? { HOME: '/nonexistent-home' },
  };
  return { calls, deps };
}

function gitCommitAll(dir: string, message: string): void {
  execFileSync('git', ['-C', dir, 'add', '-A'], { stdio: 'ignore' });
  execFileSync(
    'git',
    ['-C', dir, '-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-q', '-m', message],
    { stdio: 'ignore' },
  );
}

/** A git checkout of the 1.16 reproduction with a web/Dockerfile of ours, committed. */
function checkout(
  t: { after: (fn: () => void) => void },
  options: { version?: string; dockerfile?: string | false } = {},
): string {
  const { dir, cleanup } = makeCheckout('1.16', {
    git: true,
    ...(options.version ? { version: options.version } : {}),
  });
  t.after(cleanup);
  if (options.dockerfile !== false) {
    writeFileSync(join(dir, 'web', 'Dockerfile'), options.dockerfile ?? ROOT_CONTEXT_DOCKERFILE);
    gitCommitAll(dir, 'dockerfile');
  }
  return dir;
}

const SLUGS_1_16 = [
  'add-plugin-files',
  'add-sso-button',
  'add-sso-error-banner',
  'remove-social-login',
  'remove-password-login',
  'remove-email-code-login',
  'remove-signup',
  'remove-login-divider',
  'remove-no-login-method-notice',
  'route-logout-through-sso',
  'redirect-local-auth-pages',
];

test('usage errors exit 2 with ERR_INVALID_ARG_VALUE and build nothing', async () => {
  const cases: [string[], string][] = [
    [[], 'error ERR_INVALID_ARG_VALUE: missing image kind: web'],
    [['sidecar', '/x', '--tag', 'a/b:1'], 'error ERR_INVALID_ARG_VALUE: unknown image kind "sidecar"; expected web'],
    [['web', '--tag', 'a/b:1'], 'error ERR_INVALID_ARG_VALUE: exactly one <dify-checkout> is required'],
    [['web', '/x', '/y', '--tag', 'a/b:1'], 'error ERR_INVALID_ARG_VALUE: exactly one <dify-checkout> is required'],
    [['web', '/x'], 'error ERR_INVALID_ARG_VALUE: "--tag" is required: the name of the image to build'],
    [
      ['web', '/x', '--tag', 'Acme/Web:1'],
      'error ERR_INVALID_ARG_VALUE: "--tag" must be an image reference in lower case (name[:tag]), got "Acme/Web:1"',
    ],
    [
      ['web', '/x', '--tag', 'a/b:1', '--engine', 'lxc'],
      'error ERR_INVALID_ARG_VALUE: "--engine" must be docker or podman, got "lxc"',
    ],
    [
      ['web', '/x', '--tag', 'a/b:1', '--build-arg', 'NOVALUE'],
      'error ERR_INVALID_ARG_VALUE: "--build-arg" must be KEY=VALUE, got "NOVALUE"',
    ],
    [
      ['web', '/x', '--tag', 'a/b:1', '--ca-file', '/nonexistent/ca.pem'],
      'error ERR_INVALID_ARG_VALUE: "--ca-file" "/nonexistent/ca.pem" does not exist',
    ],
  ];
  for (const [argv, first] of cases) {
    const r = io();
    const { calls, deps } = fakeEngine();
    assert.equal(await imageMain(argv, r.io, deps), 2, argv.join(' '));
    assert.equal(r.err[0], first);
    assert.equal(calls.length, 0);
  }
  const unknown = io();
  assert.equal(await imageMain(['web', '/x', '--tag', 'a/b', '--push'], unknown.io, fakeEngine().deps), 2);
  assert.match(unknown.err[0]!, /^error ERR_INVALID_ARG_VALUE: Unknown option '--push'/);
});

test('an unsupported Dify version is refused with ERR_PATCH_UNSUPPORTED_VERSION: nothing written, nothing built', async (t) => {
  const dir = checkout(t, { version: '1.10.9' });
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso'], r.io, deps), 1);
  assert.match(
    r.err[0]!,
    /^error ERR_PATCH_UNSUPPORTED_VERSION: Dify 1\.10\.9 \(web\/package\.json\) is not supported/,
  );
  assert.equal(calls.length, 0);
  assert.deepEqual(snapshot(dir), before);
});

test('a dirty web/ is refused with ERR_PATCH_DIRTY_TREE: nothing written, nothing built', async (t) => {
  const dir = checkout(t);
  writeFileSync(join(dir, 'web/app/layout.tsx'), '// local edit\n', { flag: 'a' });
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso'], r.io, deps), 1);
  assert.equal(
    r.err[0],
    'error ERR_PATCH_DIRTY_TREE: uncommitted changes in web/app/layout.tsx (Dify 1.16.1); commit or stash them, or pass --force',
  );
  assert.equal(calls.length, 0);
  assert.deepEqual(snapshot(dir), before);
});

test('a checkout whose sign-in form lacks its target is refused with ERR_CODEMOD_TARGET_NOT_FOUND before anything is built', async (t) => {
  const dir = checkout(t);
  unlinkSync(join(dir, 'web/app/signin/normal-form.tsx'));
  gitCommitAll(dir, 'no form');
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso'], r.io, deps), 1);
  assert.match(r.err[0]!, /^error ERR_CODEMOD_TARGET_NOT_FOUND: .*web\/app\/signin\/normal-form\.tsx/);
  assert.equal(calls.length, 0);
  assert.deepEqual(snapshot(dir), before);
});

test('a checkout without web/Dockerfile is refused with ERR_PATCH_NO_DOCKERFILE', async (t) => {
  const dir = checkout(t, { dockerfile: false });
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso'], r.io, deps), 1);
  assert.match(r.err[0]!, /^error ERR_PATCH_NO_DOCKERFILE: web\/Dockerfile not found/);
  assert.equal(calls.length, 0);
  assert.deepEqual(snapshot(dir), before);
});

test('no usable engine is refused with ERR_PATCH_ENGINE_NOT_FOUND before the checkout is patched', async (t) => {
  const dir = checkout(t);
  const before = snapshot(dir);
  for (const [argv, message] of [
    [
      [],
      'error ERR_PATCH_ENGINE_NOT_FOUND: no container engine: neither a Docker engine answers nor is podman installed',
    ],
    [['--engine', 'docker'], 'error ERR_PATCH_ENGINE_NOT_FOUND: docker is not usable here (no Docker engine answers)'],
  ] as const) {
    const r = io();
    const { calls, deps } = fakeEngine({ installed: [] });
    assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso', ...argv], r.io, deps), 1);
    assert.equal(r.err[0], message);
    assert.equal(calls.length, 0);
  }
  assert.deepEqual(snapshot(dir), before);
});

test('--dry prints the patch and both builds, writes and builds nothing', async (t) => {
  const dir = checkout(t);
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:1.16.1-sso', '--dry'], r.io, deps), 0);
  assert.equal(r.out[0], '--dry: nothing written, nothing built');
  assert.match(r.out[1]!, /^Dify 1\.16\.1: patch \d+ file\(s\) with add-plugin-files, /);
  assert.equal(
    r.out[2],
    'build context the repository root, file web/Dockerfile → acme/dify-web:1.16.1-sso-unhardened',
  );
  assert.ok(
    r.out.some((l) =>
      l.startsWith(
        `  podman build --format docker -f ${join(dir, 'web', 'Dockerfile')} -t acme/dify-web:1.16.1-sso-unhardened ${dir}`,
      ),
    ),
    r.out.join('\n'),
  );
  assert.equal(calls.length, 0);
  assert.deepEqual(snapshot(dir), before);
});

test("patches, builds with the checkout's Dockerfile, then the hardening layer with the version, kit and slugs", async (t) => {
  const dir = checkout(t);
  const r = io();
  const { calls, deps } = fakeEngine();
  assert.equal(
    await imageMain(
      [
        'web',
        dir,
        '--tag',
        'acme/dify-web:1.16.1-sso',
        '--build-arg',
        'NEXT_PUBLIC_BASE_PATH=/console',
        '--ca-file',
        '/etc/hostname',
      ],
      r.io,
      deps,
    ),
    0,
    r.err.join('\n'),
  );
  assert.equal(checkPatch(dir).ok, true, 'the checkout stays patched (dify-sso patch --check passes)');
  assert.equal(calls.length, 2);
  const [dify, hardening] = calls;
  assert.equal(dify!.command, 'podman');
  assert.deepEqual(dify!.args, [
    'build',
    '--format',
    'docker',
    '--secret',
    'id=npm-ca,src=/etc/hostname',
    '--build-arg',
    'NEXT_PUBLIC_BASE_PATH=/console',
    '-f',
    join(dir, 'web', 'Dockerfile'),
    '-t',
    'acme/dify-web:1.16.1-sso-unhardened',
    dir,
  ]);
  const a = hardening!.args;
  assert.deepEqual(a.slice(0, 4), ['build', '--format', 'docker', '--layers=false']);
  const buildArgs = a.flatMap((x, i) => (a[i - 1] === '--build-arg' ? [x] : []));
  assert.deepEqual(buildArgs, [
    'BASE_IMAGE=acme/dify-web:1.16.1-sso-unhardened',
    'DIFY_VERSION=1.16.1',
    `KIT_VERSION=${KIT_VERSION}`,
    `TRANSFORMS=${SLUGS_1_16.join(',')}`,
    'NEXT_CACHE_DIR=/app/targets/next/web/.next/cache',
  ]);
  for (const slug of SLUGS_1_16) assert.ok(slug in TRANSFORMS, slug);
  assert.ok(a[a.indexOf('-f') + 1]!.endsWith('images/web-hardening/Containerfile'));
  assert.equal(a[a.indexOf('-t') + 1], 'acme/dify-web:1.16.1-sso');
  assert.match(
    r.out.at(-1)!,
    /^run it with: podman run --read-only --tmpfs \/tmp:mode=1777 --tmpfs \/app\/targets\/next\/web\/\.next\/cache:mode=1777 --cap-drop all /,
  );

  // Re-running on the patched checkout builds again and still records the slugs.
  const again = fakeEngine();
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:1.16.1-sso'], io().io, again.deps), 0);
  assert.ok(again.calls[1]!.args.includes(`TRANSFORMS=${SLUGS_1_16.join(',')}`));
});

test('a failed build reverts the patch this run applied (ERR_PATCH_BUILD_FAILED); the hardening layer is not built', async (t) => {
  const dir = checkout(t);
  const before = snapshot(dir);
  const r = io();
  const { calls, deps } = fakeEngine({ exit: (n) => (n === 1 ? 1 : 0) });
  assert.equal(await imageMain(['web', dir, '--tag', 'acme/dify-web:sso'], r.io, deps), 1);
  assert.equal(calls.length, 1);
  assert.ok(r.err.includes('the patch applied by this run was reverted; the checkout is as it was'));
  assert.equal(r.err.at(-1), 'error ERR_PATCH_BUILD_FAILED: web/Dockerfile failed to build (podman exit code 1)');
  assert.deepEqual(snapshot(dir), before);
  assert.equal(execFileSync('git', ['-C', dir, 'status', '--porcelain'], { encoding: 'utf8' }), '');
});

test("web/ build context and app folder are read from the checkout's Dockerfile", () => {
  assert.deepEqual(webLayout(ROOT_CONTEXT_DOCKERFILE), {
    context: '.',
    appDir: '/app/targets/next/web',
    writableDirs: ['/tmp', '/app/targets/next/web/.next/cache'],
  });
  // The 1.14+ form: WORKDIR /app, destinations relative to it.
  const relativeTargets =
    'FROM node:22 AS b\nWORKDIR /app\nCOPY package.json pnpm-workspace.yaml /app/\nCOPY . .\nFROM node:22\nWORKDIR /app\nCOPY --from=b /app/web/.next/standalone ./targets/next/\nCOPY --from=b /app/web/.next/static ./targets/next/web/.next/static\n';
  assert.deepEqual(webLayout(relativeTargets), {
    context: '.',
    appDir: '/app/targets/next/web',
    writableDirs: ['/tmp', '/app/targets/next/web/.next/cache'],
  });
  const webContext =
    'FROM node:22 AS b\nWORKDIR /app/web\nCOPY package.json pnpm-lock.yaml /app/web/\nCOPY . .\nFROM node:22\nCOPY --from=b /app/web/.next/standalone ./\nCOPY --chown=1:1 docker/entrypoint.sh ./entrypoint.sh\n';
  assert.deepEqual(webLayout(webContext), {
    context: 'web',
    appDir: '/app/web',
    writableDirs: ['/tmp', '/app/web/.next/cache'],
  });
});

test("engine detection prefers an answering Docker engine, else podman; podman gets the kit's CI settings when present", (t) => {
  assert.equal(detectEngine(fakeEngine({ installed: ['docker', 'podman'] }).deps), 'docker');
  assert.equal(detectEngine(fakeEngine({ installed: ['podman'] }).deps), 'podman');
  assert.equal(detectEngine(fakeEngine({ installed: [] }).deps), undefined);

  const cache = mkdtempSync(join(tmpdir(), 'dify-sso-cache-'));
  t.after(() => rmSync(cache, { recursive: true, force: true }));
  assert.deepEqual(
    engineSetup('podman', { DIFY_SSO_CACHE_DIR: cache }).args,
    [],
    'no kit settings: podman as configured',
  );
  execFileSync('mkdir', ['-p', join(cache, 'containers')]);
  writeFileSync(join(cache, 'containers', 'containers.conf'), '[containers]\n');
  const s = engineSetup('podman', { DIFY_SSO_CACHE_DIR: cache });
  assert.deepEqual(s.args, [
    '--root',
    join(cache, 'containers', 'storage'),
    '--runroot',
    join(cache, 'containers', 'run'),
    '--storage-driver',
    'vfs',
    '--runtime',
    'runc',
  ]);
  assert.equal(s.env.CONTAINERS_CONF, join(cache, 'containers', 'containers.conf'));
  assert.deepEqual(engineSetup('docker', { DIFY_SSO_CACHE_DIR: cache }).args, []);
});

test('image references split into name and tag (a registry port is not a tag)', () => {
  assert.deepEqual(splitRef('acme/dify-web:1.16.1-sso'), { name: 'acme/dify-web', tag: '1.16.1-sso' });
  assert.deepEqual(splitRef('registry.local:5000/acme/dify-web'), {
    name: 'registry.local:5000/acme/dify-web',
    tag: 'latest',
  });
});
