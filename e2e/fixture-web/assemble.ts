/**
 * Builds the fixture Dify checkout for the web-image path: the codemods' own hand-written 1.16
 * reproductions (`packages/codemods/test/__fixtures__/stock/1.16/web`: sign-in form, account
 * menu, account page, root layout, local-account pages) completed by `e2e/fixture-web/web` into a
 * small Next.js app that builds and runs (pages, the modules the sketches import, package.json
 * with the pinned Next.js, its lockfile, and its own web/Dockerfile), committed to a fresh git
 * repository so that the codemods' clean-tree rule applies. None of it is Dify's source.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { repoRoot } from '../../scripts/lib/paths.js';

/** The codemods' reproduction of the 1.16 shape (the files the transforms edit). */
export const stockSketches = join(repoRoot, 'packages', 'codemods', 'test', '__fixtures__', 'stock', '1.16');
/** What turns the sketches into an app: pages, stand-ins for imported modules, package.json, Dockerfile. */
export const fixtureWeb = join(repoRoot, 'e2e', 'fixture-web');

/** Files of the completion that may replace a sketch (the app needs its own dependencies). */
const MAY_REPLACE = new Set(['web/package.json']);

function files(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (name === 'node_modules' || name === '.next') continue;
    if (statSync(p).isDirectory()) out.push(...files(p, base));
    else out.push(relative(base, p));
  }
  return out;
}

/**
 * Writes the fixture checkout into `dest` (created; must be empty or absent) and commits it.
 * Throws when the completion would overwrite a sketch other than web/package.json.
 */
export function assembleFixtureCheckout(dest: string): string {
  mkdirSync(dest, { recursive: true });
  if (readdirSync(dest).length > 0) throw new Error(`${dest} is not empty`);
  cpSync(stockSketches, dest, { recursive: true });
  const completion = files(fixtureWeb).filter((f) => f.startsWith('web/') || f === '.dockerignore');
  for (const rel of completion) {
    if (existsSync(join(dest, rel)) && !MAY_REPLACE.has(rel))
      throw new Error(`e2e/fixture-web/${rel} would replace the codemods' sketch of the same path`);
    mkdirSync(join(dest, rel, '..'), { recursive: true });
    cpSync(join(fixtureWeb, rel), join(dest, rel));
  }
  const git = (...args: string[]): void => {
    execFileSync('git', ['-C', dest, ...args], { stdio: 'ignore' });
  };
  git('init', '-q');
  git('add', '-A');
  git(
    '-c',
    'user.email=e2e@example.invalid',
    '-c',
    'user.name=dify-sso-kit e2e',
    '-c',
    'commit.gpgsign=false',
    'commit',
    '-q',
    '-m',
    'fixture web tree (1.16 shape)',
  );
  return dest;
}
