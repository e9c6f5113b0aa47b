import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { main } from '../src/cli.js';
import { makeCheckout, snapshot } from './helpers/fixtures.js';

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

test('patch, re-run, --check, --revert on a fake git checkout', async (t) => {
  const { dir, cleanup } = makeCheckout('1.16', { git: true });
  t.after(cleanup);
  const stock = snapshot(dir);

  const dry = io();
  assert.equal(await main(['patch', dir, '--dry'], dry.io), 0);
  assert.match(dry.out[0]!, /^Dify 1\.16\.1: --dry: would change \d+ file\(s\)/);
  assert.ok(dry.out.includes('  M web/app/signin/normal-form.tsx'));
  assert.ok(dry.out.includes('  A web/app/components/dify-sso/index.ts'));
  assert.deepEqual(snapshot(dir), stock, '--dry writes nothing');

  const check0 = io();
  assert.equal(await main([dir, '--check'], check0.io), 1);
  assert.match(check0.err.join('\n'), /ERR_PATCH_NOT_APPLIED/);

  const first = io();
  assert.equal(await main(['patch', dir], first.io), 0);
  assert.match(first.out[0]!, /^Dify 1\.16\.1: patched \d+ file\(s\) with add-plugin-files, add-sso-button/);
  const patched = snapshot(dir);

  const second = io();
  assert.equal(await main(['patch', dir], second.io), 0);
  assert.deepEqual(second.out, ['Dify 1.16.1: already patched, nothing to do']);
  assert.deepEqual(snapshot(dir), patched);

  const check = io();
  assert.equal(await main(['patch', dir, '--check'], check.io), 0);
  assert.deepEqual(check.out, ['Dify 1.16.1: patched, and unchanged since']);

  const revert = io();
  assert.equal(await main(['patch', dir, '--revert'], revert.io), 0);
  assert.match(revert.out[0]!, /^Dify 1\.16\.1: reverted \d+ file\(s\)/);
  assert.deepEqual(snapshot(dir), stock);
  assert.equal(execFileSync('git', ['-C', dir, 'status', '--porcelain'], { encoding: 'utf8' }), '');
});

test('--emit-diff writes a unified diff of the checkout that git apply reproduces', async (t) => {
  const { dir, cleanup } = makeCheckout('1.16', { git: true });
  t.after(cleanup);
  const { dir: pristine, cleanup: cleanup2 } = makeCheckout('1.16', { git: true });
  t.after(cleanup2);
  const diffFile = join(pristine, '..', `${pristine.split('/').pop()}.diff`);
  t.after(() => execFileSync('rm', ['-f', diffFile]));
  const r = io();
  assert.equal(await main(['patch', dir, '--emit-diff', diffFile], r.io), 0);
  const diff = readFileSync(diffFile, 'utf8');
  assert.match(diff, /^diff --git a\/web\/app\/account\/\(commonLayout\)\/avatar\.tsx b\//m);
  assert.match(diff, /^--- a\/web\/app\/signin\/normal-form\.tsx$/m);
  assert.match(diff, /^\+\+\+ b\/web\/app\/signin\/normal-form\.tsx$/m);
  assert.match(diff, /^-import SSOAuth from '\.\/sso-fixture\/sso'$/m);
  assert.match(diff, /^\+ {12}<SsoErrorBanner \/>$/m);
  assert.match(diff, /^--- \/dev\/null\n\+\+\+ b\/web\/app\/components\/dify-sso\/index\.ts$/m);
  // The diff applies to an unpatched copy and yields exactly the patched text files.
  execFileSync('git', ['-C', pristine, 'apply', diffFile]);
  for (const rel of [
    'web/app/signin/normal-form.tsx',
    'web/app/components/header/account-dropdown/index.tsx',
    'web/app/components/dify-sso/sso-sign-in-button.tsx',
  ])
    assert.equal(readFileSync(join(pristine, rel), 'utf8'), readFileSync(join(dir, rel), 'utf8'), rel);
});

test('--dry --emit-diff writes nothing to the checkout; the diff, fonts included, applies with git apply', async (t) => {
  const { dir, cleanup } = makeCheckout('1.11');
  t.after(cleanup);
  const { dir: patched, cleanup: cleanup2 } = makeCheckout('1.11');
  t.after(cleanup2);
  const stock = snapshot(dir);
  const diffFile = `${dir}.diff`;
  t.after(() => execFileSync('rm', ['-f', diffFile]));
  assert.equal(await main([dir, '--dry', '--emit-diff', diffFile], io().io), 0);
  assert.deepEqual(snapshot(dir), stock);
  const diff = readFileSync(diffFile, 'utf8');
  assert.match(
    diff,
    /^diff --git a\/web\/app\/fonts\/dify-sso\/instrument-serif-latin-400-normal\.woff2 b\/[^\n]+\nnew file mode 100644\nindex 0{40}\.\.[0-9a-f]{40}\nGIT binary patch$/m,
  );
  assert.match(diff, /^\+import localFont from 'next\/font\/local'$/m);
  assert.match(diff, /^-import \{ Instrument_Serif \} from 'next\/font\/google'$/m);
  execFileSync('git', ['init', '-q', dir]);
  execFileSync('git', ['-C', dir, 'apply', diffFile]);
  assert.equal(await main([patched], io().io), 0);
  const expected = snapshot(patched);
  for (const key of [...expected.keys()].filter((k) => k.startsWith('web/.dify-sso/'))) expected.delete(key);
  assert.deepEqual(snapshot(dir), expected);
});

test('refusals exit 1 with a stable code; usage errors exit 2', async (t) => {
  const { dir, cleanup } = makeCheckout('1.16', { git: true, version: '9.9.9' });
  t.after(cleanup);
  const unknown = io();
  assert.equal(await main([dir], unknown.io), 1);
  assert.match(
    unknown.err[0]!,
    /^dify-sso patch: error ERR_PATCH_UNSUPPORTED_VERSION Dify 9\.9\.9 \(web\/package\.json\) is not supported/,
  );

  const { dir: dirty, cleanup: c2 } = makeCheckout('1.16', { git: true });
  t.after(c2);
  appendFileSync(join(dirty, 'web/app/signin/normal-form.tsx'), '// mine\n');
  const d = io();
  assert.equal(await main([dirty], d.io), 1);
  assert.match(
    d.err[0]!,
    /^dify-sso patch: error ERR_PATCH_DIRTY_TREE uncommitted changes in web\/app\/signin\/normal-form\.tsx/,
  );
  assert.equal(d.err[1], 'fix: commit or stash the changes under web/, or pass --force');
  assert.equal(existsSync(join(dirty, 'web/.dify-sso')), false);
  assert.equal(await main([dirty, '--force'], io().io), 0);

  assert.equal(await main([], io().io), 2);
  assert.equal(await main([dir, '--nope'], io().io), 2);
  assert.equal(await main([dir, '--check', '--revert'], io().io), 2);
  const help = io();
  assert.equal(await main(['--help'], help.io), 0);
  assert.match(help.out[0]!, /^Usage: dify-sso patch <dify-checkout>/);
});

test('the bin runs the compiled CLI (dist/, built by npm run build)', () => {
  const bin = fileURLToPath(new URL('../bin/dify-sso-patch.js', import.meta.url));
  const r = spawnSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Supported Dify versions: 1\.11\.0/);
  assert.match(
    r.stderr,
    /^dify-sso-patch: deprecated: use `dify-sso patch`/,
    'the alias bin announces its deprecation',
  );
});
