import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultUlimits, detectEngine, engineArgs, engineEnv } from '../lib/podman.js';
import { sidecarContainerArgs } from '../lib/stack.js';

test('detectEngine: an explicit engine wins, anything else than docker or podman is refused', () => {
  assert.equal(detectEngine('docker', {}), 'docker');
  assert.equal(detectEngine(undefined, { DIFY_SSO_ENGINE: 'podman' }), 'podman');
  assert.throws(() => detectEngine('containerd', {}), { code: 'ERR_INVALID_ARG_VALUE' });
  assert.throws(() => detectEngine(undefined, { DIFY_SSO_ENGINE: 'docker; rm -rf /' }), {
    code: 'ERR_INVALID_ARG_VALUE',
  });
});

test('podman: ulimits stay within the hard limits of this process, in a containers.conf of the cache folder', () => {
  const hard = (flag: string): number => {
    const v = execFileSync('bash', ['-c', `ulimit -H${flag}`], { encoding: 'utf8' }).trim();
    return v === 'unlimited' ? Infinity : Number(v);
  };
  const [nofile, nproc] = defaultUlimits().map((u) => Number(/=(\d+):/.exec(u)?.[1]));
  assert.ok(nofile! > 0 && nofile! <= hard('n'), `nofile ${nofile}`);
  assert.ok(nproc! > 0 && nproc! <= hard('u'), `nproc ${nproc}`);
  const cache = mkdtempSync(join(tmpdir(), 'dify-sso-podman-'));
  try {
    const env = engineEnv('podman', { DIFY_SSO_CACHE_DIR: cache });
    assert.ok(env.CONTAINERS_CONF?.startsWith(cache));
    const conf = readFileSync(env.CONTAINERS_CONF!, 'utf8');
    assert.match(conf, /default_ulimits = \["nofile=\d+:\d+", "nproc=\d+:\d+"\]/);
    assert.match(conf, /runtime = "runc"/);
    const args = engineArgs('podman', { DIFY_SSO_CACHE_DIR: cache });
    assert.deepEqual(args.slice(4), ['--storage-driver', 'vfs', '--runtime', 'runc']);
    assert.ok(args[1]!.startsWith(cache) && args[3]!.startsWith(cache));
    assert.deepEqual(engineArgs('docker', { DIFY_SSO_CACHE_DIR: cache }), []);
    assert.equal(engineEnv('docker', {}).CONTAINERS_CONF, undefined);
  } finally {
    rmSync(cache, { recursive: true, force: true });
  }
});

test('the containerised sidecar runs read-only, as 65532, with no capabilities, no privilege gain and no tmpfs', () => {
  for (const engine of ['podman', 'docker'] as const) {
    const a = sidecarContainerArgs(engine, {
      name: 'sidecar',
      envFile: '/run/x.env',
      image: 'dify-sso-kit/sidecar:0.1.0',
    });
    const after = (flag: string): string | undefined => a[a.indexOf(flag) + 1];
    assert.ok(a.includes('--read-only'));
    assert.equal(after('--user'), '65532:65532');
    assert.equal(after('--cap-drop'), 'all');
    assert.equal(after('--security-opt'), 'no-new-privileges');
    assert.equal(after('--env-file'), '/run/x.env');
    assert.ok(!a.includes('--tmpfs') && !a.includes('--privileged') && !a.includes('--cap-add'));
    assert.equal(
      a.includes('--read-only-tmpfs=false'),
      engine === 'podman',
      'podman adds tmpfs mounts to --read-only unless told not to',
    );
    assert.equal(a.at(-1), 'dify-sso-kit/sidecar:0.1.0');
  }
});
