import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { CodemodError } from '../src/errors.js'
import type { FileEdit } from '../src/lib/types.js'
import type { Slug } from '../src/registry.js'
import { TRANSFORMS } from '../src/registry.js'
import { discoverCases, versionOfShape } from './helpers/fixtures.js'

const cases = discoverCases()

/** `<shape>[-<key>][-missing]` → the shape, the edit and whether a failure is expected. */
function resolveCase(slug: string, name: string): { shape: string, edit: FileEdit, missing: boolean } {
  const t = TRANSFORMS[slug as Slug]
  assert.ok(t, `fixture folder ${slug} is not a transform slug`)
  const missing = name.endsWith('-missing')
  const base = missing ? name.slice(0, -'-missing'.length) : name
  const edit = t.edits.length === 1 ? t.edits[0] : t.edits.find(e => base.endsWith(`-${e.key}`))
  assert.ok(edit, `${slug}/${name}: cannot tell which file the case is for`)
  const shape = t.edits.length === 1 ? base : base.slice(0, -(edit.key.length + 1))
  return { shape, edit, missing }
}

describe('fixture pairs', () => {
  assert.ok(cases.length > 0)
  for (const c of cases) {
    const { shape, edit, missing } = resolveCase(c.slug, c.name)
    const version = versionOfShape(shape)
    const ctx = { version, file: edit.path, slug: c.slug }
    if (missing) {
      test(`${c.slug}/${c.name}: target missing → ERR_CODEMOD_TARGET_NOT_FOUND naming file and version`, () => {
        assert.equal(c.output, undefined, 'a -missing case has no output file')
        assert.throws(() => edit.edit(c.input, ctx), (e: unknown) => {
          assert.ok(e instanceof CodemodError)
          assert.equal(e.code, 'ERR_CODEMOD_TARGET_NOT_FOUND')
          assert.ok(e.message.includes(edit.path), e.message)
          assert.ok(e.message.includes(version), e.message)
          return true
        })
      })
      continue
    }
    test(`${c.slug}/${c.name}: input → output`, () => {
      assert.ok(c.output !== undefined, `${c.slug}/${c.name}.output.tsx is missing`)
      assert.equal(edit.edit(c.input, ctx), c.output)
    })
    test(`${c.slug}/${c.name}: idempotent (output → output)`, () => {
      assert.ok(c.output !== undefined)
      assert.equal(edit.edit(c.output, ctx), c.output)
    })
  }
})

describe('fixture coverage', () => {
  for (const [slug, t] of Object.entries(TRANSFORMS)) {
    if (t.edits.length === 0)
      continue
    test(`${slug} has fixture pairs for every file it edits and a target-missing case`, () => {
      const mine = cases.filter(c => c.slug === slug)
      for (const e of t.edits)
        assert.ok(mine.some(c => c.output !== undefined && resolveCase(slug, c.name).edit === e), `${slug}: no fixture pair for ${e.path}`)
      assert.ok(mine.some(c => c.name.endsWith('-missing')), `${slug}: no -missing case`)
    })
  }
})

test('a file that does not parse is refused with ERR_CODEMOD_SYNTAX_ERROR', () => {
  const edit = TRANSFORMS['add-sso-button'].edits[0]!
  assert.throws(() => edit.edit('const x = <div>', { version: '1.12.1', file: edit.path, slug: 'add-sso-button' }), { code: 'ERR_CODEMOD_SYNTAX_ERROR' })
})

test('a sign-in form that renders the SSO block twice is an unexpected shape', () => {
  const edit = TRANSFORMS['add-sso-button'].edits[0]!
  const text = `const F = () => (<div className="flex flex-col">{a && <SSOAuth />}{b && <SSOAuth />}</div>)\n`
  assert.throws(() => edit.edit(text, { version: '1.12.1', file: edit.path, slug: 'add-sso-button' }), { code: 'ERR_CODEMOD_UNEXPECTED_SHAPE' })
})

test('local-fonts refuses a Google font it has no local replacement for', () => {
  const edit = TRANSFORMS['local-fonts'].edits[0]!
  const text = `import { Inter } from 'next/font/google'\nconst inter = Inter({ subsets: ['latin'] })\nexport default inter\n`
  assert.throws(() => edit.edit(text, { version: '1.12.1', file: edit.path, slug: 'local-fonts' }), (e: unknown) => {
    assert.ok(e instanceof CodemodError)
    assert.equal(e.code, 'ERR_CODEMOD_UNEXPECTED_SHAPE')
    assert.match(e.message, /Inter/)
    return true
  })
})
