/**
 * One catalogue: every `ERR_<AREA>_*` code the sidecar source raises is in `ERROR_CODES` (or the
 * config-problem codes) and therefore in the README's generated error table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_PROBLEM_CODES, DifyError, ERROR_CODES, SsoError } from '../src/errors.js';
import { errorTable } from '../src/config/docs.js';

const srcDir = fileURLToPath(new URL('../src/', import.meta.url));
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) =>
    statSync(join(dir, n)).isDirectory() ? files(join(dir, n)) : n.endsWith('.ts') ? [join(dir, n)] : [],
  );
}

test('every ERR_(CONFIG|OIDC|TOKEN|SESSION|DIFY)_* literal in src/ is catalogued and in the README error table', () => {
  const known = new Set([...Object.keys(ERROR_CODES), ...Object.keys(CONFIG_PROBLEM_CODES)]);
  const used = new Set(
    files(srcDir).flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/'(ERR_(?:CONFIG|OIDC|TOKEN|SESSION|DIFY)_[A-Z0-9_]+)'/g)].map((m) => m[1]!),
    ),
  );
  const table = errorTable();
  const missing = [...used].filter((c) => !known.has(c));
  assert.deepEqual(missing, [], 'codes raised but not catalogued');
  for (const c of known) assert.ok(table.includes(`| \`${c}\` |`), `${c} in the README table`);
  assert.ok(
    [...used].some((c) => c.startsWith('ERR_DIFY_')),
    'the bridge codes are scanned too',
  );
});

test('DifyError is an SsoError with a stable code, HTTP status and a sign-in reason', () => {
  const e = new DifyError('ERR_DIFY_ADMIN_API', 'dify-api answered 500', { status: 500 });
  assert.ok(e instanceof SsoError);
  assert.equal(e.name, 'DifyError');
  assert.equal(e.code, 'ERR_DIFY_ADMIN_API');
  assert.equal(e.status, 500);
  assert.equal(e.reason, 'dify_unavailable');
  assert.equal(new DifyError('ERR_DIFY_UNSUPPORTED_VERSION', 'x').reason, 'dify_unsupported_version');
});
