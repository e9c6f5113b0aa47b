/**
 * Soak (issue 13): a bounded run of the sidecar at sustained load — real sign-ins through the
 * bench OP, gate checks, logouts at the sidecar and logouts at the IdP (back-channel) — that
 * reports errors, p99 per minute and RSS every 10 s, and the slopes of RSS and p99 (least
 * squares). Not part of `npm test`; timing is never asserted.
 *
 *   npm run bench:soak -- [--minutes 10] [--store redis|memory] [--max-sessions 200]
 *       [--signins-per-second 3] [--checks-per-second 300] [--workers N]
 *
 * Processes (free loopback ports, stopped at the end and on Ctrl-C): a dedicated redis-server
 * (session store with `--store redis`, and the stand-in's "Dify Redis"), the bench OP, the Dify
 * stand-in, and the compiled sidecar (`npm run build`; `DIFY_SSO_WORKERS` or `--workers`).
 *
 * Load, paced (each loop waits for its next slot; a loop that falls behind does not burst):
 * - sign-in loops (4): a fresh browser signs a random user of 200 in (`/sso/login` → OP password
 *   form → `/sso/callback`, the bridge provisions and seeds Dify's session), makes 5 gate checks
 *   with its cookies (204), then in turn: logs out at the sidecar (`POST /sso/logout`, then the
 *   OP's logout page), logs out at the IdP only (the OP's back-channel logout reaches the sidecar),
 *   or leaves the session (it stays until idle expiry, or until the memory store's bound evicts it).
 *   After a logout the next gate check with the old cookies must be refused (401): a 204 there is
 *   counted as the error `not_revoked_after_logout` / `…_idp_logout`.
 * - gate loops (4): `/sso/auth` with four long-lived sessions, 204 expected.
 * With `--store memory` the sidecar's `memory.maxSessions` is `--max-sessions` (default 200), so
 * the abandoned sessions reach the bound within minutes; the session count (`/sso/metrics`) shows
 * whether it holds. Output: bench/results/soak-<store>.json and .md.
 */
import { Agent, request } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { Browser, FlowError, opLogout, sidecarLogout, sidecarSignIn } from './lib/browser.js';
import {
  describeLoad,
  freePort,
  machineLoad,
  percentile,
  round,
  sleep,
  slope,
  treeRss,
  rssBytes,
  type MachineLoad,
} from './lib/procs.js';
import {
  gitCommit,
  sidecarBuild,
  startOp,
  startRedis,
  startSidecar,
  startStandin,
  type Service,
} from './lib/services.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const log = (s: string) => process.stdout.write(`${s}\n`);

const { values: argv } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    store: { type: 'string', default: 'redis' },
    'max-sessions': { type: 'string', default: '200' },
    'signins-per-second': { type: 'string', default: '3' },
    'checks-per-second': { type: 'string', default: '300' },
    workers: { type: 'string' },
  },
});
const minutes = Number(argv.minutes);
const store = argv.store as 'redis' | 'memory';
const maxSessions = Number(argv['max-sessions']);
const signinRate = Number(argv['signins-per-second']);
const checkRate = Number(argv['checks-per-second']);
if (store !== 'redis' && store !== 'memory') throw new TypeError(`--store: redis or memory, got ${argv.store}`);
if (!(minutes > 0 && minutes <= 120)) throw new TypeError('--minutes must be in (0, 120]');
if (!(signinRate > 0 && checkRate > 0 && maxSessions >= 100))
  throw new TypeError('--signins-per-second and --checks-per-second must be positive, --max-sessions at least 100');
const build = sidecarBuild();
if (!build.present) {
  log(`the compiled sidecar is missing (${build.entry}): run npm run build first`);
  process.exit(1);
}
if (build.stale)
  log(
    'warning: packages/sidecar/src is newer than the compiled sidecar: run npm run build to measure the current sources',
  );

const SIGNIN_LOOPS = 4;
const GATE_LOOPS = 4;
const USERS_IN_USE = 200;
const SAMPLE_MS = 10_000;

type Op = 'signin' | 'gate' | 'logout' | 'idp_logout' | 'revoked_check';
interface Minute {
  minute: number;
  counts: Record<Op, number>;
  errors: Record<string, number>;
  latencies: Record<Op, number[]>;
}
const ops: Op[] = ['signin', 'gate', 'logout', 'idp_logout', 'revoked_check'];
const minutesData: Minute[] = [];
let t0 = 0;
function bucket(): Minute {
  const m = Math.floor((performance.now() - t0) / 60_000);
  while (minutesData.length <= m) {
    minutesData.push({
      minute: minutesData.length,
      counts: Object.fromEntries(ops.map((o) => [o, 0])) as Minute['counts'],
      errors: {},
      latencies: Object.fromEntries(ops.map((o) => [o, []])) as unknown as Minute['latencies'],
    });
  }
  return minutesData[m] as Minute;
}
function record(op: Op, ms: number): void {
  const b = bucket();
  b.counts[op]++;
  b.latencies[op].push(ms);
}
function fail(op: Op, reason: string): void {
  const b = bucket();
  const k = `${op}:${reason}`;
  b.errors[k] = (b.errors[k] ?? 0) + 1;
}
async function timed(op: Op, fn: () => Promise<void>): Promise<boolean> {
  const s = performance.now();
  try {
    await fn();
    record(op, performance.now() - s);
    return true;
  } catch (err) {
    fail(
      op,
      err instanceof FlowError ? err.reason : ((err as { code?: string }).code ?? (err as Error).name ?? 'error'),
    );
    return false;
  }
}

const agent = new Agent({ keepAlive: true, maxSockets: GATE_LOOPS + SIGNIN_LOOPS });
/** One `/sso/auth` decision as nginx asks for it; resolves with the status. */
function gate(port: number, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/sso/auth',
        method: 'GET',
        agent,
        timeout: 10_000,
        headers: { cookie, 'x-original-uri': '/console/api/apps?page=1', 'x-original-method': 'GET' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('timeout', () => req.destroy(Object.assign(new Error('gate request timed out'), { code: 'timeout' })));
    req.on('error', reject);
    req.end();
  });
}
async function gateCheck(port: number, cookie: string, expect: number, op: Op = 'gate', after = ''): Promise<void> {
  await timed(op, async () => {
    const status = await gate(port, cookie);
    if (status !== expect)
      throw new FlowError(
        expect === 401 && status === 204 ? `not_revoked_after_${after}` : `status_${status}`,
        `gate answered ${status}`,
      );
  });
}

/** Runs `fn` about `perSecond` times a second until `until` (performance.now()). */
async function paced(perSecond: number, until: number, fn: () => Promise<void>): Promise<void> {
  const interval = 1000 / perSecond;
  let next = performance.now() + Math.random() * interval;
  await sleep(next - performance.now());
  while (performance.now() < until) {
    await fn();
    next += interval;
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    else if (wait < -interval) next = performance.now();
  }
}

interface Sample {
  atSeconds: number;
  sidecarRssMb: number;
  sidecarProcesses: number;
  redisRssMb: number;
  opRssMb: number;
  standinRssMb: number;
  sessions: number | null;
  loadavg1: number;
}
const samples: Sample[] = [];
const services: Service[] = [];
const loadBefore = await machineLoad();
log(describeLoad(loadBefore));
let failure: unknown;
let workersSeen = 0;

try {
  const port = await freePort();
  const metricsPort = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const redis = await startRedis();
  services.push(redis);
  const op = await startOp([
    {
      client_id: 'dify-sso',
      client_secret: 'dify-sso-bench-secret',
      redirect_uris: [`${url}/sso/callback`],
      post_logout_redirect_uris: [`${url}/signin`],
      backchannel_logout_uri: `${url}/sso/backchannel-logout`,
    },
  ]);
  services.push({ ...op, url: op.issuer, port: 0 });
  const adminApiKey = `sk-bench-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const standin = await startStandin({ redisUrl: redis.url, publicUrl: url, adminApiKey });
  services.push(standin);
  const sc = await startSidecar({
    port,
    issuer: op.issuer,
    standinUrl: standin.url,
    adminApiKey,
    difyRedisUrl: redis.url,
    store,
    redisUrl: redis.url,
    maxSessions,
    metricsPort,
    workers: argv.workers ?? process.env.DIFY_SSO_WORKERS ?? '0',
  });
  services.push(sc);
  const { Redis } = await import('ioredis');
  const redisClient = new Redis(redis.url, { maxRetriesPerRequest: 1 });

  async function sessions(): Promise<number | null> {
    try {
      if (store === 'redis') {
        let n = 0;
        let cursor = '0';
        do {
          const [next, keys] = await redisClient.scan(cursor, 'MATCH', `${sc.keyPrefix}session:*`, 'COUNT', 1000);
          cursor = next;
          n += keys.length;
        } while (cursor !== '0');
        return n;
      }
      const text = await (
        await fetch(`http://127.0.0.1:${metricsPort}/sso/metrics`, { signal: AbortSignal.timeout(5000) })
      ).text();
      const m = /^dify_sso_sessions\{[^}]*store="memory"[^}]*\} (\d+)/m.exec(text);
      return m ? Number(m[1]) : null;
    } catch {
      return null;
    }
  }
  async function sample(): Promise<void> {
    const s = treeRss(sc.pid);
    workersSeen = Math.max(workersSeen, s.perProcessMb.length > 1 ? s.perProcessMb.length - 1 : 1);
    samples.push({
      atSeconds: round((performance.now() - t0) / 1000, 1),
      sidecarRssMb: s.totalMb,
      sidecarProcesses: s.perProcessMb.length,
      redisRssMb: round(rssBytes(redis.pid) / 1048576, 1),
      opRssMb: round(rssBytes(op.pid) / 1048576, 1),
      standinRssMb: round(rssBytes(standin.pid) / 1048576, 1),
      sessions: await sessions(),
      loadavg1: round(loadavg()[0] as number, 2),
    });
  }

  // Long-lived sessions for the gate loops.
  const longLived: string[] = [];
  for (let i = 0; i < GATE_LOOPS; i++) {
    const b = new Browser();
    await sidecarSignIn(b, url, `bench-user-${USERS_IN_USE + i}`);
    longLived.push(b.cookieHeader(url));
  }
  log(
    `sidecar ${url} (${store} store${store === 'memory' ? `, maxSessions ${maxSessions}` : ''}), OP ${op.issuer}, stand-in ${standin.url}, redis ${redis.url}; soak of ${minutes} min: ${signinRate} sign-ins/s, ${checkRate} gate checks/s`,
  );

  t0 = performance.now();
  const until = t0 + minutes * 60_000;
  await sample();
  const sampler = setInterval(() => void sample(), SAMPLE_MS);
  const progress = setInterval(() => {
    const m = minutesData.at(-2);
    if (m)
      log(
        `minute ${m.minute}: ${ops.map((o) => `${o} ${m.counts[o]}`).join(', ')}; gate p99 ${round(percentile(m.latencies.gate, 99), 2)} ms; errors ${JSON.stringify(m.errors)}; sidecar RSS ${samples.at(-1)?.sidecarRssMb} MB, sessions ${samples.at(-1)?.sessions}`,
      );
  }, 60_000);
  let iteration = 0;
  const hardStop = setTimeout(
    () => {
      process.stderr.write('soak: loops did not finish 2 minutes after the end; stopping\n');
      process.kill(process.pid, 'SIGTERM');
    },
    (minutes + 2) * 60_000,
  );
  try {
    await Promise.all([
      ...Array.from({ length: SIGNIN_LOOPS }, () =>
        paced(signinRate / SIGNIN_LOOPS, until, async () => {
          const b = new Browser();
          const user = `bench-user-${Math.floor(Math.random() * USERS_IN_USE)}`;
          if (!(await timed('signin', () => sidecarSignIn(b, url, user)))) return;
          const cookie = b.cookieHeader(url);
          for (let i = 0; i < 5; i++) await gateCheck(port, cookie, 204);
          const end = iteration++ % 3;
          if (end === 0) {
            if (await timed('logout', () => sidecarLogout(b, url, user)))
              await gateCheck(port, cookie, 401, 'revoked_check', 'logout');
          } else if (end === 1) {
            if (await timed('idp_logout', () => opLogout(b, `${op.issuer}/session/end`, user)))
              await gateCheck(port, cookie, 401, 'revoked_check', 'idp_logout');
          }
        }),
      ),
      ...longLived.map((cookie) => paced(checkRate / GATE_LOOPS, until, () => gateCheck(port, cookie, 204))),
    ]);
  } finally {
    clearTimeout(hardStop);
    clearInterval(sampler);
    clearInterval(progress);
  }
  await sample();
  redisClient.disconnect();
} catch (err) {
  failure = err;
} finally {
  agent.destroy();
  for (const s of services.reverse()) await s.stop();
}
const loadAfter = await machineLoad();
log(describeLoad(loadAfter));
if (failure) {
  process.stderr.write(`soak failed: ${(failure as Error).stack ?? String(failure)}\n`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------
// The last minute bucket is partial (loops finishing their iteration): merged into the one before.
if (minutesData.length > Math.ceil(minutes)) {
  const last = minutesData.pop() as Minute;
  const prev = minutesData.at(-1) as Minute;
  for (const o of ops) {
    prev.counts[o] += last.counts[o];
    prev.latencies[o].push(...last.latencies[o]);
  }
  for (const [k, v] of Object.entries(last.errors)) prev.errors[k] = (prev.errors[k] ?? 0) + v;
}
const perMinute = minutesData.map((m) => ({
  minute: m.minute,
  counts: m.counts,
  errors: m.errors,
  p50Ms: Object.fromEntries(ops.map((o) => [o, round(percentile(m.latencies[o], 50), 2)])),
  p99Ms: Object.fromEntries(ops.map((o) => [o, round(percentile(m.latencies[o], 99), 2)])),
}));
const errorTotals: Record<string, number> = {};
for (const m of minutesData) for (const [k, v] of Object.entries(m.errors)) errorTotals[k] = (errorTotals[k] ?? 0) + v;
const totalErrors = Object.values(errorTotals).reduce((a, b) => a + b, 0);
const totals = Object.fromEntries(ops.map((o) => [o, minutesData.reduce((a, m) => a + m.counts[o], 0)])) as Record<
  Op,
  number
>;
const rssPoints = samples.map((s): [number, number] => [s.atSeconds / 60, s.sidecarRssMb]);
const half = rssPoints.filter(([x]) => x >= minutes / 2);
const p99Points = perMinute
  .filter((m) => Number.isFinite(m.p99Ms.gate))
  .map((m): [number, number] => [m.minute, m.p99Ms.gate as number]);
const signinP99Points = perMinute
  .filter((m) => Number.isFinite(m.p99Ms.signin))
  .map((m): [number, number] => [m.minute, m.p99Ms.signin as number]);
const sessionCounts = samples.map((s) => s.sessions).filter((n): n is number => n !== null);
const summary = {
  totals,
  errors: totalErrors,
  errorsByReason: errorTotals,
  sidecarRssSlopeMbPerMin: round(slope(rssPoints), 3),
  sidecarRssSlopeSecondHalfMbPerMin: round(slope(half), 3),
  sidecarRssMb: {
    first: samples[0]?.sidecarRssMb,
    last: samples.at(-1)?.sidecarRssMb,
    max: Math.max(...samples.map((s) => s.sidecarRssMb)),
  },
  redisRssSlopeMbPerMin: round(slope(samples.map((s) => [s.atSeconds / 60, s.redisRssMb])), 3),
  gateP99SlopeMsPerMin: round(slope(p99Points), 4),
  signinP99SlopeMsPerMin: round(slope(signinP99Points), 3),
  sessions: {
    max: sessionCounts.length ? Math.max(...sessionCounts) : null,
    last: sessionCounts.at(-1) ?? null,
    ...(store === 'memory'
      ? { bound: maxSessions, boundHeld: sessionCounts.length > 0 && Math.max(...sessionCounts) <= maxSessions }
      : {}),
  },
};
const meta = {
  date: new Date().toISOString(),
  commit: await gitCommit(),
  node: process.version,
  sidecarEntry: 'packages/sidecar/dist/server.js',
  sidecarBuildStale: build.stale,
  store,
  ...(store === 'memory' ? { maxSessions } : {}),
  workersSetting: argv.workers ?? process.env.DIFY_SSO_WORKERS ?? '0',
  sidecarWorkers: workersSeen,
  minutes,
  signinsPerSecond: signinRate,
  checksPerSecond: checkRate,
  machineBefore: loadBefore as MachineLoad,
  machineAfter: loadAfter,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', `soak-${store}.json`),
  `${JSON.stringify({ meta, summary, perMinute, samples }, null, 2)}\n`,
);
const fmt = (n: number | undefined) => (n === undefined || !Number.isFinite(n) ? '–' : String(n));
const md = [
  `# Soak, ${store} store (${meta.date.slice(0, 16).replace('T', ' ')} UTC, ${minutes} min)`,
  '',
  `Sidecar commit ${meta.commit}, compiled, ${workersSeen} worker process(es) (setting ${meta.workersSetting})${store === 'memory' ? `, memory.maxSessions ${maxSessions}` : ''}; Node ${meta.node}. Paced load: ${signinRate} sign-ins/s (full flow through the OP and the Dify bridge, 5 gate checks each, then logout at the sidecar, logout at the IdP (back-channel) or abandoned, in turn) and ${checkRate} gate checks/s on 4 long-lived sessions.`,
  '',
  `Machine before: ${describeLoad(loadBefore)}.`,
  `Machine after: ${describeLoad(loadAfter)}.`,
  '',
  '| measure | value |',
  '|---|---|',
  `| operations | ${ops.map((o) => `${o} ${totals[o]}`).join(', ')} |`,
  `| errors | ${totalErrors}${
    totalErrors
      ? ` (${Object.entries(errorTotals)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')})`
      : ''
  } |`,
  `| sidecar RSS first → last (max), MB | ${summary.sidecarRssMb.first} → ${summary.sidecarRssMb.last} (${summary.sidecarRssMb.max}) |`,
  `| sidecar RSS slope, whole run / second half | ${summary.sidecarRssSlopeMbPerMin} / ${summary.sidecarRssSlopeSecondHalfMbPerMin} MB/min |`,
  `| redis-server RSS slope | ${summary.redisRssSlopeMbPerMin} MB/min |`,
  `| gate p99 slope | ${summary.gateP99SlopeMsPerMin} ms/min |`,
  `| sign-in p99 slope | ${summary.signinP99SlopeMsPerMin} ms/min |`,
  `| sessions in the store, max / last | ${fmt(summary.sessions.max ?? undefined)} / ${fmt(summary.sessions.last ?? undefined)}${store === 'memory' ? ` (bound ${maxSessions}: ${summary.sessions.boundHeld ? 'held' : 'NOT held'})` : ''} |`,
  '',
  '| minute | sign-ins | gate checks | logouts (sidecar / IdP) | errors | gate p50 / p99 ms | sign-in p50 / p99 ms |',
  '|---|---|---|---|---|---|---|',
  ...perMinute.map(
    (m) =>
      `| ${m.minute} | ${m.counts.signin} | ${m.counts.gate} | ${m.counts.logout} / ${m.counts.idp_logout} | ${Object.values(m.errors).reduce((a, b) => a + b, 0)} | ${fmt(m.p50Ms.gate)} / ${fmt(m.p99Ms.gate)} | ${fmt(m.p50Ms.signin)} / ${fmt(m.p99Ms.signin)} |`,
  ),
  '',
  '| at (s) | sidecar RSS MB | redis RSS MB | sessions | load avg |',
  '|---|---|---|---|---|',
  ...samples.map(
    (s) => `| ${s.atSeconds} | ${s.sidecarRssMb} | ${s.redisRssMb} | ${s.sessions ?? '–'} | ${s.loadavg1} |`,
  ),
  '',
  'Slopes are least-squares fits (RSS over the 10 s samples, p99 over the minutes). Latencies are measured by the load generator on the same machine, so they include its own scheduling; the load average column says how busy the machine was.',
  '',
].join('\n');
writeFileSync(join(here, 'results', `soak-${store}.md`), md);
log(`\n${md}`);
