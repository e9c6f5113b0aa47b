// provision waits while another apt/dpkg holds the package lock (unattended upgrades on a fresh
// VM) instead of failing at once: every apt-get call carries DPkg::Lock::Timeout, a "Could not
// get lock" failure is retried with a message, other failures and a lock held too long are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../lib/paths.js';

/** A stand-in for apt-get: fails `locked` times with apt's lock message, then exits `finally`. */
function fakeAptGet(dir: string, locked: number, finalStatus = 0, otherError = false): string {
  const file = join(dir, 'apt-get');
  writeFileSync(
    file,
    `#!/bin/sh
n=$(cat "${dir}/calls" 2>/dev/null || echo 0); n=$((n + 1)); echo $n > "${dir}/calls"
echo "$*" >> "${dir}/args"
${otherError ? `echo "E: Unable to locate package nosuch" >&2; exit 100` : ''}
if [ $n -le ${locked} ]; then
  echo "E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (unattended-upgr)" >&2
  exit 100
fi
exit ${finalStatus}
`,
    { mode: 0o755 },
  );
  return file;
}

function aptLocked(
  dir: string,
  aptGet: string,
  env: Record<string, string> = {},
): { status: number | null; out: string; calls: number; args: string } {
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -euo pipefail; say() { printf 'provision: %s\\n' "$*"; }; . scripts/lib/apt.sh; apt_locked "${aptGet}" install -y redis-server`,
    ],
    {
      cwd: repoRoot,
      env: { ...process.env, DIFY_SSO_APT_LOCK_POLL: '0', ...env },
      encoding: 'utf8',
    },
  );
  const read = (f: string): string => {
    try {
      return readFileSync(join(dir, f), 'utf8');
    } catch {
      return '';
    }
  };
  return {
    status: r.status,
    out: `${r.stdout}${r.stderr}`,
    calls: Number(read('calls').trim() || 0),
    args: read('args'),
  };
}

test('a held dpkg lock is waited for, with a message, and every call carries DPkg::Lock::Timeout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apt-lock-'));
  try {
    const r = aptLocked(dir, fakeAptGet(dir, 2));
    assert.equal(r.status, 0, r.out);
    assert.equal(r.calls, 3);
    assert.match(r.out, /provision: another apt\/dpkg holds the lock \(unattended upgrades\?\); waiting/);
    assert.match(r.out, /held by process 4242 \(unattended-upgr\)/);
    for (const line of r.args.trim().split('\n'))
      assert.match(line, /^install -y redis-server -o DPkg::Lock::Timeout=600$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a lock held longer than the wait fails with apt's status", () => {
  const dir = mkdtempSync(join(tmpdir(), 'apt-lock-'));
  try {
    const r = aptLocked(dir, fakeAptGet(dir, 1000), { DIFY_SSO_APT_LOCK_WAIT: '3', DIFY_SSO_APT_LOCK_POLL: '1' });
    assert.equal(r.status, 100);
    assert.ok(r.calls >= 2 && r.calls < 10, `calls: ${r.calls}`);
    assert.match(r.args, /-o DPkg::Lock::Timeout=3/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('any other apt failure is not retried', () => {
  const dir = mkdtempSync(join(tmpdir(), 'apt-lock-'));
  try {
    const r = aptLocked(dir, fakeAptGet(dir, 0, 0, true));
    assert.equal(r.status, 100);
    assert.equal(r.calls, 1);
    assert.doesNotMatch(r.out, /waiting/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
