/**
 * npm test: provisions what is missing, type-checks, builds the packages (dist/), runs the
 * drift checks, the unit and integration tests (node:test, with a real Redis and a real Keycloak) and the Playwright
 * e2e suite (Debian's Chromium), then builds the sidecar image (podman or docker, local Debian +
 * Node 22 bases) and runs the sign-in, gate, back-channel and logout scenarios again against the
 * containerised sidecar; prints one closing line: `N passed, N failed`.
 *
 * Options: --unit (skip e2e and images), --e2e (skip unit), --no-images (skip the image stages),
 * any further arguments go to Playwright.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, cacheDir } from './lib/paths.js';
import { findFiles } from './lib/files.js';
import { daemonPid, formatError, say, stopAll } from './lib/proc.js';
import { redisPing, startRedis } from './lib/redis.js';
import { keycloakReady, startKeycloak } from './lib/keycloak.js';
import { ports, urls } from './lib/ports.js';
import { detectEngine } from './lib/podman.js';

interface Stage {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  ok: boolean;
  seconds: number;
}

const args = process.argv.slice(2);
const onlyUnit = args.includes('--unit');
const onlyE2e = args.includes('--e2e');
const noImages = args.includes('--no-images');
const playwrightArgs = args.filter((a) => a !== '--unit' && a !== '--e2e' && a !== '--no-images');
const stages: Stage[] = [];
const reportDir = join(cacheDir(), 'test-reports');
mkdirSync(reportDir, { recursive: true });

function run(cmd: string, argv: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: repoRoot, stdio: 'inherit', env: { ...process.env, ...env } });
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.once('error', () => resolve(127));
  });
}

async function stage(name: string, fn: () => Promise<Omit<Stage, 'name' | 'seconds'>>): Promise<Stage> {
  say(`\n== ${name}`);
  const t0 = Date.now();
  const result = { name, ...(await fn()), seconds: Math.round((Date.now() - t0) / 100) / 10 };
  stages.push(result);
  say(`== ${name}: ${result.ok ? 'ok' : 'FAILED'} (${result.seconds} s)`);
  return result;
}

/** A step that is one check: counts as one passed or one failed test. */
async function check(name: string, cmd: string, argv: string[]): Promise<Stage> {
  return stage(name, async () => {
    const ok = (await run(cmd, argv)) === 0;
    return { passed: ok ? 1 : 0, failed: ok ? 0 : 1, skipped: 0, ok };
  });
}

function tapCounts(file: string): { passed: number; failed: number; skipped: number } {
  const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const num = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return { passed: num('pass'), failed: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
}

interface PwStats {
  expected: number;
  unexpected: number;
  flaky: number;
  skipped: number;
}

/** Specs run again against the containerised sidecar: sign-in, local login closed (gate), logout, back-channel logout, redirect and tampering (gate). */
const CONTAINER_SPECS = [
  'e2e/specs/01-sign-in',
  'e2e/specs/03-local-login-closed',
  'e2e/specs/04-logout',
  'e2e/specs/05-backchannel-logout',
  'e2e/specs/07-redirect-and-tampering',
  'e2e/container/',
];

async function playwright(
  report: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<Omit<Stage, 'name' | 'seconds'>> {
  const json = join(reportDir, report);
  rmSync(json, { force: true });
  const code = await run('npx', ['playwright', 'test', '--reporter=list,json', ...argv], {
    ...env,
    PLAYWRIGHT_JSON_OUTPUT_NAME: json,
  });
  let stats: PwStats = { expected: 0, unexpected: 0, flaky: 0, skipped: 0 };
  if (existsSync(json)) stats = (JSON.parse(readFileSync(json, 'utf8')) as { stats: PwStats }).stats;
  const failed = stats.unexpected + (code !== 0 && stats.unexpected === 0 ? 1 : 0);
  return { passed: stats.expected + stats.flaky, failed, skipped: stats.skipped, ok: code === 0 };
}

async function main(): Promise<number> {
  const provision = await check('provision', 'bash', ['scripts/provision']);
  if (!provision.ok) return finish();

  await check('typecheck (tsc)', 'npx', ['tsc', '-p', '.']);
  // One formatter and one linter over the whole repo (biome.json); `npm run format` fixes what it can.
  await check('format and lint (biome ci)', 'npx', ['biome', 'ci', '.']);
  // The published packages compile to packages/<name>/dist (bins and exports run from there).
  await check('build (tsc -b)', 'npx', ['tsc', '-b', 'tsconfig.build.json']);
  for (const [name, script] of [
    ['config reference is up to date', 'packages/sidecar/scripts/gen-config-docs.ts'],
    ['patches/ are up to date', 'scripts/gen-patches.ts'],
  ] as const) {
    if (existsSync(join(repoRoot, script))) await check(name, 'node', ['--import', 'tsx', script, '--check']);
  }

  // Shared real services: reuse ones already running (npm run redis/keycloak -- start).
  const startedHere: Array<() => Promise<void>> = [];
  try {
    await stage('services (redis, keycloak)', async () => {
      if (!(await redisPing(ports.redis))) {
        const redis = await startRedis({ port: ports.redis, name: 'redis-test' });
        startedHere.push(() => redis.stop());
        say(`redis: started on ${urls.redis}`);
      } else say(`redis: reusing ${urls.redis}${daemonPid('redis') ? ' (daemon)' : ''}`);
      if (!(await keycloakReady())) {
        const kc = await startKeycloak({ log: say });
        startedHere.push(() => kc.stop());
      } else say(`keycloak: reusing ${urls.keycloak}`);
      return { passed: 0, failed: 0, skipped: 0, ok: true };
    });
  } catch (err) {
    say(formatError(err));
    stages.push({ name: 'services (redis, keycloak)', passed: 0, failed: 1, skipped: 0, ok: false, seconds: 0 });
    await Promise.all(startedHere.map((s) => s()));
    return finish();
  }

  const testEnv = {
    DIFY_SSO_TEST_REDIS_URL: urls.redis,
    DIFY_SSO_TEST_KEYCLOAK_URL: urls.keycloak,
  };

  try {
    if (!onlyE2e) {
      await stage('unit and integration tests (node:test)', async () => {
        const files = [
          ...findFiles(join(repoRoot, 'packages'), '.test.ts'),
          ...findFiles(join(repoRoot, 'scripts'), '.test.ts'),
          ...findFiles(join(repoRoot, 'bench'), '.test.ts'),
        ];
        const tap = join(reportDir, 'node-test.tap');
        rmSync(tap, { force: true });
        const code = await run(
          'node',
          [
            '--import',
            'tsx',
            '--test',
            '--test-reporter=spec',
            '--test-reporter-destination=stdout',
            '--test-reporter=tap',
            `--test-reporter-destination=${tap}`,
            ...files,
          ],
          testEnv,
        );
        const counts = tapCounts(tap);
        return { ...counts, ok: code === 0 && counts.failed === 0 && counts.passed > 0 };
      });
    }
    if (!onlyUnit) {
      await stage('e2e (Playwright, Chromium)', () => playwright('playwright.json', playwrightArgs, testEnv));
    }
    if (!onlyUnit && !noImages) {
      // The sidecar image, built from the same Containerfile users build, on local bases.
      const engine = detectEngine();
      const image = await check(`sidecar image (${engine} build, local Debian + Node 22 bases)`, 'node', [
        '--import',
        'tsx',
        'scripts/images.ts',
        'sidecar',
        '--engine',
        engine,
      ]);
      if (image.ok) {
        await stage(`e2e against the sidecar image (${engine})`, () =>
          playwright(
            'playwright-container.json',
            [...CONTAINER_SPECS, '--project=chromium', '--project=sidecar-image'],
            { ...testEnv, DIFY_SSO_E2E_SIDECAR: 'container' },
          ),
        );
      }
      // The codemod path end to end: fixture web tree → dify-sso image web (codemods, its own
      // web/Dockerfile, hardening layer; on the local Node base the sidecar stage ensured) → the
      // container behind nginx → e2e/image/ specs.
      await stage('web image (codemods → image → e2e)', async () => {
        const built = (await run('node', ['--import', 'tsx', 'e2e/fixture-web/build.ts'])) === 0;
        if (!built) return { passed: 0, failed: 1, skipped: 0, ok: false };
        const r = await playwright('playwright-web-image.json', ['--project', 'web-image'], {
          ...testEnv,
          DIFY_SSO_E2E_WEB: 'image',
        });
        return { ...r, passed: r.passed + 1 };
      });
    }
  } finally {
    await Promise.all(startedHere.map((s) => s()));
    await stopAll();
  }
  return finish();
}

function finish(): number {
  say('\n== summary');
  for (const s of stages) {
    say(
      `  ${s.ok ? 'ok    ' : 'FAILED'} ${s.name}: ${s.passed} passed, ${s.failed} failed${s.skipped ? `, ${s.skipped} skipped` : ''} (${s.seconds} s)`,
    );
  }
  const passed = stages.reduce((n, s) => n + s.passed, 0);
  const failed = stages.reduce((n, s) => n + s.failed, 0);
  const skipped = stages.reduce((n, s) => n + s.skipped, 0);
  say('');
  say(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
  return failed === 0 && stages.every((s) => s.ok) ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (err) {
  say(formatError(err));
  process.exitCode = 1;
}
