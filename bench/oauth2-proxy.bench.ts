/**
 * The gate next to oauth2-proxy (issue 14): the sidecar's `/sso/auth` against oauth2-proxy's
 * `/oauth2/auth` (the same auth_request question: "is this a valid session?"), same OP, same
 * load, side by side. Not part of `npm test`; timing is never asserted.
 *
 *   npm run bench:oauth2-proxy -- [--rounds 5] [--seconds 10] [--conns 1,32]
 *       [--modes pinned,unpinned] [--pairings memory,redis] [--workers N] [--smoke]
 *
 * Needs wrk (Debian `wrk`), redis-server, taskset, Go (to build oauth2-proxy once with
 * `go install` from the Go module proxy into the kit's cache folder; without Go the bench says so
 * and exits 0), and the compiled sidecar (`npm run build`): the bench runs what ships, with the
 * environment's `DIFY_SSO_WORKERS` (or `--workers`) and the image's node flags
 * (`BENCH_SIDECAR_NODE_FLAGS` overrides them; `lib/services.ts`).
 *
 * Processes, each on a free loopback port and stopped at the end (also on Ctrl-C): a dedicated
 * redis-server (the Redis session stores and the stand-in's "Dify Redis"), the bench OP, the Dify
 * stand-in (the sidecar's bridge needs dify-api), a static upstream behind oauth2-proxy, and per
 * pairing and mode one sidecar and one oauth2-proxy. Each gets its session by the real sign-in
 * flow through the OP (password form, code + PKCE, callback): no forged cookies.
 *
 * Pairings: sidecar memory store vs oauth2-proxy cookie store; sidecar Redis store vs oauth2-proxy
 * Redis session store (same redis-server). Modes: `pinned` — each server on CPU 1, wrk (one thread)
 * and redis-server on CPU 0 (a 2-core machine has no third core: Redis shares the load generator's);
 * `unpinned` — nothing pinned, the sidecar with its configured workers. For each pairing × mode ×
 * connections, `rounds` strictly alternating rounds (ABBA order) of `seconds` each after a warm-up.
 * Per round: requests/s, p50/p99 (wrk), CPU µs per request of the server (process tree, from
 * /proc/<pid>/stat) and of redis-server (less its idle rate), and the load average. RSS of each server idle (after
 * sign-in) and after the load. Output: bench/results/oauth2-proxy.json and .md.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Browser, oauth2ProxySignIn, sidecarSignIn } from './lib/browser.js';
import {
  answers,
  describeLoad,
  freePort,
  machineLoad,
  median,
  processTree,
  round,
  sleep,
  treeCpuUs,
  treeRss,
  type MachineLoad,
} from './lib/procs.js';
import {
  OAUTH2_PROXY_VERSION,
  gitCommit,
  oauth2ProxyBinary,
  sidecarBuild,
  sidecarNodeFlags,
  startOauth2Proxy,
  startOp,
  startRedis,
  startSidecar,
  startStandin,
  startUpstream,
  type Service,
} from './lib/services.js';

const runFile = promisify(execFile);
const here = fileURLToPath(new URL('.', import.meta.url));
const log = (s: string) => process.stdout.write(`${s}\n`);

const { values: argv } = parseArgs({
  options: {
    rounds: { type: 'string' },
    seconds: { type: 'string' },
    conns: { type: 'string', default: '1,32' },
    modes: { type: 'string', default: 'pinned,unpinned' },
    pairings: { type: 'string', default: 'memory,redis' },
    workers: { type: 'string' },
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: 'oauth2-proxy' },
  },
});
const rounds = Number(argv.rounds ?? (argv.smoke ? 2 : 5));
const seconds = Number(argv.seconds ?? (argv.smoke ? 3 : 10));
const connsList = argv.conns.split(',').map(Number);
const modes = argv.modes.split(',') as Array<'pinned' | 'unpinned'>;
const pairings = argv.pairings.split(',') as Array<'memory' | 'redis'>;
for (const m of modes)
  if (m !== 'pinned' && m !== 'unpinned') throw new TypeError(`--modes: pinned or unpinned, got ${m}`);
for (const p of pairings)
  if (p !== 'memory' && p !== 'redis') throw new TypeError(`--pairings: memory or redis, got ${p}`);
if (!(rounds >= 1 && seconds >= 1 && connsList.every((c) => c >= 1)))
  throw new TypeError('--rounds, --seconds and --conns must be positive');

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
for (const [cmd, pkg] of [
  ['wrk', 'wrk'],
  ['redis-server', 'redis-server'],
  ['taskset', 'util-linux'],
] as const) {
  if (!has(cmd)) {
    log(`skipped: ${cmd} is not installed (Debian: apt-get install -y ${pkg})`);
    process.exit(0);
  }
}
const build = sidecarBuild();
if (!build.present) {
  log(`the compiled sidecar is missing (${build.entry}): run npm run build first`);
  process.exit(1);
}
if (build.stale)
  log(
    'warning: packages/sidecar/src is newer than the compiled sidecar: run npm run build to measure the current sources',
  );
const o2p = await oauth2ProxyBinary(log);
if (!o2p.bin) {
  log(`skipped: ${o2p.reason}`);
  process.exit(0);
}
const cpuCount = Number(execFileSync('nproc', { encoding: 'utf8' }).trim());
const pinnable = cpuCount >= 2;
if (!pinnable && modes.includes('pinned')) log('note: fewer than 2 CPUs, pinned mode skipped');

// ---------------------------------------------------------------------------------------------

interface Target {
  server: 'sidecar' | 'oauth2-proxy';
  url: string;
  /** Headers as nginx's auth_request subrequest sends them, with the browser's cookies. */
  headers: Record<string, string>;
  expect: number;
  pid: number;
}

interface WrkResult {
  requests: number;
  durationUs: number;
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  p50Us: number;
  p99Us: number;
}

const work = mkdtempSync(join(tmpdir(), 'dify-sso-bench-o2p-'));

/** One wrk run; the headers (cookies included) go through a Lua script file, never argv. */
async function wrk(t: Target, conns: number, secs: number, cpuList: string | undefined): Promise<WrkResult> {
  const script = join(work, `wrk-${t.server}.lua`);
  const lua = [
    'wrk.method = "GET"',
    ...Object.entries(t.headers).map(([k, v]) => `wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`),
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'WRKJSON {"requests":%d,"durationUs":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50Us":%d,"p99Us":%d}\\n\',',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, latency:percentile(50), latency:percentile(99)))',
    'end',
  ].join('\n');
  writeFileSync(script, lua, { mode: 0o600 });
  const cmd = ['wrk', '-t1', `-c${conns}`, `-d${secs}s`, '--timeout', '5s', '-s', script, t.url];
  const [file, args] = cpuList !== undefined ? ['taskset', ['-c', cpuList, ...cmd]] : [cmd[0] as string, cmd.slice(1)];
  const { stdout } = await runFile(file, args, { timeout: (secs + 30) * 1000 });
  const m = /WRKJSON (\{.*\})/.exec(stdout);
  if (!m) throw new Error(`wrk printed no result:\n${stdout}`);
  return JSON.parse(m[1] as string) as WrkResult;
}

/** The gate's answer to one request with the session (must be `expect`) and without it (must be 401). */
async function checkTarget(t: Target): Promise<void> {
  const withoutCookie = Object.fromEntries(Object.entries(t.headers).filter(([k]) => k !== 'cookie'));
  if (!(await answers(t.url, t.expect, t.headers)))
    throw new Error(`${t.server}: the signed-in session was not accepted (expected ${t.expect})`);
  if (!(await answers(t.url, 401, withoutCookie)))
    throw new Error(`${t.server}: a request without the session was not refused with 401`);
}

interface RoundResult {
  round: number;
  server: Target['server'];
  rps: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  serverCpuUsPerRequest: number;
  redisCpuUsPerRequest: number;
  loadavg1: number;
}

/** redis-server's own CPU use without requests (serverCron, clients' pings), µs per second. */
async function idleCpuRate(pid: number): Promise<number> {
  const c0 = treeCpuUs(pid);
  const s = performance.now();
  await sleep(2000);
  return (treeCpuUs(pid) - c0) / ((performance.now() - s) / 1000);
}

async function measure(
  t: Target,
  conns: number,
  roundNo: number,
  redisPid: number,
  redisIdleUsPerSecond: number,
  wrkCpu: string | undefined,
): Promise<RoundResult> {
  const cpu0 = treeCpuUs(t.pid);
  const r0 = treeCpuUs(redisPid);
  const w = await wrk(t, conns, seconds, wrkCpu);
  const cpu1 = treeCpuUs(t.pid);
  const r1 = treeCpuUs(redisPid);
  const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout;
  if (!(await answers(t.url, t.expect, t.headers)))
    throw new Error(`${t.server}: the session stopped being accepted during the round`);
  const res: RoundResult = {
    round: roundNo,
    server: t.server,
    rps: Math.round(w.requests / (w.durationUs / 1e6)),
    p50Ms: round(w.p50Us / 1000, 3),
    p99Ms: round(w.p99Us / 1000, 3),
    requests: w.requests,
    errors,
    serverCpuUsPerRequest: round((cpu1 - cpu0) / Math.max(1, w.requests), 1),
    redisCpuUsPerRequest: round(
      Math.max(0, r1 - r0 - redisIdleUsPerSecond * (w.durationUs / 1e6)) / Math.max(1, w.requests),
      1,
    ),
    loadavg1: round(loadavg()[0] as number, 2),
  };
  log(
    `  round ${roundNo} ${t.server.padEnd(12)} c=${String(conns).padStart(2)} ${String(res.rps).padStart(6)} req/s  p50 ${res.p50Ms} ms  p99 ${res.p99Ms} ms  CPU ${res.serverCpuUsPerRequest} µs/req  redis ${res.redisCpuUsPerRequest} µs/req  errors ${errors}  load ${res.loadavg1}`,
  );
  return res;
}

interface Cell {
  pairing: 'memory' | 'redis';
  mode: 'pinned' | 'unpinned';
  conns: number;
  sidecarWorkers: number;
  /** redis-server's CPU without load (µs/s), subtracted from its per-request figures. */
  redisIdleCpuUsPerSecond: number;
  rounds: RoundResult[];
  median: Record<
    Target['server'],
    {
      rps: number;
      p50Ms: number;
      p99Ms: number;
      serverCpuUsPerRequest: number;
      redisCpuUsPerRequest: number;
      errors: number;
    }
  >;
  /** Median of the per-round ratios sidecar ÷ oauth2-proxy (rounds are paired). */
  ratio: number;
  ratioPerRound: number[];
}

interface Memory {
  pairing: 'memory' | 'redis';
  mode: 'pinned' | 'unpinned';
  sidecar: { idleMb: number; idleAnonMb: number; idleFileMb: number; afterLoadMb: number; processes: number };
  oauth2Proxy: { idleMb: number; idleAnonMb: number; idleFileMb: number; afterLoadMb: number };
}

const services: Service[] = [];
const cells: Cell[] = [];
const memory: Memory[] = [];
const loadBefore = await machineLoad();
log(describeLoad(loadBefore));
const loads: MachineLoad[] = [loadBefore];
let failure: unknown;

try {
  const sidecarPort = await freePort();
  const proxyPort = await freePort();
  const sidecarUrl = `http://127.0.0.1:${sidecarPort}`;
  const proxyUrl = `http://127.0.0.1:${proxyPort}`;
  const redis = await startRedis();
  services.push(redis);
  const op = await startOp([
    {
      client_id: 'dify-sso',
      client_secret: 'dify-sso-bench-secret',
      redirect_uris: [`${sidecarUrl}/sso/callback`],
      post_logout_redirect_uris: [`${sidecarUrl}/signin`],
      backchannel_logout_uri: `${sidecarUrl}/sso/backchannel-logout`,
    },
    {
      client_id: 'oauth2-proxy',
      client_secret: 'oauth2-proxy-bench-secret',
      redirect_uris: [`${proxyUrl}/oauth2/callback`],
      post_logout_redirect_uris: [`${proxyUrl}/`],
    },
  ]);
  services.push({ ...op, url: op.issuer, port: 0 });
  const adminApiKey = `sk-bench-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const standin = await startStandin({ redisUrl: redis.url, publicUrl: sidecarUrl, adminApiKey });
  services.push(standin);
  const upstream = await startUpstream();
  services.push(upstream);
  log(
    `redis ${redis.url}, OP ${op.issuer}, stand-in ${standin.url}, upstream ${upstream.url}; oauth2-proxy ${OAUTH2_PROXY_VERSION}; sidecar ${build.entry}`,
  );

  let userNo = 0;
  for (const pairing of pairings) {
    for (const mode of modes) {
      if (mode === 'pinned' && !pinnable) continue;
      const serverCpu = mode === 'pinned' ? '1' : undefined;
      const sideCpu = mode === 'pinned' ? '0' : undefined;
      // redis-server (running since the start) moves with the mode: CPU 0 beside wrk, or anywhere.
      execFileSync('taskset', ['-a', '-p', '-c', sideCpu ?? `0-${cpuCount - 1}`, String(redis.pid)], {
        stdio: 'ignore',
      });
      const sc = await startSidecar({
        port: sidecarPort,
        issuer: op.issuer,
        standinUrl: standin.url,
        adminApiKey,
        difyRedisUrl: redis.url,
        store: pairing,
        redisUrl: redis.url,
        workers: argv.workers ?? process.env.DIFY_SSO_WORKERS ?? '0',
        ...(serverCpu !== undefined ? { cpuList: serverCpu } : {}),
      });
      const px = await startOauth2Proxy({
        bin: o2p.bin,
        port: proxyPort,
        issuer: op.issuer,
        upstreamUrl: upstream.url,
        store: pairing === 'memory' ? 'cookie' : 'redis',
        redisUrl: redis.url,
        ...(serverCpu !== undefined ? { cpuList: serverCpu } : {}),
      });
      try {
        const workers = processTree(sc.pid).length - 1 || 1;
        const b = new Browser();
        await sidecarSignIn(b, sidecarUrl, `bench-user-${userNo++}`);
        await oauth2ProxySignIn(b, proxyUrl, `bench-user-${userNo++}`);
        const targets: Target[] = [
          {
            server: 'sidecar',
            url: `${sidecarUrl}/sso/auth`,
            headers: {
              cookie: b.cookieHeader(sidecarUrl),
              'x-original-uri': '/console/api/apps?page=1',
              'x-original-method': 'GET',
            },
            expect: 204,
            pid: sc.pid,
          },
          {
            server: 'oauth2-proxy',
            url: `${proxyUrl}/oauth2/auth`,
            headers: { cookie: b.cookieHeader(proxyUrl), 'x-forwarded-uri': '/console/api/apps?page=1' },
            expect: 202,
            pid: px.pid,
          },
        ];
        for (const t of targets) await checkTarget(t);
        const idle = { sidecar: treeRss(sc.pid), proxy: treeRss(px.pid) };
        const redisIdle = await idleCpuRate(redis.pid);
        log(
          `${pairing} / ${mode}: sidecar ${workers} worker process(es); RSS idle sidecar ${idle.sidecar.totalMb} MB, oauth2-proxy ${idle.proxy.totalMb} MB`,
        );
        for (const conns of connsList) {
          for (const t of targets) await wrk(t, conns, Math.min(3, seconds), sideCpu); // warm-up
          const rs: RoundResult[] = [];
          for (let r = 0; r < rounds; r++) {
            const order = r % 2 === 0 ? targets : [...targets].reverse();
            for (const t of order) rs.push(await measure(t, conns, r, redis.pid, redisIdle, sideCpu));
          }
          const med = (server: Target['server']) => {
            const x = rs.filter((q) => q.server === server);
            return {
              rps: Math.round(median(x.map((q) => q.rps))),
              p50Ms: round(median(x.map((q) => q.p50Ms)), 3),
              p99Ms: round(median(x.map((q) => q.p99Ms)), 3),
              serverCpuUsPerRequest: round(median(x.map((q) => q.serverCpuUsPerRequest)), 1),
              redisCpuUsPerRequest: round(median(x.map((q) => q.redisCpuUsPerRequest)), 1),
              errors: x.reduce((a, q) => a + q.errors, 0),
            };
          };
          const ratioPerRound = Array.from({ length: rounds }, (_, r) => {
            const s = rs.find((q) => q.round === r && q.server === 'sidecar') as RoundResult;
            const o = rs.find((q) => q.round === r && q.server === 'oauth2-proxy') as RoundResult;
            return round(s.rps / o.rps, 3);
          });
          const cell: Cell = {
            pairing,
            mode,
            conns,
            sidecarWorkers: workers,
            redisIdleCpuUsPerSecond: Math.round(redisIdle),
            rounds: rs,
            median: { sidecar: med('sidecar'), 'oauth2-proxy': med('oauth2-proxy') },
            ratio: round(median(ratioPerRound), 2),
            ratioPerRound,
          };
          cells.push(cell);
          log(
            `=> ${pairing} / ${mode} / ${conns} conns: sidecar ÷ oauth2-proxy = ${cell.ratio} (rounds: ${ratioPerRound.join(', ')})`,
          );
        }
        memory.push({
          pairing,
          mode,
          sidecar: {
            idleMb: idle.sidecar.totalMb,
            idleAnonMb: idle.sidecar.anonMb,
            idleFileMb: idle.sidecar.fileMb,
            afterLoadMb: treeRss(sc.pid).totalMb,
            processes: idle.sidecar.perProcessMb.length,
          },
          oauth2Proxy: {
            idleMb: idle.proxy.totalMb,
            idleAnonMb: idle.proxy.anonMb,
            idleFileMb: idle.proxy.fileMb,
            afterLoadMb: treeRss(px.pid).totalMb,
          },
        });
      } finally {
        await sc.stop();
        await px.stop();
      }
    }
  }
} catch (err) {
  failure = err;
} finally {
  for (const s of services.reverse()) await s.stop();
  rmSync(work, { recursive: true, force: true });
}
const loadAfter = await machineLoad();
loads.push(loadAfter);
log(describeLoad(loadAfter));
if (failure) {
  process.stderr.write(`bench failed: ${(failure as Error).stack ?? String(failure)}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
const meta = {
  date: new Date().toISOString(),
  commit: await gitCommit(),
  node: process.version,
  oauth2Proxy: OAUTH2_PROXY_VERSION,
  sidecarEntry: 'packages/sidecar/dist/server.js',
  sidecarNodeFlags: sidecarNodeFlags(),
  sidecarBuildStale: build.stale,
  workersSetting: argv.workers ?? process.env.DIFY_SSO_WORKERS ?? '0',
  rounds,
  secondsPerRound: seconds,
  loadGenerator: 'wrk 4.1 (Debian), 1 thread',
  pinning: 'pinned: each server (all its processes) on CPU 1; wrk and redis-server on CPU 0. unpinned: no affinity.',
  machineBefore: loadBefore,
  machineAfter: loadAfter,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `${argv.out}.json`), `${JSON.stringify({ meta, cells, memory }, null, 2)}\n`);

const pairName = (p: 'memory' | 'redis') =>
  p === 'memory' ? 'memory store vs cookie store' : 'Redis store vs Redis store';
const md = [
  `# The gate next to oauth2-proxy (${meta.date.slice(0, 16).replace('T', ' ')} UTC)`,
  '',
  `Sidecar \`/sso/auth\` (commit ${meta.commit}, compiled, workers: ${meta.workersSetting}, node flags: ${meta.sidecarNodeFlags.map((f) => `\`${f}\``).join(' ') || 'none'}) against oauth2-proxy ${OAUTH2_PROXY_VERSION} \`/oauth2/auth\`, valid sessions made by the real sign-in flow through the same OP; Node ${meta.node}; ${meta.loadGenerator}; ${rounds} alternating rounds of ${seconds} s per cell, medians (per-round values in the JSON). ${meta.pinning}`,
  '',
  `Machine before: ${describeLoad(loadBefore)}.`,
  `Machine after: ${describeLoad(loadAfter)}.`,
  '',
  '| pairing | mode | conns | sidecar workers | ratio (rounds) | req/s sidecar / oauth2-proxy | p99 ms sidecar / oauth2-proxy | CPU µs/req sidecar / oauth2-proxy | Redis CPU µs/req sidecar / oauth2-proxy | errors | load avg (rounds) |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
  ...cells.map((c) => {
    const s = c.median.sidecar;
    const o = c.median['oauth2-proxy'];
    const la = c.rounds.map((r) => r.loadavg1);
    return `| ${pairName(c.pairing)} | ${c.mode} | ${c.conns} | ${c.sidecarWorkers} | **${c.ratio}** (${c.ratioPerRound.join(', ')}) | ${s.rps} / ${o.rps} | ${s.p99Ms} / ${o.p99Ms} | ${s.serverCpuUsPerRequest} / ${o.serverCpuUsPerRequest} | ${c.pairing === 'redis' ? `${s.redisCpuUsPerRequest} / ${o.redisCpuUsPerRequest}` : '–'} | ${s.errors} / ${o.errors} | ${Math.min(...la)}–${Math.max(...la)} |`;
  }),
  '',
  '| pairing | mode | sidecar RSS idle → after load (MB, processes) | sidecar idle: anonymous + file-backed (MB) | oauth2-proxy RSS idle → after load (MB) | oauth2-proxy idle: anonymous + file-backed (MB) |',
  '|---|---|---|---|---|---|',
  ...memory.map(
    (m) =>
      `| ${pairName(m.pairing)} | ${m.mode} | ${m.sidecar.idleMb} → ${m.sidecar.afterLoadMb} (${m.sidecar.processes}) | ${m.sidecar.idleAnonMb} + ${m.sidecar.idleFileMb} | ${m.oauth2Proxy.idleMb} → ${m.oauth2Proxy.afterLoadMb} | ${m.oauth2Proxy.idleAnonMb} + ${m.oauth2Proxy.idleFileMb} |`,
  ),
  '',
  "Ratio = sidecar req/s ÷ oauth2-proxy req/s of the same round (median over rounds). CPU per request is the process tree's user + system time over the round divided by the requests wrk completed; Redis CPU likewise for redis-server, less its idle CPU (measured for 2 s before each pairing and mode; it dominates at 1 connection otherwise). RSS is the sum over the server's processes (primary and workers); anonymous memory is each process's own, file-backed pages are mostly the executable's (node's are shared by the primary and its workers and counted once per process here).",
  '',
].join('\n');
writeFileSync(join(here, 'results', `${argv.out}.md`), md);
log(`\n${md}`);
