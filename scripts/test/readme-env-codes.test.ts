// The README's list of stable environment error codes ("Requirements") is complete: every
// ERR_ENV_* code that scripts/ raises (EnvError in TypeScript, `fail` in the provision shell
// script) is listed there, and the list names no code that nothing raises.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/paths.js';

/** Codes raised in one source text: `new EnvError('ERR_ENV_…'` or the shell's `fail ERR_ENV_…`. */
export function raisedCodes(text: string): string[] {
  const codes = new Set<string>();
  for (const m of text.matchAll(/new EnvError\(\s*['"](ERR_ENV_[A-Z0-9_]+)['"]/g)) codes.add(m[1] as string);
  for (const m of text.matchAll(/(?:^|[\s|&;(])fail\s+(ERR_ENV_[A-Z0-9_]+)\b/gm)) codes.add(m[1] as string);
  return [...codes];
}

/** The "Requirements" section of the README. */
export function requirementsSection(readme: string): string {
  const start = readme.indexOf('\n## Requirements');
  assert.ok(start >= 0, 'README has a "Requirements" section');
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

export function listedCodes(section: string): string[] {
  return [...new Set([...section.matchAll(/`(ERR_ENV_[A-Z0-9_]+)`/g)].map((m) => m[1] as string))];
}

/** Every file of scripts/ except the tests themselves. */
function scriptFiles(dir = join(repoRoot, 'scripts')): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'test' && name !== 'node_modules') out.push(...scriptFiles(path));
    } else if (/\.(ts|sh)$/.test(name) || !name.includes('.')) out.push(path);
  }
  return out;
}

function raisedInScripts(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const file of scriptFiles()) {
    for (const code of raisedCodes(readFileSync(file, 'utf8')))
      where.set(code, [...(where.get(code) ?? []), relative(repoRoot, file)]);
  }
  return where;
}

test('the scanner finds codes raised in TypeScript and in the provision shell script', () => {
  assert.deepEqual(raisedCodes(`throw new EnvError(\n  'ERR_ENV_NO_JDK', 'x', 'y');`), ['ERR_ENV_NO_JDK']);
  assert.deepEqual(raisedCodes(`apt-get update || fail ERR_ENV_APT "msg"\n  fail ERR_ENV_NOT_ROOT "x"`), [
    'ERR_ENV_APT',
    'ERR_ENV_NOT_ROOT',
  ]);
  assert.deepEqual(raisedCodes(`// mentions ERR_ENV_NOT_A_RAISE only`), []);
  const readme = '# x\n## Requirements\n- `ERR_ENV_NO_JDK`\n## Next\n`ERR_ENV_APT`\n';
  assert.deepEqual(
    listedCodes(requirementsSection(readme)),
    ['ERR_ENV_NO_JDK'],
    'codes outside the section do not count',
  );
});

test('every ERR_ENV_* code that scripts/ raises is listed in the README, and only those', () => {
  const raised = raisedInScripts();
  assert.ok(
    raised.has('ERR_ENV_NO_JDK') && raised.has('ERR_ENV_APT'),
    `the scan sees scripts/ (found ${[...raised.keys()].join(', ')})`,
  );
  const listed = listedCodes(requirementsSection(readFileSync(join(repoRoot, 'README.md'), 'utf8')));
  const missing = [...raised.keys()]
    .filter((c) => !listed.includes(c))
    .map((c) => `${c} (raised in ${raised.get(c)?.join(', ')})`);
  assert.deepEqual(missing, [], 'codes raised in scripts/ but not listed under README "Requirements"');
  const stale = listed.filter((c) => !raised.has(c));
  assert.deepEqual(stale, [], 'codes listed in the README that scripts/ never raises');
});
