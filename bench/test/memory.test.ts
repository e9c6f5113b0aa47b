/**
 * The memory bench's moving parts still fit the code they measure (benches are not run in
 * `npm test`, so this is what notices when the sidecar moves under them): the memory child
 * starts the compiled sidecar (`npm test` builds it first), answers with its memory and grows
 * with the sessions it is asked to hold; the kernel's RSS split adds up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { memorySidecarEnv } from '../lib/memory-env.js';
import { processTree, rssSplit, treeRss } from '../lib/procs.js';

const CHILD = fileURLToPath(new URL('../lib/memory-child.mjs', import.meta.url));
const DIST = fileURLToPath(new URL('../../packages/sidecar/dist/app.js', import.meta.url));

function redisUrl(): string {
  const url = process.env.DIFY_SSO_TEST_REDIS_URL;
  if (!url) throw new Error('DIFY_SSO_TEST_REDIS_URL must point at a Redis (e.g. redis://127.0.0.1:16379)');
  return url;
}

test('memory child: starts the compiled sidecar, reports its memory, holds the sessions it is given', async () => {
  assert.ok(existsSync(DIST), `the compiled sidecar (${DIST}) is there: npm run build`);
  const child = fork(CHILD, [], {
    env: memorySidecarEnv('127.0.0.1:0', { difyRedisUrl: redisUrl() }),
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`memory child exited (${code}): ${stderr}`));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as Record<string, unknown>);
      });
    });
  try {
    assert.deepEqual(await next(), { ready: true });
    child.send({ cmd: 'memory', gc: true });
    const before = (await next()).memory as NodeJS.MemoryUsage;
    assert.ok(before.rss > 0 && before.heapUsed > 0);
    child.send({ cmd: 'sessions', count: 500, tokens: true });
    await next();
    child.send({ cmd: 'memory', gc: true });
    const after = (await next()).memory as NodeJS.MemoryUsage;
    // 500 sessions with sealed tokens hold well over 500 KB of heap (about 2.7 KB each).
    assert.ok(after.heapUsed - before.heapUsed > 500 * 1024, `heap grew by ${after.heapUsed - before.heapUsed} bytes`);
  } finally {
    child.kill('SIGKILL');
  }
});

test('RSS split: anonymous and file-backed memory add up to the RSS, for a process and a tree', async () => {
  const own = rssSplit(process.pid);
  assert.ok(own.anon > 0 && own.file > 0, 'both parts are read');
  // RSS = anonymous + file-backed + shared memory (none here beyond a few pages).
  assert.ok(Math.abs(own.rss - own.anon - own.file) < 4 * 1024 * 1024, JSON.stringify(own));
  assert.deepEqual(rssSplit(2 ** 22 + 12345), { rss: 0, anon: 0, file: 0 }, 'a process that is gone');

  const parent = spawn(
    process.execPath,
    [
      '-e',
      "require('node:child_process').spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'inherit' }); setTimeout(() => {}, 20000)",
    ],
    {
      stdio: 'ignore',
    },
  );
  try {
    let tree = treeRss(parent.pid as number);
    for (let i = 0; i < 50 && tree.perProcessMb.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      tree = treeRss(parent.pid as number);
    }
    assert.equal(tree.perProcessMb.length, 2, 'the parent and its child');
    assert.ok(Math.abs(tree.totalMb - tree.anonMb - tree.fileMb) < 8, JSON.stringify(tree));
    assert.ok(tree.fileMb > tree.perProcessMb[0]! / 4, 'file-backed pages of both node processes are counted');
  } finally {
    for (const pid of processTree(parent.pid as number).reverse()) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
