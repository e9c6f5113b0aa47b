import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { binaryDiff, unifiedDiff } from '../src/lib/diff.js';

test('equal contents give no diff', () => {
  assert.equal(unifiedDiff('a.txt', 'x\n', 'x\n'), '');
});

test('one changed line in the middle, with three lines of context', () => {
  const before = `${['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n')}\n`;
  const after = before.replace('5\n', 'five\n');
  assert.equal(
    unifiedDiff('f.txt', before, after),
    [
      'diff --git a/f.txt b/f.txt',
      '--- a/f.txt',
      '+++ b/f.txt',
      '@@ -2,7 +2,7 @@',
      ' 2',
      ' 3',
      ' 4',
      '-5',
      '+five',
      ' 6',
      ' 7',
      ' 8',
      '',
    ].join('\n'),
  );
});

test('new and deleted files', () => {
  assert.equal(
    unifiedDiff('n.txt', undefined, 'a\nb\n'),
    'diff --git a/n.txt b/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n',
  );
  assert.equal(
    unifiedDiff('d.txt', 'a\n', undefined),
    'diff --git a/d.txt b/d.txt\ndeleted file mode 100644\n--- a/d.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n',
  );
});

test('distant changes become separate hunks', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `l${i}`);
  const after = [...lines];
  after[2] = 'X';
  after[25] = 'Y';
  const diff = unifiedDiff('h.txt', `${lines.join('\n')}\n`, `${after.join('\n')}\n`);
  assert.equal(diff.match(/^@@ /gm)?.length, 2);
  assert.match(diff, /^@@ -1,6 \+1,6 @@$/m);
  assert.match(diff, /^@@ -23,7 \+23,7 @@$/m);
});

test('binary files become git binary patches that git apply accepts', () => {
  const data = new Uint8Array(300).map((_, i) => (i * 7) % 256);
  const d = binaryDiff('f.bin', undefined, data);
  assert.match(
    d,
    /^diff --git a\/f\.bin b\/f\.bin\nnew file mode 100644\nindex 0{40}\.\.[0-9a-f]{40}\nGIT binary patch\nliteral 300\n/,
  );
  const dir = mkdtempSync(join(tmpdir(), 'bin-diff-'));
  try {
    execFileSync('git', ['init', '-q', dir]);
    writeFileSync(join(dir, 'p.diff'), d);
    execFileSync('git', ['-C', dir, 'apply', 'p.diff']);
    assert.deepEqual(new Uint8Array(readFileSync(join(dir, 'f.bin'))), data);
    execFileSync('git', ['-C', dir, 'apply', '-R', 'p.diff']);
    assert.equal(existsSync(join(dir, 'f.bin')), false);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
