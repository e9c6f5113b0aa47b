/**
 * Writes patches/<line>/manifest.json for every supported Dify version line, and patches/README.md.
 * A line manifest records the Dify versions it covers, the transforms, the console-plugin package
 * and version the patch pulls in, and the sha256 checksums of every file the patch touches; the
 * added files themselves are not copied here: each names the package file it comes from. The
 * only writer of patches/.
 *
 *   node --import tsx scripts/gen-patches.ts                 # regenerate patches/
 *   node --import tsx scripts/gen-patches.ts --check         # exit 1 if patches/ is not what this generates
 *   node --import tsx scripts/gen-patches.ts --check --dir D # the same for another folder (tests)
 *
 * Checksums of edited files are computed on the kit's own sketches of each line's files
 * (packages/codemods/test/__fixtures__/stock/<shape>/), never on Dify's source. Every version of
 * a line is patched; they must all give the same result, or generation fails.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { fingerprint } from '../packages/codemods/src/lib/fingerprint.js';
import { KIT_VERSION, planPatch } from '../packages/codemods/src/patch.js';
import { TRANSFORMS, VERSION_LINES } from '../packages/codemods/src/registry.js';
import type { VersionLine } from '../packages/codemods/src/registry.js';
import { consolePluginPackage } from '../packages/codemods/src/transforms/add-plugin-files.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** The generated folder. */
export const PATCHES = join(ROOT, 'patches');
/** The sketches of each line's files, relative to the repository root. */
export const STOCK = 'packages/codemods/test/__fixtures__/stock';

/** One file the patch touches, as recorded in a line manifest. */
export type LineManifestFile = {
  path: string;
  kind: 'added' | 'edited';
  /** For added files taken from a package: `<npm package>/<path in the package>`. */
  from?: string;
  before: string | null;
  after: string;
};

/** patches/<line>/manifest.json. */
export type LineManifest = {
  generatedBy: 'scripts/gen-patches.ts';
  kitVersion: string;
  line: string;
  difyVersions: string[];
  shape: string;
  sketch: string;
  consolePlugin: { package: string; version: string; from: string; to: string };
  transforms: { slug: string; description: string; edits: string[]; adds: string[] }[];
  checksums: string;
  files: LineManifestFile[];
};

function planLine(line: VersionLine, version: string): LineManifestFile[] {
  const work = mkdtempSync(join(tmpdir(), 'gen-patches-'));
  try {
    cpSync(join(ROOT, STOCK, line.shape), work, { recursive: true });
    const pkgPath = join(work, 'web/package.json');
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
    pkg.version = version;
    writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`);
    const sources = new Map(line.slugs.flatMap((slug) => [...(TRANSFORMS[slug].sources?.() ?? [])]));
    return planPatch(work).changes.map((c) => {
      if (c.after === undefined)
        throw new Error(`Dify ${version}: the patch deletes ${c.path}; a line manifest cannot record that`);
      const from = c.before === undefined ? sources.get(c.path) : undefined;
      return {
        path: c.path,
        kind: c.before === undefined ? 'added' : 'edited',
        ...(from === undefined ? {} : { from }),
        before: c.before === undefined ? null : fingerprint(c.before),
        after: fingerprint(c.after),
      };
    });
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The manifest of one version line (patches every version of the line on its sketch). */
export function lineManifest(line: VersionLine): LineManifest {
  let files: LineManifestFile[] | undefined;
  for (const version of line.versions) {
    const mine = planLine(line, version);
    if (files === undefined) files = mine;
    else if (JSON.stringify(mine) !== JSON.stringify(files))
      throw new Error(
        `Dify ${version} patches differently from ${line.versions[0]} although both are in line ${line.shape}`,
      );
  }
  const plugin = consolePluginPackage();
  return {
    generatedBy: 'scripts/gen-patches.ts',
    kitVersion: KIT_VERSION,
    line: line.shape,
    difyVersions: [...line.versions],
    shape: line.notes,
    sketch: `${STOCK}/${line.shape}`,
    consolePlugin: { package: plugin.name, version: plugin.version, from: 'src/', to: 'web/app/components/dify-sso/' },
    transforms: line.slugs.map((slug) => {
      const t = TRANSFORMS[slug];
      return {
        slug,
        description: t.description,
        edits: t.edits.map((e) => e.path),
        adds: [...(t.adds?.().keys() ?? [])].sort(),
      };
    }),
    checksums:
      'sha256 of each file before and after the patch (null = absent); "before" of edited files is the kit\'s sketch of this line\'s file (a real checkout differs), added files are the same in every checkout',
    files: files ?? [],
  };
}

/** Everything patches/ must hold: relative path → content. */
export function renderPatches(): Map<string, string> {
  const out = new Map<string, string>();
  const rows: string[] = [];
  for (const line of VERSION_LINES) {
    const manifest = lineManifest(line);
    out.set(`${line.shape}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
    rows.push(
      `| [${line.shape}](${line.shape}/manifest.json) | ${line.versions.join(', ')} | ${line.slugs.join(', ')} |`,
    );
  }
  const plugin = consolePluginPackage();
  out.set(
    'README.md',
    [
      '# Generated patch manifests',
      '',
      'Written by `scripts/gen-patches.ts`; never edit by hand (CI regenerates and diffs them).',
      'One `<line>/manifest.json` per Dify version line: the Dify versions it covers, the transforms,',
      `the console-plugin package it pulls in (\`${plugin.name}\` ${plugin.version}), and the sha256`,
      'checksums of every file the patch edits or adds. Added files are not copied here: each names',
      "the package file it comes from (`from`). Checksums of edited files come from the kit's sketches",
      "of that line's files, not from Dify's source. Apply a patch to a real checkout with",
      '`dify-sso patch <checkout>` (packages/codemods); `--emit-diff` writes the unified diff on your machine.',
      '',
      '| line | Dify versions | transforms |',
      '|---|---|---|',
      ...rows,
      '',
    ].join('\n'),
  );
  return out;
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out.sort();
}

/** What differs between `dir` and what this script generates (empty = up to date). */
export function patchesProblems(dir: string, expected: ReadonlyMap<string, string> = renderPatches()): string[] {
  const actual = new Set(listFiles(dir));
  const problems: string[] = [];
  for (const [f, content] of expected) {
    if (!actual.has(f)) problems.push(`missing: patches/${f}`);
    else if (readFileSync(join(dir, f), 'utf8') !== content) problems.push(`differs: patches/${f}`);
  }
  for (const f of actual) {
    if (!expected.has(f)) problems.push(`unexpected: patches/${f}`);
  }
  return problems;
}

function main(argv: readonly string[]): number {
  const at = argv.indexOf('--dir');
  const check = argv.includes('--check');
  if (at >= 0 && (!check || argv[at + 1] === undefined)) {
    process.stderr.write('usage: gen-patches.ts [--check [--dir DIR]]\n');
    return 2;
  }
  const dir = at >= 0 ? resolve(argv[at + 1]!) : PATCHES;
  if (check) {
    const problems = patchesProblems(dir);
    if (problems.length > 0) {
      for (const p of problems) process.stderr.write(`${p}\n`);
      process.stderr.write(
        `patches/ is stale (${problems.length} difference(s)): run node --import tsx scripts/gen-patches.ts\n`,
      );
      return 1;
    }
    process.stdout.write('patches/ is up to date\n');
    return 0;
  }
  const files = renderPatches();
  rmSync(dir, { recursive: true, force: true });
  for (const [f, content] of files) {
    mkdirSync(dirname(join(dir, f)), { recursive: true });
    writeFileSync(join(dir, f), content);
  }
  process.stdout.write(`wrote ${relative(ROOT, dir) || dir}/ (${files.size} files)\n`);
  return 0;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(resolve(entry)).href)
  process.exitCode = main(process.argv.slice(2));
