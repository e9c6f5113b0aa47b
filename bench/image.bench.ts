/**
 * Sidecar image benchmark: image size, cold start to ready, RSS at idle (bounded: about a minute).
 *
 *   node --import tsx bench/image.bench.ts [runs=5] [idle-seconds=5]
 *
 * Needs the image (`npm run image -- sidecar`), Redis and an IdP: Keycloak of the local stack
 * when it answers, else the embedded demo OP (started here). Each run starts the container the way
 * the e2e stage and a deployment do (read-only, uid 65532, no capabilities, no-new-privileges,
 * host network) on a free loopback port, and measures the time from the engine's `run` to the
 * first 200 of `/sso/health/ready` (IdP discovery and JWKS loaded, store answering). The same
 * compiled server started as a plain process on this host (`node dist/server.js`) is measured in
 * the same run, so the container's cost is a ratio to a baseline measured side by side. RSS at
 * idle is process 1's VmRSS inside the container after `idle-seconds` without requests.
 * Results: bench/results/image.json and bench/results/image.md. Timing is never asserted in tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { repoRoot, runDir } from '../scripts/lib/paths.js';
import { httpOk, startService, stopAll, waitUntil } from '../scripts/lib/proc.js';
import { keycloakReady } from '../scripts/lib/keycloak.js';
import { redisPing } from '../scripts/lib/redis.js';
import { ports, urls } from '../scripts/lib/ports.js';
import { STANDIN_WORKSPACE_ID, freePort, sidecarContainerArgs, sidecarEnv } from '../scripts/lib/stack.js';
import { detectEngine, engineArgs, engineEnv, runEngine, type Engine } from '../scripts/lib/podman.js';
import { NODE_RUNTIME_IMAGE, inspectImage } from '../scripts/lib/images.js';
import { SIDECAR_IMAGE } from '../packages/sidecar/src/image.js';

const runs = Number(process.argv[2] ?? 5);
const idleSeconds = Number(process.argv[3] ?? 5);
const engine: Engine = detectEngine();
const load0 = loadavg()[0]!;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function untilReady(port: number, child: ChildProcess, timeoutMs = 120_000): Promise<number> {
  const t0 = performance.now();
  let exited = false;
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('exit', () => (exited = true));
  while (performance.now() - t0 < timeoutMs) {
    if (await httpOk(`http://127.0.0.1:${port}/sso/health/ready`, 1000)) return performance.now() - t0;
    if (exited)
      throw new Error(`the sidecar exited before it was ready:\n${stderr.trim().split('\n').slice(-5).join('\n')}`);
    await delay(20);
  }
  throw new Error(`not ready within ${timeoutMs / 1000} s`);
}

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

async function main(): Promise<void> {
  if (!(await redisPing(ports.redis)))
    throw new Error(`Redis is not answering on ${urls.redis} (npm run redis -- start)`);
  let issuer: string = urls.keycloakIssuer;
  let idp: 'keycloak' | 'embedded' = 'keycloak';
  if (!(await keycloakReady())) {
    idp = 'embedded';
    issuer = urls.demoOpIssuer;
    if (!(await httpOk(`${issuer}/.well-known/openid-configuration`))) {
      const op = startService({
        name: 'bench-demo-op',
        command: process.execPath,
        args: ['--import', 'tsx', 'scripts/demo-op.ts'],
        cwd: repoRoot,
      });
      await waitUntil('embedded OP', () => httpOk(`${issuer}/.well-known/openid-configuration`), {
        timeoutMs: 30_000,
        service: op,
      });
    }
  }
  const image = await inspectImage(engine, SIDECAR_IMAGE);
  const base = await inspectImage(engine, NODE_RUNTIME_IMAGE).catch(() => undefined);

  const envFor = (port: number): Record<string, string> =>
    sidecarEnv({
      name: 'bench-sidecar',
      port,
      publicUrl: urls.publicUrl,
      issuer,
      apiUrl: 'http://127.0.0.1:9',
      webUrl: 'http://127.0.0.1:9',
      adminApiKey: 'bench-admin-api-key',
      workspaceId: STANDIN_WORKSPACE_ID,
      redisUrl: urls.redis,
      sessionKeyPrefix: 'dify-sso:bench:',
      livenessSeconds: 0,
      daemon: false,
      idp,
      env: { DIFY_SSO_LOG_LEVEL: 'warn' },
    });

  const container: number[] = [];
  const processStart: number[] = [];
  const rss: number[] = [];
  mkdirSync(runDir(), { recursive: true });
  for (let i = 0; i < runs; i++) {
    // Container, hardened as in the e2e stage and the compose override.
    const port = await freePort();
    const name = `bench-sidecar-${port}`;
    const envFile = join(runDir(), `${name}.env`);
    writeFileSync(
      envFile,
      `${Object.entries(envFor(port))
        .map(([k, v]) => `${k}=${v}`)
        .join('\n')}\n`,
      { mode: 0o600 },
    );
    const child = spawn(
      engine,
      [...engineArgs(engine), ...sidecarContainerArgs(engine, { name, envFile, image: SIDECAR_IMAGE })],
      { env: engineEnv(engine), stdio: ['ignore', 'ignore', 'pipe'] },
    );
    try {
      container.push(await untilReady(port, child));
      if (i === 0 || i === runs - 1) {
        await delay(idleSeconds * 1000);
        const r = await runEngine(engine, [
          'exec',
          `dify-sso-kit-e2e-${name}`,
          'node',
          '-e',
          "process.stdout.write(/VmRSS:\\s*(\\d+)/.exec(require('fs').readFileSync('/proc/1/status','utf8'))[1])",
        ]);
        if (r.code === 0) rss.push(Number(r.stdout) / 1024);
      }
    } finally {
      await stopChild(child);
      await runEngine(engine, ['rm', '-f', '--time', '0', `dify-sso-kit-e2e-${name}`]);
      rmSync(envFile, { force: true });
    }
    // Baseline: the same compiled server as a plain process on this host.
    const p2 = await freePort();
    const proc = spawn(process.execPath, [join(repoRoot, 'packages/sidecar/dist/server.js')], {
      env: { ...process.env, ...envFor(p2) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      processStart.push(await untilReady(p2, proc));
    } finally {
      await stopChild(proc);
    }
  }
  await stopAll();

  const load1 = loadavg()[0]!;
  const result = {
    date: new Date().toISOString().slice(0, 10),
    engine,
    node: process.version,
    cpus: cpus().length,
    loadAverage: [Math.round(load0 * 100) / 100, Math.round(load1 * 100) / 100],
    idp,
    runs,
    image: SIDECAR_IMAGE,
    imageBytes: image.size,
    baseImage: NODE_RUNTIME_IMAGE,
    baseBytes: base?.size ?? null,
    user: image.user,
    coldStartToReadyMs: { median: Math.round(median(container)), all: container.map(Math.round) },
    processStartToReadyMs: { median: Math.round(median(processStart)), all: processStart.map(Math.round) },
    idleRssMB: rss.map((x) => Math.round(x * 10) / 10),
  };
  mkdirSync(join(repoRoot, 'bench', 'results'), { recursive: true });
  writeFileSync(join(repoRoot, 'bench', 'results', 'image.json'), `${JSON.stringify(result, null, 2)}\n`);
  const mb = (b: number): string => (b / 1e6).toFixed(1);
  const md = [
    `Sidecar image benchmark (${result.date}, ${engine}, ${cpus().length} CPUs, ${runs} cold starts, IdP ${idp}; load average before/after ${result.loadAverage.join('/')}).`,
    '',
    '| measure | value |',
    '|---|---|',
    `| image size (${SIDECAR_IMAGE}) | ${mb(image.size)} MB${base ? ` (runtime base ${mb(base.size)} MB + sidecar ${mb(image.size - base.size)} MB)` : ''} |`,
    `| user | ${image.user} |`,
    `| cold start to ready, container (median) | ${result.coldStartToReadyMs.median} ms (runs: ${result.coldStartToReadyMs.all.join(', ')}) |`,
    `| start to ready, same server as a host process (median) | ${result.processStartToReadyMs.median} ms (runs: ${result.processStartToReadyMs.all.join(', ')}) |`,
    `| container / process | ${(median(container) / median(processStart)).toFixed(2)} |`,
    `| RSS at idle (process 1, after ${idleSeconds} s) | ${result.idleRssMB.join(' MB, ')} MB |`,
    '',
  ].join('\n');
  writeFileSync(join(repoRoot, 'bench', 'results', 'image.md'), md);
  process.stdout.write(md);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  await stopAll();
  process.exitCode = 1;
}
