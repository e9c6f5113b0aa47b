import assert from 'node:assert/strict'
import { test } from 'node:test'
import { binaryDiff, unifiedDiff } from '../src/lib/diff.js'

test('equal contents give no diff', () => {
  assert.equal(unifiedDiff('a.txt', 'x\n', 'x\n'), '')
})

test('one changed line in the middle, with three lines of context', () => {
  const before = ['1', '2', '3', '4', '5', '6', '7', '8', '9'].join('\n') + '\n'
  const after = before.replace('5\n', 'five\n')
  assert.equal(unifiedDiff('f.txt', before, after), [
    'diff --git a/f.txt b/f.txt',
    '--- a/f.txt',
    '+++ b/f.txt',
    '@@ -2,7 +2,7 @@',
    ' 2', ' 3', ' 4', '-5', '+five', ' 6', ' 7', ' 8',
    '',
  ].join('\n'))
})

test('new and deleted files', () => {
  assert.equal(unifiedDiff('n.txt', undefined, 'a\nb\n'), 'diff --git a/n.txt b/n.txt\nnew file mode 100644\n--- /dev/null\n+++ b/n.txt\n@@ -0,0 +1,2 @@\n+a\n+b\n')
  assert.equal(unifiedDiff('d.txt', 'a\n', undefined), 'diff --git a/d.txt b/d.txt\ndeleted file mode 100644\n--- a/d.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-a\n')
})

test('distant changes become separate hunks', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `l${i}`)
  const after = [...lines]
  after[2] = 'X'
  after[25] = 'Y'
  const diff = unifiedDiff('h.txt', `${lines.join('\n')}\n`, `${after.join('\n')}\n`)
  assert.equal(diff.match(/^@@ /gm)?.length, 2)
  assert.match(diff, /^@@ -1,6 \+1,6 @@$/m)
  assert.match(diff, /^@@ -23,7 \+23,7 @@$/m)
})

test('binary files', () => {
  assert.equal(binaryDiff('f.woff2', false, true), 'diff --git a/f.woff2 b/f.woff2\nnew file mode 100644\nBinary files /dev/null and b/f.woff2 differ\n')
})
