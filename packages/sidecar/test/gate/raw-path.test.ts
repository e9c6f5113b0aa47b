import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RAW_PATH_REFUSED_SOURCE, isRefusedRawPath, nginxRawPathRule } from '../../src/gate/raw-path.js';
import { ACCEPTED_TARGETS, REFUSED_TARGETS } from './__fixtures__/raw-path-corpus.js';

for (const t of REFUSED_TARGETS) {
  test(`raw path refused: ${JSON.stringify(t)}`, () => assert.equal(isRefusedRawPath(t), true));
}
for (const t of ACCEPTED_TARGETS) {
  test(`raw path accepted: ${JSON.stringify(t)}`, () => assert.equal(isRefusedRawPath(t), false));
}

test('nginx rule: one server-level if with the same pattern, escaped for an nginx string', () => {
  const [open, ret, close] = nginxRawPathRule('    ');
  assert.equal(ret, '      return 400;');
  assert.equal(close, '    }');
  const m = /^ {4}if \(\$request_uri ~\* "(.*)"\) \{$/.exec(open ?? '');
  assert.ok(m, open);
  // nginx turns `\\` into `\` and `\"` into `"` inside double-quoted strings.
  assert.equal((m[1] as string).replace(/\\(["\\])/g, '$1'), RAW_PATH_REFUSED_SOURCE);
  assert.doesNotMatch(open as string, /\$\{/, 'nothing for envsubst to replace');
});
