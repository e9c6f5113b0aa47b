/**
 * Memory of the sidecar process (issue 14 item 3): RSS of the compiled sidecar (`npm run build`
 * first; no tsx or esbuild in the measured processes) with the memory store and the Dify bridge
 * configured, as one worker runs it.
 *
 *     node --import tsx bench/memory.bench.ts [runs=3] [sessions=10000] [label=current] [node flags…]
 *
 * Scenarios, each in a fresh process, `runs` times (median reported):
 * - `entry idle`: `node packages/sidecar/dist/server.js` itself, RSS 10 s after
 *   `/sso/health/live` first answers;
 * - `idle`, `sessions`, `sessions with tokens`: `bench/lib/memory-child.mjs` (the same start-up as
 *   `dist/server.js`), then `sessions` records written to the memory store as a sign-in writes
 *   them, without and with sealed IdP tokens (Keycloak-shaped JWTs with fresh ids per session: ID
 *   ~1.2 KB, access ~1.5 KB — dropped, as at sign-in — refresh ~0.8 KB). RSS and V8 heap after a full GC; per-session
 *   cost = heap delta ÷ sessions;
 * - `worker set` (only with `BENCH_REDIS_URL`, e.g. `redis://127.0.0.1:16379` of `npm run redis`):
 *   `dist/server.js` with `DIFY_SSO_WORKERS=2` and the Redis store, idle; every figure is the sum
 *   over the primary and its workers.
 *
 * Every RSS is split as the kernel counts it (`/proc/<pid>/status`): `RssAnon`, the process's own
 * memory (V8 heap, malloc, stacks), and `RssFile`, pages mapped from files — almost all of it the
 * node executable's code and read-only data, shared by every node process on the host (workers
 * included) and reclaimable by the kernel.
 *
 * Node flags after the label are given to every measured process (e.g. `--max-semi-space-size=2`;
 * `none` for plain node); without any, the image's (`ENTRYPOINT` of `images/sidecar/Containerfile`).
 * `BENCH_SIDECAR_DIST=<dir>` measures another build of the sidecar (e.g. the previous commit's
 * `dist/`, compiled elsewhere) for a before/after on the same machine.
 * Output: `bench/results/memory-<label>.md` and `.json`, with the machine's load average.
 */
import { fork, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { loadavg, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { memorySidecarEnv } from './lib/memory-env.js';
import { freePort, median, processTree, type Rss, rssSplit, sleep, sumRss } from './lib/procs.js';
import { sidecarNodeFlags } from './lib/services.js';

const runs = Number(process.argv[2] ?? 3);
const count = Number(process.argv[3] ?? 10_000);
const label = process.argv[4] ?? 'current';
const nodeFlags = process.argv.length > 5 ? process.argv.slice(5).filter((f) => f !== 'none') : sidecarNodeFlags();
const root = new URL('../', import.meta.url);
const DIST = process.env.BENCH_SIDECAR_DIST ?? fileURLToPath(new URL('packages/sidecar/dist/', root));
const SERVER = `${DIST.replace(/\/$/, '')}/server.js`;
const CHILD = fileURLToPath(new URL('bench/lib/memory-child.mjs', root));
const MB = 1024 * 1024;

/** The sidecar's environment (`lib/memory-env.ts`), bounded for this run's session count. */
function sidecarEnv(port: number): Record<string, string> {
  return memorySidecarEnv(`127.0.0.1:${port}`, {
    difyRedisUrl: process.env.DIFY_SSO_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    maxSessions: Math.max(100, count * 2),
  });
}

function live(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/sso/health/live', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** RSS of the real entry point, idle (summed over its processes when it runs workers). */
async function entryIdle(extraEnv: Record<string, string> = {}, workers = 0): Promise<Rss> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeFlags, SERVER], {
    env: { ...sidecarEnv(port), ...extraEnv },
    stdio: 'ignore',
  });
  try {
    const deadline = Date.now() + 30_000;
    while (!(await live(port))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('sidecar did not start');
      await sleep(100);
    }
    await sleep(10_000); // past start-up, once V8 has shrunk the heap it grew while loading
    const pids = processTree(child.pid as number);
    if (pids.length !== workers + 1) throw new Error(`expected ${workers} workers, found ${pids.length - 1}`);
    return sumRss(pids.map(rssSplit));
  } finally {
    child.kill('SIGKILL');
  }
}

/** The worker-set scenario's environment: two workers sharing the Redis session store. */
const REDIS_URL = process.env.BENCH_REDIS_URL;
const workerSetEnv = REDIS_URL
  ? {
      DIFY_SSO_WORKERS: '2',
      DIFY_SSO_STORE: 'redis',
      DIFY_SSO_REDIS_URL: REDIS_URL,
      DIFY_SSO_REDIS_KEY_PREFIX: 'bench-memory-workers:',
    }
  : undefined;

interface Memory extends Rss {
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
}

/** Idle, then `count` sessions (with or without tokens), in one fresh child. */
async function withSessions(tokens: boolean): Promise<{ idle: Memory; loaded: Memory }> {
  const port = await freePort();
  const child = fork(CHILD, [], {
    env: sidecarEnv(port),
    execArgv: ['--expose-gc', ...nodeFlags],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve) =>
      child.once('message', (m) => resolve(m as Record<string, unknown>)),
    );
  try {
    await next(); // ready
    await sleep(2000);
    // The kernel's split is read right after the child's own figures, still after its GC.
    const measure = async (): Promise<Memory> => {
      child.send({ cmd: 'memory', gc: true });
      const own = (await next()).memory as Memory;
      return { ...own, ...rssSplit(child.pid as number) };
    };
    const idle = await measure();
    child.send({ cmd: 'sessions', count, tokens });
    await next();
    const loaded = await measure();
    return { idle, loaded };
  } finally {
    child.kill('SIGKILL');
  }
}

const mb = (n: number) => (n / MB).toFixed(1);

const load0 = loadavg();
const results = {
  entryIdle: [] as Rss[],
  idle: [] as Memory[],
  light: [] as Memory[],
  tokens: [] as Memory[],
  workerSet: [] as Rss[],
};
for (let i = 0; i < runs; i++) {
  results.entryIdle.push(await entryIdle());
  const light = await withSessions(false);
  results.idle.push(light.idle);
  results.light.push(light.loaded);
  results.tokens.push((await withSessions(true)).loaded);
  if (workerSetEnv) results.workerSet.push(await entryIdle(workerSetEnv, 2));
  process.stderr.write(`run ${i + 1}/${runs} done\n`);
}
const load1 = loadavg();

const pick = <T extends Rss>(xs: T[], k: keyof T) => median(xs.map((x) => x[k] as number));
const idleHeap = pick(results.idle, 'heapUsed');
type Row = readonly [name: string, of: Rss[], heap: number, perSession: number];
const rows: Row[] = [
  ['entry idle (`dist/server.js`)', results.entryIdle, NaN, NaN],
  ['idle', results.idle, idleHeap, NaN],
  [
    `${count} sessions`,
    results.light,
    pick(results.light, 'heapUsed'),
    (pick(results.light, 'heapUsed') - idleHeap) / count,
  ],
  [
    `${count} sessions with IdP tokens`,
    results.tokens,
    pick(results.tokens, 'heapUsed'),
    (pick(results.tokens, 'heapUsed') - idleHeap) / count,
  ],
  ...(workerSetEnv
    ? [['worker set idle (primary + 2 workers, Redis store; sums)', results.workerSet, NaN, NaN] as const]
    : []),
];
const md = [
  `# Sidecar memory — ${label}`,
  '',
  `${process.env.BENCH_SIDECAR_DIST ? 'Another build of the sidecar. ' : ''}Node ${process.version}${nodeFlags.length ? `, flags \`${nodeFlags.join(' ')}\`` : ''}, ${cpus().length} CPUs, load average ${(load0[0] ?? 0).toFixed(1)} → ${(load1[0] ?? 0).toFixed(1)}, ${runs} runs (median), memory store, Dify bridge configured.`,
  '',
  "RSS = anonymous (the process's own memory: V8 heap, malloc, stacks) + file-backed (pages mapped from files, almost all of them the node executable's, shared by every node process on the host and reclaimable), as `/proc/<pid>/status` counts them.",
  '',
  '| scenario | RSS MB | anonymous MB | file-backed MB | V8 heap used MB | per session, bytes of heap |',
  '|---|---|---|---|---|---|',
  ...rows.map(
    ([name, of, heap, per]) =>
      `| ${name} | ${mb(pick(of, 'rss'))} | ${mb(pick(of, 'anon'))} | ${mb(pick(of, 'file'))} | ${Number.isNaN(heap) ? '–' : mb(heap)} | ${Number.isNaN(per) ? '–' : Math.round(per)} |`,
  ),
  '',
  `Per run, RSS MB: ${rows.map(([name, of]) => `${name.replace(/ \(.*\)$/, '')} ${of.map((x) => mb(x.rss)).join(', ')}`).join('; ')}.`,
  '',
];
mkdirSync(new URL('bench/results/', root), { recursive: true });
writeFileSync(new URL(`bench/results/memory-${label}.md`, root), md.join('\n'));
writeFileSync(
  new URL(`bench/results/memory-${label}.json`, root),
  `${JSON.stringify({ label, node: process.version, nodeFlags, count, runs, load: [load0, load1], results }, null, 2)}\n`,
);
process.stdout.write(md.join('\n'));
