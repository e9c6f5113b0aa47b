import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { addPluginFiles, consolePluginPackage, pluginFiles, toDifySource } from '../src/transforms/add-plugin-files.js';
import { localFonts } from '../src/transforms/local-fonts.js';

test('plugin files are added under web/app/components/dify-sso with a header and extensionless imports', () => {
  const files = pluginFiles();
  const paths = [...files.keys()];
  assert.ok(paths.includes('web/app/components/dify-sso/index.ts'));
  assert.ok(paths.includes('web/app/components/dify-sso/sso-sign-in-button.tsx'));
  const srcCount = readdirSync(new URL('../../console-plugin/src/', import.meta.url), { recursive: true }).filter((f) =>
    /\.tsx?$/.test(String(f)),
  ).length;
  assert.equal(paths.length, srcCount);
  for (const [path, data] of files) {
    const text = new TextDecoder().decode(data);
    assert.match(text, /^\/\/ Added by dify-sso-kit/, path);
    assert.doesNotMatch(text, /from '\.{1,2}\/[^']+\.js'/, path);
  }
});

test('toDifySource strips .js from relative specifiers only', () => {
  const out = toDifySource(`import { a } from './lib/a.js'\nimport b from '../b.js'\nimport c from 'pkg/c.js'\n`);
  assert.ok(out.endsWith(`import { a } from './lib/a'\nimport b from '../b'\nimport c from 'pkg/c.js'\n`));
});

test('local-fonts ships the OFL licence next to the font files', () => {
  const files = localFonts.adds?.() ?? new Map();
  const ofl = files.get('web/app/fonts/dify-sso/instrument-serif-OFL.txt');
  assert.ok(ofl);
  assert.match(new TextDecoder().decode(ofl), /SIL OPEN FONT LICENSE Version 1\.1/);
  for (const [path, data] of files) {
    if (path.endsWith('.woff2')) assert.equal(new TextDecoder().decode(data.slice(0, 4)), 'wOF2', path);
  }
});

test('every added plugin and font file names the package file it comes from, and is that file', () => {
  const plugin = consolePluginPackage();
  assert.equal(plugin.name, '@dify-sso-kit/console-plugin');
  for (const t of [addPluginFiles, localFonts]) {
    const adds = t.adds?.() ?? new Map<string, Uint8Array>();
    const sources = t.sources?.() ?? new Map<string, string>();
    assert.ok(adds.size > 0, t.slug);
    assert.deepEqual([...sources.keys()].sort(), [...adds.keys()].sort(), t.slug);
    for (const [path, from] of sources) {
      const m = /^(@[^/]+\/[^/]+)\/(.+)$/.exec(from);
      assert.ok(m?.[1] && m[2], from);
      const data = readFileSync(new URL(m[2], import.meta.resolve(`${m[1]}/package.json`)));
      const want = m[1] === plugin.name ? Buffer.from(toDifySource(data.toString('utf8'))) : data;
      assert.ok(Buffer.from(adds.get(path)!).equals(want), `${path} is ${from}`);
    }
  }
});
