// `npm run demo` in the foreground: it shows the kit's patched sign-in page by default (the
// stock page one flag away), and a SIGTERM or SIGINT sent to the npm process alone (not to a
// terminal's process group) stops the whole stack: every process it started and every port.
// Each run is a second stack on free ports (DIFY_SSO_STACK_PORTS) with its own cache folder,
// the embedded demo OP and its own Redis, next to the fixed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { repoRoot } from '../lib/paths.js';
import { freePort } from '../lib/stack.js';
import { tcpOpen } from '../lib/proc.js';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Direct children of every process, from /proc. */
function childrenByParent(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      map.set(ppid, [...(map.get(ppid) ?? []), Number(entry)]);
    } catch {
      /* exited meanwhile */
    }
  }
  return map;
}

function descendants(pid: number): number[] {
  const map = childrenByParent();
  const out: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of map.get(queue.shift() as number) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
};

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await ok()) return;
    await delay(200);
  }
  assert.fail(`${what} (after ${timeoutMs / 1000} s)`);
}

interface Run {
  child: ChildProcess;
  output: () => string;
  ports: Record<string, number>;
  cache: string;
}

async function startDemo(script: 'demo' | 'stack', extra: string[]): Promise<Run> {
  const names = [
    'frontDoor',
    'sidecar',
    'standinApi',
    'standinWeb',
    'demoOp',
    'redis',
    'keycloak',
    'keycloakManagement',
  ] as const;
  const ports: Record<string, number> = {};
  for (const n of names) ports[n] = await freePort();
  const cache = mkdtempSync(join(tmpdir(), 'demo-signals-'));
  const child = spawn(npm, ['run', '--silent', script, '--', '--idp', 'embedded', ...extra], {
    cwd: repoRoot,
    env: {
      ...process.env,
      DIFY_SSO_CACHE_DIR: cache,
      DIFY_SSO_STACK_PORTS: Object.entries(ports)
        .map(([k, v]) => `${k}=${v}`)
        .join(','),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (b: Buffer) => (text += b.toString()));
  child.stderr?.on('data', (b: Buffer) => (text += b.toString()));
  return { child, output: () => text, ports, cache };
}

/** Starts the demo, checks its sign-in page, signals npm, checks that nothing is left. */
async function signalStops(
  script: 'demo' | 'stack',
  signal: NodeJS.Signals,
  extra: string[],
  expectVariant: 'plugin' | 'stock',
): Promise<void> {
  const run = await startDemo(script, extra);
  const npmPid = run.child.pid as number;
  let tree: number[] = [];
  try {
    await until(`the demo is ready:\n${run.output()}`, () => run.output().includes('demo: ready.'), 180_000);
    const front = `http://127.0.0.1:${run.ports.frontDoor}`;
    const page = await (await fetch(`${front}/signin`)).text();
    if (expectVariant === 'plugin')
      assert.match(page, /<script src="\/_standin\/web\/plugin\.js"/, 'the patched (plugin) sign-in page');
    else assert.doesNotMatch(page, /_standin\/web\/plugin\.js/, 'the stock sign-in page');
    tree = descendants(npmPid);
    const used = ['frontDoor', 'sidecar', 'standinApi', 'standinWeb', 'demoOp', 'redis'].map(
      (n) => run.ports[n] as number,
    );
    for (const p of used) assert.equal(await tcpOpen(p), true, `port ${p} answers while the demo runs`);
    assert.ok(tree.length >= 6, `the demo runs its services under npm (${tree.length} processes)`);

    process.kill(npmPid, signal);
    await until('npm exits', () => run.child.exitCode !== null || run.child.signalCode !== null, 60_000);
    await until(
      `every process the demo started is gone (left: ${tree.filter(alive).join(', ')})`,
      () => tree.every((pid) => !alive(pid)),
      60_000,
    );
    for (const p of used) assert.equal(await tcpOpen(p), false, `port ${p} is closed`);
  } finally {
    for (const pid of [npmPid, ...tree]) {
      try {
        if (alive(pid)) process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(run.cache, { recursive: true, force: true });
  }
}

test('npm run demo shows the patched sign-in page; SIGTERM to npm stops the whole stack', async () => {
  await signalStops('demo', 'SIGTERM', [], 'plugin');
});

test('npm run stack -- --stock shows the stock page; SIGINT to npm (not its group) stops the whole stack', async () => {
  await signalStops('stack', 'SIGINT', ['--stock'], 'stock');
});
