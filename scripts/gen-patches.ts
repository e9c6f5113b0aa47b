/**
 * Writes patches/<dify-version>/ for every supported Dify version: manifest.json (transforms,
 * before/after fingerprints of every touched file) and files/ (the files the patch adds: the
 * console plugin and, where needed, the OFL fonts). The only writer of patches/.
 *
 *   node --import tsx scripts/gen-patches.ts           # regenerate patches/
 *   node --import tsx scripts/gen-patches.ts --check   # exit 1 if patches/ is not what this generates
 *
 * Fingerprints of edited files are computed on the kit's own fixture reproductions of each
 * version's files (packages/codemods/test/__fixtures__/stock/<shape>/), never on Dify's source.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { fingerprint } from '../packages/codemods/src/lib/fingerprint.js'
import { KIT_VERSION, planPatch } from '../packages/codemods/src/patch.js'
import { TRANSFORMS, VERSION_LINES } from '../packages/codemods/src/registry.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PATCHES = join(ROOT, 'patches')
const STOCK = join(ROOT, 'packages/codemods/test/__fixtures__/stock')

function generate(outDir: string): void {
  mkdirSync(outDir, { recursive: true })
  const rows: string[] = []
  for (const line of VERSION_LINES) {
    for (const version of line.versions) {
      const work = mkdtempSync(join(tmpdir(), 'gen-patches-'))
      try {
        cpSync(join(STOCK, line.shape), work, { recursive: true })
        const pkgPath = join(work, 'web/package.json')
        const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>
        pkg.version = version
        writeFileSync(pkgPath, `${JSON.stringify(pkg, null, 2)}\n`)
        const plan = planPatch(work)
        const dir = join(outDir, version)
        const manifest = {
          generatedBy: 'scripts/gen-patches.ts',
          kitVersion: KIT_VERSION,
          difyVersion: version,
          fixtureShape: line.shape,
          fingerprints: 'sha256; "before" of edited files is the kit\'s fixture reproduction of this version\'s file (a real checkout differs); null = file absent',
          transforms: line.slugs.map((slug) => {
            const t = TRANSFORMS[slug]
            return {
              slug,
              description: t.description,
              edits: t.edits.map(e => e.path),
              adds: [...(t.adds?.().keys() ?? [])].sort(),
            }
          }),
          files: plan.changes.map(c => ({
            path: c.path,
            kind: c.before === undefined ? 'added' : 'edited',
            before: c.before === undefined ? null : fingerprint(c.before),
            after: c.after === undefined ? null : fingerprint(c.after),
          })),
        }
        mkdirSync(dir, { recursive: true })
        writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
        for (const c of plan.changes) {
          if (c.before !== undefined || c.after === undefined)
            continue
          const target = join(dir, 'files', c.path)
          mkdirSync(dirname(target), { recursive: true })
          writeFileSync(target, c.after)
        }
        rows.push(`| ${version} | ${line.shape} | ${line.slugs.join(', ')} |`)
      }
      finally {
        rmSync(work, { recursive: true, force: true })
      }
    }
  }
  writeFileSync(join(outDir, 'README.md'), [
    '# Generated patch sets',
    '',
    'Written by `scripts/gen-patches.ts`; never edit by hand (CI regenerates and diffs them).',
    'Each `<dify-version>/manifest.json` lists the transforms and the sha256 fingerprints of every',
    'file before and after the patch; `files/` holds the files the patch adds. Fingerprints of edited',
    'files come from the kit\'s fixture reproductions of that version, not from Dify\'s source. Apply a',
    'patch to a real checkout with `dify-sso patch <checkout>` (packages/codemods).',
    '',
    '| Dify version | fixture shape | transforms |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n'))
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir))
    return []
  const out: string[] = []
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name)
      if (statSync(p).isDirectory())
        walk(p)
      else
        out.push(relative(dir, p))
    }
  }
  walk(dir)
  return out.sort()
}

function diffTrees(expected: string, actual: string): string[] {
  const a = new Set(listFiles(expected))
  const b = new Set(listFiles(actual))
  const problems: string[] = []
  for (const f of a) {
    if (!b.has(f))
      problems.push(`missing: patches/${f}`)
    else if (!readFileSync(join(expected, f)).equals(readFileSync(join(actual, f))))
      problems.push(`differs: patches/${f}`)
  }
  for (const f of b) {
    if (!a.has(f))
      problems.push(`unexpected: patches/${f}`)
  }
  return problems
}

const check = process.argv.includes('--check')
if (check) {
  const tmp = mkdtempSync(join(tmpdir(), 'gen-patches-check-'))
  try {
    generate(tmp)
    const problems = diffTrees(tmp, PATCHES)
    if (problems.length > 0) {
      for (const p of problems)
        process.stderr.write(`${p}\n`)
      process.stderr.write(`patches/ is stale (${problems.length} difference(s)): run node --import tsx scripts/gen-patches.ts\n`)
      process.exitCode = 1
    }
    else {
      process.stdout.write('patches/ is up to date\n')
    }
  }
  finally {
    rmSync(tmp, { recursive: true, force: true })
  }
}
else {
  rmSync(PATCHES, { recursive: true, force: true })
  generate(PATCHES)
  process.stdout.write(`wrote ${relative(ROOT, PATCHES)}/ (${listFiles(PATCHES).length} files)\n`)
}
