import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { PatchError, SsoError } from '../src/errors.js';
import {
  applyPlan,
  applyRevert,
  checkPatch,
  planPatch,
  planRevert,
  readManifest,
  resolveCheckout,
} from '../src/patch.js';
import { fingerprint } from '../src/lib/fingerprint.js';
import { VERSION_LINES } from '../src/registry.js';
import { FIXTURES, makeCheckout, snapshot } from './helpers/fixtures.js';

describe('patch, per supported version line (fixture reproductions)', () => {
  for (const line of VERSION_LINES) {
    for (const version of [line.versions[0]!, line.versions[line.versions.length - 1]!]) {
      test(`Dify ${version} (shape ${line.shape}): apply, re-run is a no-op, check passes, revert restores`, (t) => {
        const { dir, cleanup } = makeCheckout(line.shape, { git: true, version });
        t.after(cleanup);
        const before = snapshot(dir);
        const plan = planPatch(dir);
        assert.equal(plan.version, version);
        assert.deepEqual(plan.slugs, line.slugs);
        assert.ok(plan.changes.length > 0);
        // --dry equivalent: planning wrote nothing.
        assert.deepEqual(snapshot(dir), before);

        applyPlan(plan);
        const patched = snapshot(dir);
        const manifest = readManifest(dir);
        assert.ok(manifest);
        assert.equal(manifest.difyVersion, version);
        assert.ok(
          manifest.files.some(
            (f) => f.path === 'web/app/signin/normal-form.tsx' && f.before !== null && f.after !== null,
          ),
        );
        assert.ok(manifest.files.some((f) => f.path === 'web/app/components/dify-sso/index.ts' && f.before === null));
        assert.equal(
          manifest.files.some((f) => f.path.startsWith('web/app/fonts/')),
          line.slugs.includes('local-fonts'),
        );

        const signin = readFileSync(join(dir, 'web/app/signin/normal-form.tsx'), 'utf8');
        assert.match(signin, /<SsoSignInButton basePath=\{basePath\} \/>/);
        assert.match(signin, /<SsoErrorBanner \/>/);
        for (const gone of ['MailAndPasswordAuth', 'MailAndCodeAuth', 'SocialAuth', 'SSOAuth', 'signup.signUp'])
          assert.ok(!signin.includes(gone), `${gone} still in the sign-in form`);
        for (const segment of ['signup', 'forgot-password', 'reset-password', 'signin/check-code'])
          assert.match(
            readFileSync(join(dir, `web/app/${segment}/template.tsx`), 'utf8'),
            /window\.location\.replace\(`\$\{basePath\}\/signin`\)/,
          );

        // Idempotence: the second run plans nothing and writes nothing (dirty tree is ours: allowed).
        const again = planPatch(dir);
        assert.deepEqual(again.changes, []);
        applyPlan(again);
        assert.deepEqual(snapshot(dir), patched);

        assert.deepEqual(checkPatch(dir), { ok: true, version, problems: [] });

        applyRevert(dir);
        assert.deepEqual(snapshot(dir), before);
        assert.equal(existsSync(join(dir, 'web/.dify-sso')), false);
        assert.equal(existsSync(join(dir, 'web/app/components/dify-sso')), false);
        assert.equal(checkPatch(dir).ok, false);
      });
    }
  }
});

describe('refusals', () => {
  test('an unknown version is refused with ERR_PATCH_UNSUPPORTED_VERSION naming file and version', (t) => {
    const { dir, cleanup } = makeCheckout('1.16', { version: '1.10.1' });
    t.after(cleanup);
    const before = snapshot(dir);
    assert.throws(
      () => planPatch(dir),
      (e: unknown) => {
        assert.ok(e instanceof PatchError);
        assert.equal(e.code, 'ERR_PATCH_UNSUPPORTED_VERSION');
        assert.match(e.message, /Dify 1\.10\.1 \(web\/package\.json\)/);
        return true;
      },
    );
    assert.deepEqual(snapshot(dir), before);
  });

  test('a folder without web/package.json is not a checkout', (t) => {
    const { dir, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    assert.throws(() => planPatch(join(dir, 'web/app')), { code: 'ERR_PATCH_NOT_A_CHECKOUT' });
    assert.equal(resolveCheckout(join(dir, 'web')), dir, 'the web/ folder itself is accepted');
  });

  test('a missing target file fails with ERR_CODEMOD_TARGET_NOT_FOUND and changes nothing', (t) => {
    const { dir, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    rmSync(join(dir, 'web/app/account/(commonLayout)/avatar.tsx'));
    const before = snapshot(dir);
    assert.throws(
      () => planPatch(dir),
      (e: unknown) => {
        assert.ok(e instanceof SsoError);
        assert.equal(e.code, 'ERR_CODEMOD_TARGET_NOT_FOUND');
        assert.match(e.message, /avatar\.tsx/);
        assert.match(e.message, /1\.16\.1/);
        return true;
      },
    );
    assert.deepEqual(snapshot(dir), before);
  });

  test("an existing file of Dify's own is never overwritten by an added file", (t) => {
    const { dir, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    writeFileSync(join(dir, 'web/app/signup/template.tsx'), 'export default function T() { return null }\n');
    const before = snapshot(dir);
    assert.throws(
      () => planPatch(dir),
      (e: unknown) => {
        assert.ok(e instanceof SsoError);
        assert.equal(e.code, 'ERR_CODEMOD_UNEXPECTED_SHAPE');
        assert.match(e.message, /web\/app\/signup\/template\.tsx already exists in Dify 1\.16\.1/);
        return true;
      },
    );
    assert.deepEqual(snapshot(dir), before);
  });

  test('a local-account route that does not exist is a missing target', (t) => {
    const { dir, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    rmSync(join(dir, 'web/app/forgot-password'), { recursive: true });
    assert.throws(() => planPatch(dir), {
      code: 'ERR_CODEMOD_TARGET_NOT_FOUND',
      message: /redirect-local-auth-pages: web\/app\/forgot-password\/page\.tsx does not exist \(Dify 1\.16\.1\)/,
    });
  });

  test('all-or-nothing: a transform failing late leaves every file untouched', (t) => {
    const { dir, cleanup } = makeCheckout('1.11');
    t.after(cleanup);
    // local-fonts runs last; make its target an unexpected shape.
    const layout = join(dir, 'web/app/layout.tsx');
    writeFileSync(layout, readFileSync(layout, 'utf8').replace(/Instrument_Serif/g, 'Inter'));
    const before = snapshot(dir);
    assert.throws(() => planPatch(dir), { code: 'ERR_CODEMOD_UNEXPECTED_SHAPE' });
    assert.deepEqual(snapshot(dir), before);
  });

  test('all-or-nothing: a write that cannot be staged leaves every file untouched', (t) => {
    const { dir, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    const plan = planPatch(dir);
    // A directory where a staged temp file must go makes the write fail after others were staged.
    const last = plan.changes[plan.changes.length - 1]!;
    mkdirSync(join(dir, `${last.path}.dify-sso-tmp-${process.pid}`), { recursive: true });
    const before = snapshot(dir);
    assert.throws(() => applyPlan(plan), { code: 'ERR_PATCH_WRITE_FAILED' });
    assert.deepEqual(snapshot(dir), before);
  });

  test('a dirty tree is refused with ERR_PATCH_DIRTY_TREE unless forced', (t) => {
    const { dir, cleanup } = makeCheckout('1.16', { git: true });
    t.after(cleanup);
    appendFileSync(join(dir, 'web/app/layout.tsx'), '// local change\n');
    const before = snapshot(dir);
    assert.throws(
      () => applyPlan(planPatch(dir)),
      (e: unknown) => {
        assert.ok(e instanceof PatchError);
        assert.equal(e.code, 'ERR_PATCH_DIRTY_TREE');
        assert.match(e.message, /web\/app\/layout\.tsx/);
        return true;
      },
    );
    assert.deepEqual(snapshot(dir), before);
    applyPlan(planPatch(dir), { force: true });
    assert.equal(checkPatch(dir).ok, true);
  });

  test('the dirty-tree rule works for a Dify checkout inside a larger git repository', (t) => {
    const { dir: outer, cleanup } = makeCheckout('1.16');
    t.after(cleanup);
    const dir = join(outer, 'vendor/dify');
    mkdirSync(dir, { recursive: true });
    cpSync(join(outer, 'web'), join(dir, 'web'), { recursive: true });
    rmSync(join(outer, 'web'), { recursive: true });
    const git = (...args: string[]) => execFileSync('git', ['-C', outer, ...args], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-q', '-m', 'stock');
    applyPlan(planPatch(dir));
    applyPlan(planPatch(dir)); // the kit's own changes do not count as dirty
    appendFileSync(join(dir, 'web/app/layout.tsx'), '// mine\n');
    assert.throws(
      () => applyRevert(dir),
      (e: unknown) =>
        e instanceof PatchError && e.code === 'ERR_PATCH_DIRTY_TREE' && /web\/app\/layout\.tsx/.test(e.message),
    );
  });

  test('drift: --check reports a patched file changed since, revert refuses unless forced', (t) => {
    const { dir, cleanup } = makeCheckout('1.15', { git: true });
    t.after(cleanup);
    applyPlan(planPatch(dir));
    appendFileSync(join(dir, 'web/app/signin/normal-form.tsx'), '// edited after the patch\n');
    const result = checkPatch(dir);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.problems.map((p) => [p.code, p.file]),
      [['ERR_PATCH_DRIFTED', 'web/app/signin/normal-form.tsx']],
    );
    assert.throws(() => planRevert(dir), { code: 'ERR_PATCH_DRIFTED' });
    applyRevert(dir, { force: true });
    assert.equal(existsSync(join(dir, 'web/.dify-sso')), false);
    assert.equal(execFileSync('git', ['-C', dir, 'status', '--porcelain'], { encoding: 'utf8' }), '');
  });

  test('check on an unpatched checkout fails with ERR_PATCH_NOT_APPLIED', (t) => {
    const { dir, cleanup } = makeCheckout('1.13.3');
    t.after(cleanup);
    const r = checkPatch(dir);
    assert.equal(r.ok, false);
    assert.equal(r.problems[0]?.code, 'ERR_PATCH_NOT_APPLIED');
  });

  test('revert without a patch fails with ERR_PATCH_NOTHING_TO_REVERT', (t) => {
    const { dir, cleanup } = makeCheckout('1.13.3');
    t.after(cleanup);
    assert.throws(() => planRevert(dir), { code: 'ERR_PATCH_NOTHING_TO_REVERT' });
  });

  test('a checkout patched by an older kit is upgraded in place by re-running', (t) => {
    const { dir, cleanup } = makeCheckout('1.16', { git: true });
    t.after(cleanup);
    applyPlan(planPatch(dir));
    const current = snapshot(dir);
    // Pretend an older kit wrote a different plugin file (and recorded it in the manifest).
    const rel = 'web/app/components/dify-sso/lib/messages.ts';
    writeFileSync(join(dir, rel), '// older plugin\n');
    const manifestPath = join(dir, 'web/.dify-sso/manifest.json');
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as { files: { path: string; after: string }[] };
    m.files.find((f) => f.path === rel)!.after = fingerprint('// older plugin\n');
    writeFileSync(manifestPath, `${JSON.stringify(m, null, 2)}\n`);
    assert.equal(checkPatch(dir).ok, false);
    const plan = planPatch(dir);
    assert.deepEqual(
      plan.changes.map((c) => c.path),
      [rel],
    );
    applyPlan(plan);
    assert.equal(checkPatch(dir).ok, true);
    assert.deepEqual(snapshot(dir), current);
    assert.equal(readManifest(dir)?.files.find((f) => f.path === rel)?.before, null);
  });

  test('moving a patched checkout to a newer Dify release and patching again records the plugin files as added', (t) => {
    const { dir, cleanup } = makeCheckout('1.13.3', { version: '1.14.1' });
    t.after(cleanup);
    applyPlan(planPatch(dir));
    // "git checkout 1.14.2": tracked files back to stock, the kit's untracked files stay.
    cpSync(join(FIXTURES, 'stock/1.13.3/web/app'), join(dir, 'web/app'), { recursive: true });
    const pkg = join(dir, 'web/package.json');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace('1.14.1', '1.14.2'));
    applyPlan(planPatch(dir));
    const m = readManifest(dir);
    assert.equal(m?.difyVersion, '1.14.2');
    assert.equal(m?.files.find((f) => f.path === 'web/app/components/dify-sso/index.ts')?.before, null);
    assert.equal(checkPatch(dir).ok, true);
    applyRevert(dir);
    assert.equal(existsSync(join(dir, 'web/app/components/dify-sso')), false);
  });

  test('a Dify upgrade under a patched checkout is reported by --check', (t) => {
    const { dir, cleanup } = makeCheckout('1.13.3', { version: '1.14.1' });
    t.after(cleanup);
    applyPlan(planPatch(dir));
    const pkg = join(dir, 'web/package.json');
    writeFileSync(pkg, readFileSync(pkg, 'utf8').replace('1.14.1', '1.14.2'));
    const r = checkPatch(dir);
    assert.equal(r.ok, false);
    assert.ok(r.problems.some((p) => p.code === 'ERR_PATCH_DRIFTED' && p.file === 'web/package.json'));
  });
});
