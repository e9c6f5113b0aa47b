import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalisePath, canonicaliseWalk } from '../../src/gate/canonical-path.js';

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

test('the shortcut for plain paths answers exactly what the full walk answers (200,000 generated paths)', () => {
  // A seeded generator (xorshift32): the same paths on every run.
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
  // Mostly the plain alphabet, with every character the walk treats specially mixed in.
  const plain = 'abcdefghijklmnopqrstuvwxyz0123456789_~-/';
  const special = [
    '.',
    '..',
    '%',
    '%2e',
    '%2F',
    '%41',
    'A',
    'Z',
    ';',
    '\\',
    '//',
    '?',
    '#',
    '%23',
    ' ',
    '%00',
    '\u00e9',
  ];
  let shortcut = 0;
  for (let i = 0; i < 200_000; i++) {
    let raw = '/';
    const n = 1 + Math.floor(next() * 24);
    for (let j = 0; j < n; j++)
      raw += next() < 0.97 ? plain[Math.floor(next() * plain.length)] : special[Math.floor(next() * special.length)];
    const cut = raw.search(/[?#]/);
    const path = cut === -1 ? raw : raw.slice(0, cut);
    assert.deepEqual(canonicalisePath(raw), canonicaliseWalk(path), raw);
    if (/^(?:\/[a-z0-9_~-]+)+$/.test(path)) shortcut++;
  }
  assert.ok(shortcut > 20_000, `the shortcut was taken (${shortcut} times)`);
});
