/** Line-based unified diff (Myers' O(ND) algorithm), in the format of `git diff`. */
import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';

type Op = { kind: ' ' | '-' | '+'; line: string };

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Shortest edit script between two line arrays. */
function myers(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  outer: for (let d = 0; d <= max; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0))) x = v[offset + k + 1] ?? 0;
      else x = (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) break outer;
    }
  }
  // Backtrack.
  const ops: Op[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d]!;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = vd[offset + prevK] ?? 0;
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ kind: ' ', line: a[x - 1]! });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ kind: '+', line: b[y - 1]! });
      else ops.push({ kind: '-', line: a[x - 1]! });
    }
    x = prevX;
    y = prevY;
  }
  return ops.reverse();
}

/**
 * Unified diff of one file. `before`/`after` undefined mean "file absent" (/dev/null).
 * Returns '' when the contents are equal.
 */
export function unifiedDiff(path: string, before: string | undefined, after: string | undefined, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before ?? '');
  const b = splitLines(after ?? '');
  const ops = myers(a, b);
  const header = [
    `diff --git a/${path} b/${path}`,
    ...(before === undefined ? ['new file mode 100644'] : []),
    ...(after === undefined ? ['deleted file mode 100644'] : []),
    `--- ${before === undefined ? '/dev/null' : `a/${path}`}`,
    `+++ ${after === undefined ? '/dev/null' : `b/${path}`}`,
  ];
  const out: string[] = [...header];
  // Group changes into hunks with `context` lines around them.
  let i = 0;
  const aLine: number[] = [];
  const bLine: number[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of ops) {
    aLine.push(ai);
    bLine.push(bi);
    if (op.kind !== '+') ai++;
    if (op.kind !== '-') bi++;
  }
  while (i < ops.length) {
    while (i < ops.length && ops[i]!.kind === ' ') i++;
    if (i >= ops.length) break;
    const start = Math.max(0, i - context);
    let end = i;
    let lastChange = i;
    while (end < ops.length) {
      if (ops[end]!.kind !== ' ') lastChange = end;
      else if (end - lastChange > 2 * context) break;
      end++;
    }
    end = Math.min(ops.length, lastChange + context + 1);
    const hunk = ops.slice(start, end);
    const aStart = aLine[start]!;
    const bStart = bLine[start]!;
    const aCount = hunk.filter((o) => o.kind !== '+').length;
    const bCount = hunk.filter((o) => o.kind !== '-').length;
    const range = (s: number, c: number) => (c === 0 ? `${s},0` : c === 1 ? `${s + 1}` : `${s + 1},${c}`);
    out.push(`@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`);
    for (const o of hunk) out.push(`${o.kind}${o.line}`);
    i = end;
  }
  const noNl = (t: string | undefined) => t !== undefined && t !== '' && !t.endsWith('\n');
  if (noNl(before) || noNl(after)) out.push('\\ No newline at end of file');
  return `${out.join('\n')}\n`;
}

const EN85 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz!#$%&()*+-;<=>?@^_`{|}~';

/** Git's base85 line encoding of (deflated) data: a length char, then 5 chars per 4 bytes. */
function base85Lines(data: Uint8Array): string[] {
  const lines: string[] = [];
  for (let off = 0; off < data.length; off += 52) {
    const chunk = data.subarray(off, Math.min(off + 52, data.length));
    const n = chunk.length;
    let line = n <= 26 ? String.fromCharCode(65 + n - 1) : String.fromCharCode(97 + n - 27);
    for (let i = 0; i < n; i += 4) {
      let acc = 0;
      for (let j = 0; j < 4; j++) acc = acc * 256 + (chunk[i + j] ?? 0);
      const group: string[] = [];
      for (let k = 0; k < 5; k++) {
        group.unshift(EN85[acc % 85]!);
        acc = Math.floor(acc / 85);
      }
      line += group.join('');
    }
    lines.push(line);
  }
  return lines;
}

function gitBlobId(data: Uint8Array | undefined): string {
  if (data === undefined) return '0'.repeat(40);
  return createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
}

function literal(data: Uint8Array): string[] {
  return [`literal ${data.length}`, ...base85Lines(deflateSync(data)), ''];
}

/**
 * A binary file as a `GIT binary patch` (forward and reverse literals, full index line), so
 * `git apply` can apply it. `undefined` = file absent.
 */
export function binaryDiff(path: string, before: Uint8Array | undefined, after: Uint8Array | undefined): string {
  return `${[
    `diff --git a/${path} b/${path}`,
    ...(before === undefined ? ['new file mode 100644'] : []),
    ...(after === undefined ? ['deleted file mode 100644'] : []),
    `index ${gitBlobId(before)}..${gitBlobId(after)}`,
    'GIT binary patch',
    ...literal(after ?? new Uint8Array()),
    ...literal(before ?? new Uint8Array()),
  ].join('\n')}\n`;
}
