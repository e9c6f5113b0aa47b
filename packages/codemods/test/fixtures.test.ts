import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { CodemodError } from '../src/errors.js';
import type { Slug } from '../src/registry.js';
import { TRANSFORMS, VERSION_LINES } from '../src/registry.js';
import { FIXTURES, discoverCases, versionOfShape } from './helpers/fixtures.js';

const cases = discoverCases();

describe('fixture pairs', () => {
  assert.ok(cases.length > 0);
  for (const c of cases) {
    const { shape, edit, missing } = c;
    const version = versionOfShape(shape);
    const ctx = { version, file: edit.path, slug: c.slug };
    if (missing) {
      test(`${c.slug}/${c.name}: target missing → ERR_CODEMOD_TARGET_NOT_FOUND naming file and version`, () => {
        assert.equal(c.output, undefined, 'a -missing case has no output file');
        assert.throws(
          () => edit.edit(c.input, ctx),
          (e: unknown) => {
            assert.ok(e instanceof CodemodError);
            assert.equal(e.code, 'ERR_CODEMOD_TARGET_NOT_FOUND');
            assert.ok(e.message.includes(edit.path), e.message);
            assert.ok(e.message.includes(version), e.message);
            return true;
          },
        );
      });
      continue;
    }
    test(`${c.slug}/${c.name}: input (${c.inputFrom}) → output`, () => {
      assert.ok(c.output !== undefined, `${c.slug}/${c.name}.output.tsx is missing`);
      assert.equal(edit.edit(c.input, ctx), c.output);
    });
    test(`${c.slug}/${c.name}: idempotent (output → output)`, () => {
      assert.ok(c.output !== undefined);
      assert.equal(edit.edit(c.output, ctx), c.output);
    });
  }
});

describe('fixture coverage', () => {
  for (const [slug, t] of Object.entries(TRANSFORMS)) {
    if (t.edits.length === 0) continue;
    test(`${slug} has fixture pairs for every file it edits and a target-missing case`, () => {
      const mine = cases.filter((c) => c.slug === slug);
      for (const e of t.edits)
        assert.ok(
          mine.some((c) => c.output !== undefined && c.edit === e),
          `${slug}: no fixture pair for ${e.path}`,
        );
      // A negative case: a hand-written -missing input, or the sketch of a line that leaves the slug out.
      const leftOut = VERSION_LINES.some((l) => !l.slugs.includes(slug as Slug));
      assert.ok(mine.some((c) => c.missing) || leftOut, `${slug}: no -missing case`);
    });
  }
});

describe('version lines that leave a transform out', () => {
  for (const line of VERSION_LINES) {
    const version = line.versions[line.versions.length - 1]!;
    for (const [slug, t] of Object.entries(TRANSFORMS)) {
      if (line.slugs.includes(slug as Slug)) continue;
      for (const edit of t.edits) {
        test(`${slug} on the ${line.shape} sketch of ${edit.path}: no target → ERR_CODEMOD_TARGET_NOT_FOUND naming file and version`, () => {
          const input = readFileSync(join(FIXTURES, 'stock', line.shape, edit.path), 'utf8');
          assert.throws(
            () => edit.edit(input, { version, file: edit.path, slug }),
            (e: unknown) => {
              assert.ok(e instanceof CodemodError);
              assert.equal(e.code, 'ERR_CODEMOD_TARGET_NOT_FOUND');
              assert.ok(e.message.includes(edit.path), e.message);
              assert.ok(e.message.includes(version), e.message);
              return true;
            },
          );
        });
      }
    }
  }
});

test('fixture inputs are read from the stock sketches: no fixture file is a byte-identical copy of another', () => {
  const seen = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(FIXTURES, rel)).sort()) {
      const path = rel === '' ? name : `${rel}/${name}`;
      if (statSync(join(FIXTURES, path)).isDirectory()) {
        walk(path);
        continue;
      }
      // The stock sketches are whole trees (every route segment has a page): only the per-slug
      // cases must not repeat a sketch or each other.
      if (path.startsWith('stock/') && !cases.some((c) => c.inputFrom === path)) continue;
      const key = createHash('sha256')
        .update(readFileSync(join(FIXTURES, path)))
        .digest('hex');
      const first = seen.get(key);
      assert.equal(first, undefined, `${path} is a copy of ${first}: read the input from the stock sketch instead`);
      seen.set(key, path);
    }
  };
  walk('');
});

test('a file that does not parse is refused with ERR_CODEMOD_SYNTAX_ERROR', () => {
  const edit = TRANSFORMS['add-sso-button'].edits[0]!;
  assert.throws(() => edit.edit('const x = <div>', { version: '1.12.1', file: edit.path, slug: 'add-sso-button' }), {
    code: 'ERR_CODEMOD_SYNTAX_ERROR',
  });
});

test('a sign-in form that renders the SSO block twice is an unexpected shape', () => {
  const edit = TRANSFORMS['add-sso-button'].edits[0]!;
  const text = `const F = () => (<div className="flex flex-col">{a && <SSOAuth />}{b && <SSOAuth />}</div>)\n`;
  assert.throws(() => edit.edit(text, { version: '1.12.1', file: edit.path, slug: 'add-sso-button' }), {
    code: 'ERR_CODEMOD_UNEXPECTED_SHAPE',
  });
});

test('local-fonts refuses a Google font it has no local replacement for', () => {
  const edit = TRANSFORMS['local-fonts'].edits[0]!;
  const text = `import { Inter } from 'next/font/google'\nconst inter = Inter({ subsets: ['latin'] })\nexport default inter\n`;
  assert.throws(
    () => edit.edit(text, { version: '1.12.1', file: edit.path, slug: 'local-fonts' }),
    (e: unknown) => {
      assert.ok(e instanceof CodemodError);
      assert.equal(e.code, 'ERR_CODEMOD_UNEXPECTED_SHAPE');
      assert.match(e.message, /Inter/);
      return true;
    },
  );
});
