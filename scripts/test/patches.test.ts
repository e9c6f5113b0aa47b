/**
 * patches/: one generated manifest per Dify version line (no copies of the console plugin or the
 * fonts), kept in sync with the transforms by the drift check, and `dify-sso patch` applies
 * exactly what each manifest records, with the added files taken from the packages it names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { repoRoot } from '../lib/paths.js';
import { PATCHES, patchesProblems, renderPatches, type LineManifest } from '../gen-patches.js';
import { VERSION_LINES } from '../../packages/codemods/src/registry.js';
import { fingerprint } from '../../packages/codemods/src/lib/fingerprint.js';
import type { Manifest } from '../../packages/codemods/src/patch.js';
import { toDifySource } from '../../packages/codemods/src/transforms/add-plugin-files.js';
import { main } from '../../packages/cli/src/main.js';

function listFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => statSync(join(dir, f)).isFile())
    .map((f) => f.split('\\').join('/'))
    .sort();
}

function readManifests(): LineManifest[] {
  return VERSION_LINES.map(
    (l) => JSON.parse(readFileSync(join(PATCHES, l.shape, 'manifest.json'), 'utf8')) as LineManifest,
  );
}

async function dify(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, {}, { out: (t) => void (out += t), err: (t) => void (err += t) });
  return { code, out, err };
}

/** `@scope/name/some/file` → the package's folder and the file inside it. */
function packageFile(from: string): { name: string; file: string } {
  const parts = from.split('/');
  const n = from.startsWith('@') ? 2 : 1;
  return { name: parts.slice(0, n).join('/'), file: parts.slice(n).join('/') };
}

function packageDir(name: string): URL {
  return new URL('./', import.meta.resolve(`${name}/package.json`));
}

let rendered: Map<string, string> | undefined;
/** What scripts/gen-patches.ts generates (computed once: it patches every supported version). */
function expected(): Map<string, string> {
  rendered ??= renderPatches();
  return rendered;
}

test('patches/ holds one manifest per version line and its README, no copies of plugin or font files', () => {
  assert.deepEqual(listFiles(PATCHES), ['README.md', ...VERSION_LINES.map((l) => `${l.shape}/manifest.json`)].sort());
  const covered = readManifests().flatMap((m) => m.difyVersions);
  assert.deepEqual(
    covered,
    VERSION_LINES.flatMap((l) => l.versions),
    'every supported version is in exactly one manifest',
  );
});

test('patches/ is what scripts/gen-patches.ts generates (drift check)', () => {
  assert.deepEqual(patchesProblems(PATCHES, expected()), []);
});

test('the drift check names every stale, missing and unexpected file, and the script exits 1', (t) => {
  const copy = mkdtempSync(join(tmpdir(), 'dify-sso-patches-'));
  t.after(() => rmSync(copy, { recursive: true, force: true }));
  cpSync(PATCHES, copy, { recursive: true });
  // A console-plugin change that was not regenerated: one checksum no longer matches.
  const path = join(copy, '1.16/manifest.json');
  const m = JSON.parse(readFileSync(path, 'utf8')) as LineManifest;
  const plugin = m.files.find((f) => f.from?.endsWith('/src/sso-sign-in-button.tsx'));
  assert.ok(plugin);
  plugin.after = `sha256:${'0'.repeat(64)}`;
  writeFileSync(path, `${JSON.stringify(m, null, 2)}\n`);
  rmSync(join(copy, '1.15/manifest.json'));
  // A copy of a plugin file, as patches/ used to hold them.
  mkdirSync(join(copy, '1.16/files/web/app/components/dify-sso'), { recursive: true });
  writeFileSync(join(copy, '1.16/files/web/app/components/dify-sso/index.ts'), 'export {}\n');
  const problems = [
    'missing: patches/1.15/manifest.json',
    'differs: patches/1.16/manifest.json',
    'unexpected: patches/1.16/files/web/app/components/dify-sso/index.ts',
  ];
  assert.deepEqual(patchesProblems(copy, expected()), problems);

  const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/gen-patches.ts', '--check', '--dir', copy], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.equal(
    r.stderr,
    `${problems.join('\n')}\npatches/ is stale (3 difference(s)): run node --import tsx scripts/gen-patches.ts\n`,
  );
  assert.equal(r.stdout, '');
});

test('dify-sso patch applies what each line manifest records, for every Dify version it covers', async (t) => {
  for (const manifest of readManifests()) {
    const pluginDir = packageDir(manifest.consolePlugin.package);
    const pluginPkg = JSON.parse(readFileSync(new URL('package.json', pluginDir), 'utf8')) as { version: string };
    assert.equal(
      manifest.consolePlugin.version,
      pluginPkg.version,
      `${manifest.line}: the console plugin is the installed ${manifest.consolePlugin.package}`,
    );
    const pluginAdds = manifest.transforms.find((x) => x.slug === 'add-plugin-files')?.adds ?? [];
    assert.ok(pluginAdds.length > 0, `${manifest.line}: the console plugin is added`);
    for (const path of pluginAdds) {
      const from = manifest.files.find((f) => f.path === path)?.from;
      assert.equal(
        from,
        `${manifest.consolePlugin.package}/${manifest.consolePlugin.from}${relative(manifest.consolePlugin.to, path)}`,
        path,
      );
    }

    for (const version of manifest.difyVersions) {
      await t.test(`Dify ${version} (line ${manifest.line})`, async (st) => {
        const dir = mkdtempSync(join(tmpdir(), 'dify-sso-manifest-'));
        st.after(() => rmSync(dir, { recursive: true, force: true }));
        cpSync(join(repoRoot, manifest.sketch), dir, { recursive: true });
        const pkgPath = join(dir, 'web/package.json');
        writeFileSync(
          pkgPath,
          `${JSON.stringify({ ...(JSON.parse(readFileSync(pkgPath, 'utf8')) as object), version }, null, 2)}\n`,
        );
        const before = new Map(
          manifest.files
            .filter((f) => f.before !== null)
            .map((f) => [f.path, fingerprint(readFileSync(join(dir, f.path)))]),
        );

        const r = await dify('patch', dir);
        assert.equal(r.code, 0, r.err);

        const kit = JSON.parse(readFileSync(join(dir, 'web/.dify-sso/manifest.json'), 'utf8')) as Manifest;
        assert.equal(kit.difyVersion, version);
        assert.deepEqual(
          kit.slugs,
          manifest.transforms.map((x) => x.slug),
        );
        assert.deepEqual(
          kit.files,
          manifest.files.map((f) => ({ path: f.path, before: f.before, after: f.after })),
        );
        for (const f of manifest.files) {
          if (f.before !== null)
            assert.equal(before.get(f.path), f.before, `${f.path}: the sketch is the manifest's "before"`);
          const data = readFileSync(join(dir, f.path));
          assert.equal(fingerprint(data), f.after, f.path);
          if (f.from === undefined) continue;
          const { name, file } = packageFile(f.from);
          const source = readFileSync(new URL(file, packageDir(name)));
          const want =
            name === manifest.consolePlugin.package ? Buffer.from(toDifySource(source.toString('utf8'))) : source;
          assert.ok(data.equals(want), `${f.path} is ${f.from}`);
        }
        assert.equal((await dify('patch', dir, '--check')).code, 0);
      });
    }
  }
});
