/**
 * Process plumbing shared by the oauth2-proxy comparison and the soak: free loopback ports,
 * processes started in their own process group (so a server's workers stop with it) and
 * stopped on exit or Ctrl-C, CPU time and RSS read from `/proc` (whole process tree), and the
 * machine's load (load average and the other busy processes, sampled over one second).
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { cpus, loadavg } from 'node:os';

/** A free loopback port (the kernel's choice; closed again before use). */
export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const live = new Set<ChildProcess>();

function killGroup(p: ChildProcess, signal: NodeJS.Signals): void {
  if (p.pid === undefined || p.exitCode !== null || p.signalCode !== null) return;
  try {
    process.kill(-p.pid, signal);
  } catch {
    try {
      p.kill(signal);
    } catch {
      // already gone
    }
  }
}

let hooked = false;
function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.once('exit', () => {
    for (const p of live) killGroup(p, 'SIGKILL');
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      process.stderr.write(`\n${signal}: stopping every process this bench started\n`);
      for (const p of live) killGroup(p, 'SIGTERM');
      setTimeout(() => process.exit(130), 1500).unref();
    });
  }
}

/** A child process in its own process group, on `cpuList` (taskset) when given. */
export interface Proc {
  name: string;
  proc: ChildProcess;
  /** pid of the program itself (taskset execs it, so this is the server, not taskset). */
  pid: number;
  /** stderr and stdout tail, for error messages. */
  output(): string;
  /** SIGTERM to the group, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts `command` in its own process group, pinned to `cpuList` with taskset when given.
 *
 * @example
 * const r = start('redis', 'redis-server', ['--port', '0'], { cpuList: '0' })
 */
export function start(
  name: string,
  command: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cpuList?: string; cwd?: string; ipc?: boolean } = {},
): Proc {
  hookExit();
  const [cmd, argv] =
    opts.cpuList !== undefined ? ['taskset', ['-c', opts.cpuList, command, ...args]] : [command, args];
  const spawnOpts: SpawnOptions = {
    detached: true,
    env: opts.env ?? process.env,
    stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
    ...(opts.cwd ? { cwd: opts.cwd } : {}),
  };
  const proc = spawn(cmd, argv, spawnOpts);
  live.add(proc);
  let out = '';
  const keep = (b: Buffer) => {
    out = (out + b.toString()).slice(-4000);
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      live.delete(proc);
      resolve();
    }),
  );
  return {
    name,
    proc,
    pid: proc.pid as number,
    output: () => out,
    async stop(graceMs = 5000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      killGroup(proc, 'SIGTERM');
      const timer = setTimeout(() => killGroup(proc, 'SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
      // Workers of the group that outlive their primary.
      killGroup(proc, 'SIGKILL');
    },
  };
}

/** Polls `probe` every 100 ms until it is true; throws after `timeoutMs` or when `proc` exits. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  opts: { timeoutMs?: number; proc?: Proc } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    if (opts.proc && opts.proc.proc.exitCode !== null)
      throw new Error(`${what}: ${opts.proc.name} exited (${opts.proc.proc.exitCode}):\n${opts.proc.output()}`);
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not ready in ${(opts.timeoutMs ?? 30_000) / 1000} s${opts.proc ? `:\n${opts.proc.output()}` : ''}`,
      );
    await sleep(100);
  }
}

/** HTTP GET on loopback answering `status` (no keep-alive). */
export async function answers(url: string, status = 200, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, {
    headers: { connection: 'close', ...headers },
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  await res.arrayBuffer();
  return res.status === status;
}

let ticks: number | undefined;
/** Clock ticks per second of `/proc/<pid>/stat` times. */
export function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

interface Stat {
  pid: number;
  ppid: number;
  comm: string;
  /** utime + stime, clock ticks. */
  cpu: number;
}

function readStat(pid: number): Stat | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = s.lastIndexOf(')');
    const comm = s.slice(s.indexOf('(') + 1, close);
    const f = s.slice(close + 2).split(' ');
    return { pid, ppid: Number(f[1]), comm, cpu: Number(f[11]) + Number(f[12]) };
  } catch {
    return undefined;
  }
}

function allStats(): Stat[] {
  const out: Stat[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = readStat(Number(e));
    if (s) out.push(s);
  }
  return out;
}

/** `pid` and every descendant (a server's workers). */
export function processTree(pid: number): number[] {
  const stats = allStats();
  const tree = [pid];
  for (let i = 0; i < tree.length; i++) for (const s of stats) if (s.ppid === tree[i]) tree.push(s.pid);
  return tree;
}

/** CPU time (user + system) of `pid` and its descendants, in µs. */
export function treeCpuUs(pid: number): number {
  let t = 0;
  for (const p of processTree(pid)) t += readStat(p)?.cpu ?? 0;
  return (t * 1e6) / clockTicks();
}

/** VmRSS of one process in bytes (0 when gone). */
export function rssBytes(pid: number): number {
  return rssSplit(pid).rss;
}

/** Resident memory of one process in bytes: all of it, its own (anonymous), mapped from files. */
export interface Rss {
  rss: number;
  anon: number;
  file: number;
}

/**
 * Resident memory of one process as the kernel counts it (`/proc/<pid>/status`), in bytes:
 * `anon` is the process's own (V8 heap, malloc, stacks), `file` the pages mapped from files
 * (almost all the executable's code and read-only data, shared with every process running the
 * same executable, reclaimable). Zero for a process that is gone.
 */
export function rssSplit(pid: number): Rss {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
    return { rss: kb('VmRSS'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return { rss: 0, anon: 0, file: 0 };
  }
}

/** The sum of several processes' resident memory, part by part (bytes). */
export function sumRss(xs: readonly Rss[]): Rss {
  return xs.reduce((a, x) => ({ rss: a.rss + x.rss, anon: a.anon + x.anon, file: a.file + x.file }), {
    rss: 0,
    anon: 0,
    file: 0,
  });
}

/** RSS summed over a process tree, with its anonymous and file-backed parts (MB). */
export function treeRss(pid: number): { totalMb: number; anonMb: number; fileMb: number; perProcessMb: number[] } {
  const per = processTree(pid).map(rssSplit);
  const sum = sumRss(per);
  const mb = (n: number) => round(n / 1048576, 1);
  return {
    totalMb: mb(sum.rss),
    anonMb: mb(sum.anon),
    fileMb: mb(sum.file),
    perProcessMb: per.map((p) => mb(p.rss)),
  };
}

export const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;
export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
/** Percentile (nearest rank) of an unsorted list. */
export const percentile = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
};

/** Least-squares slope of y over x. */
export function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? NaN : num / den;
}

/** The machine's load: load average, CPUs, and processes (not ours) using ≥ 5 % of a CPU over one second. */
export interface MachineLoad {
  at: string;
  loadavg: number[];
  nproc: number;
  cpuModel: string | undefined;
  busy: Array<{ pid: number; comm: string; cpuPercent: number }>;
}

/** Samples the machine's load over one second; `ours` are pids (trees) to leave out. */
export async function machineLoad(ours: number[] = []): Promise<MachineLoad> {
  const mine = new Set<number>([process.pid]);
  for (const p of ours) for (const q of processTree(p)) mine.add(q);
  const a = new Map(allStats().map((s) => [s.pid, s]));
  const t0 = performance.now();
  await sleep(1000);
  const secs = (performance.now() - t0) / 1000;
  const busy: MachineLoad['busy'] = [];
  for (const s of allStats()) {
    const before = a.get(s.pid);
    if (!before || mine.has(s.pid)) continue;
    const pct = ((s.cpu - before.cpu) / clockTicks() / secs) * 100;
    if (pct >= 5) busy.push({ pid: s.pid, comm: s.comm, cpuPercent: Math.round(pct) });
  }
  busy.sort((x, y) => y.cpuPercent - x.cpuPercent);
  return {
    at: new Date().toISOString(),
    loadavg: loadavg().map((n) => round(n, 2)),
    nproc: cpus().length,
    cpuModel: cpus()[0]?.model,
    busy,
  };
}

/** One line for a results header: load average and the busy processes. */
export function describeLoad(l: MachineLoad): string {
  const busy = l.busy.length ? l.busy.map((b) => `${b.comm} ${b.cpuPercent} %`).join(', ') : 'none';
  return `load average ${l.loadavg.join(' / ')} (1/5/15 min) on ${l.nproc} CPUs; other processes busy ≥ 5 % of a CPU: ${busy}`;
}
