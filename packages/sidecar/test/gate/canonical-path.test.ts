import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalisePath } from '../../src/gate/canonical-path.js';

const table: [string, string | null, boolean?][] = [
  ['/console/api/login', '/console/api/login', false],
  ['/console/api/login?x=1', '/console/api/login', false],
  ['/console/api/login#frag', '/console/api/login', false],
  ['/console/api/system-features%23/../apps', '/console/api/system-features', true],
  ['/console/api/system-features%3F/../../apps', '/console/api/system-features', true],
  ['/console/api/apps/../login', '/console/api/login', true],
  ['/console/api/./login', '/console/api/login', true],
  ['/console/api//login', '/console/api/login', true],
  ['//console///api/login/', '/console/api/login', true],
  ['/CONSOLE/API/Login', '/console/api/login', true],
  ['/console/api/%6c%6f%67%69%6e', '/console/api/login', true],
  ['/console/api\\login', '/console/api/login', true],
  ['/console/api/login;jsessionid=1', '/console/api/login', true],
  ['/console/api/../../../etc/passwd', '/etc/passwd', true],
  ['/', '/', false],
  ['/console/api/bad%zz', null],
  ['/console/api/nul%00', null],
  ['/console/api/crlf%0d%0a', null],
  ['console/api/login', null],
  ['http://evil/console/api/login', null],
];

for (const [raw, want, altered] of table) {
  test(`canonicalisePath(${JSON.stringify(raw)})`, () => {
    const got = canonicalisePath(raw);
    if (want === null) return assert.equal(got, null);
    assert.ok(got);
    assert.equal(got.path, want);
    if (altered !== undefined) assert.equal(got.altered, altered);
  });
}
