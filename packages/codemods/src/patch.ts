import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CodemodError, PatchError } from './errors.js';
import { STATE_DIR, WEB_PACKAGE_JSON } from './lib/dify-paths.js';
import { binaryDiff, unifiedDiff } from './lib/diff.js';
import { fingerprint } from './lib/fingerprint.js';
import { lineFor, SUPPORTED_VERSIONS, TRANSFORMS } from './registry.js';

/** Version of the kit written into manifests. */
export const KIT_VERSION = '0.1.0';

/** One file the patch creates, changes or deletes. `undefined` = absent. */
export type FileChange = {
  path: string;
  before: Uint8Array | undefined;
  after: Uint8Array | undefined;
};

/** A manifest entry: fingerprints of a touched file before and after the patch (null = absent). */
export type ManifestFile = { path: string; before: string | null; after: string | null };

/** `web/.dify-sso/manifest.json`. */
export type Manifest = {
  tool: 'dify-sso-kit';
  kitVersion: string;
  difyVersion: string;
  slugs: string[];
  files: ManifestFile[];
};

/** Everything `dify-sso patch` would do, computed in memory. */
export type PatchPlan = {
  checkout: string;
  version: string;
  slugs: string[];
  changes: FileChange[];
  manifest: Manifest | undefined;
};

const MANIFEST = `${STATE_DIR}/manifest.json`;
const BACKUP = `${STATE_DIR}/backup`;
/** Backups carry a suffix so that Dify's type-check (every .tsx file) and linters never pick them up. */
const backupPath = (rel: string) => `${BACKUP}/${rel}.orig`;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function fp(data: Uint8Array | undefined): string | null {
  return data === undefined ? null : fingerprint(data);
}

function readMaybe(checkout: string, rel: string): Uint8Array | undefined {
  const p = join(checkout, rel);
  return existsSync(p) && statSync(p).isFile() ? readFileSync(p) : undefined;
}

function same(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Buffer.from(a).equals(Buffer.from(b));
}

/**
 * The Dify repository root for `arg`: the folder that holds `web/package.json`, or the
 * parent when `arg` is the `web/` folder itself.
 */
export function resolveCheckout(arg: string): string {
  const abs = resolve(arg);
  if (existsSync(join(abs, WEB_PACKAGE_JSON))) return abs;
  if (
    existsSync(join(abs, 'package.json')) &&
    existsSync(join(dirname(abs), WEB_PACKAGE_JSON)) &&
    resolve(dirname(abs), 'web') === abs
  )
    return dirname(abs);
  throw new PatchError('ERR_PATCH_NOT_A_CHECKOUT', `${abs} is not a Dify checkout: ${WEB_PACKAGE_JSON} not found`, {
    file: WEB_PACKAGE_JSON,
  });
}

/** The Dify version in `web/package.json`. */
export function readDifyVersion(checkout: string): string {
  let pkg: unknown;
  try {
    pkg = JSON.parse(readFileSync(join(checkout, WEB_PACKAGE_JSON), 'utf8'));
  } catch (cause) {
    throw new PatchError(
      'ERR_PATCH_NOT_A_CHECKOUT',
      `${WEB_PACKAGE_JSON} cannot be read as JSON`,
      { file: WEB_PACKAGE_JSON },
      { cause },
    );
  }
  const version = (pkg as { version?: unknown }).version;
  if (typeof version !== 'string' || version === '')
    throw new PatchError('ERR_PATCH_NOT_A_CHECKOUT', `${WEB_PACKAGE_JSON} has no "version"`, {
      file: WEB_PACKAGE_JSON,
    });
  return version;
}

/** Reads `web/.dify-sso/manifest.json` if present. */
export function readManifest(checkout: string): Manifest | undefined {
  const data = readMaybe(checkout, MANIFEST);
  if (data === undefined) return undefined;
  return JSON.parse(dec.decode(data)) as Manifest;
}

/**
 * Runs every transform of the checkout's Dify version in memory and returns the resulting
 * file changes. Nothing is written. Throws on an unsupported version or any transform error.
 *
 * @example
 * const plan = planPatch('/src/dify')   // plan.changes: every file that would change
 */
export function planPatch(checkoutArg: string): PatchPlan {
  const checkout = resolveCheckout(checkoutArg);
  const version = readDifyVersion(checkout);
  const line = lineFor(version);
  if (!line) {
    throw new PatchError(
      'ERR_PATCH_UNSUPPORTED_VERSION',
      `Dify ${version} (${WEB_PACKAGE_JSON}) is not supported; supported: ${SUPPORTED_VERSIONS.join(', ')}`,
      { version, file: WEB_PACKAGE_JSON },
    );
  }
  const manifest = readManifest(checkout);
  // Files an earlier patch for another Dify version added (the checkout was moved to a new
  // release under it) count as absent, so the new manifest records them as added again.
  const addedEarlier = new Set(
    manifest && manifest.difyVersion !== version
      ? manifest.files.filter((f) => f.before === null).map((f) => f.path)
      : [],
  );
  const originals = new Map<string, Uint8Array | undefined>();
  const current = new Map<string, Uint8Array | undefined>();
  const load = (rel: string) => {
    if (!current.has(rel)) {
      const data = readMaybe(checkout, rel);
      originals.set(rel, addedEarlier.has(rel) ? undefined : data);
      current.set(rel, data);
    }
    return current.get(rel);
  };
  for (const slug of line.slugs) {
    const t = TRANSFORMS[slug];
    for (const e of t.edits) {
      const data = load(e.path);
      const ctx = { version, file: e.path, slug };
      if (data === undefined)
        throw new CodemodError(
          'ERR_CODEMOD_TARGET_NOT_FOUND',
          `${slug}: ${e.path} does not exist (Dify ${version})`,
          ctx,
        );
      let text: string;
      try {
        text = dec.decode(data);
      } catch (cause) {
        throw new CodemodError(
          'ERR_CODEMOD_UNEXPECTED_SHAPE',
          `${slug}: ${e.path} is not UTF-8 text (Dify ${version})`,
          ctx,
          { cause },
        );
      }
      const next = e.edit(text, ctx);
      if (next !== text) current.set(e.path, enc.encode(next));
    }
    for (const rel of t.requires ?? []) {
      if (load(rel) === undefined)
        throw new CodemodError('ERR_CODEMOD_TARGET_NOT_FOUND', `${slug}: ${rel} does not exist (Dify ${version})`, {
          version,
          file: rel,
          slug,
        });
    }
    const ours = new Set(manifest?.files.filter((f) => f.before === null).map((f) => f.path) ?? []);
    for (const [rel, data] of t.adds?.() ?? []) {
      const existing = load(rel);
      // Never overwrite a file of Dify's own: only files this kit added before may be replaced.
      if (existing !== undefined && !ours.has(rel) && !same(existing, data))
        throw new CodemodError(
          'ERR_CODEMOD_UNEXPECTED_SHAPE',
          `${slug}: ${rel} already exists in Dify ${version} and is not the kit's; refusing to overwrite it`,
          { version, file: rel, slug },
        );
      current.set(rel, data);
    }
  }
  const changes: FileChange[] = [];
  for (const [rel, after] of current) {
    const before = originals.get(rel);
    if (!same(before, after)) changes.push({ path: rel, before, after });
  }
  changes.sort((a, b) => a.path.localeCompare(b.path));
  return { checkout, version, slugs: [...line.slugs], changes, manifest };
}

/** Paths under web/ with uncommitted changes to tracked files (empty outside git). */
export function dirtyPaths(checkout: string): string[] {
  let out: string;
  try {
    out = execFileSync('git', ['-C', checkout, 'status', '--porcelain=v1', '-z', '--untracked-files=no', '--', 'web'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
  } catch {
    return [];
  }
  // Porcelain paths are relative to the repository root; the checkout may be a sub-folder.
  let prefix = '';
  try {
    prefix = execFileSync('git', ['-C', checkout, 'rev-parse', '--show-prefix'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    prefix = '';
  }
  const paths: string[] = [];
  const parts = out.split('\0');
  for (let i = 0; i < parts.length; i++) {
    const entry = parts[i];
    if (!entry) continue;
    const status = entry.slice(0, 2);
    const path = entry.slice(3);
    paths.push(path.startsWith(prefix) ? path.slice(prefix.length) : path);
    if (status.includes('R') || status.includes('C')) i++; // skip the rename source
  }
  return paths;
}

/**
 * Refuses a checkout whose web/ has uncommitted changes other than the kit's own (files the
 * manifest lists, still as the kit left them, and web/.dify-sso/).
 */
export function assertCleanTree(checkout: string, manifest: Manifest | undefined, version: string): void {
  const ours = new Map((manifest?.files ?? []).map((f) => [f.path, f.after]));
  const foreign = dirtyPaths(checkout).filter((p) => {
    if (p.startsWith(`${STATE_DIR}/`)) return false;
    if (ours.has(p)) return fp(readMaybe(checkout, p)) !== ours.get(p);
    return true;
  });
  if (foreign.length > 0) {
    throw new PatchError(
      'ERR_PATCH_DIRTY_TREE',
      `uncommitted changes in ${foreign.join(', ')} (Dify ${version}); commit or stash them, or pass --force`,
      { version, file: foreign[0] },
    );
  }
}

function ensureDir(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
}

/**
 * Writes files all-or-nothing: every new content goes to a temporary file first; only when
 * all of them exist are they renamed into place. A failed rename restores what was renamed.
 */
export function writeAll(checkout: string, writes: readonly FileChange[]): void {
  const tmp = `.dify-sso-tmp-${process.pid}`;
  const staged: { target: string; temp: string | undefined; before: Uint8Array | undefined }[] = [];
  try {
    for (const w of writes) {
      const target = join(checkout, w.path);
      if (w.after === undefined) {
        staged.push({ target, temp: undefined, before: w.before });
        continue;
      }
      ensureDir(target);
      const temp = `${target}${tmp}`;
      writeFileSync(temp, w.after);
      staged.push({ target, temp, before: w.before });
    }
  } catch (cause) {
    for (const s of staged) {
      if (s.temp) rmSync(s.temp, { force: true });
    }
    throw new PatchError(
      'ERR_PATCH_WRITE_FAILED',
      `cannot write the patched files; nothing was changed (${(cause as Error).message})`,
      {},
      { cause },
    );
  }
  const done: typeof staged = [];
  try {
    for (const s of staged) {
      if (s.temp) renameSync(s.temp, s.target);
      else if (existsSync(s.target)) unlinkSync(s.target);
      done.push(s);
    }
  } catch (cause) {
    for (const s of done.reverse()) {
      if (s.before === undefined) rmSync(s.target, { force: true });
      else writeFileSync(s.target, s.before);
    }
    for (const s of staged) {
      if (s.temp) rmSync(s.temp, { force: true });
    }
    throw new PatchError(
      'ERR_PATCH_WRITE_FAILED',
      `writing the patched files failed; restored the originals (${(cause as Error).message})`,
      {},
      { cause },
    );
  }
}

/** Result of applying or reverting. */
export type ApplyResult = { changed: FileChange[]; manifest: Manifest | undefined };

/**
 * Applies a plan: writes the backups and the manifest (web/.dify-sso/), then every changed
 * file, all-or-nothing. A plan without changes is a no-op.
 *
 * @example
 * applyPlan(planPatch('/src/dify'))     // refuses a dirty web/ unless { force: true }
 */
export function applyPlan(plan: PatchPlan, options: { force?: boolean } = {}): ApplyResult {
  if (!options.force) assertCleanTree(plan.checkout, plan.manifest, plan.version);
  if (plan.changes.length === 0) return { changed: [], manifest: plan.manifest };
  const previous = new Map(
    (plan.manifest?.difyVersion === plan.version ? plan.manifest.files : []).map((f) => [f.path, f]),
  );
  const files = new Map<string, ManifestFile>(previous);
  const writes: FileChange[] = [];
  for (const c of plan.changes) {
    const prior = previous.get(c.path);
    files.set(c.path, { path: c.path, before: prior ? prior.before : fp(c.before), after: fp(c.after) });
    if (!prior && c.before !== undefined)
      writes.push({ path: backupPath(c.path), before: readMaybe(plan.checkout, backupPath(c.path)), after: c.before });
  }
  const manifest: Manifest = {
    tool: 'dify-sso-kit',
    kitVersion: KIT_VERSION,
    difyVersion: plan.version,
    slugs: plan.slugs,
    files: [...files.values()].sort((a, b) => a.path.localeCompare(b.path)),
  };
  writes.push({
    path: MANIFEST,
    before: readMaybe(plan.checkout, MANIFEST),
    after: enc.encode(`${JSON.stringify(manifest, null, 2)}\n`),
  });
  writeAll(plan.checkout, [...writes, ...plan.changes]);
  return { changed: plan.changes, manifest };
}

/** What `--revert` would do: restore every file the manifest lists. */
export function planRevert(
  checkoutArg: string,
  options: { force?: boolean } = {},
): { checkout: string; version: string; manifest: Manifest; changes: FileChange[] } {
  const checkout = resolveCheckout(checkoutArg);
  const version = readDifyVersion(checkout);
  const manifest = readManifest(checkout);
  if (!manifest)
    throw new PatchError('ERR_PATCH_NOTHING_TO_REVERT', `no ${MANIFEST} in ${checkout}: the checkout is not patched`, {
      version,
      file: MANIFEST,
    });
  const changes: FileChange[] = [];
  const drifted: string[] = [];
  for (const f of manifest.files) {
    const now = readMaybe(checkout, f.path);
    if (fp(now) !== f.after) drifted.push(f.path);
    let original: Uint8Array | undefined;
    if (f.before !== null) {
      original = readMaybe(checkout, backupPath(f.path));
      if (fp(original) !== f.before)
        throw new PatchError(
          'ERR_PATCH_DRIFTED',
          `backup of ${f.path} is missing or altered; cannot revert (Dify ${version})`,
          { version, file: f.path },
        );
    }
    if (!same(now, original)) changes.push({ path: f.path, before: now, after: original });
  }
  if (drifted.length > 0 && !options.force)
    throw new PatchError(
      'ERR_PATCH_DRIFTED',
      `${drifted.join(', ')} changed since the patch (Dify ${version}); pass --force to revert anyway`,
      { version, file: drifted[0] },
    );
  return { checkout, version, manifest, changes };
}

function removeEmptyDirs(checkout: string, rel: string): void {
  let dir = dirname(join(checkout, rel));
  const root = join(checkout, 'web');
  while (dir.startsWith(root) && dir !== root) {
    if (!existsSync(dir) || readdirSync(dir).length > 0) break;
    rmdirSync(dir);
    dir = dirname(dir);
  }
}

/**
 * Reverts: restores the originals all-or-nothing, then deletes web/.dify-sso/.
 *
 * @example
 * applyRevert('/src/dify')
 */
export function applyRevert(checkoutArg: string, options: { force?: boolean } = {}): ApplyResult {
  const plan = planRevert(checkoutArg, options);
  if (!options.force) assertCleanTree(plan.checkout, plan.manifest, plan.version);
  writeAll(plan.checkout, plan.changes);
  for (const c of plan.changes) {
    if (c.after === undefined) removeEmptyDirs(plan.checkout, c.path);
  }
  rmSync(join(plan.checkout, STATE_DIR), { recursive: true, force: true });
  return { changed: plan.changes, manifest: undefined };
}

/** Result of `--check`. */
export type CheckResult = {
  ok: boolean;
  version: string;
  problems: { code: 'ERR_PATCH_NOT_APPLIED' | 'ERR_PATCH_DRIFTED'; file?: string; message: string }[];
};

/**
 * Verifies that the checkout is patched for its version: a manifest exists for this version,
 * every listed file still has its patched fingerprint, and re-running would change nothing.
 *
 * @example
 * if (!checkPatch('/src/dify').ok) process.exitCode = 1
 */
export function checkPatch(checkoutArg: string): CheckResult {
  const checkout = resolveCheckout(checkoutArg);
  const version = readDifyVersion(checkout);
  const problems: CheckResult['problems'] = [];
  const manifest = readManifest(checkout);
  if (!manifest) {
    problems.push({
      code: 'ERR_PATCH_NOT_APPLIED',
      file: MANIFEST,
      message: `not patched: no ${MANIFEST} (Dify ${version})`,
    });
    return { ok: false, version, problems };
  }
  if (manifest.difyVersion !== version)
    problems.push({
      code: 'ERR_PATCH_DRIFTED',
      file: WEB_PACKAGE_JSON,
      message: `patched for Dify ${manifest.difyVersion} but the checkout is Dify ${version}`,
    });
  for (const f of manifest.files) {
    if (fp(readMaybe(checkout, f.path)) !== f.after)
      problems.push({
        code: 'ERR_PATCH_DRIFTED',
        file: f.path,
        message: `${f.path} changed since the patch (Dify ${version})`,
      });
  }
  const plan = planPatch(checkout);
  for (const c of plan.changes)
    problems.push({
      code: 'ERR_PATCH_NOT_APPLIED',
      file: c.path,
      message: `${c.path} is not (fully) patched (Dify ${version})`,
    });
  return { ok: problems.length === 0, version, problems };
}

function isText(data: Uint8Array | undefined): boolean {
  if (data === undefined) return true;
  try {
    dec.decode(data);
    return !data.includes(0);
  } catch {
    return false;
  }
}

/** Unified diff of a set of changes (`git apply` compatible; binary files as git binary patches). */
export function renderDiff(changes: readonly FileChange[]): string {
  return changes
    .map((c) => {
      if (!isText(c.before) || !isText(c.after)) return binaryDiff(c.path, c.before, c.after);
      return unifiedDiff(c.path, c.before && dec.decode(c.before), c.after && dec.decode(c.after));
    })
    .join('');
}
