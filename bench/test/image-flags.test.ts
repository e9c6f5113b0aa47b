/**
 * The benches run the sidecar with the node flags the image starts it with (its `ENTRYPOINT`):
 * the flags are read from the Containerfile, and node accepts every one of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { sidecarNodeFlags } from '../lib/services.js';

test("the benches' sidecar node flags are the image's ENTRYPOINT flags, and node accepts them", () => {
  const saved = process.env.BENCH_SIDECAR_NODE_FLAGS;
  delete process.env.BENCH_SIDECAR_NODE_FLAGS;
  try {
    const flags = sidecarNodeFlags();
    assert.ok(flags.length > 0, 'the image starts node with flags');
    for (const f of flags) assert.match(f, /^--[a-z0-9-]+(=\S+)?$/, f);
    const r = spawnSync(process.execPath, [...flags, '-e', '0'], { encoding: 'utf8' });
    assert.equal(r.status, 0, `node ${flags.join(' ')}: ${r.stderr}`);
    process.env.BENCH_SIDECAR_NODE_FLAGS = 'none';
    assert.deepEqual(sidecarNodeFlags(), []);
    process.env.BENCH_SIDECAR_NODE_FLAGS = ' --max-semi-space-size=4  --v8-pool-size=2 ';
    assert.deepEqual(sidecarNodeFlags(), ['--max-semi-space-size=4', '--v8-pool-size=2']);
  } finally {
    if (saved === undefined) delete process.env.BENCH_SIDECAR_NODE_FLAGS;
    else process.env.BENCH_SIDECAR_NODE_FLAGS = saved;
  }
});

test('a flag node does not know is refused (what the test above relies on)', () => {
  const r = spawnSync(process.execPath, ['--no-such-flag-for-the-bench', '-e', '0'], { encoding: 'utf8' });
  assert.notEqual(r.status, 0);
});
