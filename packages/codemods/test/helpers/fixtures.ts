import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { VERSION_LINES } from '../../src/registry.js'

export const FIXTURES = fileURLToPath(new URL('../__fixtures__/', import.meta.url))

/** The newest version of the line whose fixture reproduction is `shape`. */
export function versionOfShape(shape: string): string {
  const line = VERSION_LINES.find(l => l.shape === shape)
  const v = line?.versions[line.versions.length - 1]
  if (!v)
    throw new Error(`no version line for fixture shape ${shape}`)
  return v
}

/** A fixture case: `<slug>/<case>.input.tsx` (+ `.output.tsx` unless it is a "missing" case). */
export type FixtureCase = { slug: string, name: string, input: string, output: string | undefined }

/** Every fixture case under __fixtures__/<slug>/ (the stock/ reproductions excluded). */
export function discoverCases(): FixtureCase[] {
  const cases: FixtureCase[] = []
  for (const slug of readdirSync(FIXTURES).sort()) {
    if (slug === 'stock' || !statSync(join(FIXTURES, slug)).isDirectory())
      continue
    for (const file of readdirSync(join(FIXTURES, slug)).sort()) {
      const m = /^(.+)\.input\.tsx$/.exec(file)
      if (!m?.[1])
        continue
      const outPath = join(FIXTURES, slug, `${m[1]}.output.tsx`)
      let output: string | undefined
      try {
        output = readFileSync(outPath, 'utf8')
      }
      catch {
        output = undefined
      }
      cases.push({ slug, name: m[1], input: readFileSync(join(FIXTURES, slug, file), 'utf8'), output })
    }
  }
  return cases
}

/** Copies the stock reproduction `shape` into a fresh temp folder; optionally makes it a git repo. */
export function makeCheckout(shape: string, options: { git?: boolean, version?: string } = {}): { dir: string, cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'dify-sso-checkout-'))
  cpSync(join(FIXTURES, 'stock', shape), dir, { recursive: true })
  if (options.version) {
    const pkg = join(dir, 'web/package.json')
    const json = JSON.parse(readFileSync(pkg, 'utf8')) as Record<string, unknown>
    json.version = options.version
    writeFileSync(pkg, `${JSON.stringify(json, null, 2)}\n`)
  }
  if (options.git) {
    const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' })
    git('init', '-q')
    git('add', '-A')
    git('-c', 'user.email=test@example.com', '-c', 'user.name=test', 'commit', '-q', '-m', 'stock')
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

/** Every file of a folder (relative path → content), for before/after comparisons. */
export function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      if (name === '.git')
        continue
      const p = join(d, name)
      if (statSync(p).isDirectory())
        walk(p)
      else
        out.set(relative(dir, p), readFileSync(p).toString('base64'))
    }
  }
  walk(dir)
  return out
}
