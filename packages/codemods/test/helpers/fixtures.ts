import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FileEdit, Transform } from '../../src/lib/types.js';
import { TRANSFORMS, VERSION_LINES } from '../../src/registry.js';

export const FIXTURES = fileURLToPath(new URL('../__fixtures__/', import.meta.url));

/** The newest version of the line whose fixture reproduction is `shape`. */
export function versionOfShape(shape: string): string {
  const line = VERSION_LINES.find((l) => l.shape === shape);
  const v = line?.versions[line.versions.length - 1];
  if (!v) throw new Error(`no version line for fixture shape ${shape}`);
  return v;
}

/**
 * A fixture case `<slug>/<case>`: `<case>` is `<shape>[-<key>][-missing]` (the key names the file
 * for transforms that edit more than one). The input is `<case>.input.tsx` when the folder has one
 * (hand-written variants such as the `-missing` cases), otherwise the stock sketch of that file,
 * `stock/<shape>/<edit.path>`: the transforms' inputs are read from the sketches, never copied.
 * The expected result is `<case>.output.tsx` (none for a `-missing` case).
 */
export type FixtureCase = {
  slug: string;
  name: string;
  shape: string;
  edit: FileEdit;
  missing: boolean;
  /** Where the input was read from, relative to __fixtures__/ (for messages). */
  inputFrom: string;
  input: string;
  output: string | undefined;
};

/** `<shape>[-<key>][-missing]` of `slug` → the shape, the edit and whether a failure is expected. */
export function resolveCase(slug: string, name: string): { shape: string; edit: FileEdit; missing: boolean } {
  const t = (TRANSFORMS as Record<string, Transform>)[slug];
  if (!t) throw new Error(`fixture folder ${slug} is not a transform slug`);
  const missing = name.endsWith('-missing');
  const base = missing ? name.slice(0, -'-missing'.length) : name;
  const edit = t.edits.length === 1 ? t.edits[0] : t.edits.find((e) => base.endsWith(`-${e.key}`));
  if (!edit) throw new Error(`${slug}/${name}: cannot tell which file the case is for`);
  const shape = t.edits.length === 1 ? base : base.slice(0, -(edit.key.length + 1));
  return { shape, edit, missing };
}

function readMaybe(path: string): string | undefined {
  return existsSync(path) ? readFileSync(path, 'utf8') : undefined;
}

/** Every fixture case under __fixtures__/<slug>/ (the stock/ sketches are the inputs, not cases). */
export function discoverCases(): FixtureCase[] {
  const cases: FixtureCase[] = [];
  for (const slug of readdirSync(FIXTURES).sort()) {
    if (slug === 'stock' || !statSync(join(FIXTURES, slug)).isDirectory()) continue;
    const names = new Set<string>();
    for (const file of readdirSync(join(FIXTURES, slug))) {
      const m = /^(.+)\.(?:input|output)\.tsx$/.exec(file);
      if (!m?.[1]) throw new Error(`${slug}/${file}: fixture files are <case>.input.tsx or <case>.output.tsx`);
      names.add(m[1]);
    }
    for (const name of [...names].sort()) {
      const { shape, edit, missing } = resolveCase(slug, name);
      const own = `${slug}/${name}.input.tsx`;
      const stock = `stock/${shape}/${edit.path}`;
      const ownInput = readMaybe(join(FIXTURES, own));
      const inputFrom = ownInput === undefined ? stock : own;
      const input = ownInput ?? readMaybe(join(FIXTURES, stock));
      if (input === undefined) throw new Error(`${slug}/${name}: no ${own} and no stock sketch ${stock}`);
      cases.push({
        slug,
        name,
        shape,
        edit,
        missing,
        inputFrom,
        input,
        output: readMaybe(join(FIXTURES, slug, `${name}.output.tsx`)),
      });
    }
  }
  return cases;
}

/** Copies the stock reproduction `shape` into a fresh temp folder; optionally makes it a git repo. */
export function makeCheckout(
  shape: string,
  options: { git?: boolean; version?: string } = {},
): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-checkout-'));
  cpSync(join(FIXTURES, 'stock', shape), dir, { recursive: true });
  if (options.version) {
    const pkg = join(dir, 'web/package.json');
    const json = JSON.parse(readFileSync(pkg, 'utf8')) as Record<string, unknown>;
    json.version = options.version;
    writeFileSync(pkg, `${JSON.stringify(json, null, 2)}\n`);
  }
  if (options.git) {
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
    git('init', '-q');
    git('add', '-A');
    git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-q', '-m', 'stock');
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Every file of a folder (relative path → content), for before/after comparisons. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === '.git') continue;
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(relative(dir, p), readFileSync(p).toString('base64'));
    }
  };
  walk(dir);
  return out;
}
