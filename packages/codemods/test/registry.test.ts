import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as api from '../src/index.js';
import { lineFor, SUPPORTED_VERSIONS, TRANSFORMS, transformsFor, VERSION_LINES } from '../src/registry.js';
import { FIXTURES } from './helpers/fixtures.js';

test('slugs are kebab-case actions and match their transform', () => {
  for (const [slug, t] of Object.entries(TRANSFORMS)) {
    assert.match(slug, /^[a-z]+(?:-[a-z]+)+$/);
    assert.equal(t.slug, slug);
    assert.ok(t.description.length > 10);
  }
});

test('every version appears in exactly one line; every line has a fixture reproduction', () => {
  assert.equal(new Set(SUPPORTED_VERSIONS).size, SUPPORTED_VERSIONS.length);
  for (const line of VERSION_LINES) {
    assert.ok(existsSync(join(FIXTURES, 'stock', line.shape, 'web/package.json')), line.shape);
    assert.equal(line.slugs[0], 'add-plugin-files', 'plugin files come first');
  }
});

test('supported range: 1.11.0 up to 1.16.1; older and unknown versions are refused', () => {
  assert.ok(SUPPORTED_VERSIONS.includes('1.11.0'));
  assert.ok(SUPPORTED_VERSIONS.includes('1.16.1'));
  for (const v of ['1.10.1', '1.9.2', '0.15.3', '2.0.0-beta.2', '1.16.0', '1.17.1', ''])
    assert.equal(transformsFor(v), undefined, v);
});

test('local-fonts only where Dify still loads next/font/google (up to 1.13.0)', () => {
  for (const v of SUPPORTED_VERSIONS) {
    const has = lineFor(v)?.slugs.includes('local-fonts');
    const [, minor = 0, patch = 0] = v.split('.').map(Number);
    assert.equal(has, minor < 13 || (minor === 13 && patch === 0), v);
  }
});

test('the package entry exports the CLI, the engine and the registry', () => {
  for (const name of [
    'main',
    'planPatch',
    'applyPlan',
    'applyRevert',
    'checkPatch',
    'renderDiff',
    'TRANSFORMS',
    'SUPPORTED_VERSIONS',
  ])
    assert.ok(name in api, name);
});
