/**
 * Web-app SSO cost per `/api/**` request (issue 12), loopback only, bounded (about 20 s).
 *
 *   node --import tsx bench/gate-webapps.bench.ts [seconds-per-run=3] [concurrency=32]
 *
 * One sidecar with web-app SSO on (memory store). Both scenarios ask `/sso/auth` (what nginx asks
 * for every gated request) with the same kit session:
 *   console-decision  a console request (session lookup + Dify access-cookie comparison)
 *   webapp-decision   a web-app API request with `X-App-Passport` (session lookup + passport
 *                     claims + ownership lookup in the kit store + policy)
 * "added cost" = p99(webapp-decision) − p99(console-decision), one request in flight. Timing is
 * never asserted in tests. Results: bench/results/gate-webapps.{json,md}.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ask, child } from './lib/ipc-child.js';

const seconds = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 32);
const here = fileURLToPath(new URL('.', import.meta.url));

interface Target {
  port: number;
  headers: Record<string, string>;
}
function once(agent: Agent, t: Target): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: t.port, path: '/sso/auth', method: 'GET', headers: t.headers, agent },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode !== 204
            ? reject(new Error(`status ${res.statusCode}`))
            : resolve(Number(process.hrtime.bigint() - start) / 1e6),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}
async function run(
  t: Target,
  inFlight: number,
  durationMs: number,
): Promise<{ latencies: number[]; elapsedMs: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight });
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) latencies.push(await once(agent, t));
    }),
  );
  agent.destroy();
  return { latencies, elapsedMs: performance.now() - t0 };
}
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
const round = (n: number, d = 3) => Math.round(n * 10 ** d) / 10 ** d;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function scenario(name: string, t: Target, sidecar: ChildProcess) {
  await run(t, 4, 500);
  const p50s: number[] = [];
  const p99s: number[] = [];
  const rpss: number[] = [];
  let cpuUs = 0;
  let count = 0;
  for (let i = 0; i < 3; i++) {
    const lat = await run(t, 1, (seconds * 1000) / 3);
    const cpu0 = await ask(sidecar, 'cpu');
    const thr = await run(t, concurrency, (seconds * 1000) / 3);
    cpuUs += (await ask(sidecar, 'cpu')) - cpu0;
    count += thr.latencies.length;
    const s1 = [...lat.latencies].sort((a, b) => a - b);
    p50s.push(pct(s1, 50));
    p99s.push(pct(s1, 99));
    rpss.push((thr.latencies.length / thr.elapsedMs) * 1000);
  }
  const r = {
    name,
    rps: Math.round(median(rpss)),
    p50Ms: round(median(p50s)),
    p99Ms: round(median(p99s)),
    sidecarCpuUsPerRequest: Math.round(cpuUs / Math.max(1, count)),
  };
  process.stdout.write(
    `${name.padEnd(17)} rps ${String(r.rps).padStart(6)}  p50 ${r.p50Ms.toFixed(3)} ms  p99 ${r.p99Ms.toFixed(3)} ms  CPU ${r.sidecarCpuUsPerRequest} µs/req\n`,
  );
  return r;
}

const up = await child('upstream.ts');
const sc = await child('sidecar.ts', [`http://127.0.0.1:${Number(up.msg['port'])}`, 'webapps']);
const port = Number(sc.msg['port']);
const cookie = String(sc.msg['cookie']);
const passport = String(sc.msg['passport']);
const loadBefore = loadavg().map((n) => round(n, 2));
const results = [];
try {
  results.push(
    await scenario(
      'console-decision',
      { port, headers: { cookie, 'x-original-uri': '/console/api/apps?page=1', 'x-original-method': 'GET' } },
      sc.proc,
    ),
  );
  results.push(
    await scenario(
      'webapp-decision',
      {
        port,
        headers: {
          cookie,
          'x-app-passport': passport,
          'x-app-code': 'AssistAlpha00001',
          'x-original-uri': '/api/conversations?limit=20',
          'x-original-method': 'GET',
        },
      },
      sc.proc,
    ),
  );
} finally {
  sc.proc.send('exit');
  up.proc.send('exit');
}
const [con, web] = results as [(typeof results)[0], (typeof results)[0]];
const summary = {
  addedP99Ms: round(web.p99Ms - con.p99Ms),
  addedP50Ms: round(web.p50Ms - con.p50Ms),
  addedCpuUs: web.sidecarCpuUsPerRequest - con.sidecarCpuUsPerRequest,
};
const meta = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  secondsPerRun: seconds,
  concurrency,
  loadAverageBefore: loadBefore,
  loadAverageAfter: loadavg().map((n) => round(n, 2)),
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'gate-webapps.json'), `${JSON.stringify({ meta, summary, results }, null, 2)}\n`);
const md = [
  `Web-app SSO decision cost (${meta.date.slice(0, 10)}, Node ${meta.node}, ${meta.cpus} CPUs, loopback, memory store, ${seconds} s per run; latency with 1 request in flight, rps with ${concurrency}; load average before/after ${meta.loadAverageBefore[0]}/${meta.loadAverageAfter[0]}).`,
  '',
  '| scenario | rps | p50 (ms) | p99 (ms) | sidecar CPU per request (µs) |',
  '|---|---|---|---|---|',
  ...results.map((r) => `| ${r.name} | ${r.rps} | ${r.p50Ms} | ${r.p99Ms} | ${r.sidecarCpuUsPerRequest} |`),
  '',
  `- Added cost of a web-app API decision over a console decision: ${summary.addedP99Ms} ms at p99, ${summary.addedP50Ms} ms at p50, ${summary.addedCpuUs} µs of sidecar CPU (target: < 1 ms at p99).`,
  '',
].join('\n');
writeFileSync(join(here, 'results', 'gate-webapps.md'), md);
process.stdout.write(`\n${md}`);
